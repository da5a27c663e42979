// providers/gemini/results.hpp: jobs read from Operations, results streamed and joined on key,
// partial results of cancelled and expired jobs, token usage.
#include "llmbatch/providers/gemini/results.hpp"

#include <doctest/doctest.h>

#include "support.hpp"

namespace tests_providers_gemini_results {

using namespace gemini_test;
using llmbatch::HttpResponse;
using llmbatch::JobState;
using llmbatch::RequestOutcome;
using llmbatch::testing::FakeTransport;
using llmbatch::testing::json_response;

namespace {

Json inlined(Json items) { return {{"inlinedResponses", {{"inlinedResponses", std::move(items)}}}}; }

Json keyed(const std::string& key, const Json& response) {
    return {{"response", response}, {"metadata", {{"key", key}}}};
}

/// A responses file of `n` lines answered in reverse order, keys `"0"`..`"n-1"`.
std::string reversed_file(int n) {
    std::string out;
    for (int i = n - 1; i >= 0; --i)
        out += Json({{"key", std::to_string(i)}, {"response", text_response("{\"n\": " + std::to_string(i) + "}")}}).dump() +
               "\n";
    return out;
}

}  // namespace

TEST_SUITE("providers") {

TEST_CASE("gemini results: a job knows where its results are, its input file, its expiry and its raw object") {
    Json op = operation("batches/j1", "BATCH_STATE_SUCCEEDED", 2, {{"responsesFile", "files/batch-j1"}});
    op["metadata"]["inputConfig"] = {{"fileName", "files/in"}};
    const auto job = llmbatch::detail::parse_gemini_operation(op);
    CHECK(job.results_location == llmbatch::ResultsLocation::file);
    CHECK(job.results_ref == "files/batch-j1");
    CHECK(job.input_file == "files/in");
    REQUIRE(job.expire_time.has_value());
    CHECK(*job.expire_time - *job.create_time == std::chrono::hours(48));
    CHECK(job.raw == op);
    const auto in = llmbatch::detail::parse_gemini_operation(
        operation("batches/j2", "BATCH_STATE_SUCCEEDED", 1, inlined(Json::array())));
    CHECK(in.results_location == llmbatch::ResultsLocation::inline_);
    CHECK(llmbatch::detail::parse_gemini_operation(operation("batches/j3", "BATCH_STATE_RUNNING", 1)).results_location ==
          llmbatch::ResultsLocation::none);
}

TEST_CASE("gemini results: an Operation's second copy of inline results is not read; a sole copy is") {
    const Json items = Json::array({keyed("0", text_response("{}"))});
    Json both = operation("batches/j1", "BATCH_STATE_SUCCEEDED", 1, inlined(items));
    both["metadata"]["output"] = inlined(items);
    both["metadata"]["output"]["@type"] = "GenerateContentBatchOutput";
    const Json read = llmbatch::detail::parse_gemini_operation_text(both.dump());
    CHECK(read["response"] == both["response"]);
    CHECK(read["metadata"]["output"] == Json{{"@type", "GenerateContentBatchOutput"}});
    Json sole = both;
    sole.erase("response");
    CHECK(llmbatch::detail::parse_gemini_operation_text(sole.dump()) == sole);
    const auto job = llmbatch::detail::parse_gemini_operation(llmbatch::detail::parse_gemini_operation_text(sole.dump()));
    CHECK(job.results_location == llmbatch::ResultsLocation::inline_);
    CHECK(llmbatch::detail::parse_gemini_operation_text("{\"name\": ").is_discarded());
}

TEST_CASE("gemini results: a results file streamed in tiny pieces is joined on key, in input order, with usage") {
    for (std::size_t piece : {1u, 7u, 64u, 0u}) {
        CAPTURE(piece);
        FakeTransport t;
        t.stream_piece_bytes(piece);
        HttpResponse file;
        file.body = reversed_file(5);
        t.on("GET", "/download/v1beta/files/batch-j1:download", file);
        auto gemini = make(t);
        const auto job = llmbatch::detail::parse_gemini_operation(
            operation("batches/j1", "BATCH_STATE_SUCCEEDED", 5, {{"responsesFile", "files/batch-j1"}}));
        std::vector<std::size_t> arrival;
        gemini.stream_batch_results(job, [&](RequestOutcome&& o) { arrival.push_back(o.index); }, {.filter_json = true});
        CHECK(arrival == std::vector<std::size_t>{4, 3, 2, 1, 0});
        const auto results = gemini.fetch_batch_results(job, {.filter_json = true});
        REQUIRE(results.size() == 5);
        for (std::size_t i = 0; i < 5; ++i) {
            CHECK(results[i].value == Json{{"n", i}});
            CHECK(results[i].raw.contains("candidates"));
        }
        CHECK(results.usage() == llmbatch::TokenUsage{40, 55, 15, 0, 110});
        CHECK(t.call_count() == 2);  // two downloads, no job GET: the job was given
    }
}

TEST_CASE("gemini results: a line naming no request, or repeating one, is a bad reply, not a shifted order") {
    FakeTransport t;
    HttpResponse file;
    file.body = reversed_file(2) + Json({{"key", "9"}, {"response", text_response("x")}}).dump() + "\n";
    t.on("GET", "/download/v1beta/files/batch-j1:download", file);
    auto gemini = make(t);
    const auto job = llmbatch::detail::parse_gemini_operation(
        operation("batches/j1", "BATCH_STATE_SUCCEEDED", 2, {{"responsesFile", "files/batch-j1"}}));
    CHECK_THROWS_WITH_AS((void)gemini.fetch_batch_results(job),
                         "gemini: download results of batches/j1: unexpected reply: line 3 has key '9', which names no "
                         "submitted request",
                         llmbatch::ProviderError);
    file.body = reversed_file(2) + reversed_file(1);
    t.reset();
    t.on("GET", "/download/v1beta/files/batch-j1:download", file);
    CHECK_THROWS_AS((void)gemini.fetch_batch_results(job), llmbatch::ProviderError);
}

TEST_CASE("gemini results: a cancelled job gives its finished requests; the rest are CANCELLED") {
    FakeTransport t;
    Json op = operation("batches/c1", "BATCH_STATE_CANCELLED", 3,
                        inlined(Json::array({keyed("2", text_response("{\"n\": 2}"))})));
    op["error"] = {{"code", 1}, {"message", "Cancelled by user."}};
    t.on("GET", "/v1beta/batches/c1", json_response(200, op));
    auto gemini = make(t);
    const auto job = gemini.get_batch_job("batches/c1");
    CHECK(job.state == JobState::cancelled);
    const auto results = gemini.fetch_batch_results(job, {.filter_json = true});
    REQUIRE(results.size() == 3);
    CHECK(results[0].error->status == "CANCELLED");
    CHECK(results[1].error->status == "CANCELLED");
    CHECK(results[2].value == Json{{"n", 2}});
    CHECK(t.call_count() == 1);
}

TEST_CASE("gemini results: an expired file job gives its finished requests; the rest are EXPIRED") {
    FakeTransport t;
    HttpResponse file;
    file.body = Json({{"key", "1"}, {"response", text_response("{}")}}).dump() + "\n";
    t.on("GET", "/download/v1beta/files/batch-e1:download", file);
    auto gemini = make(t);
    const auto job = llmbatch::detail::parse_gemini_operation(
        operation("batches/e1", "BATCH_STATE_EXPIRED", 2, {{"responsesFile", "files/batch-e1"}}));
    const auto results = gemini.fetch_batch_results(job);
    REQUIRE(results.size() == 2);
    CHECK(results[0].error->status == "EXPIRED");
    CHECK(results[1].ok());
}

TEST_CASE("gemini results: the caller's own keys order the results") {
    FakeTransport t;
    auto gemini = make(t);
    const auto job = llmbatch::detail::parse_gemini_operation(operation(
        "batches/k1", "BATCH_STATE_SUCCEEDED", 2,
        inlined(Json::array({keyed("beta", text_response("{\"b\": 1}")), keyed("alpha", text_response("{\"a\": 1}"))}))));
    const auto results = gemini.fetch_batch_results(job, {.filter_json = true, .request_keys = {"alpha", "beta"}});
    REQUIRE(results.size() == 2);
    CHECK(results[0].key == "alpha");
    CHECK(results[0].value == Json{{"a", 1}});
    CHECK(results[1].value == Json{{"b", 1}});
}

}  // TEST_SUITE

}  // namespace tests_providers_gemini_results
