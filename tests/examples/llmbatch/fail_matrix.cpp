// The fail matrix of the llmbatch tool's fetch and refetch: each command sequence runs in process
// with one fault injected at network call N or at file operation N, for every N until a run no
// longer meets the fault, and after each run the files must be whole and truthful (every file
// parses, no saved result line is lost, no job is wrongly failed or completed, no batch has two
// jobs at the provider), and a fault-free re-run must reach the same files as a fault-free run.
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

namespace {

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

    /// Runs the tool with this world's files.
    int run(Args args) {
        args.insert(args.end(), {"--tracking-file", tracking().string(), "--state-file", state().string(),
                                 "--output-dir", results().string()});
        std::ostringstream out, err;
        return llmbatch::cli::run(args, backend, out, err);
    }
    void run_all(const std::vector<Args>& commands) {
        for (const auto& args : commands) (void)run(args);
    }
};

/// The result lines of every file, each once as `(source, job, request index) -> line`, checking
/// that every complete line is a JSON object (an unfinished last line, as a cut-off append
/// leaves, is allowed) and that no request has two lines.
std::map<std::string, Json> result_lines(const Harness& h) {
    std::map<std::string, Json> out;
    if (!fs::exists(h.results())) return out;
    const llmbatch::ResultStore store(h.results());
    for (const auto& entry : fs::recursive_directory_iterator(h.results())) {
        const auto name = entry.path().filename().string();
        if (!entry.is_regular_file() || name.size() < 6 || name.compare(name.size() - 6, 6, ".jsonl") != 0) continue;
        const auto text = *llmbatch::detail::read_file_if_exists(entry.path());
        std::istringstream in(text);
        for (std::string line; std::getline(in, line);) {
            if (in.eof() && text.back() != '\n') break;  // an unfinished append
            if (line.empty()) continue;
            auto j = Json::parse(line);
            REQUIRE(j.is_object());
            const auto key = fmt::format("{} {} {}", j["source"].get<std::string>(), j["job"].get<std::string>(),
                                         j["request_index"].get<std::size_t>());
            CHECK_MESSAGE(out.count(key) == 0, "two lines for " << key);
            out[key] = std::move(j);
        }
        CHECK_NOTHROW((void)store.load(fs::relative(entry.path(), h.results()).replace_extension("").string()));
    }
    return out;
}

