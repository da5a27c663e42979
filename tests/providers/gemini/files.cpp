// providers/gemini/files.hpp: the Files API resumable upload, and file-input batch jobs.
#include "llmbatch/providers/gemini/files.hpp"

#include <doctest/doctest.h>

#include "support.hpp"
#include "../../support/temp_dir.hpp"

#include <fstream>

namespace tests_providers_gemini_files {

using namespace gemini_test;
using llmbatch::HttpResponse;
using llmbatch::testing::FakeTransport;
using llmbatch::testing::json_response;

namespace {

/// Scripts a resumable upload: the start answers with an upload URL, each chunk with `active`,
/// the finalizing one with `final` and the File.
void script_upload(FakeTransport& t, const std::string& file_name, int chunks) {
    HttpResponse started = json_response(200, Json::object());
    started.headers.set("X-Goog-Upload-URL", std::string(base) + "/upload/v1beta/files?upload_id=u1&upload_protocol=resumable");
    started.headers.set("X-Goog-Upload-Status", "active");
    t.push(started);
    for (int i = 1; i < chunks; ++i) {
        HttpResponse active = json_response(200, Json::object());
        active.headers.set("X-Goog-Upload-Status", "active");
        t.push(active);
    }
    HttpResponse done = json_response(200, {{"file",
                                             {{"name", file_name},
                                              {"mimeType", "application/jsonl"},
                                              {"sizeBytes", "123"},
                                              {"state", "ACTIVE"},
                                              {"createTime", "2026-12-01T10:00:00Z"},
                                              {"expirationTime", "2026-12-03T10:00:00Z"}}}});
    done.headers.set("X-Goog-Upload-Status", "final");
    t.push(done);
}

}  // namespace

TEST_SUITE("providers") {

TEST_CASE("gemini files: the resumable upload starts, sends chunks at their offsets, and finalizes") {
    llmbatch_test::TempDir dir("llmbatch-upload");
    const auto path = dir.path / "input.jsonl";
    std::ofstream(path, std::ios::binary) << std::string(25, 'a');
    FakeTransport t;
    script_upload(t, "files/up1", 3);
    llmbatch::GeminiConfig c;
    c.upload_chunk_bytes = 10;
    auto gemini = make(t, c);
    const auto file = gemini.upload_file(path, "application/jsonl", "my input");
    CHECK(file.name == "files/up1");
    CHECK(file.size_bytes == 123);
    CHECK(file.state == "ACTIVE");
    REQUIRE(file.expire_time.has_value());

    const auto requests = t.requests();
    REQUIRE(requests.size() == 4);
    const auto& start = requests[0];
    CHECK(start.url == std::string(base) + "/upload/v1beta/files");
    CHECK(start.headers.get("x-goog-api-key") == key);
    CHECK(start.headers.get("X-Goog-Upload-Protocol") == "resumable");
    CHECK(start.headers.get("X-Goog-Upload-Command") == "start");
    CHECK(start.headers.get("X-Goog-Upload-Header-Content-Length") == "25");
    CHECK(start.headers.get("X-Goog-Upload-Header-Content-Type") == "application/jsonl");
    CHECK(Json::parse(start.body) ==
          Json{{"file", {{"displayName", "my input"}, {"mimeType", "application/jsonl"}, {"sizeBytes", "25"}}}});
    const char* commands[] = {"upload", "upload", "upload, finalize"};
    const char* offsets[] = {"0", "10", "20"};
    for (int i = 0; i < 3; ++i) {
        CAPTURE(i);
        const auto& chunk = requests[static_cast<std::size_t>(i) + 1];
        CHECK(chunk.url == std::string(base) + "/upload/v1beta/files?upload_id=u1&upload_protocol=resumable");
        CHECK(chunk.headers.get("X-Goog-Upload-Command") == commands[i]);
        CHECK(chunk.headers.get("X-Goog-Upload-Offset") == offsets[i]);
        CHECK(chunk.body.size() == (i < 2 ? 10u : 5u));
    }
}

TEST_CASE("gemini files: a start reply without an upload URL, or an upload ended early, is an error") {
    llmbatch_test::TempDir dir("llmbatch-upload");
    const auto path = dir.path / "input.jsonl";
    std::ofstream(path, std::ios::binary) << "{}\n";
    FakeTransport t;
    t.push(json_response(200, Json::object()));
    auto gemini = make(t);
    CHECK_THROWS_WITH_AS((void)gemini.upload_file(path, "application/jsonl", "x"),
                         "gemini: upload file 'x': unexpected reply: no x-goog-upload-url header in the reply",
                         llmbatch::ProviderError);
    CHECK_THROWS_AS((void)gemini.upload_file(dir.path / "missing", "application/jsonl", "x"), llmbatch::InvalidArgument);
    CHECK_THROWS_AS((void)gemini.get_file("files/../../batches"), llmbatch::InvalidArgument);
}

TEST_CASE("gemini files: a job over the inline limit is sent as an uploaded JSONL file of key + request lines") {
    FakeTransport t;
    script_upload(t, "files/in1", 1);
    t.on("POST", "/v1beta/models/gemini-2.5-flash:batchGenerateContent",
         json_response(200, operation("batches/f1", "BATCH_STATE_PENDING", 2)));
    llmbatch::GeminiConfig c;
    c.max_inline_bytes = 300;
    auto gemini = make(t, c);
    const auto job = gemini.create_batch_job({{std::string(200, 'a')}, {"b", "context"}}, {.display_name = "big"});
    CHECK(job == "batches/f1");
    CHECK(job.input_files == std::vector<std::string>{"files/in1"});
    const auto requests = t.requests();
    REQUIRE(requests.size() == 3);
    // The uploaded content: one line per request, in order, key first.
    const std::string& content = requests[1].body;
    const std::string line0 = gemini.input_file_line(llmbatch::BatchRequest({std::string(200, 'a')}), 0, false).dump();
    const std::string line1 = gemini.input_file_line(llmbatch::BatchRequest({"b", "context"}), 1, false).dump();
    CHECK(content == line0 + "\n" + line1 + "\n");
    CHECK(Json::parse(line1)["key"] == "1");
    CHECK(Json::parse(line1)["request"]["contents"][0]["parts"][0]["text"] == "b\ncontext");
    CHECK(requests[0].headers.get("X-Goog-Upload-Header-Content-Length") == std::to_string(content.size()));
    CHECK(Json::parse(requests[2].body) ==
          Json{{"batch", {{"displayName", "big"}, {"inputConfig", {{"fileName", "files/in1"}}}}}});
}

TEST_CASE("gemini files: force_file_input sends even a small job as a file; input file named on the job") {
    FakeTransport t;
    script_upload(t, "files/in2", 1);
    Json op = operation("batches/f2", "BATCH_STATE_PENDING", 1);
    op["metadata"]["inputConfig"] = {{"fileName", "files/in2"}};
    t.on("POST", "/v1beta/models/gemini-2.5-flash:batchGenerateContent", json_response(200, op));
    t.on("GET", "/v1beta/batches/f2", json_response(200, op));
    t.on("DELETE", "/v1beta/files/in2", json_response(200, Json::object()));
    auto gemini = make(t);
    const auto job = gemini.create_batch_job({{"x"}}, {.force_file_input = true});
    CHECK(job.input_files == std::vector<std::string>{"files/in2"});
    CHECK(gemini.get_batch_job(job).input_file == "files/in2");
    gemini.delete_file(job.input_files[0]);
    CHECK(t.last_request().method == "DELETE");
    CHECK(t.last_request().url == std::string(base) + "/v1beta/files/in2");
}

TEST_CASE("gemini files: with delete_input_files_after_fetch, a job's input file goes once its results are in") {
    FakeTransport t;
    Json op = operation("batches/f3", "BATCH_STATE_SUCCEEDED", 1,
                        {{"inlinedResponses", {{"inlinedResponses", Json::array({{{"response", text_response("{}")}}})}}}});
    op["metadata"]["inputConfig"] = {{"fileName", "files/in3"}};
    t.on("GET", "/v1beta/batches/f3", json_response(200, op));
    t.on("DELETE", "/v1beta/files/in3", json_response(200, Json::object()));
    llmbatch::GeminiConfig c;
    c.delete_input_files_after_fetch = true;
    auto gemini = make(t, c);
    CHECK(gemini.fetch_batch_results("batches/f3").size() == 1);
    CHECK(t.last_request().method == "DELETE");
    CHECK(t.last_request().url == std::string(base) + "/v1beta/files/in3");
    static_assert(llmbatch::FileStoreProvider<Gemini>);
    static_assert(llmbatch::StreamingBatchProvider<Gemini>);
}

}  // TEST_SUITE

}  // namespace tests_providers_gemini_files
