#pragma once
/// @file providers/mistral/wire.hpp
/// The Mistral API's wire vocabulary: `MistralWire` (authentication, error bodies, retry rules)
/// for the shared `ProviderSession`, and the reader of its batch job object.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/providers/common/openai_lines.hpp"
#include "llmbatch/providers/openai/wire.hpp"
#include "llmbatch/retry.hpp"

namespace llmbatch {

namespace detail {

/// Maps a Mistral batch `status` to `JobState` (unknown words: `unspecified`).
[[nodiscard]] inline JobState mistral_state(std::string_view s) {
    if (s == "QUEUED") return JobState::pending;
    if (s == "RUNNING") return JobState::running;
    if (s == "SUCCESS") return JobState::succeeded;
    if (s == "FAILED") return JobState::failed;
    if (s == "TIMEOUT_EXCEEDED") return JobState::expired;
    if (s == "CANCELLATION_REQUESTED") return JobState::cancelling;
    if (s == "CANCELLED") return JobState::cancelled;
    return JobState::unspecified;
}

[[nodiscard]] inline ProviderError mistral_bad_reply(std::string_view what, std::string_view why) {
    return ProviderError(fmt::format("mistral: {}: unexpected reply: {}", what, why),
                         ProviderErrorInfo{"mistral", 0, {}, std::string(why), false});
}

/// Translates a Mistral batch job object into a `BatchJob` (`raw` keeps it whole; inline
/// `outputs`, when present, make `results_location` inline).
/// @throws ProviderError when it is not an object or a counter is not an integer.
[[nodiscard]] inline BatchJob parse_mistral_job(Json j) {
    if (!j.is_object()) throw mistral_bad_reply("read batch job", "the reply is not a JSON object");
    BatchJob job;
    job.provider = "mistral";
    job.name = get_string(j, "id");
    job.model = get_string(j, "model");
    job.raw_state = get_string(j, "status");
    job.state = mistral_state(job.raw_state);
    job.done = is_terminal(job.state);
    job.display_name = get_string(member(j, "metadata"), "llmbatch_display_name");
    if (auto token = get_string(member(j, "metadata"), "llmbatch_client_token"); client_token_valid(token))
        job.client_token = std::move(token);
    auto counter = [&](std::string_view key) {
        auto v = get_int64(j, key);
        if (!v) throw mistral_bad_reply("read batch job " + job.name, fmt::format("{} is not an integer", key));
        return *v;
    };
    job.counts.total = counter("total_requests");
    job.counts.succeeded = counter("succeeded_requests");
    job.counts.failed = counter("failed_requests");
    if (!job.done) job.counts.pending = std::max<std::int64_t>(job.counts.total - counter("completed_requests"), 0);
    if (const auto* errors = find(j, "errors"); errors && errors->is_array() && !errors->empty()) {
        ErrorStatus err;
        err.status = "FAILED";
        for (const auto& e : *errors) {
            std::string one = get_string(e, "message");
            if (auto n = get_int64(e, "count"); n && *n > 1) one += fmt::format(" ({} times)", *n);
            err.message += (err.message.empty() ? "" : "; ") + one;
        }
        err.details = *errors;
        job.error = std::move(err);
    }
    job.create_time = unix_time(j, "created_at");
    job.update_time = unix_time(j, "started_at");
    job.end_time = unix_time(j, "completed_at");
    if (job.end_time) job.update_time = job.end_time;
    if (const auto* inputs = find(j, "input_files"); inputs && inputs->is_array() && !inputs->empty() &&
                                                     (*inputs)[0].is_string())
        job.input_file = (*inputs)[0].get<std::string>();
    std::string file = get_string(j, "output_file");
    if (file.empty()) file = get_string(j, "error_file");
    if (const auto* outputs = find(j, "outputs"); outputs && outputs->is_array()) {
        job.results_location = ResultsLocation::inline_;
    } else if (!file.empty()) {
        job.results_location = ResultsLocation::file;
        job.results_ref = std::move(file);
    }
    job.raw = std::move(j);
    return job;
}

}  // namespace detail

/// The Mistral API's authentication, error bodies and retry rules, for `ProviderSession`.
struct MistralWire {
    static constexpr std::string_view name = "mistral";

    /// `Authorization: Bearer <key>`, as OpenAI's.
    static void authenticate(HttpHeaders& headers, const std::string& api_key) {
        OpenAIWire::authenticate(headers, api_key);
    }

    /// `{"message", "type", "code"}`, `{"detail": ...}` (validation errors) or `{"error": {...}}`,
    /// which OpenAI's reader takes all three; else the body's first 200 bytes as the message.
    [[nodiscard]] static ErrorStatus read_error(const HttpResponse& failed) { return OpenAIWire::read_error(failed); }

    /// 429 is a quota error.
    [[nodiscard]] static bool is_quota(int http_status, const ErrorStatus&) { return http_status == 429; }

    /// 429, 500, 502, 503, 504 (the official SDK's retry codes); `retry-after-ms`, else `Retry-After`.
    static constexpr RetryRules retry_rules{};
};

}  // namespace llmbatch
