#pragma once
/// @file testing/emulator_server.hpp
/// `EmulatorServer`: serves an emulator (anything with `HttpResponse send(const HttpRequest&)`,
/// such as `GeminiEmulator`, `OpenAIEmulator` or `MistralEmulator`) over real HTTP with cpp-httplib, on a loopback port, in a background
/// thread. Tests point a real transport at `base_url()`; `examples/emulator_server.cpp`
/// wraps it in a program.
///
/// An emulator that also offers `EmulatedResponse open(const HttpRequest&)` (see
/// `testing/emulator/response.hpp`) is streamed: a produced body (a results file) goes out with
/// chunked transfer encoding as it is produced, never whole in memory. A truncated body (see
/// `truncate_bodies`) breaks the connection after the kept bytes, as a failed download would:
/// a held body announces its full `Content-Length` first, a produced one never ends its chunks.
///
/// Needs cpp-httplib (`#include <httplib.h>`), so it is not part of the umbrella header.
///
/// Control endpoints, beside the emulated API:
///
/// | method + path                       | effect                                                    |
/// |-------------------------------------|-----------------------------------------------------------|
/// | `GET /_emulator/health`             | `{"ok": true}`                                             |
/// | `POST /_emulator/advance`           | `{"seconds": N}`: calls the `advance` hook (moves the clock) |
/// | `POST /_emulator/inject-http-errors`| `{"count", "status", "api_status", "message", "retry_after"}` (when the emulator has `inject_http_errors`; `api_status` is the provider's error word, e.g. `RESOURCE_EXHAUSTED` or `insufficient_quota`; absent ones are the emulator's usual ones for the status) |
/// | `POST /_emulator/truncate-bodies`   | `{"count", "keep_bytes"}`: the next bodies break off (when the emulator has `truncate_bodies`) |
/// | `POST /_emulator/shutdown`          | stops the server (with a body, e.g. `{}`)                  |
///
/// Example:
/// @code
/// llmbatch::testing::ManualClock clock;
/// llmbatch::testing::GeminiEmulator emulator(clock);
/// llmbatch::testing::EmulatorServer server(emulator);
/// server.start();                     // 127.0.0.1, a free port
/// config.base_url = server.base_url();
/// @endcode

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <httplib.h>

#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/response.hpp"

namespace llmbatch::testing {

/// Serves `Emulator` over HTTP. Not copyable or movable (the server thread refers to it).
template <class Emulator>
class EmulatorServer {
public:
    /// Called with a number of seconds by `POST /_emulator/advance`.
    using AdvanceHook = std::function<void(double seconds)>;
    /// Called after each answered request with the method, the path and the status.
    using AfterHook = std::function<void(const std::string& method, const std::string& path, int status)>;

    explicit EmulatorServer(Emulator emulator, AdvanceHook advance = {}, AfterHook after = {})
        : emulator_(std::move(emulator)), advance_(std::move(advance)), after_(std::move(after)) {
        install_routes();
    }
    EmulatorServer(const EmulatorServer&) = delete;
    EmulatorServer& operator=(const EmulatorServer&) = delete;
    ~EmulatorServer() {
        stop();
        if (stopper_.joinable()) stopper_.join();
    }

    /// Binds `host:port` (0 picks a free port) and serves in a background thread.
    /// @throws std::runtime_error when the address cannot be bound.
    void start(const std::string& host = "127.0.0.1", int port = 0) {
        bind(host, port);
        thread_ = std::thread([this] { server_.listen_after_bind(); });
    }

    /// Binds without serving; `serve()` then serves on the calling thread until `stop()`.
    void bind(const std::string& host = "127.0.0.1", int port = 0) {
        host_ = host;
        server_.set_tcp_nodelay(true);  // small replies go out at once instead of waiting on delayed ACKs
        port_ = port == 0 ? server_.bind_to_any_port(host) : (server_.bind_to_port(host, port) ? port : -1);
        if (port_ <= 0) throw std::runtime_error(fmt::format("EmulatorServer: cannot listen on {}:{}", host, port));
    }
    /// Serves on the calling thread until `stop()` or `POST /_emulator/shutdown`; false on error.
    bool serve() { return server_.listen_after_bind(); }

    /// Stops serving and joins the background thread (idempotent).
    void stop() {
        server_.stop();
        if (thread_.joinable()) thread_.join();
    }

