// Shared pieces of the Mistral provider tests.
#pragma once

#include <string>

#include "llmbatch/providers/mistral.hpp"
#include "llmbatch/testing/fake_transport.hpp"
#include "llmbatch/testing/manual_clock.hpp"

namespace mistral_test {

using llmbatch::Json;
using Mistral = llmbatch::MistralProvider<llmbatch::testing::FakeTransport, llmbatch::testing::ManualClock>;

inline constexpr const char* key = "mistral-test-key-0123456789";
inline constexpr const char* base = "https://api.mistral.ai";

inline Mistral make(llmbatch::testing::FakeTransport t, llmbatch::MistralConfig c = {},
                    llmbatch::testing::ManualClock clock = llmbatch::testing::ManualClock{}) {
    if (c.api_key.empty()) c.api_key = key;
    return Mistral(std::move(c), std::move(t), std::move(clock));
}

/// A batch job object in `status`.
inline Json job(const std::string& id, const std::string& status, int total = 2, int succeeded = 0, int failed = 0,
                Json output_file = nullptr, Json error_file = nullptr) {
    return {{"id", id}, {"object", "batch"}, {"input_files", Json::array()}, {"endpoint", "/v1/chat/completions"},
            {"model", "mistral-small-latest"}, {"output_file", output_file}, {"error_file", error_file},
            {"errors", Json::array()}, {"status", status}, {"created_at", 1767225600}, {"started_at", 1767225630},
            {"completed_at", nullptr}, {"total_requests", total}, {"completed_requests", succeeded + failed},
            {"succeeded_requests", succeeded}, {"failed_requests", failed},
            {"metadata", {{"llmbatch_filter_json", "true"}, {"llmbatch_display_name", "nightly"}}}};
}

/// A result line answering `content` for `custom_id`.
inline Json ok_line(const std::string& custom_id, const std::string& content) {
    return {{"id", "r-" + custom_id}, {"custom_id", custom_id},
            {"response", {{"status_code", 200},
                          {"body", {{"object", "chat.completion"},
                                    {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", content}}},
                                                  {"finish_reason", "stop"}}}},
                                    {"usage", {{"prompt_tokens", 7}, {"completion_tokens", 3}, {"total_tokens", 10}}}}}}},
            {"error", nullptr}};
}

}  // namespace mistral_test
