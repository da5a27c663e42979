#pragma once
/// @file providers/anthropic/wire.hpp
/// The Anthropic API's wire vocabulary: `AnthropicWire` (authentication, error bodies, retry
/// rules) for the shared `ProviderSession`; `AnthropicHeaderTransport`, which adds
/// `anthropic-version`, the optional workspace header and the chosen authentication style; the
/// request ids (`custom_id`) the Message Batches API accepts; and the reader of a MessageBatch.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/detail/time.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/retry.hpp"
#include "llmbatch/transport/streaming.hpp"

namespace llmbatch {

/// How the API key travels.
enum class AnthropicAuth {
    bearer,     ///< `Authorization: Bearer <key>` (what the current official SDK sends)
    x_api_key,  ///< `x-api-key: <key>` (the older SDKs' header)
};

namespace detail {

/// True for a `custom_id` the API accepts: 1 to 64 characters of `[a-zA-Z0-9_-]`.
[[nodiscard]] inline bool anthropic_valid_custom_id(std::string_view id) {
    return is_path_safe_id(id, 64, "-_");
}

/// The `custom_id` request `index` with key `key` is submitted under: the key itself when the API
/// accepts it, else `k<16 hex digits of the key's FNV-1a hash>_<index>` (at most 38 characters).
/// Deterministic, so a fetch given the same keys in the same order finds every result again.
[[nodiscard]] inline std::string anthropic_custom_id(std::string_view key, std::size_t index) {
    if (anthropic_valid_custom_id(key)) return std::string(key);
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (char c : key) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ull;
    }
    return fmt::format("k{:016x}_{}", h, index);
}

/// `id` checked so it cannot alter a URL path: 1 to 200 letters, digits, `-`, `_`.
/// @throws InvalidArgument naming `what` otherwise.
[[nodiscard]] inline std::string anthropic_path_id(std::string_view id, std::string_view what) {
    if (!is_path_safe_id(id, 200, "-_")) throw InvalidArgument(fmt::format("'{}' is not {}", excerpt(id, 80), what));
    return std::string(id);
}

/// An RFC 3339 member as a time point; nothing when absent, null or not such a text.
[[nodiscard]] inline std::optional<std::chrono::system_clock::time_point> rfc3339_member(const Json& j,
                                                                                          std::string_view key) {
    const auto* v = find(j, key);
    if (!v || !v->is_string()) return std::nullopt;
    return parse_rfc3339(v->get<std::string>());
}

[[nodiscard]] inline ProviderError anthropic_bad_reply(std::string_view what, std::string_view why) {
    return ProviderError(fmt::format("anthropic: {}: unexpected reply: {}", what, why),
                         ProviderErrorInfo{"anthropic", 0, {}, std::string(why), false});
}

/// Translates a MessageBatch into a `BatchJob` (`raw` keeps it whole). `processing_status`
/// `in_progress` → running, `canceling` → cancelling, `ended` → succeeded, except an ended batch
/// whose requests all errored (failed, with a job error), were all canceled or were canceled
/// after a cancellation (cancelled), or has expired requests (expired). Counts: `processing` →
/// pending, `errored` → failed; they are final only once the batch ended.
/// @throws ProviderError when it is not an object, or a counter is not an integer.
[[nodiscard]] inline BatchJob parse_anthropic_batch(Json batch) {
    if (!batch.is_object()) throw anthropic_bad_reply("read batch job", "the reply is not a JSON object");
    BatchJob job;
    job.provider = "anthropic";
    job.name = get_string(batch, "id");
    job.raw_state = get_string(batch, "processing_status");
    job.counts_final_only_at_end = true;
    if (const auto* counts = find(batch, "request_counts"); counts && counts->is_object()) {
        auto counter = [&](std::string_view key) {
            auto v = get_int64(*counts, key);
            if (!v)
                throw anthropic_bad_reply("read batch job " + job.name,
                                          fmt::format("request_counts.{} is not an integer", key));
            return *v;
        };
        job.counts.pending = counter("processing");
        job.counts.succeeded = counter("succeeded");
        job.counts.failed = counter("errored");
        job.counts.cancelled = counter("canceled");
        job.counts.expired = counter("expired");
        job.counts.total =
            job.counts.pending + job.counts.succeeded + job.counts.failed + job.counts.cancelled + job.counts.expired;
    }
    job.create_time = rfc3339_member(batch, "created_at");
    job.expire_time = rfc3339_member(batch, "expires_at");
    job.end_time = rfc3339_member(batch, "ended_at");
    job.update_time = job.create_time;
    for (std::string_view key : {"cancel_initiated_at", "ended_at", "archived_at"})
        if (auto t = rfc3339_member(batch, key); t && (!job.update_time || *t > *job.update_time)) job.update_time = t;
    const bool cancel_asked = rfc3339_member(batch, "cancel_initiated_at").has_value();
    const auto& c = job.counts;
    if (job.raw_state == "in_progress") {
        job.state = JobState::running;
    } else if (job.raw_state == "canceling") {
        job.state = JobState::cancelling;
    } else if (job.raw_state == "ended") {
        if (c.total > 0 && c.failed == c.total) {
            job.state = JobState::failed;
            job.error = ErrorStatus{0, "ALL_REQUESTS_ERRORED",
                                    fmt::format("every one of the {} requests of the batch errored", c.total), nullptr};
        } else if (c.expired > 0) {
            job.state = JobState::expired;
        } else if ((c.total > 0 && c.cancelled == c.total) || (cancel_asked && c.cancelled > 0)) {
            job.state = JobState::cancelled;
        } else {
            job.state = JobState::succeeded;
        }
    } else {
        job.state = JobState::unspecified;
    }
    job.done = is_terminal(job.state);
    if (std::string url = get_string(batch, "results_url"); !url.empty()) {
        job.results_location = ResultsLocation::url;
        job.results_ref = std::move(url);
    }
    job.raw = std::move(batch);
    return job;
}

/// The HTTP status that usually carries an Anthropic error `type` (0 when unknown).
[[nodiscard]] inline int anthropic_error_http_status(std::string_view type) {
    if (type == "invalid_request_error") return 400;
    if (type == "authentication_error") return 401;
    if (type == "billing_error") return 402;
    if (type == "permission_error") return 403;
    if (type == "not_found_error") return 404;
    if (type == "conflict_error") return 409;
    if (type == "request_too_large") return 413;
    if (type == "rate_limit_error") return 429;
    if (type == "api_error") return 500;
    if (type == "timeout_error") return 504;
    if (type == "overloaded_error") return 529;
    return 0;
}

/// The `ErrorStatus` of an error body `{"type": "error", "error": {"type", "message"}, "request_id"}`
/// (status = the inner type); nothing when `body` has no such error.
[[nodiscard]] inline std::optional<ErrorStatus> anthropic_body_error(int http_status, const Json& body) {
    const Json* err = find(body, "error");
    if (!err || !err->is_object()) return std::nullopt;
    ErrorStatus status;
    status.code = http_status;
    status.status = get_string(*err, "type");
    status.message = get_string(*err, "message");
    status.details = body;
    if (status.status.empty() && status.message.empty()) return std::nullopt;
    return status;
}

}  // namespace detail