    [[nodiscard]] int port() const noexcept { return port_; }
    [[nodiscard]] std::string base_url() const { return fmt::format("http://{}:{}", host_, port_); }
    [[nodiscard]] Emulator& emulator() noexcept { return emulator_; }

private:
    void install_routes() {
        auto reply = [](httplib::Response& res, int status, const Json& body) {
            res.status = status;
            res.set_content(body.dump(), "application/json");
        };
        server_.Get("/_emulator/health", [reply](const httplib::Request&, httplib::Response& res) {
            reply(res, 200, {{"ok", true}});
        });
        server_.Post("/_emulator/advance", [this, reply](const httplib::Request& req, httplib::Response& res) {
            const Json body = Json::parse(req.body, nullptr, false);
            if (!advance_ || body.is_discarded() || !body.is_object() || !body.contains("seconds") ||
                !body["seconds"].is_number() || body["seconds"].get<double>() < 0)
                return reply(res, 400, {{"error", "expected {\"seconds\": N} with N >= 0 (and a clock to move)"}});
            advance_(body["seconds"].get<double>());
            reply(res, 200, Json::object());
        });
        server_.Post("/_emulator/inject-http-errors", [this, reply](const httplib::Request& req, httplib::Response& res) {
            if constexpr (requires(Emulator& e) { e.inject_http_errors(std::size_t{1}, 429, std::string{}, std::string{}, std::optional<std::string>{}); }) {
                const Json body = Json::parse(req.body, nullptr, false);
                if (body.is_discarded() || !body.is_object()) return reply(res, 400, {{"error", "expected a JSON object"}});
                std::optional<std::string> retry_after;
                if (body.contains("retry_after") && body["retry_after"].is_string()) retry_after = body["retry_after"].template get<std::string>();
                // Absent words and messages stay empty: the emulator picks its own for the status.
                emulator_.inject_http_errors(body.value("count", std::size_t{1}), body.value("status", 429),
                                             body.value("api_status", std::string{}), body.value("message", std::string{}),
                                             retry_after);
                reply(res, 200, Json::object());
            } else {
                (void)req;
                reply(res, 404, {{"error", "this emulator has no error injection"}});
            }
        });
        server_.Post("/_emulator/truncate-bodies", [this, reply](const httplib::Request& req, httplib::Response& res) {
            if constexpr (requires(Emulator& e) { e.truncate_bodies(std::size_t{1}, std::size_t{1}); }) {
                const Json body = Json::parse(req.body, nullptr, false);
                if (body.is_discarded() || !body.is_object() || !body.contains("keep_bytes") ||
                    !body["keep_bytes"].is_number_unsigned())
                    return reply(res, 400, {{"error", "expected {\"count\": N, \"keep_bytes\": K}"}});
                emulator_.truncate_bodies(body.value("count", std::size_t{1}), body["keep_bytes"].template get<std::size_t>());
                reply(res, 200, Json::object());
            } else {
                (void)req;
                reply(res, 404, {{"error", "this emulator cannot truncate bodies"}});
            }
        });
        server_.Post("/_emulator/shutdown", [this, reply](const httplib::Request&, httplib::Response& res) {
            reply(res, 200, Json::object());
            // Stopping from inside a handler would wait for this very handler: do it beside it.
            if (!shutting_down_.exchange(true)) stopper_ = std::thread([this] { server_.stop(); });
        });
        auto api = [this](const httplib::Request& req, httplib::Response& res) {
            HttpRequest request;
            request.method = req.method;
            request.url = fmt::format("http://{}:{}{}", host_, port_, req.target);
            for (const auto& [name, value] : req.headers) request.headers.add(name, value);
            request.body = req.body;
            if (request.body.empty() && !req.files.empty()) reencode_form(req, request);
            int status = 0;
            if constexpr (requires(Emulator& e) { { e.open(request) } -> std::same_as<EmulatedResponse>; }) {
                EmulatedResponse response = emulator_.open(request);
                status = response.head.status;
                serve(std::move(response), res);
            } else {
                HttpResponse response = emulator_.send(request);
                status = response.status;
                serve(EmulatedResponse{std::move(response), {}, std::nullopt}, res);
            }
            if (after_) after_(req.method, req.path, status);
        };
        server_.Get(".*", api);
        server_.Post(".*", api);
        server_.Delete(".*", api);
        server_.Patch(".*", api);
        server_.Put(".*", api);
    }

    /// cpp-httplib parses a `multipart/form-data` body into `req.files` and keeps no body: writes
    /// the parts back into one form (with a boundary of its own) for the emulator to read.
    static void reencode_form(const httplib::Request& req, HttpRequest& request) {
        const std::string boundary = "llmbatch-emulator-server-form-boundary";
        std::string& body = request.body;
        for (const auto& [name, part] : req.files) {
            body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + part.name + "\"";
            if (!part.filename.empty()) body += "; filename=\"" + part.filename + "\"";
            body += "\r\n";
            if (!part.content_type.empty()) body += "Content-Type: " + part.content_type + "\r\n";
            body += "\r\n" + part.content + "\r\n";
        }
        body += "--" + boundary + "--\r\n";
        request.headers.set("Content-Type", "multipart/form-data; boundary=" + boundary);
    }

    /// Writes `r` into `res`: a held body at once, a produced or truncated one through a provider.
    static void serve(EmulatedResponse r, httplib::Response& res) {
        res.status = r.head.status;
        std::string content_type = "application/json";
        for (const auto& [name, value] : r.head.headers) {
            if (llmbatch::detail::iequals(name, "Content-Type")) content_type = value;
            else res.set_header(name, value);
        }
        if (!r.producer) {
            auto body = std::make_shared<std::string>(std::move(r.head.body));
            const std::size_t keep = r.truncate_after.value_or(body->size());
            if (keep >= body->size()) return res.set_content(*body, content_type);
            // Announce the whole length, send `keep` bytes, then break the connection.
            res.set_content_provider(body->size(), content_type,
                                     [body, keep](std::size_t offset, std::size_t, httplib::DataSink& sink) {
                                         if (offset >= keep) return false;
                                         return sink.write(body->data() + offset, keep - offset);
                                     });
            return;
        }
        auto shared = std::make_shared<EmulatedResponse>(std::move(r));
        res.set_chunked_content_provider(content_type, [shared](std::size_t, httplib::DataSink& sink) {
            struct Stop {};
            std::size_t left = shared->truncate_after.value_or(std::numeric_limits<std::size_t>::max());
            try {
                shared->producer([&](std::string_view piece) {
                    const std::size_t n = std::min(left, piece.size());
                    if (n > 0 && !sink.write(piece.data(), n)) throw Stop{};
                    left -= n;
                    if (n < piece.size()) throw Stop{};  // cut: the chunks never end
                });
            } catch (const Stop&) {
                return false;
            }
            sink.done();
            return true;
        });
    }

    Emulator emulator_;
    AdvanceHook advance_;
    AfterHook after_;
    httplib::Server server_;
    std::thread thread_;
    std::thread stopper_;
    std::atomic<bool> shutting_down_{false};
    std::string host_ = "127.0.0.1";
    int port_ = -1;
};

}  // namespace llmbatch::testing
