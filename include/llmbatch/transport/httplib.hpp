#pragma once
/// @file transport/httplib.hpp
/// `HttplibTransport`: an `HttpTransport` (and `StreamingHttpTransport`) over cpp-httplib (0.11 or later).
///
/// Optional: this header is not part of `llmbatch/llmbatch.hpp`. Include it and build with the
/// flags of pkg-config `cpp-httplib` (meson `dependency('cpp-httplib')`). They matter: a compiled
/// cpp-httplib (such as Debian's `libcpp-httplib`) is built with `CPPHTTPLIB_OPENSSL_SUPPORT` and
/// `CPPHTTPLIB_ZLIB_SUPPORT`, and code compiled without the same macros does not match its class
/// layouts. With the header-only cpp-httplib, define the macros yourself to get https and gzip.
///
/// Behaviour:
/// - `https` URLs need `CPPHTTPLIB_OPENSSL_SUPPORT`; without it they are refused with
///   `InvalidArgument` before anything is sent (`HttplibTransport::supports_https` tells).
/// - TLS certificate and host verification are on unless `HttplibOptions::verify_tls` is false.
/// - Compressed responses are asked for (`Accept-Encoding: gzip, deflate`) and decoded only when
///   cpp-httplib has zlib support (`CPPHTTPLIB_ZLIB_SUPPORT`) and `accept_gzip` is on.
/// - Proxy environment variables are not read (cpp-httplib ignores them); redirects are not followed.
/// - There is no deadline for a whole exchange: `read_timeout` bounds each wait for response bytes
///   and `write_timeout` each wait to send request bytes.
/// - `HttpResponse::headers` holds the response's fields ordered by name (cpp-httplib keeps them in
///   a case-insensitive map), names spelled as received.
/// - Header values and the URL's query string never appear in diagnostics.
///
/// **Example**:
/// ```cpp
/// llmbatch::HttplibTransport http({.read_timeout = std::chrono::seconds(60)});
/// llmbatch::HttpResponse r = http.send({"GET", "https://example.com/v1/x", {{"x-goog-api-key", key}}, {}});
/// ```

#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <httplib.h>

#include "llmbatch/concepts.hpp"
#include "llmbatch/detail/header_check.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/transport/streaming.hpp"

