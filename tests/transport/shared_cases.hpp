#pragma once
// The behaviour every real HTTP transport owes its callers, written once as doctest template cases
// (suite "transport") over the transport type. A transport's own test file specialises
// `TransportTraits` for it and registers each case with
// `TEST_CASE_TEMPLATE_INVOKE(<case id>, <transport>)`, in `namespace llmbatch::transport_test`.
// Every case talks to a `LoopbackServer` on 127.0.0.1.

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/transport/streaming.hpp"
#include "loopback_server.hpp"

namespace llmbatch::transport_test {

/// What the shared cases need to know about `Transport` beyond its `send`, given by a
/// specialisation next to that transport's own cases, before they are invoked:
/// - `static constexpr bool decodes_gzip`: whether the transport can offer and decode gzip at all;
/// - `static constexpr bool speaks_https`: whether the transport can open TLS connections at all;
/// - `static Transport without_gzip()`: a transport that offers no compressed encoding;
/// - `static Transport with_response_timeout(std::chrono::milliseconds limit)`: a transport that
///   gives up on an exchange whose response has not come after `limit`.
template <class Transport>
struct TransportTraits;

/// A streaming transport with a complete `TransportTraits` specialisation.
template <class Transport>
concept DescribedTransport = StreamingHttpTransport<Transport> && requires(std::chrono::milliseconds limit) {
    { TransportTraits<Transport>::decodes_gzip } -> std::convertible_to<bool>;
    { TransportTraits<Transport>::speaks_https } -> std::convertible_to<bool>;
    { TransportTraits<Transport>::without_gzip() } -> std::same_as<Transport>;
    { TransportTraits<Transport>::with_response_timeout(limit) } -> std::same_as<Transport>;
};

/// `TransportTraits<Transport>`, once `Transport` is known to satisfy `DescribedTransport`.
template <DescribedTransport Transport>
using traits = TransportTraits<Transport>;

/// Answers every request with 200 and the body "<method> <target>".
inline void echo(const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.method + " " + req.target, "text/plain");
}

TEST_CASE_TEMPLATE_DEFINE("transport sends each method with its path, query, body and headers" *
                              doctest::test_suite("transport"),
                          Transport, sends_each_method) {
    LoopbackServer server(echo);
    Transport http;

    const std::vector<std::string> methods = {"GET", "POST", "DELETE", "PATCH"};
    for (const auto& method : methods) {
        CAPTURE(method);
        const bool with_body = method == "POST" || method == "PATCH";
        HttpRequest request{method, server.url("/v1beta/batches/abc?pageSize=2&fields=a,b+c&x=a%2Cb"),
                            {{"x-goog-api-key", "test-key"}, {"Content-Type", "application/json"}},
                            with_body ? R"({"k":1})" : ""};
        const HttpResponse response = http.send(request);

        CHECK(response.status == 200);
        CHECK(response.body == method + " /v1beta/batches/abc?pageSize=2&fields=a,b+c&x=a%2Cb");
        const auto received = server.requests();
        REQUIRE(!received.empty());
        const auto& last = received.back();
        CHECK(last.method == method);
        CHECK(last.target == "/v1beta/batches/abc?pageSize=2&fields=a,b+c&x=a%2Cb");
        CHECK(last.body == (with_body ? R"({"k":1})" : ""));
        CHECK(last.header("x-goog-api-key") == "test-key");
        CHECK(last.header("Content-Type") == "application/json");
        CHECK(last.header("User-Agent") == "llmbatch/0.1");
    }
    CHECK(server.requests().size() == methods.size());
}

