// The chat-completions and responses bodies built from a request, and the readers of replies.
#include "llmbatch/providers/common/chat_completions.hpp"

#include <doctest/doctest.h>

namespace tests_providers_common_chat_completions {

using llmbatch::BatchRequest;
using llmbatch::GenerationConfig;
using llmbatch::Json;

namespace {

GenerationConfig config() {
    GenerationConfig g;
    g.model = "gpt-4o-mini";
    g.temperature = 0.2;
    return g;
}

}  // namespace

TEST_SUITE("providers") {

TEST_CASE("chat_completions_body: system prompt, joined parts, temperature, token limit field, golden") {
    auto g = config();
    g.system_prompt = llmbatch::SystemPrompt::from_text("You categorise documents.");
    g.max_output_tokens = 64;
    BatchRequest r({"Categorise:", "Geography GCSE"});
    CHECK(llmbatch::chat_completions_body(r, g, false, "max_completion_tokens") == Json::parse(R"({
      "model": "gpt-4o-mini",
      "messages": [{"role": "system", "content": "You categorise documents."},
                   {"role": "user", "content": "Categorise:\nGeography GCSE"}],
      "temperature": 0.2, "max_completion_tokens": 64})"));
    CHECK(llmbatch::chat_completions_body(r, g, false, "max_tokens", false) == Json::parse(R"({
      "messages": [{"role": "system", "content": "You categorise documents."},
                   {"role": "user", "content": "Categorise:\nGeography GCSE"}],
      "temperature": 0.2, "max_tokens": 64})"));
}

TEST_CASE("chat_completions_body: request settings override the configuration; provider_options merge last") {
    auto g = config();
    g.system_prompt = llmbatch::SystemPrompt::from_text("job prompt");
    BatchRequest r({"hi"});
    r.settings.system_prompt = llmbatch::SystemPrompt::from_text("request prompt");
    r.settings.temperature = 0.9;
    r.settings.max_output_tokens = 5;
    r.provider_options = {{"temperature", nullptr}, {"seed", 7}};
    CHECK(llmbatch::chat_completions_body(r, g, false, "max_tokens") == Json::parse(R"({
      "model": "gpt-4o-mini",
      "messages": [{"role": "system", "content": "request prompt"}, {"role": "user", "content": "hi"}],
      "max_tokens": 5, "seed": 7})"));
}

TEST_CASE("chat_completions_body: json_object only when JSON is wanted, allowed, and the messages say json") {
    auto g = config();
    BatchRequest says({"Answer in JSON please"});
    BatchRequest silent({"Answer please"});
    CHECK(llmbatch::chat_completions_body(says, g, true, "max_tokens")["response_format"] ==
          Json::parse(R"({"type": "json_object"})"));
    CHECK_FALSE(llmbatch::chat_completions_body(silent, g, true, "max_tokens").contains("response_format"));
    CHECK_FALSE(llmbatch::chat_completions_body(says, g, false, "max_tokens").contains("response_format"));
    g.system_prompt = llmbatch::SystemPrompt::from_text("Reply with a Json object.");
    CHECK(llmbatch::chat_completions_body(silent, g, true, "max_tokens")["response_format"]["type"] == "json_object");
    g.json_mime_type_when_filtering = false;
    CHECK_FALSE(llmbatch::chat_completions_body(says, g, true, "max_tokens").contains("response_format"));
}

TEST_CASE("chat_completions_body: a request schema gives json_schema, whatever the text") {
    BatchRequest r({"no mention"});
    r.settings.json_schema = {{"type", "object"}};
    CHECK(llmbatch::chat_completions_body(r, config(), false, "max_tokens")["response_format"] == Json::parse(R"({
      "type": "json_schema", "json_schema": {"name": "response", "schema": {"type": "object"}}})"));
}

TEST_CASE("responses_body: input, instructions, max_output_tokens, text.format, golden") {
    auto g = config();
    g.system_prompt = llmbatch::SystemPrompt::from_text("Return JSON.");
    BatchRequest r({"a", "b"});
    r.settings.max_output_tokens = 32;
    CHECK(llmbatch::responses_body(r, g, true) == Json::parse(R"({
      "model": "gpt-4o-mini", "input": "a\nb", "instructions": "Return JSON.", "temperature": 0.2,
      "max_output_tokens": 32, "text": {"format": {"type": "json_object"}}})"));
    r.settings.json_schema = {{"type", "array"}};
    CHECK(llmbatch::responses_body(r, g, false)["text"] == Json::parse(R"({
      "format": {"type": "json_schema", "name": "response", "schema": {"type": "array"}}})"));
}

TEST_CASE("chat_answer_text: string content, content parts, responses output, none") {
    CHECK(llmbatch::chat_answer_text(Json::parse(R"({"choices":[{"message":{"content":"hi"}}]})")) == "hi");
    CHECK(llmbatch::chat_answer_text(Json::parse(
              R"({"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}]})")) == "ab");
    CHECK(llmbatch::chat_answer_text(Json::parse(R"({"output":[
              {"type":"reasoning","summary":[]},
              {"type":"message","content":[{"type":"output_text","text":"{\"x\":"},{"type":"refusal","refusal":"no"},
                                           {"type":"output_text","text":"1}"}]}]})")) == "{\"x\":1}");
    const Json empty = Json::parse(R"({"choices":[{"message":{"content":null,"refusal":"I cannot"},"finish_reason":"stop"}]})");
    CHECK_FALSE(llmbatch::chat_answer_text(empty));
    CHECK(llmbatch::chat_no_text_reason(empty) == "refusal: I cannot");
    CHECK_FALSE(llmbatch::chat_answer_text(Json::parse(R"({"choices":[]})")));
    CHECK(llmbatch::chat_no_text_reason(Json::parse(R"({"choices":[{"message":{},"finish_reason":"length"}]})")) ==
          "finish_reason length");
}

TEST_CASE("chat_usage: chat completions and responses shapes") {
    const auto chat = llmbatch::chat_usage(Json::parse(R"({"usage":{"prompt_tokens":32,"completion_tokens":14,
        "total_tokens":46,"prompt_tokens_details":{"cached_tokens":8},"completion_tokens_details":{"reasoning_tokens":4}}})"));
    REQUIRE(chat);
    CHECK(*chat == llmbatch::TokenUsage{32, 10, 4, 8, 46});
    const auto resp = llmbatch::chat_usage(Json::parse(R"({"usage":{"input_tokens":5,"output_tokens":7,
        "output_tokens_details":{"reasoning_tokens":2}}})"));
    REQUIRE(resp);
    CHECK(*resp == llmbatch::TokenUsage{5, 5, 2, 0, 12});
    CHECK_FALSE(llmbatch::chat_usage(Json::parse(R"({"choices":[]})")));
}

}  // TEST_SUITE

}  // namespace tests_providers_common_chat_completions
