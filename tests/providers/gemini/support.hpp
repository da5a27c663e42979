// Shared pieces of the Gemini provider tests: a provider over a fake transport, replies as the
// API writes them.
#pragma once

#include <string>

#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/testing/fake_transport.hpp"
#include "llmbatch/testing/manual_clock.hpp"

namespace gemini_test {

using llmbatch::Json;
using Gemini = llmbatch::GeminiProvider<llmbatch::testing::FakeTransport, llmbatch::testing::ManualClock>;

inline constexpr const char* key = "test-key-0123456789";
inline constexpr const char* base = "https://generativelanguage.googleapis.com";

inline Gemini make(llmbatch::testing::FakeTransport t, llmbatch::GeminiConfig c = {}) {
    if (c.api_key.empty()) c.api_key = key;
    return Gemini(std::move(c), std::move(t), llmbatch::testing::ManualClock{});
}

/// A GenerateContentResponse answering `text`, with usage.
inline Json text_response(const std::string& text) {
    return {{"candidates", Json::array({{{"content", {{"parts", Json::array({{{"text", text}}})}, {"role", "model"}}},
                                         {"finishReason", "STOP"}}})},
            {"usageMetadata",
             {{"promptTokenCount", 8}, {"candidatesTokenCount", 11}, {"thoughtsTokenCount", 3}, {"totalTokenCount", 22}}}};
}

/// An Operation in `state` with `count` requests; `output` goes under `response` and `metadata.output`.
inline Json operation(const std::string& name, const std::string& state, int count, Json output = nullptr) {
    Json op = {{"name", name},
               {"metadata",
                {{"state", state},
                 {"createTime", "2026-12-01T10:00:00Z"},
                 {"batchStats", {{"requestCount", std::to_string(count)}}}}}};
    if (state != "BATCH_STATE_PENDING" && state != "BATCH_STATE_RUNNING") op["done"] = true;
    if (!output.is_null()) {
        op["response"] = output;
        op["metadata"]["output"] = output;
    }
    return op;
}

}  // namespace gemini_test
