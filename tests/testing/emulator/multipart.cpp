#include "llmbatch/testing/emulator/multipart.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace tests_testing_emulator_multipart {

using llmbatch::testing::build_multipart;
using llmbatch::testing::find_part;
using llmbatch::testing::FormPart;
using llmbatch::testing::MultipartError;
using llmbatch::testing::parse_multipart;

TEST_SUITE("testing") {
    TEST_CASE("parse_multipart reads the parts an SDK sends, with bytes that look like boundaries") {
        const std::string bytes = "line 1\r\n--not-the-boundary\r\nline 2\n";
        std::string type;
        const std::string body = build_multipart({{"purpose", "batch"}, {"expires_after[seconds]", "3600"}}, "file",
                                                 "in.jsonl", bytes, type);
        const std::vector<FormPart> parts = parse_multipart(type, body);
        REQUIRE(parts.size() == 3);
        const FormPart* file = find_part(parts, "file");
        REQUIRE(file);
        CHECK(file->filename == "in.jsonl");
        CHECK(file->content_type == "application/octet-stream");
        CHECK(file->content == bytes);
        CHECK(find_part(parts, "purpose")->content == "batch");
        CHECK_FALSE(find_part(parts, "purpose")->filename);
        CHECK(find_part(parts, "expires_after[seconds]")->content == "3600");
        CHECK(find_part(parts, "missing") == nullptr);
    }

    TEST_CASE("parse_multipart accepts a quoted boundary and an empty part, and refuses broken forms") {
        const std::string body =
            "preamble\r\n--b\"q\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n--b\"q\r\n"
            "content-disposition: form-data; filename=\"x;y.txt\"; name=b\r\n\r\nB\r\n--b\"q--\r\n";
        const auto parts = parse_multipart("multipart/form-data; boundary=\"b\\\"q\"", body);
        REQUIRE(parts.size() == 2);
        CHECK(parts[0].content.empty());
        CHECK(parts[1].name == "b");
        CHECK(parts[1].filename == "x;y.txt");
        CHECK(parts[1].content == "B");

        CHECK_THROWS_AS((void)parse_multipart("application/json", body), MultipartError);
        CHECK_THROWS_AS((void)parse_multipart("multipart/form-data", body), MultipartError);
        CHECK_THROWS_AS((void)parse_multipart("multipart/form-data; boundary=zz", body), MultipartError);
        const std::string unterminated = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nA";
        CHECK_THROWS_AS((void)parse_multipart("multipart/form-data; boundary=b", unterminated), MultipartError);
        const std::string nameless = "--b\r\nContent-Type: text/plain\r\n\r\nA\r\n--b--";
        CHECK_THROWS_AS((void)parse_multipart("multipart/form-data; boundary=b", nameless), MultipartError);
    }
}

}  // namespace tests_testing_emulator_multipart
