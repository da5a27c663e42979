#pragma once
/// @file testing/lossy_transport.hpp
/// `LossyTransport<Inner>`: a transport that delivers every request to `Inner` but can lose the
/// reply of chosen calls, as a timeout after sending or a connection dropped mid-reply does. The
/// request has reached the server (a job may exist), and the client sees a `TransportError` that
/// says so: exactly the ambiguous failure after which a create must not be repeated.
///
/// **Example**:
/// ```cpp
/// LossyTransport<GeminiEmulator> lossy(emulator);
/// lossy.lose_reply_of_call(lossy.calls() + 1);   // the next call reaches the server, its reply is lost
/// ```

#include <cstddef>
#include <memory>
#include <mutex>
#include <set>
#include <utility>

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
        const bool lose = next_call_loses();
        HttpResponse response = inner_.send(request);
        if (lose) throw lost();
        return response;
    }

    /// The streaming `send`, when `Inner` has one; a lost reply hands nothing to `sink`.
    HttpResponse send(const HttpRequest& request, const BodySink& sink)
        requires StreamingHttpTransport<Inner>
    {
        if (next_call_loses()) {
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
    };

    bool next_call_loses() {
        std::lock_guard lock(state_->mutex);
        return state_->lose.count(++state_->calls) > 0;
    }

    static TransportError lost() {
        return TransportError("LossyTransport: the reply was lost after the request was delivered", true);
    }

    Inner inner_;
    std::shared_ptr<State> state_;
};

}  // namespace llmbatch::testing