TEST_CASE_TEMPLATE_DEFINE("transport returns error statuses as responses with their body and headers" *
                              doctest::test_suite("transport"),
                          Transport, returns_error_statuses) {
    LoopbackServer server([](const httplib::Request& req, httplib::Response& res) {
        const int status = std::stoi(req.path.substr(std::string("/status/").size()));
        res.status = status;
        if (status == 429) res.set_header("Retry-After", "7");
        res.set_header("X-Request-Path", req.path);
        res.set_content("body of " + std::to_string(status), "text/plain");
    });
    Transport http;

    for (int status : {200, 404, 429, 503}) {
        CAPTURE(status);
        HttpResponse response;
        REQUIRE_NOTHROW(response = http.send({"GET", server.url("/status/" + std::to_string(status)), {}, {}}));
        CHECK(response.status == status);
        CHECK(response.body == "body of " + std::to_string(status));
        CHECK(response.headers.get("x-request-path") == "/status/" + std::to_string(status));
        CHECK(response.headers.get("retry-after") == (status == 429 ? std::optional<std::string>("7") : std::nullopt));
    }
}

TEST_CASE_TEMPLATE_DEFINE("transport sends an empty POST body with Content-Length: 0" *
                              doctest::test_suite("transport"),
                          Transport, sends_empty_post_body) {
    LoopbackServer server(echo);
    Transport http;

    const HttpResponse response = http.send({"POST", server.url("/v1beta/x:cancel"), {}, ""});

    CHECK(response.status == 200);
    const auto received = server.requests();
    REQUIRE(received.size() == 1);
    CHECK(received[0].method == "POST");
    CHECK(received[0].header("Content-Length") == "0");
    CHECK(received[0].body.empty());
}

TEST_CASE_TEMPLATE_DEFINE("transport sends a large binary body intact and without waiting for 100-continue" *
                              doctest::test_suite("transport"),
                          Transport, sends_large_binary_body) {
    std::string body = patterned_body(2 << 20);
    body[0] = '\0';
    body[body.size() / 2] = '\0';
    LoopbackServer server([](const httplib::Request& req, httplib::Response& res) {
        res.set_content(std::to_string(req.body.size()), "text/plain");
    });
    Transport http;

    const HttpResponse response =
        http.send({"POST", server.url("/upload"), {{"Content-Type", "application/octet-stream"}}, body});

    CHECK(response.status == 200);
    CHECK(response.body == std::to_string(body.size()));
    const auto received = server.requests();
    REQUIRE(received.size() == 1);
    CHECK(received[0].body == body);
    CHECK_FALSE(received[0].header("Expect").has_value());
}

TEST_CASE_TEMPLATE_DEFINE("transport decodes a gzip-compressed response when accept_gzip is on" *
                              doctest::test_suite("transport"),
                          Transport, decodes_gzip) {
    if constexpr (!traits<Transport>::decodes_gzip) {
        MESSAGE("skipped: this transport was built without gzip support, so gzip is never asked for");
    } else {
        const std::string original = R"({"text":")" + std::string(5000, 'z') + R"("})";
        const std::string compressed = gzip(original);
        REQUIRE(compressed.size() < original.size());
        LoopbackServer server([&](const httplib::Request&, httplib::Response& res) {
            res.set_header("Content-Encoding", "gzip");
            res.set_content(compressed, "application/octet-stream");
        });

        SUBCASE("on by default") {
            Transport http;
            const HttpResponse response = http.send({"GET", server.url("/file"), {}, {}});
            CHECK(response.status == 200);
            CHECK(response.body == original);
            const auto received = server.requests();
            REQUIRE(received.size() == 1);
            REQUIRE(received[0].header("Accept-Encoding").has_value());
            CHECK(received[0].header("Accept-Encoding")->find("gzip") != std::string::npos);
        }
        SUBCASE("off: nothing is offered and the body is left as sent") {
            Transport http = traits<Transport>::without_gzip();
            const HttpResponse response = http.send({"GET", server.url("/file"), {}, {}});
            CHECK(response.body == compressed);
            const auto received = server.requests();
            REQUIRE(received.size() == 1);
            CHECK_FALSE(received[0].header("Accept-Encoding").has_value());
        }
    }
}

