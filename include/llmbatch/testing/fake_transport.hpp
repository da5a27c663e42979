#pragma once
/// @file testing/fake_transport.hpp
/// `FakeTransport`: a scripted `HttpTransport` that records every request, plus helpers that build
/// JSON and Google-style error responses.
///
/// Responses are scripted two ways: an in-order queue (`push`), served first, and routes matched by
/// method and path (`on`). `fail_on_call(n)` makes the n-th call throw `TransportError`, so a test
/// can walk every failure point of a workflow by looping n = 1, 2, ...
/// Copies share one state: hand one copy to the code under test and inspect another.
///
/// **Example**:
/// ```cpp
/// using namespace llmbatch::testing;
/// FakeTransport fake;
/// fake.on("GET", "/v1beta/batches/abc", json_response(200, {{"name", "batches/abc"}}))
///     .fail_on_call(1);
/// // call 1 throws TransportError; call 2 returns the scripted body
/// ```

#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/concepts.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/transport/streaming.hpp"

namespace llmbatch::testing {

/// A response with status `status`, body `body.dump()` and, unless `headers` already has one,
/// the header `Content-Type: application/json`.
[[nodiscard]] inline HttpResponse json_response(int status, const Json& body, HttpHeaders headers = {}) {
    HttpResponse response;
    response.status = status;
    if (!headers.contains("Content-Type")) headers.set("Content-Type", "application/json");
    response.headers = std::move(headers);
    response.body = body.dump();
    return response;
}

/// A Google API error response: HTTP status `http_status` and the body
/// `{"error":{"code":<http_status>,"message":<message>,"status":<status>}}`.
/// **Example**: `google_error_response(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted.")`.
[[nodiscard]] inline HttpResponse google_error_response(int http_status, std::string status, std::string message) {
    Json body = {{"error", {{"code", http_status}, {"message", std::move(message)}, {"status", std::move(status)}}}};
    return json_response(http_status, body);
}

/// A scripted HTTP transport that records every request.
///
/// `send` records the request (always, even when the call then fails), then:
/// 1. if the call's number (1-based, counting every call) was given to `fail_on_call`, throws
///    `TransportError` ("FakeTransport: injected failure on call n");
/// 2. else, if the in-order queue is non-empty, pops and returns its front;
/// 3. else returns the response of the route whose method and path (`url_path(url)`, exact match)
///    match: each match takes the route's next response, and the last one repeats forever;
/// 4. else throws `std::logic_error` naming the method and path.
///
/// It also models `StreamingHttpTransport`: `send(request, sink)` answers the same way and hands
/// the body to the sink in pieces of `stream_piece_bytes` (the whole body by default), and
/// `break_stream_after(bytes)` makes the next streamed body end with a `TransportError` once that
/// many bytes were handed over, as a connection lost mid-download.
class FakeTransport {
public:
    FakeTransport() : state_(std::make_shared<State>()) {}

    /// Performs one scripted exchange (see the class comment).
    /// @throws TransportError on a call chosen by `fail_on_call`.
    /// @throws std::logic_error when nothing is scripted for the request.
    HttpResponse send(const HttpRequest& request) {
        std::lock_guard lock(state_->mutex);
        state_->requests.push_back(request);
        const std::size_t call = state_->requests.size();
        for (const auto& failure : state_->failures)
            if (failure.call == call)
                throw TransportError(fmt::format("FakeTransport: injected failure on call {}", call),
                                     failure.request_may_have_been_sent);
        if (!state_->queue.empty()) {
            HttpResponse response = std::move(state_->queue.front());
            state_->queue.pop_front();
            return response;
        }
        const std::string path = url_path(request.url);
        for (auto& route : state_->routes) {
            if (route.method != request.method || route.path != path) continue;
            if (route.responses.size() > 1) {
                HttpResponse response = std::move(route.responses.front());
                route.responses.pop_front();
                return response;
            }
            return route.responses.front();
        }
        throw std::logic_error(fmt::format("FakeTransport: no scripted response for {} {}", request.method, path));
    }

