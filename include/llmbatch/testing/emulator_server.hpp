#pragma once
/// @file testing/emulator_server.hpp
/// `EmulatorServer`: serves an emulator (anything with `HttpResponse send(const HttpRequest&)`,
/// such as `GeminiEmulator`) over real HTTP with cpp-httplib, on a loopback port, in a background
/// thread. Tests point a real transport at `base_url()`; `examples/gemini_emulator_server.cpp`
/// wraps it in a program.
///
/// Needs cpp-httplib (`#include <httplib.h>`), so it is not part of the umbrella header.
///
/// Control endpoints, beside the emulated API:
///
/// | method + path                       | effect                                                    |
/// |-------------------------------------|-----------------------------------------------------------|
/// | `GET /_emulator/health`             | `{"ok": true}`                                             |
/// | `POST /_emulator/advance`           | `{"seconds": N}`: calls the `advance` hook (moves the clock) |
/// | `POST /_emulator/inject-http-errors`| `{"count", "status", "api_status", "message", "retry_after"}` (when the emulator has `inject_http_errors`) |
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

#include <atomic>
#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>

#include <fmt/format.h>
#include <httplib.h>

#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"

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
                emulator_.inject_http_errors(body.value("count", std::size_t{1}), body.value("status", 429),
                                             body.value("api_status", std::string("RESOURCE_EXHAUSTED")),
                                             body.value("message", std::string("Resource has been exhausted (e.g. check quota).")),
                                             retry_after);
                reply(res, 200, Json::object());
            } else {
                (void)req;
                reply(res, 404, {{"error", "this emulator has no error injection"}});
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
            const HttpResponse response = emulator_.send(request);
            res.status = response.status;
            std::string content_type = "application/json";
            for (const auto& [name, value] : response.headers) {
                if (detail::iequals(name, "Content-Type")) content_type = value;
                else res.set_header(name, value);
            }
            res.set_content(response.body, content_type);
            if (after_) after_(req.method, req.path, response.status);
        };
        server_.Get(".*", api);
        server_.Post(".*", api);
        server_.Delete(".*", api);
        server_.Patch(".*", api);
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
