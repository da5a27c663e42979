#pragma once
/// @file testing/emulator/chat_wire.hpp
/// Wire pieces shared by the OpenAI and Mistral emulators, whose batch APIs both run chat
/// completions and write results in the OpenAI line shape: the answer to a chat request
/// (`chat_default_answer`, `chat_completion_json` with `usage`), the per-request outcome a job
/// keeps (`ChatItem`), the result lines
/// `{"id", "custom_id", "response": {"status_code", "request_id", "body"} | null, "error": {"code", "message"} | null}`,
/// and `WireError`, an API error on its way to the provider's error body.
///
/// **Example**:
/// ```cpp
/// Json body = Json::parse(R"({"model":"m","messages":[{"role":"user","content":"Physics GCSE"}]})");
/// Json completion = detail::chat_completion_json(body, detail::chat_default_answer(body), "m", "chatcmpl-1", 0);
/// std::string line = detail::result_line("batch_req_1", "a", 200, "req_1", completion).dump();
/// ```

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/gemini_wire.hpp"
#include "llmbatch/testing/emulator/ids.hpp"

namespace llmbatch::testing::detail {

/// An API error: rendered `{"error": {"message", "type", "param", "code"}}` by OpenAI and
/// `{"object": "error", "message", "type", "param", "code"}` by Mistral.
struct WireError : std::runtime_error {
    WireError(int http, std::string error_type, std::string text, Json error_code = nullptr, Json error_param = nullptr)
        : std::runtime_error(text), http_status(http), type(std::move(error_type)), message(std::move(text)),
          code(std::move(error_code)), param(std::move(error_param)) {}

    int http_status;
    std::string type;
    std::string message;
    Json code;
    Json param;
    std::optional<std::string> retry_after;
    std::string rendered;  ///< a pre-rendered body, used as is when set
};

/// The OpenAI error object `{"message", "type", "param", "code"}`.
[[nodiscard]] inline Json openai_error_object(const WireError& e) {
    return Json{{"message", e.message}, {"type", e.type}, {"param", e.param}, {"code", e.code}};
}

/// The key of an `Authorization: Bearer <key>` header; empty when there is none.
[[nodiscard]] inline std::string bearer_key(const HttpRequest& request) {
    const std::string value = request.headers.get("Authorization").value_or("");
    if (value.size() <= 7 || !llmbatch::detail::iequals(std::string_view(value).substr(0, 7), "Bearer ")) return {};
    std::string key = value.substr(7);
    key.erase(0, key.find_first_not_of(' '));
    return key;
}

/// The text of one message `content`: a string, or the `text` of its `{"type": "text"}` parts.
[[nodiscard]] inline std::string content_text(const Json& content) {
    if (content.is_string()) return content.get<std::string>();
    std::string out;
    if (!content.is_array()) return out;
    for (const auto& part : content) {
        if (!part.is_object() || !part.contains("text") || !part["text"].is_string()) continue;
        if (!out.empty()) out += '\n';
        out += part["text"].get<std::string>();
    }
    return out;
}

/// Every user message's text of a chat completion request, joined with `\n`.
[[nodiscard]] inline std::string chat_user_text(const Json& request) {
    std::string out;
    if (!request.is_object() || !request.contains("messages") || !request["messages"].is_array()) return out;
    for (const auto& m : request["messages"]) {
        if (!m.is_object() || m.value("role", std::string{}) != "user" || !m.contains("content")) continue;
        if (!out.empty()) out += '\n';
        out += content_text(m["content"]);
    }
    return out;
}

/// The default answer to a chat request, like the Gemini emulator's: `{"category":"K","confidence":N}`
/// when `response_format.type` is `json_object` or `json_schema`, else that object in a fenced
/// `json` block between two sentences (K and N from the user text).
[[nodiscard]] inline std::string chat_default_answer(const Json& request) {
    const std::string text = chat_user_text(request);
    const std::string_view category = categorise(text);
    const int confidence = confidence_for(text);
    bool json_mode = false;
    if (request.is_object() && request.contains("response_format") && request["response_format"].is_object()) {
        const std::string type = request["response_format"].value("type", std::string{});
        json_mode = type == "json_object" || type == "json_schema";
    }
    if (json_mode) return fmt::format(R"({{"category":"{}","confidence":{}}})", category, confidence);
    return fmt::format("Here is the categorisation:\n```json\n{{\"category\": \"{}\", \"confidence\": {}}}\n```\n"
                       "Let me know if you need more.",
                       category, confidence);
}

/// A `chat.completion` carrying `answer`, with `usage` estimated from the texts.
[[nodiscard]] inline Json chat_completion_json(const Json& request, const std::string& answer, std::string_view model,
                                               std::string id, std::int64_t created) {
    const int prompt_tokens = estimate_tokens(chat_user_text(request));
    const int completion_tokens = estimate_tokens(answer);
    return Json{{"id", std::move(id)},
                {"object", "chat.completion"},
                {"created", created},
                {"model", model},
                {"choices", Json::array({{{"index", 0},
                                          {"message", {{"role", "assistant"}, {"content", answer}, {"refusal", nullptr}}},
                                          {"logprobs", nullptr},
                                          {"finish_reason", "stop"}}})},
                {"usage",
                 {{"prompt_tokens", prompt_tokens},
                  {"completion_tokens", completion_tokens},
                  {"total_tokens", prompt_tokens + completion_tokens}}}};
}

/// A result line carrying an HTTP answer (a success, or an error with `status_code` >= 400 and
/// `error: null`); `request_id` is left out when empty.
[[nodiscard]] inline Json result_line(const std::string& line_id, const std::string& custom_id, int status_code,
                                      const std::string& request_id, const Json& body) {
    Json response = {{"status_code", status_code}};
    if (!request_id.empty()) response["request_id"] = request_id;
    response["body"] = body;
    return Json{{"id", line_id}, {"custom_id", custom_id}, {"response", std::move(response)}, {"error", nullptr}};
}

/// A result line for a request that never ran (`batch_expired`, `batch_cancelled`).
[[nodiscard]] inline Json failed_line(const std::string& line_id, const std::string& custom_id, std::string_view code,
                                      std::string_view message) {
    return Json{{"id", line_id}, {"custom_id", custom_id}, {"response", nullptr},
                {"error", {{"code", code}, {"message", message}}}};
}

/// The outcome of one request of a chat batch, fixed when the job is created.
struct ChatItem {
    std::string custom_id;
    int status_code = 200;  ///< 200, or the HTTP status of an injected per-request error
    Json body;              ///< the chat.completion, or `{"error": {...}}`
    std::string request_id;

    [[nodiscard]] bool ok() const noexcept { return status_code < 400; }
    [[nodiscard]] Json to_json() const {
        return Json{{"customId", custom_id}, {"statusCode", status_code}, {"body", body}, {"requestId", request_id}};
    }
    [[nodiscard]] static ChatItem from_json(const Json& j) {
        return ChatItem{j.at("customId").get<std::string>(), j.at("statusCode").get<int>(), j.at("body"),
                        j.value("requestId", std::string{})};
    }
};

/// The usage of a successful item's chat.completion: {prompt, completion} tokens.
[[nodiscard]] inline std::pair<std::int64_t, std::int64_t> item_tokens(const ChatItem& item) {
    if (!item.ok() || !item.body.is_object() || !item.body.contains("usage")) return {0, 0};
    const Json& u = item.body["usage"];
    return {u.value("prompt_tokens", std::int64_t{0}), u.value("completion_tokens", std::int64_t{0})};
}

}  // namespace llmbatch::testing::detail
