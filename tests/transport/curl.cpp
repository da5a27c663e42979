#include "llmbatch/transport/curl.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loopback_server.hpp"

using namespace std::chrono_literals;
using llmbatch::CurlOptions;
using llmbatch::CurlTransport;
using llmbatch::HttpRequest;
using llmbatch::HttpResponse;
using llmbatch::transport_test::LoopbackServer;

namespace {

// Answers every request with 200 and the body "<method> <target>".
void echo(const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.method + " " + req.target, "text/plain");
}

}  // namespace

TEST_SUITE("transport") {
    TEST_CASE("CurlTransport sends each method with its path, query, body and headers") {
        LoopbackServer server(echo);
        CurlTransport http;

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

    TEST_CASE("CurlTransport returns error statuses as responses with their body and headers") {
        LoopbackServer server([](const httplib::Request& req, httplib::Response& res) {
            const int status = std::stoi(req.path.substr(std::string("/status/").size()));
            res.status = status;
            if (status == 429) res.set_header("Retry-After", "7");
            res.set_header("X-Request-Path", req.path);
            res.set_content("body of " + std::to_string(status), "text/plain");
        });
        CurlTransport http;

        for (int status : {200, 404, 429, 503}) {
            CAPTURE(status);
            HttpResponse response;
            REQUIRE_NOTHROW(response = http.send({"GET", server.url("/status/" + std::to_string(status)), {}, {}}));
            CHECK(response.status == status);
            CHECK(response.body == "body of " + std::to_string(status));
            CHECK(response.headers.get("x-request-path") == "/status/" + std::to_string(status));
            CHECK(response.headers.get("retry-after") ==
                  (status == 429 ? std::optional<std::string>("7") : std::nullopt));
        }
    }

    TEST_CASE("CurlTransport returns a redirect as is, or follows it and keeps only the final headers") {
        LoopbackServer server([](const httplib::Request& req, httplib::Response& res) {
            if (req.path == "/old") {
                res.set_header("X-First", "1");
                res.set_redirect("/new", 302);
            } else {
                res.set_header("X-Final", "1");
                res.set_content("moved here", "text/plain");
            }
        });

        SUBCASE("not followed by default") {
            CurlTransport http;
            const HttpResponse response = http.send({"GET", server.url("/old"), {}, {}});
            CHECK(response.status == 302);
            CHECK(response.headers.get("Location") == "/new");
            CHECK(server.requests().size() == 1);
        }
        SUBCASE("followed on request") {
            CurlTransport http(CurlOptions{.follow_redirects = true});
            const HttpResponse response = http.send({"GET", server.url("/old"), {}, {}});
            CHECK(response.status == 200);
            CHECK(response.body == "moved here");
            CHECK(response.headers.contains("X-Final"));
            CHECK_FALSE(response.headers.contains("X-First"));
            CHECK_FALSE(response.headers.contains("Location"));
        }
    }

    TEST_CASE("CurlTransport sends an empty POST body with Content-Length: 0") {
        LoopbackServer server(echo);
        CurlTransport http;

        const HttpResponse response = http.send({"POST", server.url("/v1beta/x:cancel"), {}, ""});

        CHECK(response.status == 200);
        const auto received = server.requests();
        REQUIRE(received.size() == 1);
        CHECK(received[0].method == "POST");
        CHECK(received[0].header("Content-Length") == "0");
        CHECK(received[0].body.empty());
    }

    TEST_CASE("CurlTransport sends a large binary body intact and without waiting for 100-continue") {
        std::string body = llmbatch::transport_test::patterned_body(2 << 20);
        body[0] = '\0';
        body[body.size() / 2] = '\0';
        LoopbackServer server([](const httplib::Request& req, httplib::Response& res) {
            res.set_content(std::to_string(req.body.size()), "text/plain");
        });
        CurlTransport http;

        const HttpResponse response =
            http.send({"POST", server.url("/upload"), {{"Content-Type", "application/octet-stream"}}, body});

        CHECK(response.status == 200);
        CHECK(response.body == std::to_string(body.size()));
        const auto received = server.requests();
        REQUIRE(received.size() == 1);
        CHECK(received[0].body == body);
        CHECK_FALSE(received[0].header("Expect").has_value());
    }

    TEST_CASE("CurlTransport decodes a gzip-compressed response when accept_gzip is on") {
        const std::string original = R"({"text":")" + std::string(5000, 'z') + R"("})";
        const std::string compressed = llmbatch::transport_test::gzip(original);
        REQUIRE(compressed.size() < original.size());
        LoopbackServer server([&](const httplib::Request&, httplib::Response& res) {
            res.set_header("Content-Encoding", "gzip");
            res.set_content(compressed, "application/octet-stream");
        });

        SUBCASE("on by default") {
            CurlTransport http;
            const HttpResponse response = http.send({"GET", server.url("/file"), {}, {}});
            CHECK(response.status == 200);
            CHECK(response.body == original);
            const auto received = server.requests();
            REQUIRE(received.size() == 1);
            REQUIRE(received[0].header("Accept-Encoding").has_value());
            CHECK(received[0].header("Accept-Encoding")->find("gzip") != std::string::npos);
        }
        SUBCASE("off: nothing is offered and the body is left as sent") {
            CurlTransport http(CurlOptions{.accept_gzip = false});
            const HttpResponse response = http.send({"GET", server.url("/file"), {}, {}});
            CHECK(response.body == compressed);
            const auto received = server.requests();
            REQUIRE(received.size() == 1);
            CHECK_FALSE(received[0].header("Accept-Encoding").has_value());
        }
    }

    TEST_CASE("CurlTransport reports a refused connection as not sent, without the query string") {
        llmbatch::transport_test::RefusingPort closed;
        CurlTransport http;
        const std::string url = "http://127.0.0.1:" + std::to_string(closed.port()) + "/v1beta/batches?key=SECRET";

        try {
            static_cast<void>(http.send({"POST", url, {{"x-goog-api-key", "HEADER-SECRET"}}, "{}"}));
            FAIL("a refused connection must throw");
        } catch (const llmbatch::TransportError& e) {
            CHECK_FALSE(e.request_may_have_been_sent());
            const std::string message = e.what();
            CHECK(message.find("POST") != std::string::npos);
            CHECK(message.find("/v1beta/batches") != std::string::npos);
            CHECK(message.find("SECRET") == std::string::npos);
        }
    }

    TEST_CASE("CurlTransport reports a failed TLS handshake as not sent") {
        LoopbackServer server(echo);  // speaks plain HTTP only
        CurlTransport http;
        std::string url = server.url("/v1beta/batches?key=SECRET");
        url.replace(0, 4, "https");

        try {
            static_cast<void>(http.send({"POST", url, {}, "{}"}));
            FAIL("a TLS handshake with a plain HTTP server must fail");
        } catch (const llmbatch::TransportError& e) {
            CHECK_FALSE(e.request_may_have_been_sent());
            CHECK(std::string(e.what()).find("SECRET") == std::string::npos);
        }
        CHECK(server.requests().empty());
    }

    TEST_CASE("CurlTransport reports a response slower than total_timeout as possibly sent") {
        LoopbackServer* self = nullptr;
        LoopbackServer server([&](const httplib::Request&, httplib::Response& res) {
            self->hold(2s);  // released when the server stops
            res.set_content("late", "text/plain");
        });
        self = &server;
        CurlTransport http(CurlOptions{.total_timeout = 200ms});

        const auto start = std::chrono::steady_clock::now();
        try {
            static_cast<void>(http.send({"POST", server.url("/v1beta/models/m:batchGenerateContent"), {}, "{}"}));
            FAIL("a timed-out exchange must throw");
        } catch (const llmbatch::TransportError& e) {
            CHECK(e.request_may_have_been_sent());
            CHECK(std::string(e.what()).find("/v1beta/models/m:batchGenerateContent") != std::string::npos);
        }
        CHECK(std::chrono::steady_clock::now() - start < 1500ms);
        CHECK(server.requests().size() == 1);
    }

    TEST_CASE("CurlTransport refuses unsafe headers, methods and URLs before sending anything") {
        LoopbackServer server(echo);
        CurlTransport http;

        SUBCASE("CR LF in a header value") {
            try {
                static_cast<void>(http.send(
                    {"GET", server.url("/x"), {{"x-goog-api-key", "KEYVALUE\r\nX-Injected: 1"}}, {}}));
                FAIL("an unsafe header must throw");
            } catch (const llmbatch::InvalidArgument& e) {
                const std::string message = e.what();
                CHECK(message.find("x-goog-api-key") != std::string::npos);
                CHECK(message.find("KEYVALUE") == std::string::npos);
            }
        }
        SUBCASE("LF alone, and NUL, in a header value") {
            CHECK_THROWS_AS(static_cast<void>(http.send({"GET", server.url("/x"), {{"a", "b\nc"}}, {}})),
                            llmbatch::InvalidArgument);
            const std::string with_nul("b\0c", 3);
            CHECK_THROWS_AS(static_cast<void>(http.send({"GET", server.url("/x"), {{"a", with_nul}}, {}})),
                            llmbatch::InvalidArgument);
        }
        SUBCASE("a colon or a space in a header name") {
            CHECK_THROWS_AS(static_cast<void>(http.send({"GET", server.url("/x"), {{"a:b", "v"}}, {}})),
                            llmbatch::InvalidArgument);
            CHECK_THROWS_AS(static_cast<void>(http.send({"GET", server.url("/x"), {{"a b", "v"}}, {}})),
                            llmbatch::InvalidArgument);
        }
        SUBCASE("a method with a space, a URL with CR LF, a body on GET, a non-HTTP scheme") {
            CHECK_THROWS_AS(static_cast<void>(http.send({"GET /y", server.url("/x"), {}, {}})),
                            llmbatch::InvalidArgument);
            CHECK_THROWS_AS(static_cast<void>(http.send({"GET", server.url("/x\r\nX-Injected: 1"), {}, {}})),
                            llmbatch::InvalidArgument);
            CHECK_THROWS_AS(static_cast<void>(http.send({"GET", server.url("/x"), {}, "body"})),
                            llmbatch::InvalidArgument);
            CHECK_THROWS_AS(static_cast<void>(http.send({"GET", "file:///etc/passwd", {}, {}})),
                            llmbatch::InvalidArgument);
        }
        CHECK(server.requests().empty());
        // The transport is still usable afterwards.
        CHECK(http.send({"GET", server.url("/ok"), {}, {}}).status == 200);
    }

    TEST_CASE("CurlTransport streams a large body in chunks without keeping it") {
        const std::string body = llmbatch::transport_test::patterned_body(1 << 20);
        LoopbackServer server([&](const httplib::Request&, httplib::Response& res) {
            res.set_header("X-Kind", "results");
            res.set_content_provider(body.size(), "application/octet-stream",
                                     [&](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                                         const std::size_t piece = std::min<std::size_t>(length, 64 * 1024);
                                         return sink.write(body.data() + offset, piece);
                                     });
        });
        CurlTransport http;

        std::vector<std::size_t> sizes;
        std::string received;
        bool heads_complete = true;  // every chunk came with the final status and headers
        const HttpResponse head =
            http.send({"GET", server.url("/download"), {}, {}},
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

    TEST_CASE("CurlTransport lets an exception thrown by the body sink through") {
        LoopbackServer server(echo);
        CurlTransport http;

        CHECK_THROWS_WITH_AS(static_cast<void>(http.send({"GET", server.url("/x"), {}, {}},
                                                         [](const HttpResponse&, std::string_view) {
                                                             throw std::runtime_error("sink is full");
                                                         })),
                             "sink is full", std::runtime_error);
        CHECK_THROWS_AS(static_cast<void>(http.send({"GET", server.url("/x"), {}, {}}, llmbatch::BodySink{})),
                        llmbatch::InvalidArgument);
        CHECK(http.send({"GET", server.url("/again"), {}, {}}).body == "GET /again");
    }

    TEST_CASE("CurlTransport is movable and a moved-from transport still works") {
        LoopbackServer server(echo);
        CurlTransport first;
        CurlTransport second = std::move(first);

        CHECK(second.send({"GET", server.url("/a"), {}, {}}).body == "GET /a");
        CHECK(first.send({"GET", server.url("/b"), {}, {}}).body == "GET /b");  // NOLINT(bugprone-use-after-move)
    }
}
