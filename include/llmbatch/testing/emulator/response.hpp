#pragma once
/// @file testing/emulator/response.hpp
/// `EmulatedResponse`: an emulator's answer before it is delivered, whose body is either held
/// (`head.body`) or produced piece by piece on delivery (`producer`, for large results files), and
/// may be cut short (`truncate_after`, a broken download). `deliver` hands it to a `BodySink` in
/// chunks of a fixed size (so a test with tiny chunks sees lines split across chunks);
/// `materialize` returns it whole.
///
/// **Example**:
/// ```cpp
/// EmulatedResponse r;
/// r.head.status = 200;
/// r.producer = [](const BodyWriter& write) { write("line 1\n"); write("line 2\n"); };
/// deliver(std::move(r), [](const HttpResponse&, std::string_view chunk) { /* 4 bytes at a time */ }, 4);
/// ```

#include <algorithm>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "llmbatch/http.hpp"
#include "llmbatch/transport/streaming.hpp"

namespace llmbatch::testing {

/// Receives one piece of a produced body.
using BodyWriter = std::function<void(std::string_view piece)>;
/// Produces a body by calling the writer with its pieces, in order.
using BodyProducer = std::function<void(const BodyWriter& write)>;

/// The default size of the chunks `deliver` hands to a sink: 64 KiB.
inline constexpr std::size_t default_chunk_size = 64 * 1024;

/// An answer before delivery (see the file comment).
struct EmulatedResponse {
    HttpResponse head;                          ///< status, headers and, without a producer, the body
    BodyProducer producer;                      ///< when set, produces the body instead of `head.body`
    std::optional<std::size_t> truncate_after;  ///< the body stops after this many bytes

    /// The body's length when known before delivery (held, not produced).
    [[nodiscard]] std::optional<std::size_t> known_length() const {
        if (producer) return std::nullopt;
        return head.body.size();
    }
};

namespace detail {

/// Thrown through a producer to stop it once a truncated body has been delivered.
struct StopBody {};

/// Runs the body of `r` through `emit`, in pieces, honouring `truncate_after`.
inline void run_body(EmulatedResponse& r, const std::function<void(std::string_view)>& emit) {
    std::size_t left = r.truncate_after.value_or(static_cast<std::size_t>(-1));
    const auto write = [&](std::string_view piece) {
        if (piece.empty()) return;
        if (left == 0) throw StopBody{};
        const std::size_t n = std::min(left, piece.size());
        left -= n;
        emit(piece.substr(0, n));
        if (left == 0 && r.truncate_after) throw StopBody{};
    };
    try {
        if (r.producer)
            r.producer(write);
        else
            write(r.head.body);
    } catch (const StopBody&) {
    }
}

}  // namespace detail

/// The whole response: the held or produced body, cut when truncated.
[[nodiscard]] inline HttpResponse materialize(EmulatedResponse r) {
    std::string body;
    detail::run_body(r, [&](std::string_view piece) { body.append(piece); });
    HttpResponse out = std::move(r.head);
    out.body = std::move(body);
    return out;
}

/// Hands the body of `r` to `sink` in chunks of `chunk_size` bytes (the last may be shorter),
/// and returns the head (status and headers, empty body). An exception from the sink propagates.
inline HttpResponse deliver(EmulatedResponse r, const BodySink& sink, std::size_t chunk_size = default_chunk_size) {
    chunk_size = std::max<std::size_t>(1, chunk_size);
    HttpResponse head = r.head;
    head.body.clear();
    std::string buffer;
    detail::run_body(r, [&](std::string_view piece) {
        while (!piece.empty()) {
            if (buffer.empty() && piece.size() >= chunk_size) {
                sink(head, piece.substr(0, chunk_size));
                piece.remove_prefix(chunk_size);
                continue;
            }
            const std::size_t n = std::min(chunk_size - buffer.size(), piece.size());
            buffer.append(piece.substr(0, n));
            piece.remove_prefix(n);
            if (buffer.size() == chunk_size) {
                sink(head, buffer);
                buffer.clear();
            }
        }
    });
    if (!buffer.empty()) sink(head, buffer);
    return head;
}

}  // namespace llmbatch::testing
