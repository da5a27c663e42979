// MultipartForm: exact bytes, size known before writing, file bytes pulled piece by piece.
#include "llmbatch/providers/common/multipart.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace tests_providers_common_multipart {

TEST_SUITE("providers") {

TEST_CASE("MultipartForm writes the file part then the text fields, exact bytes") {
    const std::string data = "{\"a\":1}\n";
    llmbatch::MultipartForm form("BOUNDARY");
    form.add_file("file", "in.jsonl", data.size(), [&](char* out, std::size_t n) { std::copy_n(data.data(), n, out); });
    form.add_field("purpose", "batch");
    const std::string expected =
        "--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n{\"a\":1}\n\r\n"
        "--BOUNDARY\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
        "--BOUNDARY--\r\n";
    CHECK(form.to_string() == expected);
    CHECK(form.size() == expected.size());
    CHECK(form.content_type() == "multipart/form-data; boundary=BOUNDARY");
}

TEST_CASE("MultipartForm escapes quotes and line breaks in names") {
    llmbatch::MultipartForm form("B");
    form.add_file("file", "a\"b\r\n.jsonl", 0, [](char*, std::size_t) {});
    CHECK(form.to_string().find("filename=\"a%22b%0D%0A.jsonl\"") != std::string::npos);
}

TEST_CASE("boundary_for is deterministic and differs by seed") {
    CHECK(llmbatch::MultipartForm::boundary_for(1) == llmbatch::MultipartForm::boundary_for(1));
    CHECK(llmbatch::MultipartForm::boundary_for(1) != llmbatch::MultipartForm::boundary_for(2));
    CHECK(llmbatch::MultipartForm::boundary_for(0).rfind("----llmbatch-", 0) == 0);
    CHECK(llmbatch::MultipartForm::boundary_for(0).size() == 13 + 16);
}

TEST_CASE("LineSource: size before reading, lines made one at a time, read in any pieces") {
    std::vector<std::size_t> made;
    llmbatch::LineSource lines(3, [&](std::size_t i) {
        made.push_back(i);
        return std::string(i + 1, static_cast<char>('a' + i));
    });
    CHECK(lines.size() == 2 + 3 + 4);
    made.clear();
    std::string out(9, '?');
    lines.read(out.data(), 1);
    CHECK(made == std::vector<std::size_t>{0});
    lines.read(out.data() + 1, 5);
    lines.read(out.data() + 6, 3);
    CHECK(out == "a\nbb\nccc\n");
    char extra = 0;
    CHECK_THROWS_AS(lines.read(&extra, 1), llmbatch::InvalidArgument);
    lines.rewind();
    lines.read(out.data(), 9);
    CHECK(out == "a\nbb\nccc\n");
}

TEST_CASE("MultipartForm::write hands file bytes in pieces no larger than asked") {
    llmbatch::LineSource lines(100, [](std::size_t i) { return std::to_string(i); });
    llmbatch::MultipartForm form("B");
    form.add_file("file", "x", lines.size(), [&](char* out, std::size_t n) { lines.read(out, n); });
    std::size_t largest = 0;
    std::string body;
    form.write(
        [&](std::string_view piece) {
            if (piece.rfind("--", 0) != 0) largest = std::max(largest, piece.size());  // not a part head
            body += piece;
        },
        16);
    CHECK(largest <= 16);
    CHECK(body.size() == form.size());
    CHECK(body.find("98\n99\n\r\n--B--\r\n") != std::string::npos);
}

}  // TEST_SUITE

}  // namespace tests_providers_common_multipart