/// What a fault-free re-run must reproduce: each job's status, the completed batches, the lines.
struct Snapshot {
    std::map<std::string, std::string> jobs;
    Json state;
    std::map<std::string, Json> lines;
    friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

Snapshot snapshot(const Harness& h) {
    Snapshot s;
    for (const auto& j : llmbatch::JobTracker(h.tracking(), h.state()).jobs())
        s.jobs[j.job_name] = std::string(llmbatch::to_string(j.status));
    s.state = Json::parse(*llmbatch::detail::read_file_if_exists(h.state()));
    s.lines = result_lines(h);
    return s;
}

/// The checks after a faulted run; `before` holds the lines saved before it.
void check_truthful(const Harness& h, const std::map<std::string, Json>& before) {
    const llmbatch::JobTracker tracker(h.tracking(), h.state());
    const auto lines = result_lines(h);
    for (const auto& saved : before) CHECK_MESSAGE(lines.count(saved.first) == 1, "lost " << saved.first);
    for (const auto& job : tracker.jobs()) {
        CAPTURE(job.job_name);
        CHECK((job.status == llmbatch::TrackedStatus::pending || job.status == llmbatch::TrackedStatus::completed));
        if (job.status != llmbatch::TrackedStatus::completed) continue;
        CHECK(tracker.is_batch_completed(job.source, job.batch_index));
        for (std::size_t i = 0; i < job.request_keys.size(); ++i)
            CHECK_MESSAGE(lines.count(fmt::format("{} {} {}", job.source, job.job_name, i)) == 1, "missing line " << i);
    }
    for (const auto& batch : h.provider_jobs_per_batch()) CHECK_MESSAGE(batch.second == 1, batch.first);
}

/// A command sequence to break: `setup` runs fault-free once (each run starts from a copy of the
/// world it leaves), then `commands` run under one fault, then `recovery` fault-free.
struct Scenario {
    std::function<void(Harness&)> setup;
    std::vector<Args> commands;
    std::vector<Args> recovery;
};

using Fault = std::variant<NetFault, FileFault>;

/// Runs `scenario` with `fault` at point n = 1, 2, ... until it no longer fires; returns how
/// many points were tried.
/// The points where a kill leaves the files in a state no other point leaves: before an
/// operation that changes them. A kill before a read, a stat, a sync or a lock leaves what a kill
/// before the next change leaves (no power is lost).
std::set<std::size_t> distinct_kill_points(const Scenario& scenario, const SavedWorld& start) {
    using llmbatch::testing::FileOp;
    Harness h(start);
    FaultyFiles files;
    h.run_all(scenario.commands);
    std::set<std::size_t> points;
    std::size_t n = 0;
    for (const auto& r : files.operations()) {
        if (!FaultyFiles::can_hit(FileFault::kill, r.op)) continue;
        ++n;
        if (r.op == FileOp::open || r.op == FileOp::write || r.op == FileOp::rename || r.op == FileOp::fchmod)
            points.insert(n);
    }
    return points;
}

std::size_t run_matrix(const Scenario& scenario, const SavedWorld& start, Fault fault, const Snapshot& reference) {
    const bool kill = std::holds_alternative<FileFault>(fault) && std::get<FileFault>(fault) == FileFault::kill;
    const auto kill_points = kill ? distinct_kill_points(scenario, start) : std::set<std::size_t>{};
    std::size_t tried = 0;
    for (std::size_t n = 1;; ++n) {
        if (kill && kill_points.count(n) == 0) {
            if (n > *kill_points.rbegin()) return tried;
            continue;
        }
        Harness h(start);
        const auto before = result_lines(h);
        bool fired = false;
        if (const auto* net = std::get_if<NetFault>(&fault)) {
            h.backend.network().armed = std::pair{h.backend.network().calls + n, *net};
            h.run_all(scenario.commands);
            fired = h.backend.network().fired;
        } else {
            FaultyFiles files;
            files.fail_at(n, std::get<FileFault>(fault));
            try {
                h.run_all(scenario.commands);
            } catch (const llmbatch::testing::SimulatedKill&) {  // the process died there
            }
            fired = files.fired();
        }
        if (!fired) return tried;
        ++tried;
        CAPTURE(n);
        check_truthful(h, before);
        h.run_all(scenario.recovery);
        CHECK(snapshot(h) == reference);
    }
}

/// Every fault kind over `scenario`; prints the points tried per kind.
void run_all_faults(const std::string& name, const Scenario& scenario) {
    Harness first;
    scenario.setup(first);
    const auto start = first.save();
    Harness clean(start);
    clean.run_all(scenario.commands);
    clean.run_all(scenario.recovery);
    const auto reference = snapshot(clean);
    REQUIRE(reference.jobs.size() == 3);
    for (const auto& [job, status] : reference.jobs) CHECK(status == "completed");
    std::vector<Fault> faults;
    for (int f = 0; f <= static_cast<int>(NetFault::empty_body); ++f) faults.emplace_back(static_cast<NetFault>(f));
    for (const auto f : {FileFault::enospc, FileFault::eio, FileFault::short_write, FileFault::kill}) faults.emplace_back(f);
    for (const auto& fault : faults) {
        const auto kind = std::visit([](auto f) { return std::string(to_string(f)); }, fault);
        CAPTURE(kind);
        const auto tried = run_matrix(scenario, start, fault, reference);
        CHECK(tried > 0);
        MESSAGE(fmt::format("{}: {} fault points of kind {}", name, tried, kind));
    }
}

/// Three jobs, two on Gemini and one on OpenAI, two requests each, finished at the providers.
void three_finished_jobs(Harness& h) {
    std::string prompts;
    for (const auto* source : {"a.md", "b.md"})
        for (int i = 0; i < 2; ++i)
            prompts += Json{{"source", source}, {"prompt", fmt::format("Categorise {} part {}", source, i)}}.dump() + "\n";
    const auto gemini = h.dir.path / "gemini.jsonl";
    const auto openai = h.dir.path / "openai.jsonl";
    llmbatch::detail::atomic_write_file(gemini, prompts);
    llmbatch::detail::atomic_write_file(
        openai, Json{{"source", "c.md"}, {"prompts", Json::array({"Categorise c.md", "part 0"})}}.dump() + "\n" +
                    Json{{"source", "c.md"}, {"prompt", "Categorise c.md part 1"}}.dump() + "\n");
    REQUIRE(h.run({"create", "--prompts", gemini.string(), "--batch-size", "2"}) == 0);
    REQUIRE(h.run({"create", "--prompts", openai.string(), "--batch-size", "2", "--provider", "openai"}) == 0);
    h.backend.clock().advance(2h);
}

}  // namespace

TEST_SUITE("cli") {

TEST_CASE("fail matrix: fetch of pending jobs under every network and file fault") {
    const Scenario fetch{three_finished_jobs,
                         {{"fetch", "--check-all-pending"}},
                         {{"fetch", "--check-all-pending"}}};
    run_all_faults("fetch", fetch);
}

TEST_CASE("fail matrix: refetch of completed jobs under every network and file fault") {
    const Scenario refetch{[](Harness& h) {
                               three_finished_jobs(h);
                               REQUIRE(h.run({"fetch", "--check-all-pending"}) == 0);
                               h.backend.clock().advance(1h);
                           },
                           {{"fetch", "--refetch-hours", "24"}},
                           {{"fetch", "--refetch-hours", "24"}, {"fetch", "--check-all-pending"}}};
    run_all_faults("refetch", refetch);
}

}  // TEST_SUITE
