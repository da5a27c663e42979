// Shared pieces of the OpenAI provider tests: a provider over a fake transport, replies as the
// API writes them.
#pragma once

#include <string>

#include "llmbatch/providers/openai.hpp"
#include "llmbatch/testing/fake_transport.hpp"
#include "llmbatch/testing/manual_clock.hpp"

namespace openai_test {

using llmbatch::Json;
using OpenAI = llmbatch::OpenAIProvider<llmbatch::testing::FakeTransport, llmbatch::testing::ManualClock>;

inline constexpr const char* key = "sk-test-0123456789abcdef";
inline constexpr const char* base = "https://api.openai.com/v1";

inline OpenAI make(llmbatch::testing::FakeTransport t, llmbatch::OpenAIConfig c = {},
                   llmbatch::testing::ManualClock clock = llmbatch::testing::ManualClock{}) {
    if (c.api_key.empty()) c.api_key = key;
    return OpenAI(std::move(c), std::move(t), std::move(clock));
}

/// A FileObject as `POST /v1/files` returns it.
inline Json file_object(const std::string& id, const std::string& filename = "input.jsonl") {
    return {{"id", id}, {"object", "file"}, {"bytes", 120}, {"created_at", 1767225590},
            {"filename", filename}, {"purpose", "batch"}, {"status", "processed"}, {"expires_at", 1769817590}};
}

/// A Batch object in `status` with `total` requests (`completed` of them done, `failed` failed).
inline Json batch(const std::string& id, const std::string& status, int total = 2, int completed = 0, int failed = 0,
                  Json output_file = nullptr, Json error_file = nullptr, const char* filter_json = "true") {
    return {{"id", id}, {"object", "batch"}, {"endpoint", "/v1/chat/completions"}, {"errors", nullptr},
            {"input_file_id", "file-in"}, {"completion_window", "24h"}, {"status", status},
            {"output_file_id", output_file}, {"error_file_id", error_file},
            {"created_at", 1767225600}, {"in_progress_at", 1767225631}, {"expires_at", 1767312000},
            {"completed_at", status == "completed" ? Json(1767229185) : Json(nullptr)},
            {"request_counts", {{"total", total}, {"completed", completed}, {"failed", failed}}},
            {"metadata", {{"llmbatch_filter_json", filter_json}, {"llmbatch_display_name", "nightly"}}}};
}

/// A result line answering `content` for `custom_id`.
inline std::string ok_line(const std::string& custom_id, const std::string& content) {
    Json body = {{"object", "chat.completion"},
                 {"choices", Json::array({{{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}},
                                           {"finish_reason", "stop"}}})},
                 {"usage", {{"prompt_tokens", 10}, {"completion_tokens", 5}, {"total_tokens", 15}}}};
    return Json{{"id", "batch_req_" + custom_id}, {"custom_id", custom_id},
                {"response", {{"status_code", 200}, {"request_id", "req_1"}, {"body", body}}}, {"error", nullptr}}
               .dump() + "\n";
}

/// An OpenAI error response.
inline llmbatch::HttpResponse error_response(int status, const std::string& message, Json code = nullptr,
                                             const std::string& type = "invalid_request_error") {
    return llmbatch::testing::json_response(
        status, {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", code}}}});
}

}  // namespace openai_test