TEST_CASE_TEMPLATE_DEFINE("transport reports a refused connection as not sent, without the query string" *
                              doctest::test_suite("transport"),
                          Transport, reports_refused_connection) {
    RefusingPort closed;
    Transport http;
    const std::string url = "http://127.0.0.1:" + std::to_string(closed.port()) + "/v1beta/batches?key=SECRET";

    try {
        static_cast<void>(http.send({"POST", url, {{"x-goog-api-key", "HEADER-SECRET"}}, "{}"}));
        FAIL("a refused connection must throw");
    } catch (const TransportError& e) {
        CHECK_FALSE(e.request_may_have_been_sent());
        const std::string message = e.what();
        CHECK(message.find("POST") != std::string::npos);
        CHECK(message.find("/v1beta/batches") != std::string::npos);
        CHECK(message.find("SECRET") == std::string::npos);
    }
}

TEST_CASE_TEMPLATE_DEFINE("transport reports a failed TLS handshake as not sent" * doctest::test_suite("transport"),
                          Transport, reports_failed_tls_handshake) {
    LoopbackServer server(echo);  // speaks plain HTTP only
    Transport http;
    std::string url = server.url("/v1beta/batches?key=SECRET");
    url.replace(0, 4, "https");

    if constexpr (!traits<Transport>::speaks_https) {
        CHECK_THROWS_AS(static_cast<void>(http.send({"POST", url, {}, "{}"})), InvalidArgument);
    } else {
        try {
            static_cast<void>(http.send({"POST", url, {}, "{}"}));
            FAIL("a TLS handshake with a plain HTTP server must fail");
        } catch (const TransportError& e) {
            CHECK_FALSE(e.request_may_have_been_sent());
            CHECK(std::string(e.what()).find("SECRET") == std::string::npos);
        }
        CHECK(server.requests().empty());
    }
}

TEST_CASE_TEMPLATE_DEFINE("transport reports a response slower than its timeout as possibly sent" *
                              doctest::test_suite("transport"),
                          Transport, reports_slow_response) {
    using namespace std::chrono_literals;
    LoopbackServer* self = nullptr;
    LoopbackServer server([&](const httplib::Request&, httplib::Response& res) {
        self->hold(2s);  // released when the server stops
        res.set_content("late", "text/plain");
    });
    self = &server;
    Transport http = traits<Transport>::with_response_timeout(200ms);

    const auto start = std::chrono::steady_clock::now();
    try {
        static_cast<void>(http.send({"POST", server.url("/v1beta/models/m:batchGenerateContent"), {}, "{}"}));
        FAIL("a timed-out exchange must throw");
    } catch (const TransportError& e) {
        CHECK(e.request_may_have_been_sent());
        CHECK(std::string(e.what()).find("/v1beta/models/m:batchGenerateContent") != std::string::npos);
    }
    CHECK(std::chrono::steady_clock::now() - start < 1500ms);
    CHECK(server.requests().size() == 1);
}

TEST_CASE_TEMPLATE_DEFINE("transport refuses unsafe headers, methods and URLs before sending anything" *
                              doctest::test_suite("transport"),
                          Transport, refuses_unsafe_requests) {
    LoopbackServer server(echo);
    Transport http;

    SUBCASE("CR LF in a header value") {
        try {
            static_cast<void>(
                http.send({"GET", server.url("/x"), {{"x-goog-api-key", "KEYVALUE\r\nX-Injected: 1"}}, {}}));
            FAIL("an unsafe header must throw");
        } catch (const InvalidArgument& e) {
            const std::string message = e.what();
            CHECK(message.find("x-goog-api-key") != std::string::npos);
            CHECK(message.find("KEYVALUE") == std::string::npos);
        }
    }
    SUBCASE("LF alone, and NUL, in a header value") {
        CHECK_THROWS_AS(static_cast<void>(http.send({"GET", server.url("/x"), {{"a", "b\nc"}}, {}})),
                        InvalidArgument);
        const std::string with_nul("b\0c", 3);
        CHECK_THROWS_AS(static_cast<void>(http.send({"GET", server.url("/x"), {{"a", with_nul}}, {}})),
                        InvalidArgument);
    }
    SUBCASE("a colon or a space in a header name") {
        CHECK_THROWS_AS(static_cast<void>(http.send({"GET", server.url("/x"), {{"a:b", "v"}}, {}})),
                        InvalidArgument);
        CHECK_THROWS_AS(static_cast<void>(http.send({"GET", server.url("/x"), {{"a b", "v"}}, {}})),
                        InvalidArgument);
    }
    SUBCASE("a method with a space, a URL with CR LF, a body on GET, a non-HTTP scheme") {
        CHECK_THROWS_AS(static_cast<void>(http.send({"GET /y", server.url("/x"), {}, {}})), InvalidArgument);
        CHECK_THROWS_AS(static_cast<void>(http.send({"GET", server.url("/x\r\nX-Injected: 1"), {}, {}})),
                        InvalidArgument);
        CHECK_THROWS_AS(static_cast<void>(http.send({"GET", server.url("/x"), {}, "body"})), InvalidArgument);
        CHECK_THROWS_AS(static_cast<void>(http.send({"GET", "file:///etc/passwd", {}, {}})), InvalidArgument);
    }
    CHECK(server.requests().empty());
    // The transport is still usable afterwards.
    CHECK(http.send({"GET", server.url("/ok"), {}, {}}).status == 200);
}

