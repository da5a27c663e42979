#pragma once
/// @file transport/curl.hpp
/// `CurlTransport`: an `HttpTransport` (and `StreamingHttpTransport`) over libcurl's easy interface.
///
/// Optional: this header is not part of `llmbatch/llmbatch.hpp`; include it and link libcurl
/// (pkg-config `libcurl`, meson `dependency('libcurl')`).
///
/// Behaviour:
/// - TLS peer and host verification are on unless `CurlOptions::verify_tls` is false.
/// - Proxies come from the environment as libcurl reads them (`http_proxy`, `https_proxy`,
///   `all_proxy`, `no_proxy`); nothing here turns that off.
/// - Only `http` and `https` URLs are accepted; redirects are not followed unless
///   `CurlOptions::follow_redirects` is set.
/// - With `accept_gzip`, every encoding libcurl supports is offered and the body is decoded.
/// - `HttpResponse::headers` holds the fields of the final response only (not those of a
///   `100 Continue`, a proxy `CONNECT` or a followed redirect), names spelled as received.
/// - Header names and values, and the URL's query string (which may carry a key), never appear in
///   diagnostics: errors name the method and the URL without its query string.
///
/// **Example**:
/// ```cpp
/// llmbatch::CurlTransport http({.total_timeout = std::chrono::seconds(60)});
/// llmbatch::HttpResponse r = http.send({"GET", "https://example.com/v1/x", {{"x-goog-api-key", key}}, {}});
/// ```

#include <chrono>
#include <climits>
#include <cstddef>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <curl/curl.h>
#include <fmt/format.h>

#include "llmbatch/concepts.hpp"
#include "llmbatch/detail/header_check.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/transport/streaming.hpp"