/// The Anthropic API's error bodies and retry rules, for `ProviderSession`. It authenticates with
/// `Authorization: Bearer`; `AnthropicHeaderTransport` moves the key to `x-api-key` when asked.
struct AnthropicWire {
    static constexpr std::string_view name = "anthropic";

    static void authenticate(HttpHeaders& headers, const std::string& api_key) {
        headers.set("Authorization", "Bearer " + api_key);
    }

    /// `{"type": "error", "error": {"type", "message"}}`: status = the error type; else the
    /// body's first 200 bytes as the message.
    [[nodiscard]] static ErrorStatus read_error(const HttpResponse& failed) {
        const auto parsed = Json::parse(failed.body, nullptr, false);
        if (!parsed.is_discarded() && parsed.is_object())
            if (auto status = detail::anthropic_body_error(failed.status, parsed)) {
                status->details = nullptr;
                return *status;
            }
        ErrorStatus status;
        status.code = failed.status;
        status.message = detail::excerpt(failed.body, 200);
        return status;
    }

    /// 429 (`rate_limit_error`) is a quota error.
    [[nodiscard]] static bool is_quota(int http_status, const ErrorStatus&) { return http_status == 429; }

    /// 408, 409, 429 and 5xx (529 `overloaded_error` included), as the official SDKs retry, unless
    /// the server says otherwise with `x-should-retry: true|false`; the delay from
    /// `retry-after-ms`, else `Retry-After`.
    static constexpr RetryRules retry_rules{
        [](const HttpResponse& r) {
            if (const auto should = r.headers.get("x-should-retry")) {
                if (*should == "true") return true;
                if (*should == "false") return false;
            }
            return r.status == 408 || r.status == 409 || r.status == 429 || (r.status >= 500 && r.status <= 599);
        },
        &server_retry_delay};
};

/// A transport that adds `anthropic-version`, the workspace header (when not empty) and, for
/// `AnthropicAuth::x_api_key`, moves the key from `Authorization: Bearer` to `x-api-key`,
/// before handing each request to `inner`; streaming when `inner` streams.
template <class Transport>
struct AnthropicHeaderTransport {
    Transport inner;
    std::string version;
    std::string workspace_id;
    AnthropicAuth auth = AnthropicAuth::bearer;

    HttpResponse send(const HttpRequest& request) { return inner.send(with_headers(request)); }

    HttpResponse send(const HttpRequest& request, BodySink sink)
        requires StreamingHttpTransport<Transport>
    {
        return inner.send(with_headers(request), std::move(sink));
    }

private:
    [[nodiscard]] HttpRequest with_headers(const HttpRequest& request) const {
        HttpRequest r = request;
        if (auth == AnthropicAuth::x_api_key)
            if (auto bearer = r.headers.get("Authorization"); bearer && bearer->rfind("Bearer ", 0) == 0) {
                r.headers.erase("Authorization");
                r.headers.set("x-api-key", bearer->substr(7));
            }
        r.headers.set("anthropic-version", version);
        if (!workspace_id.empty()) r.headers.set("anthropic-workspace-id", workspace_id);
        return r;
    }
};

}  // namespace llmbatch
