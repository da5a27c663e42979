#include "llmbatch/transport/curl.hpp"

#include <doctest/doctest.h>

#include <chrono>

#include "loopback_server.hpp"
#include "shared_cases.hpp"

using llmbatch::CurlOptions;
using llmbatch::CurlTransport;
using llmbatch::HttpResponse;
using llmbatch::transport_test::LoopbackServer;

namespace llmbatch::transport_test {

template <>
struct TransportTraits<CurlTransport> {
    static constexpr bool decodes_gzip = true;
    static constexpr bool speaks_https = true;
    static CurlTransport without_gzip() { return CurlTransport(CurlOptions{.accept_gzip = false}); }
    static CurlTransport with_response_timeout(std::chrono::milliseconds limit) {
        return CurlTransport(CurlOptions{.total_timeout = limit});
    }
};

TEST_CASE_TEMPLATE_INVOKE(sends_each_method, CurlTransport);
TEST_CASE_TEMPLATE_INVOKE(returns_error_statuses, CurlTransport);
TEST_CASE_TEMPLATE_INVOKE(sends_empty_post_body, CurlTransport);
TEST_CASE_TEMPLATE_INVOKE(sends_large_binary_body, CurlTransport);
TEST_CASE_TEMPLATE_INVOKE(decodes_gzip, CurlTransport);
TEST_CASE_TEMPLATE_INVOKE(reports_refused_connection, CurlTransport);
TEST_CASE_TEMPLATE_INVOKE(reports_failed_tls_handshake, CurlTransport);
TEST_CASE_TEMPLATE_INVOKE(reports_slow_response, CurlTransport);
TEST_CASE_TEMPLATE_INVOKE(refuses_unsafe_requests, CurlTransport);
TEST_CASE_TEMPLATE_INVOKE(streams_large_body, CurlTransport);
TEST_CASE_TEMPLATE_INVOKE(lets_sink_exception_through, CurlTransport);
TEST_CASE_TEMPLATE_INVOKE(is_movable, CurlTransport);

}  // namespace llmbatch::transport_test

TEST_SUITE("transport") {
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
}