namespace llmbatch {

/// Settings of a `CurlTransport`.
struct CurlOptions {
    /// Longest wait for the connection (TCP and TLS) to be established; zero means libcurl's
    /// default (300 s).
    std::chrono::milliseconds connect_timeout{10'000};
    /// Longest duration of a whole exchange, body included (also when streaming); zero means no limit.
    std::chrono::milliseconds total_timeout{300'000};
    /// Verify the server's certificate chain and host name. Turn off only for local testing.
    bool verify_tls = true;
    /// Offer the compressed encodings libcurl supports (gzip, deflate, ...) and decode the body.
    bool accept_gzip = true;
    /// A PEM bundle of CA certificates to trust instead of the system's; empty for the system's.
    std::string ca_file{};
    /// The `User-Agent` sent unless the request carries its own; empty sends none of ours.
    std::string user_agent = "llmbatch/0.1";
    /// Follow redirects (at most 10, to `http`/`https` only).
    bool follow_redirects = false;
};

namespace detail {

/// Initialises libcurl once per process (thread-safe).
/// @throws TransportError when libcurl cannot be initialised.
inline void curl_global_setup() {
    static const CURLcode code = curl_global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK)
        throw TransportError(fmt::format("libcurl could not be initialised: {}.", curl_easy_strerror(code)), false);
}

struct CurlEasyDeleter {
    void operator()(CURL* handle) const noexcept { curl_easy_cleanup(handle); }
};
struct CurlSlistDeleter {
    void operator()(curl_slist* list) const noexcept { curl_slist_free_all(list); }
};
using CurlEasyHandle = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

/// A duration in milliseconds as the `long` libcurl expects, clamped to [0, LONG_MAX].
[[nodiscard]] inline long curl_millis(std::chrono::milliseconds d) noexcept {
    const std::chrono::milliseconds::rep count = d.count();
    if (count <= 0) return 0L;
    if (count > static_cast<std::chrono::milliseconds::rep>(LONG_MAX)) return LONG_MAX;
    return static_cast<long>(count);
}

/// The state of one exchange, shared with libcurl's callbacks.
struct CurlExchange {
    CURL* handle = nullptr;
    const BodySink* sink = nullptr;               ///< null: accumulate into `body`
    std::vector<HttpHeaders::value_type> fields;  ///< header fields of the latest response
    std::string body;
    HttpResponse head;                            ///< status and headers handed to the sink
    bool head_stale = true;
    bool request_started = false;                 ///< set once a connection is ready to carry the request
    std::exception_ptr failure;                   ///< an exception raised inside a callback

    void on_header_line(std::string_view line) {
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
        head_stale = true;
        if (line.substr(0, 5) == "HTTP/") {  // a new response begins (1xx, proxy CONNECT, redirect)
            fields.clear();
            return;
        }
        if (line.empty()) return;
        if (line.front() == ' ' || line.front() == '\t') {  // obsolete line folding
            if (!fields.empty()) {
                const auto start = line.find_first_not_of(" \t");
                fields.back().second.append(" ").append(line.substr(start));
            }
            return;
        }
        const auto colon = line.find(':');
        if (colon == std::string_view::npos) return;
        std::string_view value = line.substr(colon + 1);
        const auto first = value.find_first_not_of(" \t");
        value = first == std::string_view::npos ? std::string_view{} : value.substr(first);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
        fields.emplace_back(std::string(line.substr(0, colon)), std::string(value));
    }

    [[nodiscard]] int status() const noexcept {
        long code = 0;
        if (curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK) return 0;
        return static_cast<int>(code);
    }

    [[nodiscard]] HttpHeaders headers() const {
        HttpHeaders out;
        for (const auto& [name, value] : fields) out.add(name, value);
        return out;
    }

    void on_body(std::string_view chunk) {
        if (sink == nullptr) {
            if (body.empty()) reserve_body();
            body.append(chunk);
            return;
        }
        if (head_stale) {
            head.status = status();
            head.headers = headers();
            head_stale = false;
        }
        (*sink)(head, chunk);
    }

    /// Makes room for the whole body the server announced (`Content-Length`, up to 4 GiB), so a
    /// large reply is not copied again each time the buffer grows.
    void reserve_body() {
        curl_off_t length = -1;
        constexpr curl_off_t most = curl_off_t{1} << 32;
        if (curl_easy_getinfo(handle, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length) == CURLE_OK && length > 0 &&
            length <= most)
            body.reserve(static_cast<std::size_t>(length));
    }

    static std::size_t header_callback(char* data, std::size_t size, std::size_t count, void* self) {
        auto& exchange = *static_cast<CurlExchange*>(self);
        try {
            exchange.on_header_line(std::string_view(data, size * count));
        } catch (...) {
            exchange.failure = std::current_exception();
            return 0;
        }
        return size * count;
    }

    static std::size_t write_callback(char* data, std::size_t size, std::size_t count, void* self) {
        auto& exchange = *static_cast<CurlExchange*>(self);
        try {
            exchange.on_body(std::string_view(data, size * count));
        } catch (...) {
            exchange.failure = std::current_exception();
            return 0;  // anything but size * count aborts the transfer
        }
        return size * count;
    }

#if LIBCURL_VERSION_NUM >= 0x075000
    static int prereq_callback(void* self, char*, char*, int, int) {
        static_cast<CurlExchange*>(self)->request_started = true;
        return CURL_PREREQFUNC_OK;
    }
#endif
};

/// libcurl results that are certain to come before any request byte was written.
[[nodiscard]] constexpr bool curl_failed_before_sending(CURLcode code) noexcept {
    switch (code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_CONNECT:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_INVALIDCERTSTATUS:
            return true;
        default:
            return false;
    }
}

}  // namespace detail

/// An HTTP transport over libcurl (models `HttpTransport` and `StreamingHttpTransport`).
///
/// One easy handle per transport, so connections are reused between calls to the same host.
/// Use an instance from one thread at a time; give each thread its own. Movable, not copyable;
/// a moved-from transport is still usable (it opens a fresh handle on its next call).
///
/// Errors: any HTTP status is returned. A failed exchange throws `TransportError`, whose
/// `request_may_have_been_sent()` is false only when no connection ever became ready to carry
/// the request (DNS failure, refused connection, connect timeout, TLS handshake failure).
/// A request that cannot be sent as it is (bad header, method or URL; body on `GET`/`HEAD`;
/// a scheme other than `http`/`https`) throws `InvalidArgument` and nothing is sent.
class CurlTransport {
public:
    /// A transport with default `CurlOptions`.
    CurlTransport() : CurlTransport(CurlOptions{}) {}