TEST_CASE_TEMPLATE_DEFINE("transport streams a large body in chunks without keeping it" *
                              doctest::test_suite("transport"),
                          Transport, streams_large_body) {
    const std::string body = patterned_body(1 << 20);
    LoopbackServer server([&](const httplib::Request&, httplib::Response& res) {
        res.set_header("X-Kind", "results");
        res.set_content_provider(body.size(), "application/octet-stream",
                                 [&](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                                     const std::size_t piece = std::min<std::size_t>(length, 64 * 1024);
                                     return sink.write(body.data() + offset, piece);
                                 });
    });
    Transport http;

    std::vector<std::size_t> sizes;
    std::string received;
    bool heads_complete = true;  // every chunk came with the final status and headers
    const HttpResponse head = http.send({"GET", server.url("/download"), {}, {}},
                                        [&](const HttpResponse& response_head, std::string_view chunk) {
                                            heads_complete = heads_complete && response_head.status == 200 &&
                                                             response_head.headers.get("X-Kind") == "results" &&
                                                             response_head.body.empty();
                                            sizes.push_back(chunk.size());
                                            received.append(chunk);
                                        });

    CHECK(head.status == 200);
    CHECK(head.body.empty());
    CHECK(head.headers.get("x-kind") == "results");
    CHECK(sizes.size() > 1);
    CHECK(received.size() == body.size());
    CHECK(received == body);
    CHECK(heads_complete);
}

TEST_CASE_TEMPLATE_DEFINE("transport lets an exception thrown by the body sink through" *
                              doctest::test_suite("transport"),
                          Transport, lets_sink_exception_through) {
    LoopbackServer server(echo);
    Transport http;

    CHECK_THROWS_WITH_AS(static_cast<void>(http.send({"GET", server.url("/x"), {}, {}},
                                                     [](const HttpResponse&, std::string_view) {
                                                         throw std::runtime_error("sink is full");
                                                     })),
                         "sink is full", std::runtime_error);
    CHECK_THROWS_AS(static_cast<void>(http.send({"GET", server.url("/x"), {}, {}}, BodySink{})), InvalidArgument);
    CHECK(http.send({"GET", server.url("/again"), {}, {}}).body == "GET /again");
}

TEST_CASE_TEMPLATE_DEFINE("transport is movable and a moved-from transport still works" *
                              doctest::test_suite("transport"),
                          Transport, is_movable) {
    LoopbackServer server(echo);
    Transport first;
    Transport second = std::move(first);

    CHECK(second.send({"GET", server.url("/a"), {}, {}}).body == "GET /a");
    CHECK(first.send({"GET", server.url("/b"), {}, {}}).body == "GET /b");  // NOLINT(bugprone-use-after-move)
}

}  // namespace llmbatch::transport_test
