#pragma once
/// @file testing/lossy_transport.hpp
/// `LossyTransport<Inner>`: a transport that delivers every request to `Inner` but can lose the
/// reply of chosen calls, as a timeout after sending or a connection dropped mid-reply does. The
/// request has reached the server (a job may exist), and the client sees a `TransportError` that
/// says so: exactly the ambiguous failure after which a create must not be repeated. It can also
/// answer a chosen call with an HTTP error without delivering it (a server that refused it).
/// Calls are chosen by number, or as the next call whose request matches a predicate (e.g. the
/// create of a provider that uploads a file first).
///
/// **Example**:
/// ```cpp
/// LossyTransport<GeminiEmulator> lossy(emulator);
/// lossy.lose_reply_of_call(lossy.calls() + 1);   // the next call reaches the server, its reply is lost
/// lossy.refuse_next([](const HttpRequest& r) { return r.method == "POST"; }, 503);  // never delivered
/// ```

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/concepts.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/transport/streaming.hpp"

namespace llmbatch::testing {

/// Wraps `Inner` (an `HttpTransport`); copies share their record of calls and losses.
template <class Inner>
class LossyTransport {
public:
    explicit LossyTransport(Inner inner) : inner_(std::move(inner)), state_(std::make_shared<State>()) {}

    /// Sends through `Inner`; on a chosen call, throws `TransportError` (sent) after delivery.
    HttpResponse send(const HttpRequest& request) {
        const Fate fate = next_call(request);
        if (fate.refused) return *fate.refused;
        const bool lose = fate.lose;
        HttpResponse response = inner_.send(request);
        if (lose) throw lost();
        return response;
    }

    /// The streaming `send`, when `Inner` has one; a lost reply hands nothing to `sink`.
    HttpResponse send(const HttpRequest& request, const BodySink& sink)
        requires StreamingHttpTransport<Inner>
    {
        const Fate fate = next_call(request);
        if (fate.refused) {
            sink(HttpResponse{fate.refused->status, fate.refused->headers, {}}, fate.refused->body);
            return HttpResponse{fate.refused->status, fate.refused->headers, {}};
        }
        if (fate.lose) {
            (void)inner_.send(request, [](const HttpResponse&, std::string_view) {});
            throw lost();
        }
        return inner_.send(request, sink);
    }

    /// Loses the reply of call number `n` (1-based, counting every call through any copy).
    void lose_reply_of_call(std::size_t n) {
        std::lock_guard lock(state_->mutex);
        state_->lose.insert(n);
    }

    /// Loses the reply of the next call whose request satisfies `matches`.
    void lose_reply_of_next(std::function<bool(const HttpRequest&)> matches) {
        std::lock_guard lock(state_->mutex);
        state_->lose_next.push_back(std::move(matches));
    }

    /// Answers the next call whose request satisfies `matches` with HTTP `status` (and a small
    /// JSON error body) without delivering it.
    void refuse_next(std::function<bool(const HttpRequest&)> matches, int status) {
        std::lock_guard lock(state_->mutex);
        state_->refuse_next.emplace_back(std::move(matches), status);
    }

    /// The number of calls so far.
    [[nodiscard]] std::size_t calls() const {
        std::lock_guard lock(state_->mutex);
        return state_->calls;
    }

    [[nodiscard]] Inner& inner() noexcept { return inner_; }

private:
    struct State {
        std::mutex mutex;
        std::size_t calls = 0;
        std::set<std::size_t> lose;
        std::vector<std::function<bool(const HttpRequest&)>> lose_next;
        std::vector<std::pair<std::function<bool(const HttpRequest&)>, int>> refuse_next;
    };

    /// What happens to one call.
    struct Fate {
        bool lose = false;
        std::optional<HttpResponse> refused{};
    };

    Fate next_call(const HttpRequest& request) {
        std::lock_guard lock(state_->mutex);
        Fate fate;
        fate.lose = state_->lose.count(++state_->calls) > 0;
        for (auto it = state_->refuse_next.begin(); it != state_->refuse_next.end(); ++it)
            if (it->first(request)) {
                HttpResponse refusal;
                refusal.status = it->second;
                refusal.headers.set("Content-Type", "application/json");
                refusal.body = R"({"error": {"message": "LossyTransport refused the call"}})";
                fate.refused = std::move(refusal);
                state_->refuse_next.erase(it);
                return fate;
            }
        for (auto it = state_->lose_next.begin(); it != state_->lose_next.end(); ++it)
            if ((*it)(request)) {
                fate.lose = true;
                state_->lose_next.erase(it);
                break;
            }
        return fate;
    }

    static TransportError lost() {
        return TransportError("LossyTransport: the reply was lost after the request was delivered", true);
    }

    Inner inner_;
    std::shared_ptr<State> state_;
};

}  // namespace llmbatch::testing