    /// A transport with `options`.
    /// @throws TransportError when libcurl cannot be initialised or give a handle.
    explicit CurlTransport(CurlOptions options) : options_(std::move(options)) { open(); }

    CurlTransport(const CurlTransport&) = delete;
    CurlTransport& operator=(const CurlTransport&) = delete;
    CurlTransport(CurlTransport&&) noexcept = default;
    CurlTransport& operator=(CurlTransport&&) noexcept = default;
    ~CurlTransport() = default;

    /// The options this transport was made with.
    [[nodiscard]] const CurlOptions& options() const noexcept { return options_; }

    /// Performs one exchange and returns the response, whatever its status.
    /// @throws InvalidArgument when the request cannot be sent as it is (nothing is sent).
    /// @throws TransportError when the exchange fails.
    [[nodiscard]] HttpResponse send(const HttpRequest& request) { return perform(request, nullptr); }

    /// Performs one exchange, handing the body to `sink` in pieces as it arrives; the returned
    /// response has the status and headers and an empty body.
    /// @throws InvalidArgument when `sink` is empty or the request cannot be sent as it is.
    /// @throws TransportError when the exchange fails; whatever `sink` throws, unchanged.
    [[nodiscard]] HttpResponse send(const HttpRequest& request, BodySink sink) {
        if (!sink) throw InvalidArgument("CurlTransport::send needs a body sink; an empty function was given.");
        return perform(request, &sink);
    }

private:
    void open() {
        detail::curl_global_setup();
        handle_.reset(curl_easy_init());
        if (!handle_) throw TransportError("libcurl could not create an easy handle.", false);
    }

    template <class Value>
    void set(CURLoption option, Value value, const HttpRequest& request) {
        const CURLcode code = curl_easy_setopt(handle_.get(), option, value);
        if (code != CURLE_OK)
            throw TransportError(fmt::format("{} {} was not sent: libcurl refused an option ({}).", request.method,
                                             detail::url_for_messages(request.url), curl_easy_strerror(code)),
                                 false);
    }

    [[nodiscard]] static bool is_http_url(std::string_view url) {
        const auto sep = url.find("://");
        if (sep == std::string_view::npos) return false;
        const auto scheme = url.substr(0, sep);
        return detail::iequals(scheme, "http") || detail::iequals(scheme, "https");
    }

    HttpResponse perform(const HttpRequest& request, const BodySink* sink) {
        detail::check_request_safety(request);
        const std::string where = fmt::format("{} {}", request.method, detail::url_for_messages(request.url));
        if (!is_http_url(request.url))
            throw InvalidArgument(fmt::format("{} was not sent: only http and https URLs are supported.", where));
        const bool bodiless = request.method == "GET" || request.method == "HEAD";
        if (bodiless && !request.body.empty())
            throw InvalidArgument(fmt::format("{} was not sent: a {} request cannot carry a body.", where,
                                              request.method));
        if (!handle_) open();

        CURL* const h = handle_.get();
        detail::CurlExchange exchange;
        exchange.handle = h;
        exchange.sink = sink;
        char error_buffer[CURL_ERROR_SIZE] = {};
        detail::CurlSlist header_list;
        curl_easy_reset(h);
        struct ResetOnExit {
            CURL* handle;
            ~ResetOnExit() { curl_easy_reset(handle); }  // before the data the handle points to goes away
        } reset_on_exit{h};

        set(CURLOPT_URL, request.url.c_str(), request);
        set(CURLOPT_NOSIGNAL, 1L, request);
#if LIBCURL_VERSION_NUM >= 0x075500
        set(CURLOPT_PROTOCOLS_STR, "http,https", request);
        set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https", request);
#else
        set(CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS), request);
        set(CURLOPT_REDIR_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS), request);
#endif
        set(CURLOPT_ERRORBUFFER, static_cast<char*>(error_buffer), request);
        set(CURLOPT_CONNECTTIMEOUT_MS, detail::curl_millis(options_.connect_timeout), request);
        set(CURLOPT_TIMEOUT_MS, detail::curl_millis(options_.total_timeout), request);
        set(CURLOPT_SSL_VERIFYPEER, options_.verify_tls ? 1L : 0L, request);
        set(CURLOPT_SSL_VERIFYHOST, options_.verify_tls ? 2L : 0L, request);
        if (!options_.ca_file.empty()) set(CURLOPT_CAINFO, options_.ca_file.c_str(), request);
        if (options_.accept_gzip) set(CURLOPT_ACCEPT_ENCODING, "", request);
        if (!options_.user_agent.empty()) set(CURLOPT_USERAGENT, options_.user_agent.c_str(), request);
        set(CURLOPT_FOLLOWLOCATION, options_.follow_redirects ? 1L : 0L, request);
        set(CURLOPT_MAXREDIRS, 10L, request);
        set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L, request);

