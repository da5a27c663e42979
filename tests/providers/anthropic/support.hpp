// Shared pieces of the Anthropic provider tests.
#pragma once

#include <string>

#include "llmbatch/providers/anthropic.hpp"
#include "llmbatch/testing/fake_transport.hpp"
#include "llmbatch/testing/manual_clock.hpp"

namespace anthropic_test {

using llmbatch::Json;
using Anthropic = llmbatch::AnthropicProvider<llmbatch::testing::FakeTransport, llmbatch::testing::ManualClock>;

inline constexpr const char* key = "sk-ant-test-key-0123456789";
inline constexpr const char* base = "https://api.anthropic.com";

inline Anthropic make(llmbatch::testing::FakeTransport t, llmbatch::AnthropicConfig c = {},
                      llmbatch::testing::ManualClock clock = llmbatch::testing::ManualClock{}) {
    if (c.api_key.empty()) c.api_key = key;
    c.retry.jitter = 0;
    return Anthropic(std::move(c), std::move(t), std::move(clock));
}

/// A MessageBatch in `status` with the given counts (results_url set once ended).
inline Json batch(const std::string& id, const std::string& status, int processing = 2, int succeeded = 0,
                  int errored = 0, int canceled = 0, int expired = 0, bool cancel_asked = false) {
    const bool ended = status == "ended";
    return {{"id", id},
            {"type", "message_batch"},
            {"processing_status", status},
            {"request_counts",
             {{"processing", processing}, {"succeeded", succeeded}, {"errored", errored}, {"canceled", canceled}, {"expired", expired}}},
            {"created_at", "2026-01-01T00:00:00Z"},
            {"expires_at", "2026-01-02T00:00:00Z"},
            {"ended_at", ended ? Json("2026-01-01T01:00:00.5Z") : Json(nullptr)},
            {"cancel_initiated_at", cancel_asked ? Json("2026-01-01T00:30:00Z") : Json(nullptr)},
            {"archived_at", nullptr},
            {"results_url", ended ? Json("https://results.example/v1/messages/batches/" + id + "/results?sig=x") : Json(nullptr)}};
}

/// A succeeded result line answering `text` for `custom_id`.
inline Json ok_line(const std::string& custom_id, const std::string& text) {
    return {{"custom_id", custom_id},
            {"result",
             {{"type", "succeeded"},
              {"message",
               {{"id", "msg_" + custom_id}, {"type", "message"}, {"role", "assistant"}, {"model", "claude-sonnet-4-5"},
                {"content", Json::array({{{"type", "text"}, {"text", text}}})}, {"stop_reason", "end_turn"},
                {"usage", {{"input_tokens", 7}, {"output_tokens", 3}}}}}}}};
}

}  // namespace anthropic_test
