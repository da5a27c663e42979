#pragma once
/// @file providers/gemini/wire.hpp
/// The Gemini Developer API's wire vocabulary: `GeminiWire` (authentication, error bodies,
/// retry rules) for the shared `ProviderSession`, and the readers of its objects (states,
/// google.rpc.Status, response text, token usage).

#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/retry.hpp"
#include "llmbatch/detail/config.hpp"

namespace llmbatch {

namespace detail {

/// Parses a protobuf JSON Duration such as `"30s"` or `"1.500s"`.
[[nodiscard]] LLMBATCH_DECL std::optional<std::chrono::milliseconds> parse_proto_duration(std::string_view s);

/// Maps `BATCH_STATE_*` (wire) and `JOB_STATE_*` (SDK) names to `JobState`.
[[nodiscard]] LLMBATCH_DECL JobState gemini_state(std::string_view raw);

/// Reads a google.rpc.Status object.
[[nodiscard]] LLMBATCH_DECL ErrorStatus google_status(const nlohmann::json& j);

/// The model text of a GenerateContentResponse: the non-thought text parts of the first candidate.
[[nodiscard]] LLMBATCH_DECL std::optional<std::string> gemini_response_text(const nlohmann::json& response);

/// Why a response has no text, for messages: its finish reason or prompt block reason.
[[nodiscard]] LLMBATCH_DECL std::string gemini_no_text_reason(const nlohmann::json& response);

/// The token usage of a GenerateContentResponse (`usageMetadata`), when it has one.
[[nodiscard]] LLMBATCH_DECL std::optional<TokenUsage> gemini_usage(const nlohmann::json& response);

/// A `google.rpc.RetryInfo` `retryDelay` in a Google error body's details.
[[nodiscard]] LLMBATCH_DECL std::optional<std::chrono::milliseconds> google_retry_info_delay(const HttpResponse& response);

}  // namespace detail

/// The Gemini API's authentication, error bodies and retry rules, for `ProviderSession`.
struct GeminiWire {
    static constexpr std::string_view name = "gemini";

    /// The key travels in `x-goog-api-key`, never in the URL.
    static void authenticate(HttpHeaders& headers, const std::string& api_key) { headers.set("x-goog-api-key", api_key); }

    /// The google.rpc.Status of an error body, else the body's first 200 bytes as the message.
    [[nodiscard]] static ErrorStatus read_error(const HttpResponse& failed) {
        const auto parsed = nlohmann::json::parse(failed.body, nullptr, false);
        if (const auto* err = parsed.is_discarded() ? nullptr : detail::find(parsed, "error"); err && err->is_object())
            return detail::google_status(*err);
        ErrorStatus status;
        status.message = detail::excerpt(failed.body, 200);
        return status;
    }

    /// 429 and `RESOURCE_EXHAUSTED` are quota errors.
    [[nodiscard]] static bool is_quota(int http_status, const ErrorStatus& status) {
        return http_status == 429 || status.status == "RESOURCE_EXHAUSTED";
    }

    /// 429, 500, 502, 503, 504; `Retry-After`, else `RetryInfo.retryDelay` in the error details.
    static constexpr RetryRules retry_rules{
        [](const HttpResponse& r) { return is_retryable_status(r.status); },
        [](const HttpResponse& r, std::chrono::system_clock::time_point now) {
            if (auto d = server_retry_delay(r, now)) return d;
            return detail::google_retry_info_delay(r);
        }};
};

}  // namespace llmbatch

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/providers/gemini/impl/wire.ipp"
#endif