        set(CURLOPT_HEADERFUNCTION, &detail::CurlExchange::header_callback, request);
        set(CURLOPT_HEADERDATA, static_cast<void*>(&exchange), request);
        set(CURLOPT_WRITEFUNCTION, &detail::CurlExchange::write_callback, request);
        set(CURLOPT_WRITEDATA, static_cast<void*>(&exchange), request);
#if LIBCURL_VERSION_NUM >= 0x075000
        set(CURLOPT_PREREQFUNCTION, &detail::CurlExchange::prereq_callback, request);
        set(CURLOPT_PREREQDATA, static_cast<void*>(&exchange), request);
#endif

        if (request.method == "GET") {
            set(CURLOPT_HTTPGET, 1L, request);
        } else if (request.method == "HEAD") {
            set(CURLOPT_NOBODY, 1L, request);
        } else {
            const bool has_body = !request.body.empty() || request.method == "POST" || request.method == "PUT" ||
                                  request.method == "PATCH";
            if (has_body) {
                // POSTFIELDS (not COPYPOSTFIELDS): `request` outlives the transfer. A zero size still
                // sends `Content-Length: 0`.
                set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()), request);
                set(CURLOPT_POSTFIELDS, request.body.c_str(), request);
            }
            if (request.method != "POST") set(CURLOPT_CUSTOMREQUEST, request.method.c_str(), request);
        }

        auto append = [&](const std::string& line) {
            curl_slist* grown = curl_slist_append(header_list.get(), line.c_str());
            if (grown == nullptr) throw std::bad_alloc();
            static_cast<void>(header_list.release());
            header_list.reset(grown);
        };
        for (const auto& [name, value] : request.headers)
            append(value.empty() ? name + ";" : name + ": " + value);  // "Name:" alone would remove the field
        if (!request.headers.contains("Expect")) append("Expect:");  // no 100-continue round trip
        set(CURLOPT_HTTPHEADER, header_list.get(), request);

        const CURLcode code = curl_easy_perform(h);
        if (exchange.failure) std::rethrow_exception(exchange.failure);
        if (code != CURLE_OK) fail(request, where, code, error_buffer, exchange.request_started);

        HttpResponse response;
        response.status = exchange.status();
        response.headers = exchange.headers();
        response.body = std::move(exchange.body);
        return response;
    }

    [[noreturn]] static void fail(const HttpRequest& request, const std::string& where, CURLcode code,
                                       const char* error_buffer, [[maybe_unused]] bool request_started) {
        std::string detail_text = error_buffer;
        const std::string query = url_query(request.url);
        if (!query.empty() && detail_text.find(query) != std::string::npos) detail_text.clear();
        std::string reason = curl_easy_strerror(code);
        if (!detail_text.empty()) reason += ": " + detail::printable(detail_text);
        if (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL)
            throw InvalidArgument(fmt::format("{} was not sent: {} (libcurl error {}).", where, reason,
                                               static_cast<int>(code)));
#if LIBCURL_VERSION_NUM >= 0x075000
        const bool may_have_been_sent = request_started && !detail::curl_failed_before_sending(code);
#else
        const bool may_have_been_sent = !detail::curl_failed_before_sending(code);
#endif
        throw TransportError(fmt::format("{} failed: {} (libcurl error {}).", where, reason, static_cast<int>(code)),
                              may_have_been_sent);
    }

    CurlOptions options_;
    detail::CurlEasyHandle handle_;
};

static_assert(HttpTransport<CurlTransport>);
static_assert(StreamingHttpTransport<CurlTransport>);

}  // namespace llmbatch
