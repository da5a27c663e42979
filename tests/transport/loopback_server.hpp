#pragma once
// Test helpers for the transport suites: an HTTP server on 127.0.0.1 (ephemeral port) running in a
// background thread, a port nobody listens on, and gzip compression.

#include <httplib.h>
#include <zlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace llmbatch::transport_test {

/// What the server received.
struct ReceivedRequest {
    std::string method;
    std::string target;  ///< path and query as sent on the request line
    std::string body;
    httplib::Headers headers;

    [[nodiscard]] std::optional<std::string> header(const std::string& name) const {
        auto it = headers.find(name);
        if (it == headers.end()) return std::nullopt;
        return it->second;
    }
};

/// An `httplib::Server` bound to 127.0.0.1 on an ephemeral port, serving from its own thread
/// until destroyed. Every request (any method, any path) is recorded, then answered by `respond`.
class LoopbackServer {
public:
    using Responder = std::function<void(const httplib::Request&, httplib::Response&)>;

    explicit LoopbackServer(Responder respond) : respond_(std::move(respond)) {
        server_.new_task_queue = [] { return new httplib::ThreadPool(2); };
        server_.set_keep_alive_max_count(1);  // close after each response: stopping never waits on idle clients
        auto handler = [this](const httplib::Request& req, httplib::Response& res) {
            {
                std::lock_guard lock(mutex_);
                requests_.push_back({req.method, req.target, req.body, req.headers});
            }
            respond_(req, res);
        };
        server_.Get(".*", handler);
        server_.Post(".*", handler);
        server_.Put(".*", handler);
        server_.Patch(".*", handler);
        server_.Delete(".*", handler);
        port_ = server_.bind_to_any_port("127.0.0.1");
        if (port_ <= 0) throw std::runtime_error("the loopback test server could not bind a port");
        thread_ = std::thread([this] { server_.listen_after_bind(); });
        // stop() is ignored until the server runs, so wait for it.
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (!server_.is_running() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }

    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    ~LoopbackServer() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        released_.notify_all();
        server_.stop();
        thread_.join();
    }

    [[nodiscard]] int port() const noexcept { return port_; }

    /// `http://127.0.0.1:<port><target>`.
    [[nodiscard]] std::string url(std::string_view target) const {
        return "http://127.0.0.1:" + std::to_string(port_) + std::string(target);
    }

    [[nodiscard]] std::vector<ReceivedRequest> requests() const {
        std::lock_guard lock(mutex_);
        return requests_;
    }

    /// For a responder: waits until the server is being stopped, or `limit` has passed.
    void hold(std::chrono::milliseconds limit) {
        std::unique_lock lock(mutex_);
        released_.wait_for(lock, limit, [this] { return stopping_; });
    }

private:
    Responder respond_;
    httplib::Server server_;
    int port_ = 0;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::condition_variable released_;
    bool stopping_ = false;
    std::vector<ReceivedRequest> requests_;
};

/// A loopback TCP port that is bound but not listening while this object lives: connecting to it
/// is refused, and no other program can take the port meanwhile.
class RefusingPort {
public:
    RefusingPort() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (fd_ < 0) throw std::runtime_error("socket() failed");
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = 0;
        socklen_t length = sizeof address;
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
            ::close(fd_);
            throw std::runtime_error("could not bind a loopback port");
        }
        port_ = ntohs(address.sin_port);
    }
    RefusingPort(const RefusingPort&) = delete;
    RefusingPort& operator=(const RefusingPort&) = delete;
    ~RefusingPort() { ::close(fd_); }

    [[nodiscard]] int port() const noexcept { return port_; }

private:
    int fd_ = -1;
    int port_ = 0;
};

/// `data` compressed in the gzip format.
[[nodiscard]] inline std::string gzip(std::string_view data) {
    z_stream stream{};
    if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2 failed");
    std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    const int result = deflate(&stream, Z_FINISH);
    deflateEnd(&stream);
    if (result != Z_STREAM_END) throw std::runtime_error("deflate failed");
    out.resize(stream.total_out);
    return out;
}

/// A deterministic body of `size` bytes that does not repeat with a short period.
[[nodiscard]] inline std::string patterned_body(std::size_t size) {
    std::string body(size, '\0');
    unsigned state = 12345u;
    for (auto& c : body) {
        state = state * 1103515245u + 12345u;
        c = static_cast<char>('a' + (state >> 16) % 26);
    }
    return body;
}

}  // namespace llmbatch::transport_test
