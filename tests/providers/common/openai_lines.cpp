// OpenAILinesReader: OpenAI-shaped result lines joined on custom_id, every request one outcome.
#include "llmbatch/providers/common/openai_lines.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace tests_providers_common_openai_lines {

using llmbatch::Json;
using llmbatch::JobState;
using llmbatch::RequestOutcome;

namespace {

std::string ok_line(const std::string& id, const std::string& content) {
    Json body = {{"id", "chatcmpl-1"},
                 {"object", "chat.completion"},
                 {"choices", Json::array({{{"index", 0},
                                           {"message", {{"role", "assistant"}, {"content", content}}},
                                           {"finish_reason", "stop"}}})},
                 {"usage", {{"prompt_tokens", 32}, {"completion_tokens", 14}, {"total_tokens", 46}}}};
    return Json{{"id", "batch_req_" + id},
                {"custom_id", id},
                {"response", {{"status_code", 200}, {"request_id", "req_" + id}, {"body", body}}},
                {"error", nullptr}}
               .dump();
}

const std::string http_error_line =
    R"({"id":"batch_req_a2","custom_id":"1","response":{"status_code":400,"request_id":"req_81aa","body":{"error":{"message":"max_tokens is too large","type":"invalid_request_error","param":"max_tokens","code":null}}},"error":null})";

std::string error_line(const std::string& id, const std::string& code) {
    return Json{{"id", "batch_req_x"}, {"custom_id", id}, {"response", nullptr},
                {"error", {{"code", code}, {"message", "message for " + code}}}}
        .dump();
}

struct Run {
    std::vector<RequestOutcome> outcomes;
    llmbatch::OutcomeSink sink = [this](RequestOutcome&& o) { outcomes.push_back(std::move(o)); };
    llmbatch::FetchOptions options;

    void read(const std::string& text, bool json, std::int64_t total, JobState state = JobState::succeeded,
              std::size_t piece = 0) {
        llmbatch::OpenAILinesReader reader("openai", "batch_1", options, json, total, state, sink);
        if (piece == 0) {
            reader.feed(text);
        } else {
            for (std::size_t at = 0; at < text.size(); at += piece) reader.feed(std::string_view(text).substr(at, piece));
        }
        reader.finish_stream();
        reader.finish();
    }
    const RequestOutcome& at(std::size_t index) const {
        for (const auto& o : outcomes)
            if (o.index == index) return o;
        throw std::logic_error("no outcome at that index");
    }
};

}  // namespace

TEST_SUITE("providers") {

TEST_CASE("OpenAILinesReader: lines out of order, split across 3-byte chunks, placed by custom_id, with usage") {
    Run run;
    const std::string text = ok_line("2", "{\"n\":2}") + "\r\n" + ok_line("0", "Sure: {\"n\":0}") + "\n\n" +
                             ok_line("1", "{\"n\":1}");
    run.read(text, true, 3, JobState::succeeded, 3);
    REQUIRE(run.outcomes.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        const auto& o = run.at(i);
        REQUIRE(o.ok());
        CHECK(*o.value == Json{{"n", i}});
        CHECK(o.key == std::to_string(i));
        CHECK(o.raw["object"] == "chat.completion");
        REQUIRE(o.usage);
        CHECK(*o.usage == llmbatch::TokenUsage{32, 14, 0, 0, 46});
    }
}

TEST_CASE("OpenAILinesReader: without JSON wanted the value is the response body") {
    Run run;
    run.read(ok_line("0", "plain words"), false, 1);
    REQUIRE(run.outcomes.size() == 1);
    CHECK((*run.outcomes[0].value)["choices"][0]["message"]["content"] == "plain words");
    CHECK(run.outcomes[0].raw.is_null());
}

TEST_CASE("OpenAILinesReader: status_code >= 400 with error null is a failed request") {
    Run run;
    run.read(ok_line("0", "{}") + "\n" + http_error_line + "\n", true, 2);
    const auto& failed = run.at(1);
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error->code == 400);
    CHECK(failed.error->status == "invalid_request_error");  // code null: the type
    CHECK(failed.error->message == "max_tokens is too large");
    CHECK(run.at(0).ok());
}

TEST_CASE("OpenAILinesReader: batch_expired, batch_cancelled and request_timeout lines") {
    Run run;
    run.read(error_line("0", "batch_expired") + "\n" + error_line("1", "batch_cancelled") + "\n" +
                 error_line("2", "request_timeout") + "\n",
             true, 3);
    CHECK(run.at(0).error->status == "EXPIRED");
    CHECK(run.at(0).error->details["code"] == "batch_expired");
    CHECK(run.at(1).error->status == "CANCELLED");
    CHECK(run.at(2).error->status == "request_timeout");
    CHECK(run.at(2).error->message == "message for request_timeout");
}

