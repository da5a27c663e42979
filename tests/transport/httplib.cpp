#include "llmbatch/transport/httplib.hpp"

#include <doctest/doctest.h>

#include <chrono>

#include "shared_cases.hpp"

using llmbatch::HttplibOptions;
using llmbatch::HttplibTransport;

namespace llmbatch::transport_test {

template <>
struct TransportTraits<HttplibTransport> {
    static constexpr bool decodes_gzip = HttplibTransport::supports_gzip;
    static constexpr bool speaks_https = HttplibTransport::supports_https;
    static HttplibTransport without_gzip() { return HttplibTransport(HttplibOptions{.accept_gzip = false}); }
    static HttplibTransport with_response_timeout(std::chrono::milliseconds limit) {
        return HttplibTransport(HttplibOptions{.read_timeout = limit});
    }
};

TEST_CASE_TEMPLATE_INVOKE(sends_each_method, HttplibTransport);
TEST_CASE_TEMPLATE_INVOKE(returns_error_statuses, HttplibTransport);
TEST_CASE_TEMPLATE_INVOKE(sends_empty_post_body, HttplibTransport);
TEST_CASE_TEMPLATE_INVOKE(sends_large_binary_body, HttplibTransport);
TEST_CASE_TEMPLATE_INVOKE(decodes_gzip, HttplibTransport);
TEST_CASE_TEMPLATE_INVOKE(reports_refused_connection, HttplibTransport);
TEST_CASE_TEMPLATE_INVOKE(reports_failed_tls_handshake, HttplibTransport);
TEST_CASE_TEMPLATE_INVOKE(reports_slow_response, HttplibTransport);
TEST_CASE_TEMPLATE_INVOKE(refuses_unsafe_requests, HttplibTransport);
TEST_CASE_TEMPLATE_INVOKE(streams_large_body, HttplibTransport);
TEST_CASE_TEMPLATE_INVOKE(lets_sink_exception_through, HttplibTransport);
TEST_CASE_TEMPLATE_INVOKE(is_movable, HttplibTransport);

}  // namespace llmbatch::transport_test
