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

TEST_CASE("gemini results: an Operation's inline results stay text, the copy under response first; neither is built") {
    const Json items = Json::array({keyed("0", text_response("{}")), keyed("1", text_response("[]"))});
    Json both = operation("batches/j1", "BATCH_STATE_SUCCEEDED", 2, inlined(items));
    both["metadata"]["output"] = inlined(Json::array({keyed("0", text_response("{\"copy\": 1}"))}));
    both["metadata"]["output"]["@type"] = "GenerateContentBatchOutput";
    const auto text = [](const Json& op) { return std::make_shared<const std::string>(op.dump(2)); };
    auto split = llmbatch::detail::split_gemini_operation(text(both));
    REQUIRE(split.results);
    CHECK(Json::parse(split.results.json) == items);
    Json expected = both;
    expected["response"]["inlinedResponses"]["inlinedResponses"] = Json::array();
    expected["metadata"]["output"]["inlinedResponses"]["inlinedResponses"] = Json::array();
    CHECK(split.op == expected);  // everything else as it came
    // The results' text lies inside the reply's, which the split shares rather than copies.
    const char* body = split.results.text->data();
    CHECK((split.results.json.data() > body && split.results.json.data() < body + split.results.text->size()));
    // A sole copy under metadata.output is the one read.
    Json sole = both;
    sole.erase("response");
    split = llmbatch::detail::split_gemini_operation(text(sole));
    REQUIRE(split.results);
    CHECK(Json::parse(split.results.json)[0]["response"] == text_response("{\"copy\": 1}"));
    const auto job = llmbatch::detail::parse_gemini_operation(std::move(split.op));
    CHECK(job.results_location == llmbatch::ResultsLocation::inline_);
    // No inline results: nothing split off; not JSON: a discarded Operation.
    split = llmbatch::detail::split_gemini_operation(text(operation("batches/j2", "BATCH_STATE_RUNNING", 1)));
    CHECK_FALSE(split.results);
    CHECK(split.op == operation("batches/j2", "BATCH_STATE_RUNNING", 1));
    CHECK(llmbatch::detail::split_gemini_operation(std::make_shared<const std::string>("{\"name\": ")).op.is_discarded());
}

TEST_CASE("gemini results: inline results read from text match those read from the parsed Operation") {
    // Out of order and keyed, one error, one with its key written with escapes.
    Json items = Json::array();
    for (int i = 4; i >= 0; --i) items.push_back(keyed(std::to_string(i), text_response("{\"n\": " + std::to_string(i) + "}")));
    items[1] = {{"error", {{"code", 13}, {"message", "internal"}}}, {"metadata", {{"key", "3"}}}};
    const std::string escaped_key = R"({"response": )" + text_response("{\"n\": 0}").dump() +
                                    R"(, "metadata": {"k\u0065y": "\u0030"}})";
    const std::string array = "[" + items[0].dump() + ", " + items[1].dump() + ",\n" + items[2].dump() + ", " +
                              items[3].dump() + ", " + escaped_key + "]";
    const auto read = [](auto&& feed) {
        std::vector<RequestOutcome> got(5);  // each in its input position
        const llmbatch::OutcomeSink sink = [&](RequestOutcome&& o) { got.at(o.index) = std::move(o); };
        llmbatch::FetchOptions options;
        options.request_count = 5;
        llmbatch::GeminiResultReader reader("batches/j", options, true, 5, JobState::succeeded, sink);
        feed(reader);
        reader.finish();
        return got;
    };
    const auto from_text = read([&](llmbatch::GeminiResultReader& r) { r.read_inline_text(array); });
    Json holder = {{"inlinedResponses", Json::parse(array)}};
    const auto from_tree = read([&](llmbatch::GeminiResultReader& r) { r.read_inline(holder); });
    REQUIRE(from_text.size() == 5);
    REQUIRE(from_tree.size() == 5);
    for (std::size_t i = 0; i < 5; ++i) {
        CAPTURE(i);
        CHECK(from_text[i].index == i);
        CHECK(from_text[i].key == std::to_string(i));
        CHECK(from_text[i].key == from_tree[i].key);
        CHECK(from_text[i].value == from_tree[i].value);
        CHECK(from_text[i].raw == from_tree[i].raw);
        CHECK(from_text[i].ok() == from_tree[i].ok());
    }
    CHECK(from_text[0].value == Json{{"n", 0}});
    CHECK_FALSE(from_text[3].ok());
    // Malformed text is a bad reply naming what is wrong, never a partial silent read.
    for (const char* bad : {"[{\"response\": {}}, ", "[{\"response\": tru}]", "{}"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(read([&](llmbatch::GeminiResultReader& r) { r.read_inline_text(bad); }), llmbatch::ProviderError);
    }
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