TEST_CASE("OpenAILinesReader: missing requests get CANCELLED, EXPIRED or MISSING_RESULT by the job's end") {
    for (auto [state, word] : {std::pair{JobState::cancelled, "CANCELLED"}, std::pair{JobState::expired, "EXPIRED"},
                               std::pair{JobState::succeeded, "MISSING_RESULT"}}) {
        Run run;
        run.read(ok_line("1", "{}"), true, 3, state);
        REQUIRE(run.outcomes.size() == 3);
        CHECK(run.at(1).ok());
        CHECK(run.at(0).error->status == word);
        CHECK(run.at(2).error->status == word);
    }
}

TEST_CASE("OpenAILinesReader: no text is EMPTY_RESPONSE, no JSON is INVALID_JSON") {
    Run run;
    const std::string no_text = R"({"id":"r","custom_id":"0","response":{"status_code":200,"body":{"choices":[{"message":{"content":null},"finish_reason":"length"}]}},"error":null})";
    run.read(no_text + "\n" + ok_line("1", "no json here"), true, 2);
    CHECK(run.at(0).error->status == "EMPTY_RESPONSE");
    CHECK(run.at(0).error->message.find("finish_reason length") != std::string::npos);
    CHECK(run.at(1).error->status == "INVALID_JSON");
    CHECK(run.at(1).raw["object"] == "chat.completion");
}

TEST_CASE("OpenAILinesReader: the responses endpoint's output text and usage") {
    Run run;
    const std::string line = R"({"id":"r","custom_id":"0","response":{"status_code":200,"body":{"object":"response","output":[{"type":"message","content":[{"type":"output_text","text":"{\"ok\":true}"}]}],"usage":{"input_tokens":3,"output_tokens":4,"total_tokens":7}}},"error":null})";
    run.read(line, true, 1);
    REQUIRE(run.outcomes[0].ok());
    CHECK(*run.outcomes[0].value == Json{{"ok", true}});
    CHECK(*run.outcomes[0].usage == llmbatch::TokenUsage{3, 4, 0, 0, 7});
}

TEST_CASE("OpenAILinesReader: custom keys put results back in input order") {
    Run run;
    run.options.request_keys = {"doc-a", "doc-b"};
    run.read(ok_line("doc-b", "{\"b\":1}") + "\n" + ok_line("doc-a", "{\"a\":1}"), true, 0);
    CHECK(*run.at(0).value == Json{{"a", 1}});
    CHECK(run.at(0).key == "doc-a");
    CHECK(*run.at(1).value == Json{{"b", 1}});
}

TEST_CASE("OpenAILinesReader: unknown and duplicate custom_id, and a line that is not JSON, are ProviderErrors") {
    Run run;
    CHECK_THROWS_WITH_AS(run.read(ok_line("7", "{}"), true, 2),
                         "openai: download results of batch_1: unexpected reply: line 1 has key '7', which names no "
                         "submitted request",
                         llmbatch::ProviderError);
    CHECK_THROWS_WITH_AS(run.read(ok_line("0", "{}") + "\n" + ok_line("0", "{}"), true, 2),
                         "openai: download results of batch_1: unexpected reply: line 2 repeats the result of key '0'",
                         llmbatch::ProviderError);
    CHECK_THROWS_AS(run.read("{not json\n", true, 1), llmbatch::ProviderError);
}

TEST_CASE("OpenAILinesReader::read takes parsed lines (Mistral's inline outputs)") {
    std::vector<RequestOutcome> out;
    llmbatch::OutcomeSink sink = [&](RequestOutcome&& o) { out.push_back(std::move(o)); };
    llmbatch::FetchOptions options;
    llmbatch::OpenAILinesReader reader("mistral", "job", options, true, 2, JobState::succeeded, sink);
    reader.read(Json::parse(ok_line("1", "{\"v\":1}")), 1);
    reader.finish();
    REQUIRE(out.size() == 2);
    CHECK(out[0].index == 1);
    CHECK(*out[0].value == Json{{"v", 1}});
    CHECK(out[1].error->status == "MISSING_RESULT");
}

TEST_CASE("openai_body_error reads Mistral's flat and detail bodies") {
    auto flat = llmbatch::detail::openai_body_error(
        400, Json::parse(R"({"object":"error","message":"bad model","type":"invalid_model","code":"1500"})"));
    CHECK(flat.status == "1500");
    CHECK(flat.message == "bad model");
    auto detail = llmbatch::detail::openai_body_error(422, Json::parse(R"({"detail":"Field required"})"));
    CHECK(detail.code == 422);
    CHECK(detail.message == "Field required");
    auto typed = llmbatch::detail::openai_body_error(404, Json::parse(R"({"detail":"Job not found","error_type":"not_found"})"));
    CHECK(typed.status == "not_found");
    CHECK(typed.message == "Job not found");
    auto validation = llmbatch::detail::openai_body_error(
        422, Json::parse(R"({"detail":[{"loc":["body","requests",0],"msg":"Field required","type":"missing"},
                                       {"loc":["query","page"],"msg":"not an int","type":"int_parsing"}]})"));
    CHECK(validation.message == "body.requests.0: Field required; query.page: not an int");
}

}  // TEST_SUITE

}  // namespace tests_providers_common_openai_lines
