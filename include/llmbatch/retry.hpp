#pragma once
/// @file retry.hpp
/// Retries of transient failures: `RetryPolicy` (how often and how long to wait), `RetryRules`
/// (which failed responses a provider considers transient, and the delay its server asks for),
/// and `send_with_retries`, which runs one exchange under both with every wait going through the
/// `Clock`.
///
/// What is retried by default (`RetryRules{}`): `TransportError`, and HTTP 429, 500, 502, 503 and
/// 504, waiting what `Retry-After` or `retry-after-ms` asks for when present. Everything else (400,
/// 401, 403, 404, ...) surfaces at once with the API's message. A provider replaces the rules with
/// its own: a permanent quota error (a 429 that no wait cures) is not retried, an "overloaded"
/// status is, and a delay carried in the error body is honoured.
///
/// Creating a batch job is not idempotent: two creates make two paid jobs. A create is
/// therefore retried only when the service certainly did not take it: a 429 (refused), or a
/// transport failure the transport marks as "not sent" (e.g. connection refused). A timeout
/// after sending, or a 5xx, is retried for a create only with
/// `RetryPolicy::retry_unsafe_creates = true`.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "llmbatch/clock.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/detail/config.hpp"
#include "llmbatch/detail/jitter.hpp"

namespace llmbatch {

/// What `RetryPolicy::on_retry` is told before each wait: which call failed, how, and when it
/// will be tried again. The URL is given without its query; a provider's session also removes its
/// API key from `reason`.
struct RetryNotice {
    std::string provider{};             ///< set by the provider's session
    std::string method{};
    std::string url{};                  ///< without the query string
    int attempt = 1;                    ///< the attempt that failed, counted from 1
    int max_attempts = 1;
    std::chrono::milliseconds wait{0};  ///< the wait before the next attempt
    std::string reason{};               ///< `HTTP 503`, or what the transport said
};

/// How transient failures are retried.
struct RetryPolicy {
    /// Attempts in all, the first included; 1 disables retries.
    int max_attempts = 5;
    /// Wait before the first retry; later waits grow by `multiplier` up to `max_backoff`.
    std::chrono::milliseconds initial_backoff{1000};
    double multiplier = 2.0;
    std::chrono::milliseconds max_backoff{60'000};
    /// Each computed wait is scaled by a random factor in [1 - jitter, 1 + jitter].
    double jitter = 0.2;
    /// A server-requested delay (`Retry-After`, `RetryInfo`) is honoured up to this bound;
    /// a longer request ends the retries and the error surfaces.
    std::chrono::milliseconds max_server_delay{300'000};
    /// Retry a create whose request may have reached the server (may make duplicate jobs).
    bool retry_unsafe_creates = false;
    /// Seed of the jitter generator (fixed for reproducible schedules).
    std::uint64_t seed = 0x6c6c6d6261746368ULL;
    /// Told before each wait for a retry (e.g. to say on a console what is being retried); empty:
    /// retries are silent.
    std::function<void(const RetryNotice&)> on_retry{};

    /// A policy that never retries.
    [[nodiscard]] static RetryPolicy none() {
        RetryPolicy p;
        p.max_attempts = 1;
        return p;
    }
};

/// Whether a call may be repeated without side effects.
enum class Idempotency { idempotent, not_idempotent };

namespace detail {

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the HTTP-date form in use.
[[nodiscard]] LLMBATCH_DECL std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s);

}  // namespace detail

/// The delay a failed response asks for in its headers: `retry-after-ms` (milliseconds), else
/// `Retry-After` (delta-seconds, or an HTTP-date relative to `utc_now`).
[[nodiscard]] LLMBATCH_DECL std::optional<std::chrono::milliseconds> server_retry_delay(
    const HttpResponse& response, std::chrono::system_clock::time_point utc_now);

/// True for the HTTP statuses worth retrying: 429, 500, 502, 503, 504.
[[nodiscard]] constexpr bool is_retryable_status(int status) noexcept {
    return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

/// The computed (non-server) wait before retry number `retry` (1 for the first retry),
/// before jitter: `initial_backoff * multiplier^(retry-1)`, capped at `max_backoff`.
[[nodiscard]] LLMBATCH_DECL std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry);

/// Which failed responses a provider treats as transient, and how long its server asks to wait.
/// Plain function pointers, so a provider's rules are a `constexpr` value.
struct RetryRules {
    /// True when a failed (non-2xx) response is worth repeating.
    bool (*retryable)(const HttpResponse& failed) = [](const HttpResponse& r) { return is_retryable_status(r.status); };
    /// The delay the server asks for before the next attempt, if it says.
    std::optional<std::chrono::milliseconds> (*server_delay)(const HttpResponse& failed,
                                                             std::chrono::system_clock::time_point utc_now) =
        &server_retry_delay;
};

/// Sends `request` through `send` (a callable `HttpRequest -> HttpResponse` that throws
/// `TransportError`), retrying transient failures under `policy` and the provider's `rules`,
/// and sleeping through `clock`.
/// Returns the final response, which may still be an error status for the caller to translate.
/// @throws TransportError when the last attempt failed in transport.
template <class Send, Clock ClockT>
[[nodiscard]] HttpResponse send_with_retries(Send&& send, const HttpRequest& request, const RetryPolicy& policy,
                                             Idempotency idempotency, ClockT& clock, const RetryRules& rules = {}) {
    detail::Jitter jitter(policy.seed ^ std::hash<std::string>{}(request.url));
    const int attempts = std::max(policy.max_attempts, 1);
    for (int attempt = 1;; ++attempt) {
        std::optional<std::chrono::milliseconds> server_delay;
        std::string reason;
        try {
            HttpResponse response = send(request);
            if (response.ok() || !rules.retryable(response) || attempt >= attempts) return response;
            // A 429 means the request was refused, so even a create is safe to repeat.
            const bool safe =
                idempotency == Idempotency::idempotent || response.status == 429 || policy.retry_unsafe_creates;
            if (!safe) return response;
            server_delay = rules.server_delay(response, clock.utc_now());
            if (server_delay && *server_delay > policy.max_server_delay) return response;
            reason = "HTTP " + std::to_string(response.status);
        } catch (const TransportError& e) {
            const bool safe = idempotency == Idempotency::idempotent || !e.request_may_have_been_sent() ||
                              policy.retry_unsafe_creates;
            if (!safe || attempt >= attempts) throw;
            reason = e.what();
        }
        std::chrono::milliseconds wait;
        if (server_delay) {
            wait = *server_delay;
        } else {
            const auto base = backoff_delay(policy, attempt);
            const double factor = 1.0 + std::clamp(policy.jitter, 0.0, 1.0) * jitter.unit();
            wait = std::chrono::milliseconds(static_cast<std::int64_t>(static_cast<double>(base.count()) * factor));
        }
        if (policy.on_retry) {
            RetryNotice notice;
            notice.method = request.method;
            notice.url = request.url.substr(0, request.url.find('?'));
            notice.attempt = attempt;
            notice.max_attempts = attempts;
            notice.wait = wait;
            notice.reason = std::move(reason);
            policy.on_retry(notice);
        }
        clock.sleep_for(std::chrono::duration_cast<typename ClockT::duration>(wait));
    }
}

}  // namespace llmbatch

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/impl/retry.ipp"
#endif
