// The world of the fail matrix (fail_matrix.cpp): the tool over Gemini and OpenAI emulators
// behind a transport that fails call N, on a manual clock, in a fresh folder per run.
#pragma once

#include "cli.hpp"

#include <doctest/doctest.h>

#include "../../support/temp_dir.hpp"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/providers/openai.hpp"
#include "llmbatch/service.hpp"
#include "llmbatch/testing/faulty_files.hpp"
#include "llmbatch/testing/gemini_emulator.hpp"
#include "llmbatch/testing/manual_clock.hpp"
#include "llmbatch/testing/openai_emulator.hpp"

namespace fail_matrix {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using llmbatch::HttpRequest;
using llmbatch::HttpResponse;
using llmbatch::Json;
using llmbatch::testing::FaultyFiles;
using llmbatch::testing::FileFault;
using llmbatch::testing::ManualClock;

/// What goes wrong on the network at the chosen call.
enum class NetFault { error_before_sending, reply_lost, too_many_requests, server_error, truncated_body, garbage_body, empty_body };

std::string_view to_string(NetFault f) {
    constexpr std::string_view names[] = {"error before sending", "reply lost", "429", "503", "truncated body",
                                          "garbage body", "empty body"};
    return names[static_cast<int>(f)];
}

/// The network calls of every provider, counted together; one of them may be faulted.
struct Network {
    std::size_t calls = 0;
    std::optional<std::pair<std::size_t, NetFault>> armed{};
    bool fired = false;

    /// The fault of the call starting now, if it is the armed one.
    std::optional<NetFault> next() {
        ++calls;
        if (!armed || fired || armed->first != calls) return std::nullopt;
        fired = true;
        return armed->second;
    }
};

/// Where a body is cut off: about halfway, and never next to a line break. A body cut exactly at
/// a line break cannot be told from a complete one without its length, which an HTTP transport
/// checks (it reports the cut as a `TransportError`).
std::size_t mid_line_cut(const std::string& body) {
    std::size_t cut = body.size() / 2;
    while (cut > 0 && (body[cut - 1] == '\n' || (cut < body.size() && body[cut] == '\n'))) --cut;
    return cut;
}

/// `Inner` (an emulator) behind a network that fails the armed call.
template <class Inner>
class FaultyTransport {
public:
    FaultyTransport() = default;
    FaultyTransport(Inner inner, std::shared_ptr<Network> net) : inner_(std::move(inner)), net_(std::move(net)) {}

    HttpResponse send(const HttpRequest& request) {
        const auto fault = net_->next();
        return fault ? faulted(request, *fault) : inner_.send(request);
    }
    HttpResponse send(const HttpRequest& request, const llmbatch::BodySink& sink) {
        const auto fault = net_->next();
        if (!fault) return inner_.send(request, sink);
        const auto response = faulted(request, *fault);
        const HttpResponse head{response.status, response.headers, {}};
        if (!response.body.empty()) sink(head, response.body);
        return head;
    }

private:
    HttpResponse faulted(const HttpRequest& request, NetFault fault) {
        auto refusal = [](int status) {
            HttpResponse r{status, {}, R"({"error": {"message": "injected refusal"}})"};
            r.headers.set("Content-Type", "application/json");
            return r;
        };
        switch (fault) {
            case NetFault::error_before_sending: throw llmbatch::TransportError("connection refused (injected)", false);
            case NetFault::reply_lost:
                (void)inner_.send(request);
                throw llmbatch::TransportError("connection reset after sending (injected)", true);
            case NetFault::too_many_requests: return refusal(429);
            case NetFault::server_error: return refusal(503);
            case NetFault::truncated_body:
            case NetFault::garbage_body:
            case NetFault::empty_body: break;
        }
        auto response = inner_.send(request);
        if (fault == NetFault::truncated_body) response.body.resize(mid_line_cut(response.body));
        if (fault == NetFault::garbage_body) response.body = "<html><body>502 Bad Gateway</body></html>";
        if (fault == NetFault::empty_body) response.body.clear();
        return response;
    }

    Inner inner_{};
    std::shared_ptr<Network> net_ = std::make_shared<Network>();
};

using GeminiEmulator = llmbatch::testing::GeminiEmulator;
using OpenAIEmulator = llmbatch::testing::OpenAIEmulator;
using Gemini = llmbatch::GeminiProvider<FaultyTransport<GeminiEmulator>, ManualClock>;
using OpenAI = llmbatch::OpenAIProvider<FaultyTransport<OpenAIEmulator>, ManualClock>;

/// A tool backend over the Gemini and OpenAI emulators behind one faulty network, without
/// retries, so every fault reaches the tool.
class MatrixBackend {
public:
    MatrixBackend() : service_(make_gemini(), make_openai()) {}
    /// Over emulators restored from `to_json` states, on a clock at `utc`.
    MatrixBackend(std::chrono::system_clock::time_point utc, const Json& gemini, const Json& openai)
        : clock_(utc), gemini_(GeminiEmulator::from_json(gemini, clock_)), openai_(OpenAIEmulator::from_json(openai, clock_)),
          service_(make_gemini(), make_openai()) {}

