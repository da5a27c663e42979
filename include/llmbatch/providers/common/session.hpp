#pragma once
/// @file providers/common/session.hpp
/// `ProviderSession<Wire, Transport, Clock>`: the authenticated exchange every provider makes,
/// written once. It adds the provider's authentication headers, runs the exchange under the
/// retry policy and the provider's retry rules, turns a failed response into the typed error
/// (reading the provider's error body), keeps the API key out of every message, and streams
/// downloads through the transport's streaming capability when it has one.
///
/// `Wire` is the provider's wire description, a type with:
///
/// | member                                                        | meaning                                   |
/// |---------------------------------------------------------------|-------------------------------------------|
/// | `static constexpr std::string_view name`                      | provider name, for messages               |
/// | `static void authenticate(HttpHeaders&, const std::string& key)` | sets the authentication headers        |
/// | `static ErrorStatus read_error(const HttpResponse& failed)`   | the API's code, status and message        |
/// | `static bool is_quota(int http_status, const ErrorStatus&)`   | true: a `QuotaError`                      |
/// | `static constexpr RetryRules retry_rules`                     | what is transient, server-given delays   |
///
/// Errors: `QuotaError` (as `is_quota` says), `AuthenticationError` (401, 403), `NotFoundError`
/// (404), `ProviderError` otherwise (its `retryable()` from the retry rules); `TransportError`
/// naming the provider and the operation when the exchange itself failed.

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/clock.hpp"
#include "llmbatch/concepts.hpp"
#include "llmbatch/detail/fast_json.hpp"
#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/progress.hpp"
#include "llmbatch/providers/common/credentials.hpp"
#include "llmbatch/retry.hpp"
#include "llmbatch/transport/streaming.hpp"

namespace llmbatch {

/// The shared authenticated exchange of a provider (see the file comment for `Wire`).
template <class Wire, HttpTransport Transport, Clock ClockT>
class ProviderSession {
public:
    static constexpr std::string_view name = Wire::name;
    /// How much of an error body is kept for the error reader during a streamed download.
    static constexpr std::size_t max_error_body = 64 * 1024;

    ProviderSession(std::string api_key, RetryPolicy retry, Transport transport, ClockT clock,
                    TransferObserver on_transfer = {})
        : redactor_(std::move(api_key)), retry_(retry), transport_(std::move(transport)), clock_(std::move(clock)),
          on_transfer_(std::move(on_transfer)) {}

    [[nodiscard]] bool has_key() const noexcept { return !redactor_.secret().empty(); }
    [[nodiscard]] Transport& transport() noexcept { return transport_; }
    [[nodiscard]] ClockT& clock() noexcept { return clock_; }
    [[nodiscard]] const ClockT& clock() const noexcept { return clock_; }

    /// `text` without the API key.
    [[nodiscard]] std::string redact(std::string text) const { return redactor_(std::move(text)); }
    /// `job` with its error and raw object redacted (everything a server said about it).
    [[nodiscard]] BatchJob redact_job(BatchJob job) const {
        redactor_.redact_job(job);
        return job;
    }
    [[nodiscard]] const Redactor& redactor() const noexcept { return redactor_; }

    /// A meter for one upload or download of this provider, reporting to its `on_transfer`.
    [[nodiscard]] TransferMeter<ClockT> meter(TransferProgress::Direction direction, std::string what,
                                              std::optional<std::uint64_t> total = {}) {
        return TransferMeter<ClockT>(on_transfer_, clock_, name, direction, redact(std::move(what)), total);
    }

    /// `exchange` of a request whose body may be large (a job sent inline, an input file),
    /// reported as an upload when it is.
    HttpResponse upload(HttpRequest request, std::string_view what, Idempotency idempotency) {
        const auto size = request.body.size();
        // Every call passes here: a small body, or nobody listening, costs no meter.
        if (!on_transfer_ || size < TransferMeter<ClockT>::min_reported_bytes)
            return exchange(std::move(request), what, idempotency);
        auto m = meter(TransferProgress::Direction::upload, std::string(what), size);
        HttpResponse response = exchange(std::move(request), what, idempotency);
        m.add(size);
        m.finish();
        return response;
    }

    /// Sends one authenticated request (a JSON `Content-Type` is added to a body that has none)
    /// and returns the successful response.
    /// @throws the typed error of a failed response, or `TransportError`.
    HttpResponse exchange(HttpRequest request, std::string_view what, Idempotency idempotency = Idempotency::idempotent) {
        prepare(request);
        HttpResponse response = send(request, what, idempotency,
                                     [this](const HttpRequest& r) { return transport_.send(r); });
        if (!response.ok()) throw_http_error(response, what);
        return response;
    }

    /// `exchange`, with the reply parsed as JSON (an empty body reads as `{}`).
    /// @throws ProviderError when the body is not JSON.
    Json call(std::string method, std::string url, std::string body, std::string_view what,
              Idempotency idempotency = Idempotency::idempotent) {
        return call(std::move(method), std::move(url), std::move(body), what, idempotency,
                    [](std::string_view text) { return detail::parse_json(text); });
    }

    /// `call` with the reply parsed by `parse(std::string_view) -> Json` (a discarded value for
    /// text that is not JSON).
    template <class Parse>
    Json call(std::string method, std::string url, std::string body, std::string_view what, Idempotency idempotency,
              Parse&& parse) {
        // A large body (a job sent inline) is reported as an upload.
        const HttpResponse response =
            upload(HttpRequest{std::move(method), std::move(url), {}, std::move(body)}, what, idempotency);
        if (response.body.empty()) return Json::object();
        Json parsed = std::forward<Parse>(parse)(std::string_view(response.body));
        if (parsed.is_discarded())
            throw bad_reply(what, fmt::format("the body is not JSON: {}", detail::excerpt(redact(response.body), 120)));
        return parsed;
    }

