#pragma once
/// @file providers/common/chat_completions.hpp
/// The OpenAI-style request bodies shared by the OpenAI and Mistral providers: the
/// chat-completions body and OpenAI's responses-endpoint body built from a `BatchRequest` and the
/// provider's `GenerationConfig`, and the readers of a reply body (the answer text, token usage).
///
/// **Example**:
/// ```cpp
/// Json body = llmbatch::chat_completions_body(request, config.generation, true, "max_completion_tokens");
/// // {"model": ..., "messages": [{"role":"system",...},{"role":"user",...}], "temperature": 0.2, ...}
/// std::optional<std::string> text = llmbatch::chat_answer_text(reply_body);
/// ```

#include <algorithm>
#include <cctype>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/request.hpp"
#include "llmbatch/results.hpp"

namespace llmbatch {

namespace detail {

/// True when `text` contains "json" in any letter case.
[[nodiscard]] inline bool mentions_json(std::string_view text) {
    for (std::size_t i = 0; i + 4 <= text.size(); ++i) {
        bool match = true;
        for (std::size_t k = 0; k < 4 && match; ++k)
            match = std::tolower(static_cast<unsigned char>(text[i + k])) == "json"[k];
        if (match) return true;
    }
    return false;
}

/// The request's system prompt, else the configuration's (nullptr: none).
[[nodiscard]] inline const SystemPrompt* effective_system_prompt(const BatchRequest& r, const GenerationConfig& g) {
    if (r.settings.system_prompt) return &*r.settings.system_prompt;
    if (g.system_prompt) return &*g.system_prompt;
    return nullptr;
}

}  // namespace detail

/// The chat-completions body of one request: `model`, `messages` (the system prompt of the
/// request, else of the configuration, then the user message: the request's parts joined with
/// `\n`), `temperature`, the token limit under `max_tokens_field` (OpenAI
/// `max_completion_tokens`, Mistral `max_tokens`), `response_format` (`json_schema` when the
/// request has a schema; `json_object` when JSON is wanted, `json_mime_type_when_filtering` is set
/// and the messages mention "json" in any case, since OpenAI refuses `json_object` otherwise), and
/// the request's `provider_options` merged last (RFC 7386). `with_model` false leaves `model`
/// out (for batch lines of a job that names its model).
[[nodiscard]] inline Json chat_completions_body(const BatchRequest& r, const GenerationConfig& g, bool json_wanted,
                                                std::string_view max_tokens_field, bool with_model = true) {
    const auto& s = r.settings;
    Json body = Json::object();
    if (with_model && !g.model.empty()) body["model"] = g.model;
    Json messages = Json::array();
    const SystemPrompt* system = detail::effective_system_prompt(r, g);
    std::string user = join_prompts(r.parts);
    bool says_json = detail::mentions_json(user);
    if (system) {
        messages.push_back({{"role", "system"}, {"content", system->text()}});
        says_json = says_json || detail::mentions_json(system->text());
    }
    messages.push_back({{"role", "user"}, {"content", std::move(user)}});
    body["messages"] = std::move(messages);
    if (auto t = s.temperature ? s.temperature : g.temperature) body["temperature"] = *t;
    if (auto m = s.max_output_tokens ? s.max_output_tokens : g.max_output_tokens) body[std::string(max_tokens_field)] = *m;
    if (!s.json_schema.is_null())
        body["response_format"] = {{"type", "json_schema"}, {"json_schema", {{"name", "response"}, {"schema", s.json_schema}}}};
    else if (json_wanted && g.json_mime_type_when_filtering && says_json)
        body["response_format"] = {{"type", "json_object"}};
    if (r.provider_options.is_object()) body.merge_patch(r.provider_options);
    return body;
}

/// The chat-completions body of one prompt sequence (see the `BatchRequest` overload).
[[nodiscard]] inline Json chat_completions_body(const PromptSequence& prompts, const GenerationConfig& g,
                                                bool json_wanted, std::string_view max_tokens_field) {
    return chat_completions_body(BatchRequest::from_prompts(prompts), g, json_wanted, max_tokens_field);
}

/// OpenAI's responses-endpoint body of one request: `model`, `input` (the joined parts),
/// `instructions` (the system prompt), `temperature`, `max_output_tokens`, `text.format`
/// (`json_schema` or `json_object`, under the same rules as `chat_completions_body`), and
/// `provider_options` merged last.
[[nodiscard]] inline Json responses_body(const BatchRequest& r, const GenerationConfig& g, bool json_wanted) {
    const auto& s = r.settings;
    Json body = Json::object();
    if (!g.model.empty()) body["model"] = g.model;
    std::string input = join_prompts(r.parts);
    bool says_json = detail::mentions_json(input);
    body["input"] = std::move(input);
    if (const SystemPrompt* system = detail::effective_system_prompt(r, g)) {
        body["instructions"] = system->text();
        says_json = says_json || detail::mentions_json(system->text());
    }
    if (auto t = s.temperature ? s.temperature : g.temperature) body["temperature"] = *t;
    if (auto m = s.max_output_tokens ? s.max_output_tokens : g.max_output_tokens) body["max_output_tokens"] = *m;
    if (!s.json_schema.is_null())
        body["text"] = {{"format", {{"type", "json_schema"}, {"name", "response"}, {"schema", s.json_schema}}}};
    else if (json_wanted && g.json_mime_type_when_filtering && says_json)
        body["text"] = {{"format", {{"type", "json_object"}}}};
    if (r.provider_options.is_object()) body.merge_patch(r.provider_options);
    return body;
}

/// The answer text of a reply body: `choices[0].message.content` of a chat completion (a string,
/// or an array of parts whose `text` members are joined), else the `output_text` parts of the
/// `message` items of a responses-endpoint reply. Nothing when the reply holds no text.
[[nodiscard]] inline std::optional<std::string> chat_answer_text(const Json& body) {
    if (const auto* choices = detail::find(body, "choices")) {
        if (!choices->is_array() || choices->empty()) return std::nullopt;
        const auto* content = detail::find_path((*choices)[0], {"message", "content"});
        if (!content) return std::nullopt;
        if (content->is_string()) return content->get<std::string>();
        if (!content->is_array()) return std::nullopt;
        std::optional<std::string> text;
        for (const auto& part : *content)
            if (const auto* t = detail::find(part, "text"); t && t->is_string()) text = text.value_or("") + t->get<std::string>();
        return text;
    }
    const auto* output = detail::find(body, "output");
    if (!output || !output->is_array()) return std::nullopt;
    std::optional<std::string> text;
    for (const auto& item : *output) {
        if (detail::get_string(item, "type") != "message") continue;
        const auto* content = detail::find(item, "content");
        if (!content || !content->is_array()) continue;
        for (const auto& part : *content)
            if (detail::get_string(part, "type") == "output_text")
                if (const auto* t = detail::find(part, "text"); t && t->is_string())
                    text = text.value_or("") + t->get<std::string>();
    }
    return text;
}

/// Why a reply body has no answer text, for messages: its finish reason, a refusal, or its status.
[[nodiscard]] inline std::string chat_no_text_reason(const Json& body) {
    if (const auto* choices = detail::find(body, "choices"); choices && choices->is_array() && !choices->empty()) {
        if (const auto* refusal = detail::find_path((*choices)[0], {"message", "refusal"}); refusal && refusal->is_string())
            return "refusal: " + detail::excerpt(refusal->get<std::string>(), 120);
        if (auto r = detail::get_string((*choices)[0], "finish_reason"); !r.empty()) return "finish_reason " + r;
        return "no content";
    }
    if (auto status = detail::get_string(body, "status"); !status.empty() && detail::find(body, "output"))
        return "status " + status;
    return "no choices";
}

/// The token usage of a reply body (`usage`): `prompt_tokens` / `completion_tokens` of a chat
/// completion or `input_tokens` / `output_tokens` of the responses endpoint, with cached and
/// reasoning tokens from their details (reasoning tokens are counted in `thinking`, not in
/// `output`). Nothing when the body reports no usage.
[[nodiscard]] inline std::optional<TokenUsage> chat_usage(const Json& body) {
    const auto* u = detail::find(body, "usage");
    if (!u || !u->is_object()) return std::nullopt;
    auto count = [](const Json& j, std::initializer_list<std::string_view> path) -> std::int64_t {
        const Json* v = detail::find_path(j, path);
        return v ? detail::as_int64(*v).value_or(0) : 0;
    };
    TokenUsage usage;
    const bool responses = detail::find(*u, "input_tokens") != nullptr;
    usage.input = count(*u, {responses ? "input_tokens" : "prompt_tokens"});
    const std::int64_t out = count(*u, {responses ? "output_tokens" : "completion_tokens"});
    usage.thinking = count(*u, {responses ? "output_tokens_details" : "completion_tokens_details", "reasoning_tokens"});
    usage.output = std::max<std::int64_t>(out - usage.thinking, 0);
    usage.cached = count(*u, {responses ? "input_tokens_details" : "prompt_tokens_details", "cached_tokens"});
    usage.total = count(*u, {"total_tokens"});
    if (usage.total == 0) usage.total = usage.input + out;
    return usage;
}

}  // namespace llmbatch
