// AnthropicResultsReader: the four result types, out-of-order lines, CRLF and lines split across chunks.
#include "llmbatch/providers/anthropic/results.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support.hpp"

namespace tests_providers_anthropic_results {

using llmbatch::Json;
using llmbatch::JobState;
using llmbatch::RequestOutcome;
using namespace anthropic_test;

namespace {

std::vector<RequestOutcome> read(const std::string& body, std::size_t piece, bool json, std::int64_t total,
                                 JobState state = JobState::succeeded, const llmbatch::FetchOptions& base_options = {}) {
    std::vector<RequestOutcome> out;
    llmbatch::OutcomeSink sink = [&](RequestOutcome&& o) { out.push_back(std::move(o)); };
    llmbatch::AnthropicResultsReader reader("b1", base_options, json, total, state, sink);
    for (std::size_t at = 0; at < body.size(); at += piece) reader.feed(std::string_view(body).substr(at, piece));
    reader.finish();
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    return out;
}

}  // namespace

TEST_SUITE("providers") {

TEST_CASE("the four result types, out of order, CRLF, split across chunks") {
    const Json errored = {{"custom_id", "1"},
                          {"result",
                           {{"type", "errored"},
                            {"error", {{"type", "error"},
                                       {"error", {{"type", "invalid_request_error"}, {"message", "max_tokens: too large"}}},
                                       {"request_id", nullptr}}}}}};
    const std::string body = Json{{"custom_id", "3"}, {"result", {{"type", "expired"}}}}.dump() + "\r\n" + errored.dump() +
                             "\r\n" + Json{{"custom_id", "2"}, {"result", {{"type", "canceled"}}}}.dump() + "\n\n" +
                             ok_line("0", "```json\n{\"v\": 0}\n```").dump();  // no final newline
    for (std::size_t piece : {1U, 3U, 64U, 100000U}) {
        CAPTURE(piece);
        const auto out = read(body, piece, true, 4);
        REQUIRE(out.size() == 4);
        CHECK((*out[0].value)["v"] == 0);
        CHECK(out[0].raw["type"] == "message");
        REQUIRE(out[0].usage);
        CHECK(out[0].usage->total == 10);
        REQUIRE(out[1].error);
        CHECK(out[1].error->status == "invalid_request_error");
        CHECK(out[1].error->code == 400);
        CHECK(out[1].error->message == "max_tokens: too large");
        CHECK(out[2].error->status == "CANCELLED");
        CHECK(out[3].error->status == "EXPIRED");
        CHECK(out[3].key == "3");
    }
}

TEST_CASE("without JSON wanted the value is the Message; no text is EMPTY_RESPONSE; no JSON is INVALID_JSON") {
    Json tool_only = ok_line("1", "x");
    tool_only["result"]["message"]["content"] = Json::array({{{"type", "tool_use"}, {"id", "t"}, {"name", "f"}, {"input", Json::object()}}});
    const std::string body = ok_line("0", "plain words").dump() + "\n" + tool_only.dump() + "\n";
    const auto raw = read(body, 5, false, 2);
    CHECK((*raw[0].value)["content"][0]["text"] == "plain words");
    const auto json = read(body, 5, true, 2);
    CHECK(json[0].error->status == "INVALID_JSON");
    CHECK(json[1].error->status == "EMPTY_RESPONSE");
}

TEST_CASE("a missing result is MISSING_RESULT; unknown and repeated ids are refused") {
    const auto out = read(ok_line("0", "{}").dump() + "\n", 1000, true, 2);
    REQUIRE(out.size() == 2);
    CHECK(out[1].error->status == "MISSING_RESULT");
    CHECK_THROWS_AS(read(ok_line("7", "{}").dump() + "\n", 1000, true, 2), llmbatch::ProviderError);
    CHECK_THROWS_AS(read(ok_line("0", "{}").dump() + "\n" + ok_line("0", "{}").dump(), 1000, true, 2), llmbatch::ProviderError);
    CHECK_THROWS_AS(read("not json\n", 1000, true, 1), llmbatch::ProviderError);
}

TEST_CASE("custom keys: results carry the original key, derived ids included") {
    const std::vector<std::string> keys{"a b", "plain"};
    const std::string derived = llmbatch::detail::anthropic_custom_id("a b", 0);
    const auto out = read(ok_line("plain", "{\"i\":1}").dump() + "\n" + ok_line(derived, "{\"i\":0}").dump() + "\n", 9, true, 0,
                          JobState::succeeded, {.filter_json = true, .request_keys = keys});
    REQUIRE(out.size() == 2);
    CHECK(out[0].key == "a b");
    CHECK((*out[0].value)["i"] == 0);
    CHECK(out[1].key == "plain");
}

}  // TEST_SUITE

}  // namespace tests_providers_anthropic_results
