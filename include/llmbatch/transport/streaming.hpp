#pragma once
/// @file transport/streaming.hpp
/// Streaming responses: `BodySink` and the `StreamingHttpTransport` concept, shared by the
/// libcurl and cpp-httplib transports.
///
/// A streaming `send` hands the response body to a sink piece by piece, as it arrives, and never
/// keeps it: a large download (a results file) goes straight to a file or a parser.
///
/// **Example**:
/// ```cpp
/// std::ofstream out("results.jsonl", std::ios::binary);
/// HttpResponse head = transport.send(request, [&](const HttpResponse& head, std::string_view chunk) {
///     if (head.ok()) out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
/// });
/// // head.status and head.headers are set; head.body is empty.
/// ```

#include <concepts>
#include <functional>
#include <string_view>
#include <utility>

#include "llmbatch/concepts.hpp"
#include "llmbatch/http.hpp"

namespace llmbatch {

/// Receives a response body in pieces, in order (not called at all for an empty body). `head`
/// holds the status and headers of the response the piece belongs to (its body is empty), so a
/// sink can tell an error body from data before consuming it. An exception thrown by the sink
/// aborts the exchange and reaches the caller of `send` unchanged.
using BodySink = std::function<void(const HttpResponse& head, std::string_view chunk)>;

/// An `HttpTransport` that can also stream a response body:
/// `t.send(const HttpRequest&, BodySink) -> HttpResponse`, where the returned response carries the
/// status and headers and an empty body.
template <class T>
concept StreamingHttpTransport = HttpTransport<T> && requires(T& t, const HttpRequest& request, BodySink sink) {
    { t.send(request, std::move(sink)) } -> std::same_as<HttpResponse>;
};

}  // namespace llmbatch
