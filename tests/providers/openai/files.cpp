// OpenAIProvider files: multipart upload (golden bytes), the Uploads API for large files, get,
// delete, download.
#include "llmbatch/providers/openai/files.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "support.hpp"

namespace tests_providers_openai_files {

using llmbatch::Json;
using llmbatch::testing::FakeTransport;
using llmbatch::testing::json_response;
using namespace openai_test;

namespace {

std::filesystem::path temp_file(const std::string& name, const std::string& content) {
    const auto path = std::filesystem::temp_directory_path() / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
}

std::string part_body(const std::string& boundary, const std::string& name, const std::string& filename,
                      const std::string& content) {
    return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename +
           "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + content + "\r\n--" + boundary + "--\r\n";
}

}  // namespace

TEST_SUITE("providers") {

TEST_CASE("upload_file sends one multipart POST /v1/files, golden bytes") {
    const auto path = temp_file("llmbatch_openai_upload.jsonl", "{\"x\":1}\n");
    FakeTransport t;
    t.on("POST", "/v1/files", json_response(200, file_object("file-1", "mine.jsonl")));
    auto openai = make(t);
    const auto info = openai.upload_file(path, "application/jsonl", "mine.jsonl");
    CHECK(info.name == "file-1");
    CHECK(info.display_name == "mine.jsonl");
    CHECK(info.size_bytes == 120);
    CHECK(info.state == "processed");
    const std::string b = llmbatch::MultipartForm::boundary_for(0);
    CHECK(t.last_request().body ==
          "--" + b +
              "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"mine.jsonl\"\r\n"
              "Content-Type: application/octet-stream\r\n\r\n{\"x\":1}\n\r\n--" +
              b + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--" + b + "--\r\n");
    std::filesystem::remove(path);
}

TEST_CASE("a file over the part size goes through the Uploads API, part by part") {
    const auto path = temp_file("llmbatch_openai_parts.jsonl", "0123456789");
    FakeTransport t;
    t.on("POST", "/v1/uploads", json_response(200, {{"id", "upload_1"}, {"object", "upload"}, {"status", "pending"}}));
    t.on("POST", "/v1/uploads/upload_1/parts", json_response(200, {{"id", "part_a"}, {"object", "upload.part"}}));
    t.on("POST", "/v1/uploads/upload_1/parts", json_response(200, {{"id", "part_b"}, {"object", "upload.part"}}));
    t.on("POST", "/v1/uploads/upload_1/parts", json_response(200, {{"id", "part_c"}, {"object", "upload.part"}}));
    t.on("POST", "/v1/uploads/upload_1/complete",
         json_response(200, {{"id", "upload_1"}, {"status", "completed"}, {"file", file_object("file-big", "big.jsonl")}}));
    llmbatch::OpenAIConfig c;
    c.upload_part_bytes = 4;
    auto openai = make(t, c);
    const auto info = openai.upload_file(path, "application/jsonl", "big.jsonl");
    CHECK(info.name == "file-big");
    const auto sent = t.requests();
    REQUIRE(sent.size() == 5);
    CHECK(Json::parse(sent[0].body) ==
          Json::parse(R"({"bytes": 10, "filename": "big.jsonl", "mime_type": "application/jsonl", "purpose": "batch"})"));
    CHECK(sent[1].body == part_body(llmbatch::MultipartForm::boundary_for(0), "data", "big.jsonl", "0123"));
    CHECK(sent[2].body == part_body(llmbatch::MultipartForm::boundary_for(1), "data", "big.jsonl", "4567"));
    CHECK(sent[3].body == part_body(llmbatch::MultipartForm::boundary_for(2), "data", "big.jsonl", "89"));
    CHECK(sent[3].headers.get("Content-Type") == "multipart/form-data; boundary=" + llmbatch::MultipartForm::boundary_for(2));
    CHECK(Json::parse(sent[4].body) == Json::parse(R"({"part_ids": ["part_a", "part_b", "part_c"]})"));
    std::filesystem::remove(path);
}

TEST_CASE("parts larger than the form's write pieces arrive whole and in order") {
    // Parts of 3 MiB are written into their forms in 1 MiB pieces: each piece must continue the
    // part, not restart it.
    std::string content;
    for (int i = 0; content.size() < 7 * 1024 * 1024; ++i) content += fmt::format("line {:08}\n", i);
    const auto path = temp_file("llmbatch_openai_big_parts.jsonl", content);
    FakeTransport t;
    t.on("POST", "/v1/uploads", json_response(200, {{"id", "upload_1"}, {"object", "upload"}, {"status", "pending"}}));
    for (const char* id : {"part_a", "part_b", "part_c"})
        t.on("POST", "/v1/uploads/upload_1/parts", json_response(200, {{"id", id}, {"object", "upload.part"}}));
    t.on("POST", "/v1/uploads/upload_1/complete",
         json_response(200, {{"id", "upload_1"}, {"status", "completed"}, {"file", file_object("file-big", "big.jsonl")}}));
    llmbatch::OpenAIConfig c;
    c.upload_part_bytes = 3 * 1024 * 1024;
    auto openai = make(t, c);
    (void)openai.upload_file(path, "application/jsonl", "big.jsonl");
    const auto sent = t.requests();
    REQUIRE(sent.size() == 5);
    std::string joined;
    for (std::size_t i = 1; i <= 3; ++i) {
        const std::string b = llmbatch::MultipartForm::boundary_for(i - 1);
        const auto& body = sent[i].body;
        const auto start = body.find("\r\n\r\n") + 4;
        const auto end = body.rfind("\r\n--" + b + "--\r\n");
        REQUIRE(end != std::string::npos);
        joined += body.substr(start, end - start);
    }
    CHECK(joined.size() == content.size());
    CHECK(joined == content);
    std::filesystem::remove(path);
}

TEST_CASE("a batch input over the part size is uploaded in parts and never retried as a whole") {
    FakeTransport t;
    t.on("POST", "/v1/uploads", json_response(200, {{"id", "upload_1"}}));
    t.on("POST", "/v1/uploads/upload_1/parts", json_response(200, {{"id", "part_a"}}));
    t.on("POST", "/v1/uploads/upload_1/complete", json_response(200, {{"file", file_object("file-big")}}));
    t.on("POST", "/v1/batches", json_response(200, batch("batch_1", "validating")));
    llmbatch::OpenAIConfig c;
    c.upload_part_bytes = 100;
    auto openai = make(t, c);
    const auto job = openai.create_batch_job({{"a"}, {"b"}, {"c"}}, {.display_name = "d"});
    CHECK(job.input_files == std::vector<std::string>{"file-big"});
    const auto sent = t.requests();
    const auto size = Json::parse(sent[0].body)["bytes"].get<std::size_t>();
    CHECK(size > 200);
    std::size_t parts = 0;
    for (const auto& r : sent) parts += r.url.find("/parts") != std::string::npos;
    CHECK(parts == (size + 99) / 100);
    CHECK(Json::parse(sent.back().body)["input_file_id"] == "file-big");
}

TEST_CASE("get_file, delete_file and download_file use the file routes") {
    FakeTransport t;
    t.on("GET", "/v1/files/file-1", json_response(200, file_object("file-1")));
    t.on("DELETE", "/v1/files/file-1", json_response(200, {{"id", "file-1"}, {"object", "file"}, {"deleted", true}}));
    t.on("GET", "/v1/files/file-1/content", llmbatch::HttpResponse{200, {}, "abc\ndef\n"});
    t.stream_piece_bytes(3);
    auto openai = make(t);
    CHECK(openai.get_file("file-1").expire_time ==
          std::chrono::system_clock::time_point(std::chrono::seconds(1769817590)));
    openai.delete_file("file-1");
    CHECK(t.last_request().method == "DELETE");
    std::string got;
    std::size_t pieces = 0;
    openai.download_file("file-1", [&](std::string_view chunk) {
        got += chunk;
        ++pieces;
    });
    CHECK(got == "abc\ndef\n");
    CHECK(pieces == 3);
    CHECK_THROWS_AS(openai.delete_file("file-1/../x"), llmbatch::InvalidArgument);
}

}  // TEST_SUITE

}  // namespace tests_providers_openai_files
