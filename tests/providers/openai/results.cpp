// OpenAIProvider results: output then error file through the shared reader, every job end.
#include "llmbatch/providers/openai.hpp"

#include <doctest/doctest.h>

#include <string>

#include "support.hpp"

namespace tests_providers_openai_results {

using llmbatch::Json;
using llmbatch::testing::FakeTransport;
using llmbatch::testing::json_response;
using namespace openai_test;

namespace {

llmbatch::HttpResponse text_response(const std::string& body) { return llmbatch::HttpResponse{200, {}, body}; }

const std::string error_file_line =
    R"({"id":"batch_req_2","custom_id":"1","response":{"status_code":400,"request_id":"req_2","body":{"error":{"message":"max_tokens is too large","type":"invalid_request_error","param":"max_tokens","code":null}}},"error":null})"
    "\n";

}  // namespace

TEST_SUITE("providers") {

TEST_CASE("fetch_batch_results reads the output file then the error file, streamed in small pieces") {
    FakeTransport t;
    t.on("GET", "/v1/batches/batch_1", json_response(200, batch("batch_1", "completed", 3, 2, 1, "file-out", "file-err")));
    t.on("GET", "/v1/files/file-out/content", text_response(ok_line("2", "{\"n\":2}") + ok_line("0", "{\"n\":0}")));
    t.on("GET", "/v1/files/file-err/content", text_response(error_file_line));
    t.stream_piece_bytes(7);
    auto openai = make(t);
    const auto results = openai.fetch_batch_results("batch_1");
    REQUIRE(results.size() == 3);
    CHECK(results.job_name() == "batch_1");
    CHECK(results.provider() == "openai");
    CHECK(*results[0].value == Json{{"n", 0}});  // the batch recorded filter_json true
    CHECK(*results[2].value == Json{{"n", 2}});
    REQUIRE_FALSE(results[1].ok());
    CHECK(results[1].error->code == 400);
    CHECK(results[1].error->message == "max_tokens is too large");
    CHECK(results.usage() == llmbatch::TokenUsage{20, 10, 0, 0, 30});
    const auto sent = t.requests();
    REQUIRE(sent.size() == 3);
    CHECK(sent[1].headers.get("Accept") == "application/binary");
}

TEST_CASE("fetch options override the recorded filter_json; custom keys restore input order") {
    FakeTransport t;
    t.on("GET", "/v1/batches/batch_1", json_response(200, batch("batch_1", "completed", 2, 2, 0, "file-out")));
    t.on("GET", "/v1/files/file-out/content", text_response(ok_line("b", "text b") + ok_line("a", "text a")));
    auto openai = make(t);
    const auto results = openai.fetch_batch_results("batch_1", {.filter_json = false, .request_keys = {"a", "b"}});
    REQUIRE(results.size() == 2);
    CHECK(results[0].key == "a");
    CHECK((*results[0].value)["choices"][0]["message"]["content"] == "text a");
    CHECK((*results[1].value)["choices"][0]["message"]["content"] == "text b");
}

TEST_CASE("a completed job with a null output file and only an error file is all failed") {
    FakeTransport t;
    t.on("GET", "/v1/batches/batch_1", json_response(200, batch("batch_1", "completed", 2, 0, 2, nullptr, "file-err")));
    t.on("GET", "/v1/files/file-err/content",
         text_response(error_file_line + R"({"id":"r","custom_id":"0","response":{"status_code":500,"body":{"error":{"message":"boom","type":"server_error"}}},"error":null})"));
    const auto results = make(t).fetch_batch_results("batch_1");
    REQUIRE(results.size() == 2);
    CHECK(results.failed_count() == 2);
    CHECK(results[0].error->code == 500);
    CHECK(results[0].error->status == "server_error");
}

TEST_CASE("an error_file_id of \"\" is no file; a missing line is MISSING_RESULT") {
    FakeTransport t;
    t.on("GET", "/v1/batches/batch_1", json_response(200, batch("batch_1", "completed", 2, 1, 0, "file-out", "")));
    t.on("GET", "/v1/files/file-out/content", text_response(ok_line("1", "{}")));
    const auto results = make(t).fetch_batch_results("batch_1");
    CHECK(t.call_count() == 2);
    CHECK(results[0].error->status == "MISSING_RESULT");
    CHECK(results[1].ok());
}

TEST_CASE("a results download cut at a line break, fewer lines than the job reports finished, is retryable") {
    FakeTransport t;
    t.on("GET", "/v1/batches/batch_1", json_response(200, batch("batch_1", "completed", 2, 2, 0, "file-out", "")));
    t.on("GET", "/v1/files/file-out/content", text_response(ok_line("1", "{}")));
    try {
        (void)make(t).fetch_batch_results("batch_1");
        FAIL("a short download is an error, not a missing result");
    } catch (const llmbatch::ProviderError& e) {
        CHECK(e.info().retryable);
        CHECK(std::string(e.what()).find("cut short") != std::string::npos);
    }
}

TEST_CASE("cancelled and expired jobs give their finished lines and the rest CANCELLED / EXPIRED") {
    for (auto [status, word] : {std::pair{"cancelled", "CANCELLED"}, std::pair{"expired", "EXPIRED"}}) {
        FakeTransport t;
        t.on("GET", "/v1/batches/batch_1", json_response(200, batch("batch_1", status, 3, 1, 0, "file-out")));
        t.on("GET", "/v1/files/file-out/content",
             text_response(ok_line("0", "{}") +
                           R"({"id":"r","custom_id":"2","response":null,"error":{"code":"batch_expired","message":"window passed"}})"));
        const auto results = make(t).fetch_batch_results("batch_1");
        REQUIRE(results.size() == 3);
        CHECK(results[0].ok());
        CHECK(results[1].error->status == word);
        CHECK(results[2].error->status == "EXPIRED");
    }
}

TEST_CASE("not finished: JobNotReady; failed validation: JobFailed with the errors; no files: ResultsMissing") {
    FakeTransport t;
    t.on("GET", "/v1/batches/batch_run", json_response(200, batch("batch_run", "in_progress")));
    Json failed = batch("batch_bad", "failed", 0);
    failed["errors"] = {{"object", "list"},
                        {"data", {{{"code", "invalid_json_line"}, {"line", 3}, {"message", std::string("bad line ") + key}}}}};
    t.on("GET", "/v1/batches/batch_bad", json_response(200, failed));
    t.on("GET", "/v1/batches/batch_empty", json_response(200, batch("batch_empty", "completed", 2, 2, 0)));
    t.on("GET", "/v1/batches/batch_stop", json_response(200, batch("batch_stop", "cancelled", 2, 0, 0)));
    auto openai = make(t);
    try {
        (void)openai.fetch_batch_results("batch_run");
        FAIL("expected JobNotReady");
    } catch (const llmbatch::JobNotReady& e) {
        CHECK(std::string(e.what()) == "Batch job batch_run (openai) is not completed yet. Current state: RUNNING");
        CHECK(e.state() == "RUNNING");
    }
    try {
        (void)openai.fetch_batch_results("batch_bad");
        FAIL("expected JobFailed");
    } catch (const llmbatch::JobFailed& e) {
        const std::string what = e.what();
        CHECK(what.find("Batch job batch_bad (openai) failed: invalid_json_line at line 3: bad line") == 0);
        CHECK(what.find(key) == std::string::npos);
        CHECK(e.state() == "FAILED");
    }
    CHECK_THROWS_WITH_AS((void)openai.fetch_batch_results("batch_empty"),
                         "Batch job batch_empty (openai) has no results. This may indicate the job failed or was "
                         "cancelled.",
                         llmbatch::ResultsMissing);
    CHECK_THROWS_AS((void)openai.fetch_batch_results("batch_stop"), llmbatch::JobFailed);
}

TEST_CASE("stream_batch_results works from a job already read; delete_input_files_after_fetch removes the input") {
    FakeTransport t;
    t.on("GET", "/v1/files/file-out/content", text_response(ok_line("0", "{\"v\":1}")));
    t.on("DELETE", "/v1/files/file-in", json_response(200, {{"id", "file-in"}, {"deleted", true}}));
    llmbatch::OpenAIConfig c;
    c.delete_input_files_after_fetch = true;
    auto openai = make(t, c);
    const auto job = OpenAI::parse_batch(batch("batch_1", "completed", 1, 1, 0, "file-out"));
    std::vector<llmbatch::RequestOutcome> seen;
    openai.stream_batch_results(job, [&](llmbatch::RequestOutcome&& o) { seen.push_back(std::move(o)); });
    REQUIRE(seen.size() == 1);
    CHECK(*seen[0].value == Json{{"v", 1}});
    REQUIRE(t.call_count() == 2);
    CHECK(t.last_request().method == "DELETE");
}

}  // TEST_SUITE

}  // namespace tests_providers_openai_results