    void configure(const llmbatch::cli::BackendSettings& settings) {
        target_ = settings.provider.empty() ? std::string("gemini") : settings.provider;
    }
    [[nodiscard]] llmbatch::LLMService<Gemini, OpenAI>& service() { return service_; }
    [[nodiscard]] ManualClock& clock() { return clock_; }
    [[nodiscard]] std::string description() const { return "the Gemini and OpenAI emulators behind a faulty network"; }
    [[nodiscard]] std::string target_provider() const { return target_; }

    [[nodiscard]] Network& network() { return *net_; }
    [[nodiscard]] const GeminiEmulator& gemini() const { return gemini_; }
    [[nodiscard]] const OpenAIEmulator& openai() const { return openai_; }

    /// The jobs each batch was given at the providers since this backend was made, by display
    /// name ("<source> batch <i>").
    [[nodiscard]] std::map<std::string, int> provider_jobs_per_batch() const {
        std::map<std::string, int> out;
        for (const auto& r : gemini_.requests())
            if (r.method == "POST" && r.url.find(":batchGenerateContent") != std::string::npos)
                ++out[Json::parse(r.body)["batch"]["displayName"].get<std::string>()];
        for (const auto& r : openai_.requests())
            if (r.method == "POST" && r.url.size() >= 8 && r.url.compare(r.url.size() - 8, 8, "/batches") == 0)
                ++out[Json::parse(r.body)["metadata"]["llmbatch_display_name"].get<std::string>()];
        return out;
    }

private:
    Gemini make_gemini() {
        llmbatch::GeminiConfig config;
        config.api_key = "matrix-key";
        config.retry = llmbatch::RetryPolicy::none();
        config.generation.filter_json = true;
        return Gemini(config, FaultyTransport<GeminiEmulator>(gemini_, net_), clock_);
    }
    OpenAI make_openai() {
        llmbatch::OpenAIConfig config;
        config.api_key = "matrix-key";
        config.retry = llmbatch::RetryPolicy::none();
        config.generation.filter_json = true;
        return OpenAI(config, FaultyTransport<OpenAIEmulator>(openai_, net_), clock_);
    }

    ManualClock clock_;
    GeminiEmulator gemini_{clock_};
    OpenAIEmulator openai_{clock_};
    std::shared_ptr<Network> net_ = std::make_shared<Network>();
    llmbatch::LLMService<Gemini, OpenAI> service_;
    std::string target_ = "gemini";
};

using Args = std::vector<std::string>;

/// A world saved after its setup: the files, the emulators, the time, the jobs created.
struct SavedWorld {
    std::map<fs::path, std::string> files;
    Json gemini, openai;
    std::chrono::system_clock::time_point utc;
    std::map<std::string, int> jobs_per_batch;
};

/// One tool run's world: its files in a fresh directory, and the backend.
struct Harness {
    llmbatch_test::TempDir dir{"llmbatch-matrix", true};
    MatrixBackend backend;
    std::map<std::string, int> jobs_before;  ///< jobs per batch created before `backend` was made

    Harness() = default;
    /// The world `saved` describes.
    explicit Harness(const SavedWorld& saved)
        : backend(saved.utc, saved.gemini, saved.openai), jobs_before(saved.jobs_per_batch) {
        for (const auto& [path, text] : saved.files) llmbatch::detail::atomic_write_file(dir.path / path, text);
    }

    [[nodiscard]] SavedWorld save() {
        SavedWorld s{{}, backend.gemini().to_json(), backend.openai().to_json(), backend.clock().utc_now(),
                     provider_jobs_per_batch()};
        for (const auto& e : fs::recursive_directory_iterator(dir.path))
            if (e.is_regular_file())
                s.files[fs::relative(e.path(), dir.path)] = *llmbatch::detail::read_file_if_exists(e.path());
        return s;
    }

    /// The jobs each batch has at the providers.
    [[nodiscard]] std::map<std::string, int> provider_jobs_per_batch() const {
        auto out = jobs_before;
        for (const auto& [batch, n] : backend.provider_jobs_per_batch()) out[batch] += n;
        return out;
    }

    [[nodiscard]] fs::path tracking() const { return dir.path / "jobs.json"; }
    [[nodiscard]] fs::path state() const { return dir.path / "state.json"; }
    [[nodiscard]] fs::path results() const { return dir.path / "results"; }

    /// Runs the tool with this world's files (an argument starting `@/` names a file in its folder).
    int run(Args args) {
        for (auto& a : args)
            if (a.rfind("@/", 0) == 0) a = (dir.path / a.substr(2)).string();
        args.insert(args.end(), {"--tracking-file", tracking().string(), "--state-file", state().string(),
                                 "--output-dir", results().string()});
        std::ostringstream out, err;
        return llmbatch::cli::run(args, backend, out, err);
    }
    /// Runs each command; `{"@advance", "S"}` moves the clock S seconds instead.
    void run_all(const std::vector<Args>& commands) {
        for (const auto& args : commands) {
            if (args.size() == 2 && args[0] == "@advance") backend.clock().advance(std::chrono::seconds(std::stoi(args[1])));
            else (void)run(args);
        }
    }
};

}  // namespace fail_matrix