namespace llmbatch {

/// Settings of an `HttplibTransport`.
struct HttplibOptions {
    /// Longest wait for the TCP connection to be established.
    std::chrono::milliseconds connect_timeout{10'000};
    /// Longest wait for any part of the response (status line, headers, each piece of the body).
    std::chrono::milliseconds read_timeout{300'000};
    /// Longest wait to send any part of the request.
    std::chrono::milliseconds write_timeout{300'000};
    /// Verify the server's certificate chain and host name (https only). Turn off only for local testing.
    bool verify_tls = true;
    /// Ask for and decode gzip/deflate bodies; has an effect only with `CPPHTTPLIB_ZLIB_SUPPORT`.
    bool accept_gzip = true;
    /// A PEM bundle of CA certificates to trust instead of the system's; empty for the system's.
    std::string ca_file{};
    /// The `User-Agent` sent unless the request carries its own; empty leaves cpp-httplib's.
    std::string user_agent = "llmbatch/0.1";
};

namespace detail {

/// An absolute http(s) URL split into what cpp-httplib needs.
struct HttpUrlParts {
    std::string scheme;     ///< `http` or `https`, lower case
    std::string authority;  ///< `host`, `host:port`, `[v6]` or `[v6]:port`
    std::string target;     ///< path and query, starting with `/`; no fragment
};

/// Splits `url`.
/// @throws InvalidArgument for a relative URL, a scheme other than http/https, user information,
///         or an empty host.
[[nodiscard]] inline HttpUrlParts split_http_url(std::string_view url, std::string_view where) {
    const auto sep = url.find("://");
    if (sep == std::string_view::npos)
        throw InvalidArgument(fmt::format("{} was not sent: the URL is not absolute.", where));
    HttpUrlParts parts;
    for (char c : url.substr(0, sep))
        parts.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (parts.scheme != "http" && parts.scheme != "https")
        throw InvalidArgument(fmt::format("{} was not sent: only http and https URLs are supported.", where));
    std::string_view rest = url.substr(sep + 3);
    rest = rest.substr(0, rest.find('#'));
    const auto end_of_authority = rest.find_first_of("/?");
    const std::string_view authority = rest.substr(0, end_of_authority);
    if (authority.empty() || authority.front() == ':')
        throw InvalidArgument(fmt::format("{} was not sent: the URL has no host.", where));
    if (authority.find('@') != std::string_view::npos)
        throw InvalidArgument(fmt::format("{} was not sent: user information in the URL is not supported.", where));
    parts.authority = std::string(authority);
    const std::string_view target =
        end_of_authority == std::string_view::npos ? std::string_view{} : rest.substr(end_of_authority);
    if (target.empty() || target.front() == '?') parts.target = "/";
    parts.target += std::string(target);
    return parts;
}

/// Whether a cpp-httplib error certainly came before any request byte was written.
[[nodiscard]] constexpr bool httplib_failed_before_sending(httplib::Error error) noexcept {
    switch (error) {
        case httplib::Error::Connection:
        case httplib::Error::BindIPAddress:
        case httplib::Error::ConnectionTimeout:
        case httplib::Error::SSLConnection:
        case httplib::Error::SSLLoadingCerts:
        case httplib::Error::SSLServerVerification:
            return true;
        default:
            return false;
    }
}

/// A sentence describing a cpp-httplib error.
[[nodiscard]] inline std::string describe(httplib::Error error) {
    switch (error) {
        case httplib::Error::Connection:
            return "could not connect (the host name did not resolve, or the connection was refused or "
                   "timed out)";
        case httplib::Error::BindIPAddress: return "could not bind the local address";
        case httplib::Error::ConnectionTimeout: return "connecting timed out";
        case httplib::Error::Read:
            return "the response could not be read (a read timed out or the connection closed)";
        case httplib::Error::Write:
            return "the request could not be written (a write timed out or the connection closed)";
        case httplib::Error::ExceedRedirectCount: return "too many redirects";
        case httplib::Error::Canceled: return "the exchange was cancelled";
        case httplib::Error::SSLConnection: return "the TLS handshake failed";
        case httplib::Error::SSLLoadingCerts: return "the CA certificates could not be loaded";
        case httplib::Error::SSLServerVerification: return "the server's certificate could not be verified";
        case httplib::Error::Compression: return "the response body could not be decompressed";
        default: return "an unknown error occurred";
    }
}

[[nodiscard]] inline HttpHeaders to_http_headers(const httplib::Headers& fields) {
    HttpHeaders out;
    for (const auto& [name, value] : fields) out.add(name, value);
    return out;
}

}  // namespace detail

/// An HTTP transport over cpp-httplib (models `HttpTransport` and `StreamingHttpTransport`).
///
/// Keeps one `httplib::Client` per scheme, host and port, created on first use; each exchange
/// opens its own connection. Use an instance from one thread at a time. Movable, not copyable.
///
/// Errors: any HTTP status is returned. A failed exchange throws `TransportError`, whose
/// `request_may_have_been_sent()` is false for failures to connect or to complete the TLS
/// handshake, true otherwise (read or write failures and timeouts). A request that cannot be sent
/// as it is (bad header, method or URL; body on `GET`/`HEAD`; https without TLS support) throws
/// `InvalidArgument` and nothing is sent.
class HttplibTransport {
public:
    /// Whether this build of cpp-httplib can speak https.
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
    static constexpr bool supports_https = true;
#else
    static constexpr bool supports_https = false;
#endif
    /// Whether this build of cpp-httplib can decode gzip/deflate bodies.
#ifdef CPPHTTPLIB_ZLIB_SUPPORT
    static constexpr bool supports_gzip = true;
#else
    static constexpr bool supports_gzip = false;
#endif

    /// A transport with default `HttplibOptions`.
    HttplibTransport() = default;
    /// A transport with `options`.
    explicit HttplibTransport(HttplibOptions options) : options_(std::move(options)) {}

    HttplibTransport(const HttplibTransport&) = delete;
    HttplibTransport& operator=(const HttplibTransport&) = delete;
    HttplibTransport(HttplibTransport&&) noexcept = default;
    HttplibTransport& operator=(HttplibTransport&&) noexcept = default;
    ~HttplibTransport() = default;

    /// The options this transport was made with.
    [[nodiscard]] const HttplibOptions& options() const noexcept { return options_; }

    /// Performs one exchange and returns the response, whatever its status.
    /// @throws InvalidArgument when the request cannot be sent as it is (nothing is sent).
    /// @throws TransportError when the exchange fails.
    [[nodiscard]] HttpResponse send(const HttpRequest& request) { return perform(request, nullptr); }

    /// Performs one exchange, handing the body to `sink` in pieces as it arrives; the returned
    /// response has the status and headers and an empty body.
    /// @throws InvalidArgument when `sink` is empty or the request cannot be sent as it is.
    /// @throws TransportError when the exchange fails; whatever `sink` throws, unchanged.
    [[nodiscard]] HttpResponse send(const HttpRequest& request, BodySink sink) {
        if (!sink) throw InvalidArgument("HttplibTransport::send needs a body sink; an empty function was given.");
        return perform(request, &sink);
    }

private:
    static constexpr std::size_t max_cached_clients = 8;

    httplib::Client& client_for(const detail::HttpUrlParts& parts, const std::string& where) {
        const std::string origin = parts.scheme + "://" + parts.authority;
        if (auto it = clients_.find(origin); it != clients_.end()) return *it->second;
        if (clients_.size() >= max_cached_clients) clients_.clear();

        std::unique_ptr<httplib::Client> client;
        try {
            client = std::make_unique<httplib::Client>(origin);
        } catch (const std::invalid_argument&) {
            throw InvalidArgument(fmt::format("{} was not sent: cpp-httplib does not accept the URL's scheme.", where));
        }
        if (!client->is_valid())
            throw InvalidArgument(fmt::format("{} was not sent: cpp-httplib could not set up a client for it.", where));
        client->set_connection_timeout(options_.connect_timeout);
        client->set_read_timeout(options_.read_timeout);
        client->set_write_timeout(options_.write_timeout);
        client->set_url_encode(false);  // the URL is sent exactly as given
        client->set_follow_location(false);
        client->set_keep_alive(false);
#ifdef CPPHTTPLIB_ZLIB_SUPPORT
        client->set_decompress(options_.accept_gzip);
#endif
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
        client->enable_server_certificate_verification(options_.verify_tls);
        if (!options_.ca_file.empty()) client->set_ca_cert_path(options_.ca_file);
#endif
        return *clients_.emplace(origin, std::move(client)).first->second;
    }

    HttpResponse perform(const HttpRequest& request, const BodySink* sink) {
        detail::check_request_safety(request);
        const std::string where = fmt::format("{} {}", request.method, detail::url_for_messages(request.url));
        const detail::HttpUrlParts parts = detail::split_http_url(request.url, where);
        if (parts.scheme == "https" && !supports_https)
            throw InvalidArgument(fmt::format(
                "{} was not sent: https is unavailable because cpp-httplib was built without "
                "CPPHTTPLIB_OPENSSL_SUPPORT.",
                where));
        if ((request.method == "GET" || request.method == "HEAD") && !request.body.empty())
            throw InvalidArgument(fmt::format("{} was not sent: a {} request cannot carry a body.", where,
                                              request.method));
        httplib::Client& client = client_for(parts, where);

        httplib::Request req;
        req.method = request.method;
        req.path = parts.target;
        for (const auto& [name, value] : request.headers) req.headers.emplace(name, value);
        if (!options_.user_agent.empty() && !req.has_header("User-Agent"))
            req.headers.emplace("User-Agent", options_.user_agent);
#ifdef CPPHTTPLIB_ZLIB_SUPPORT
        if (options_.accept_gzip && !req.has_header("Accept-Encoding"))
            req.headers.emplace("Accept-Encoding", "gzip, deflate");
#endif
        req.body = request.body;

        HttpResponse head;
        std::exception_ptr sink_failure;
        if (sink != nullptr) {
            req.response_handler = [&head](const httplib::Response& response) {
                head.status = response.status;
                head.headers = detail::to_http_headers(response.headers);
                return true;
            };
            req.content_receiver = [&](const char* data, std::size_t length, std::uint64_t, std::uint64_t) {
                try {
                    (*sink)(head, std::string_view(data, length));
                    return true;
                } catch (...) {
                    sink_failure = std::current_exception();
                    return false;
                }
            };
        }

        httplib::Result result{nullptr, httplib::Error::Unknown};
        try {
            result = client.send(req);
        } catch (const std::invalid_argument&) {  // a malformed number in the response
            throw TransportError(fmt::format("{} failed: the response could not be parsed.", where), true);
        } catch (const std::out_of_range&) {
            throw TransportError(fmt::format("{} failed: the response could not be parsed.", where), true);
        }
        if (sink_failure) std::rethrow_exception(sink_failure);
        if (!result) {
            const httplib::Error error = result.error();
            throw TransportError(fmt::format("{} failed: {} (cpp-httplib error {}).", where, detail::describe(error),
                                             httplib::to_string(error)),
                                 !detail::httplib_failed_before_sending(error));
        }

        HttpResponse response;
        response.status = result->status;
        response.headers = detail::to_http_headers(result->headers);
        if (sink == nullptr) response.body = std::move(result->body);
        return response;
    }

    HttplibOptions options_;
    std::map<std::string, std::unique_ptr<httplib::Client>> clients_;
};

static_assert(HttpTransport<HttplibTransport>);
static_assert(StreamingHttpTransport<HttplibTransport>);

}  // namespace llmbatch