    /// Downloads a response body, handing it to `on_chunk(std::string_view)` piece by piece:
    /// streamed when the transport models `StreamingHttpTransport`, else read whole and handed
    /// over at once. Retried like any idempotent call until the first byte has been handed over;
    /// a failure after that is a `ProviderError` (retryable) rather than a silent retry.
    /// @returns the response head (status and headers).
    template <class OnChunk>
    HttpResponse download(HttpRequest request, std::string_view what, OnChunk&& on_chunk) {
        prepare(request);
        auto m = meter(TransferProgress::Direction::download, std::string(what));
        if constexpr (StreamingHttpTransport<Transport>) {
            std::size_t delivered = 0;
            HttpResponse head = send(request, what, Idempotency::idempotent, [&](const HttpRequest& r) {
                std::string error_body;
                try {
                    HttpResponse h = transport_.send(r, [&](const HttpResponse& part, std::string_view chunk) {
                        if (part.ok()) {
                            if (delivered == 0) m.set_total(content_length(part));
                            delivered += chunk.size();
                            on_chunk(chunk);
                            m.add(chunk.size());
                        } else if (error_body.size() < max_error_body) {
                            error_body.append(chunk.substr(0, max_error_body - error_body.size()));
                        }
                    });
                    if (!h.ok()) h.body = std::move(error_body);
                    return h;
                } catch (const TransportError& e) {
                    if (delivered == 0) throw;
                    throw ProviderError(
                        fmt::format("{}: {}: the download broke off after {} bytes: {}", name, what, delivered,
                                    redact(e.what())),
                        ProviderErrorInfo{std::string(name), 0, {}, "download interrupted", true});
                }
            });
            if (!head.ok()) throw_http_error(head, what);
            m.finish();
            return head;
        } else {
            HttpResponse response = exchange(std::move(request), what);
            m.set_total(response.body.size());
            if (!response.body.empty()) on_chunk(std::string_view(response.body));
            m.add(response.body.size());
            m.finish();
            response.body.clear();
            return response;
        }
    }

    /// The error for a reply that is not what the API documents.
    [[nodiscard]] static ProviderError bad_reply(std::string_view what, std::string_view why) {
        return ProviderError(fmt::format("{}: {}: unexpected reply: {}", name, what, why),
                             ProviderErrorInfo{std::string(name), 0, {}, std::string(why), false});
    }

    /// Throws the typed error of a failed response, with the API's status and message (redacted).
    [[noreturn]] void throw_http_error(const HttpResponse& response, std::string_view what) const {
        // Redacted before the reader cuts anything, so no part of a key survives a cut.
        HttpResponse redacted{response.status, response.headers, redact(response.body)};
        ErrorStatus status = Wire::read_error(redacted);
        const int http = response.status;
        ProviderErrorInfo info{std::string(name), http, status.status, status.message,
                               Wire::retry_rules.retryable(response)};
        const std::string message =
            fmt::format("{}: {} failed: HTTP {}{}{}", name, what, http, status.status.empty() ? "" : " " + status.status,
                        status.message.empty() ? "" : ": " + status.message);
        if (Wire::is_quota(http, status)) throw QuotaError(message, std::move(info));
        if (http == 401 || http == 403) throw AuthenticationError(message, std::move(info));
        if (http == 404) throw NotFoundError(message, std::move(info));
        throw ProviderError(message, std::move(info));
    }

private:
    /// The `Content-Length` of a response head, when it gives a number.
    [[nodiscard]] static std::optional<std::uint64_t> content_length(const HttpResponse& head) {
        const auto text = head.headers.get("content-length");
        if (!text) return std::nullopt;
        std::uint64_t n = 0;
        const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
        if (ec != std::errc{} || end != text->data() + text->size()) return std::nullopt;
        return n;
    }

    void prepare(HttpRequest& request) const {
        Wire::authenticate(request.headers, redactor_.secret());
        if (!request.body.empty() && !request.headers.contains("Content-Type"))
            request.headers.set("Content-Type", "application/json");
    }

    template <class SendOnce>
    HttpResponse send(const HttpRequest& request, std::string_view what, Idempotency idempotency, SendOnce&& once) {
        try {
            if (!retry_.on_retry) return send_with_retries(once, request, retry_, idempotency, clock_, Wire::retry_rules);
            // The notice names the provider and never carries the key.
            RetryPolicy policy = retry_;
            policy.on_retry = [&](const RetryNotice& notice) {
                RetryNotice told = notice;
                told.provider = std::string(name);
                told.url = redact(std::move(told.url));
                told.reason = redact(std::move(told.reason));
                retry_.on_retry(told);
            };
            return send_with_retries(once, request, policy, idempotency, clock_, Wire::retry_rules);
        } catch (const TransportError& e) {
            throw TransportError(fmt::format("{}: {}: {}", name, what, redact(e.what())), e.request_may_have_been_sent(),
                                 std::string(name));
        }
    }

    Redactor redactor_;
    RetryPolicy retry_;
    [[no_unique_address]] Transport transport_;
    [[no_unique_address]] ClockT clock_;
    TransferObserver on_transfer_;
};

}  // namespace llmbatch