    /// `send`, with the body handed to `sink` in pieces (see the class comment); the returned
    /// response has the status and headers and an empty body.
    HttpResponse send(const HttpRequest& request, const BodySink& sink) {
        HttpResponse response = send(request);
        std::size_t piece = 0;
        std::optional<std::size_t> break_after;
        {
            std::lock_guard lock(state_->mutex);
            piece = state_->piece == 0 ? response.body.size() : state_->piece;
            break_after = std::exchange(state_->break_after, std::nullopt);
        }
        const HttpResponse head{response.status, response.headers, {}};
        const std::string_view body = response.body;
        for (std::size_t at = 0; at < body.size(); at += piece) {
            if (break_after && at >= *break_after)
                throw TransportError(fmt::format("FakeTransport: connection lost after {} bytes", at), true);
            sink(head, body.substr(at, piece));
        }
        return head;
    }

    /// Streamed bodies come in pieces of `bytes` (0: the whole body at once).
    FakeTransport& stream_piece_bytes(std::size_t bytes) {
        std::lock_guard lock(state_->mutex);
        state_->piece = bytes;
        return *this;
    }

    /// The next streamed body breaks off (`TransportError`) after `bytes` bytes.
    FakeTransport& break_stream_after(std::size_t bytes) {
        std::lock_guard lock(state_->mutex);
        state_->break_after = bytes;
        return *this;
    }

    /// Appends `response` to the route `method path` (path without query, e.g. `/v1beta/batches/x`).
    /// Successive matches take the route's responses in order; the last one repeats.
    FakeTransport& on(std::string method, std::string path, HttpResponse response) {
        std::lock_guard lock(state_->mutex);
        for (auto& route : state_->routes) {
            if (route.method == method && route.path == path) {
                route.responses.push_back(std::move(response));
                return *this;
            }
        }
        state_->routes.push_back(Route{std::move(method), std::move(path), {std::move(response)}});
        return *this;
    }

    /// Appends `response` to the in-order queue, which is served before any route.
    FakeTransport& push(HttpResponse response) {
        std::lock_guard lock(state_->mutex);
        state_->queue.push_back(std::move(response));
        return *this;
    }

    /// Makes call number `n` (1-based, counting every call) throw `TransportError`. May be given
    /// several times. `request_may_have_been_sent` is passed to the error (false models a refused
    /// connection, after which even a non-idempotent call may be retried).
    /// @throws std::invalid_argument when `n` is 0.
    FakeTransport& fail_on_call(std::size_t n, bool request_may_have_been_sent = true) {
        if (n == 0) throw std::invalid_argument("FakeTransport::fail_on_call counts calls from 1.");
        std::lock_guard lock(state_->mutex);
        state_->failures.push_back(Failure{n, request_may_have_been_sent});
        return *this;
    }

    /// Every request received so far, in order (failed calls included).
    [[nodiscard]] std::vector<HttpRequest> requests() const {
        std::lock_guard lock(state_->mutex);
        return state_->requests;
    }

    /// The most recent request.
    /// @throws std::logic_error when no request was received.
    [[nodiscard]] HttpRequest last_request() const {
        std::lock_guard lock(state_->mutex);
        if (state_->requests.empty()) throw std::logic_error("FakeTransport: no request has been sent yet.");
        return state_->requests.back();
    }

    /// The number of `send` calls so far.
    [[nodiscard]] std::size_t call_count() const {
        std::lock_guard lock(state_->mutex);
        return state_->requests.size();
    }

    /// Responses still waiting in the in-order queue.
    [[nodiscard]] std::size_t queued() const {
        std::lock_guard lock(state_->mutex);
        return state_->queue.size();
    }

    /// Forgets every queued response, route, injected failure and recorded request.
    void reset() {
        std::lock_guard lock(state_->mutex);
        state_->queue.clear();
        state_->routes.clear();
        state_->failures.clear();
        state_->requests.clear();
    }

private:
    struct Route {
        std::string method;
        std::string path;
        std::deque<HttpResponse> responses;  // never empty
    };
    struct Failure {
        std::size_t call;
        bool request_may_have_been_sent;
    };
    struct State {
        std::mutex mutex;
        std::deque<HttpResponse> queue;
        std::vector<Route> routes;
        std::vector<Failure> failures;
        std::vector<HttpRequest> requests;
        std::size_t piece = 0;
        std::optional<std::size_t> break_after;
    };
    std::shared_ptr<State> state_;
};

static_assert(llmbatch::StreamingHttpTransport<FakeTransport>);

}  // namespace llmbatch::testing
