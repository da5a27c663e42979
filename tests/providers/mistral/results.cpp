// MistralProvider results: output and error files, inline outputs, every job end.
#include "llmbatch/providers/mistral.hpp"

#include <doctest/doctest.h>

#include <string>

#include "support.hpp"

namespace tests_providers_mistral_results {

using llmbatch::Json;
using llmbatch::testing::FakeTransport;
using llmbatch::testing::json_response;
using namespace mistral_test;

TEST_SUITE("providers") {

TEST_CASE("results from the output file then the error file, in input order") {
    FakeTransport t;
    t.on("GET", "/v1/batch/jobs/job-1", json_response(200, job("job-1", "SUCCESS", 3, 2, 1, "out-1", "err-1")));
    t.on("GET", "/v1/files/out-1/content",
         llmbatch::HttpResponse{200, {}, ok_line("2", "{\"n\":2}").dump() + "\n" + ok_line("0", "{\"n\":0}").dump() + "\n"});
    t.on("GET", "/v1/files/err-1/content",
         llmbatch::HttpResponse{200, {}, R"({"id":"r","custom_id":"1","response":{"status_code":422,"body":{"message":"bad request","type":"invalid_request"}},"error":null})"});
    t.stream_piece_bytes(5);
    const auto results = make(t).fetch_batch_results("job-1");
    REQUIRE(results.size() == 3);
    CHECK(*results[0].value == Json{{"n", 0}});
    CHECK(*results[2].value == Json{{"n", 2}});
    CHECK(results[1].error->code == 422);
    CHECK(results[1].error->message == "bad request");
    CHECK(results.usage().total == 20);
}

TEST_CASE("an inline job's results come from GET ...?inline=true") {
    FakeTransport t;
    t.on("GET", "/v1/batch/jobs/job-1", json_response(200, job("job-1", "SUCCESS", 2, 2, 0)));
    Json with_outputs = job("job-1", "SUCCESS", 2, 2, 0);
    with_outputs["outputs"] = Json::array({ok_line("1", "{\"b\":1}"), ok_line("0", "{\"a\":1}")});
    t.push(json_response(200, job("job-1", "SUCCESS", 2, 2, 0)));
    t.push(json_response(200, with_outputs));
    const auto results = make(t).fetch_batch_results("job-1");
    REQUIRE(results.size() == 2);
    CHECK(*results[0].value == Json{{"a", 1}});
    CHECK(*results[1].value == Json{{"b", 1}});
    const auto sent = t.requests();
    REQUIRE(sent.size() == 2);
    CHECK(sent[1].url == std::string(base) + "/v1/batch/jobs/job-1?inline=true");
}

TEST_CASE("a job already holding outputs is read without another call") {
    FakeTransport t;
    Json j = job("job-1", "TIMEOUT_EXCEEDED", 3, 1, 0);
    j["outputs"] = Json::array({ok_line("2", "{}")});  // not {x}: one element may read as a copy of x
    const auto parsed = Mistral::parse_job(j);
    CHECK(parsed.results_location == llmbatch::ResultsLocation::inline_);
    auto mistral = make(t);
    const auto results = mistral.fetch_batch_results(parsed, {.filter_json = false});
    CHECK(t.call_count() == 0);
    REQUIRE(results.size() == 3);
    CHECK(results[0].error->status == "EXPIRED");
    CHECK(results[1].error->status == "EXPIRED");
    CHECK(results[2].ok());
    CHECK((*results[2].value)["object"] == "chat.completion");
}

TEST_CASE("not finished, failed, and finished without results") {
    FakeTransport t;
    t.on("GET", "/v1/batch/jobs/run", json_response(200, job("run", "RUNNING")));
    Json failed = job("bad", "FAILED", 0);
    failed["errors"] = {{{"message", "Invalid file"}, {"count", 1}}};
    t.on("GET", "/v1/batch/jobs/bad", json_response(200, failed));
    t.on("GET", "/v1/batch/jobs/empty", json_response(200, job("empty", "SUCCESS", 2, 2, 0)));
    auto mistral = make(t);
    CHECK_THROWS_WITH_AS((void)mistral.fetch_batch_results("run"),
                         "Batch job run (mistral) is not completed yet. Current state: RUNNING", llmbatch::JobNotReady);
    CHECK_THROWS_WITH_AS((void)mistral.fetch_batch_results("bad"), "Batch job bad (mistral) failed: Invalid file",
                         llmbatch::JobFailed);
    CHECK_THROWS_AS((void)mistral.fetch_batch_results("empty"), llmbatch::ResultsMissing);
}

}  // TEST_SUITE

}  // namespace tests_providers_mistral_results
