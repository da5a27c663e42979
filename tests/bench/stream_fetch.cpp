// Loopback fetch benchmarks, run by `meson test -C build --benchmark` (not part of the test suite).
// The emulator serves a finished Gemini job over loopback from a separate process.
//
// Without arguments, or with the llmbatch tool's path: a job whose results file is about 500 MB
// (LLMBATCH_BENCH_MB sets the size). The file is first downloaded by libcurl alone into nothing
// (as `curl -o /dev/null` would), then fetched through libcurl and saved into a ResultStore by the
// library's streaming fetch (stream_batch_results into save_streamed). It prints both times,
// their ratio, and this process's peak RSS before and after. Given the path of the llmbatch tool,
// it then has the tool create the same job and `fetch` it, and prints the tool's peak RSS.
//
// With `--inline`: a job of 10,000 requests (LLMBATCH_BENCH_REQUESTS sets the number) with ~1.5 KB
// answers, answered out of order, whose results come inline in the job (its reply rendered once,
// then served as it is). `fetch_batch_results`
// through libcurl (answers parsed by filter_json, put in input order) is timed against libcurl
// alone getting the same reply, and against that plus a bare `nlohmann::json::parse` of it. No
// side offers a compressed encoding (on loopback it would cost more than it saves).
//
// With `--serve-inline N DIR`: serves that inline job, of N requests, for the SDK comparison
// (tests/bench/sdk_compare) until standard input closes (see serve_inline).
#include <llmbatch/providers/gemini.hpp>
#include <llmbatch/detail/file_io.hpp>
#include <llmbatch/result_store.hpp>
#include <llmbatch/tracking.hpp>
#include <llmbatch/testing/emulator_server.hpp>
#include <llmbatch/testing/gemini_emulator.hpp>
#include <llmbatch/testing/manual_clock.hpp>
#include <llmbatch/transport/curl.hpp>

#include <curl/curl.h>
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

using llmbatch::Json;
using namespace llmbatch::testing;

long peak_rss_kib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

/// The job the emulator serves.
struct JobShape {
    std::size_t requests = 0;
    std::size_t answer_bytes = 0;  // filler in each answer
    bool results_file = true;      // else inline
    bool out_of_order = false;
};

/// The inline job of `--inline` and `--serve-inline`: `requests` ~1.5 KB answers, out of order.
JobShape inline_job(std::size_t requests) { return {requests, 1'400, false, true}; }

/// The child: the emulator, holding a finished job of `shape` made in this process (so the
/// parent's memory says only what the fetch takes). Writes the port and the job name to
/// `port_pipe`, then serves.
[[noreturn]] void serve(int port_pipe, const JobShape& shape) {
    ManualClock clock;
    GeminiEmulatorOptions options;
    options.inline_file_output = shape.results_file;
    GeminiEmulator emulator(clock, options);
    emulator.set_out_of_order(shape.out_of_order);
    const std::string filler(shape.answer_bytes, 'x');
    emulator.set_responder([&](const Json&) { return Json{{"category", "STEM"}, {"why", filler}}.dump(); });
    EmulatorServer<GeminiEmulator> server(emulator, [&](double s) {
        clock.advance(std::chrono::duration_cast<ManualClock::duration>(std::chrono::duration<double>(s)));
    });
    llmbatch::GeminiConfig config;
    config.api_key = "bench-key";
    if (!shape.results_file) config.max_inline_bytes = std::size_t{1} << 31;  // inline whatever its size
    llmbatch::GeminiProvider<GeminiEmulator, ManualClock> local(config, emulator, clock);
    llmbatch::BatchPayload payload;
    for (std::size_t i = 0; i < shape.requests; ++i) payload.push_back({"Classify: item " + std::to_string(i)});
    const std::string job = local.create_batch_job(payload, {.filter_json = true});
    payload = {};
    clock.advance(std::chrono::hours(1));
    const auto tell = [&](int port) {
        const std::size_t length = job.size();
        if (::write(port_pipe, &port, sizeof port) != sizeof port ||
            ::write(port_pipe, &length, sizeof length) != sizeof length ||
            ::write(port_pipe, job.data(), length) != static_cast<ssize_t>(length))
            std::_Exit(2);
        ::close(port_pipe);
    };
    if (shape.results_file) {
        server.bind();
        tell(server.port());
        server.serve();
        std::_Exit(0);
    }
    // Inline results: the job's reply is rendered once and served as it is, so the timings are
    // the client's (the emulator would render the whole job again for every GET).
    const llmbatch::HttpResponse reply =
        emulator.send({"GET", fmt::format("{}/{}/{}", config.base_url, config.api_version, job), {{"x-goog-api-key", "bench-key"}}, {}});
    httplib::Server fixed;
    fixed.set_tcp_nodelay(true);
    // With a charset (as the API sends it), cpp-httplib compresses nothing, whatever the client offers.
    fixed.Get(".*", [&](const httplib::Request&, httplib::Response& res) {
        res.set_content(reply.body, "application/json; charset=UTF-8");
    });
    const int port = fixed.bind_to_any_port("127.0.0.1");
    tell(port);
    fixed.listen_after_bind();
    std::_Exit(0);
}

/// The emulator's process, its address and its job.
struct Served {
    pid_t pid = 0;
    std::string base;
    std::string job;
};

/// Starts the emulator's process with a finished job of `shape`; nothing on failure.
std::optional<Served> start_emulator(const JobShape& shape) {
    int fds[2];
    if (::pipe(fds) != 0) return std::nullopt;
    std::fflush(stdout);
    const pid_t child = ::fork();
    if (child == 0) {
        ::close(fds[0]);
        serve(fds[1], shape);
    }
    ::close(fds[1]);
    int port = 0;
    std::size_t length = 0;
    if (::read(fds[0], &port, sizeof port) != sizeof port || ::read(fds[0], &length, sizeof length) != sizeof length)
        return std::nullopt;
    std::string job(length, '\0');
    for (std::size_t got = 0; got < length;) {
        const auto n = ::read(fds[0], job.data() + got, length - got);
        if (n <= 0) return std::nullopt;
        got += static_cast<std::size_t>(n);
    }
    ::close(fds[0]);
    return Served{child, fmt::format("http://127.0.0.1:{}", port), std::move(job)};
}

/// Stops the emulator's process.
void stop_emulator(const Served& served) {
    llmbatch::CurlTransport control;
    try {
        (void)control.send({"POST", served.base + "/_emulator/shutdown", {{"Content-Type", "application/json"}}, "{}"});
    } catch (const llmbatch::TransportError&) {
    }
    ::kill(served.pid, SIGTERM);
    ::waitpid(served.pid, nullptr, 0);
}

/// Seconds libcurl alone takes to download `url` into nothing; `bytes` gets the size.
/// With `kept`, the body is kept there (as a client that parses it must); without it, dropped.
double plain_download_seconds(const std::string& url, std::size_t& bytes, std::string* kept = nullptr) {
    struct Sink {
        std::size_t& bytes;
        std::string* kept;
    } sink{bytes, kept};
    CURL* curl = curl_easy_init();
    curl_slist* headers = curl_slist_append(nullptr, "x-goog-api-key: bench-key");
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, +[](char* data, std::size_t size, std::size_t n, void* to) {
        auto& s = *static_cast<Sink*>(to);
        s.bytes += size * n;
        if (s.kept) s.kept->append(data, size * n);
        return size * n;
    });
    const auto start = std::chrono::steady_clock::now();
    const CURLcode rc = curl_easy_perform(curl);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return rc == CURLE_OK ? seconds : -1;
}

/// Runs `argv` with GEMINI_API_KEY set; returns its exit status and its peak RSS in KiB.
std::pair<int, long> run_tool(const std::vector<std::string>& argv) {
    std::fflush(stdout);
    const pid_t pid = ::fork();
    if (pid == 0) {
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::setenv("GEMINI_API_KEY", "bench-key", 1);
        if (std::freopen("/dev/null", "w", stdout) == nullptr || std::freopen("/dev/null", "w", stderr) == nullptr)
            std::_Exit(126);
        ::execv(args[0], args.data());
        std::_Exit(127);
    }
    int status = 0;
    rusage usage{};
    ::wait4(pid, &status, 0, &usage);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, usage.ru_maxrss};
}

/// The 500 MB results file (see the file comment); `tool` is the llmbatch tool's path, or empty.
int results_file_fetch(const std::string& tool) {
    const char* mb_env = std::getenv("LLMBATCH_BENCH_MB");
    const std::size_t target_mb = mb_env ? std::strtoul(mb_env, nullptr, 10) : 500;
    constexpr std::size_t answer_bytes = 10'000;
    const std::size_t requests = std::max<std::size_t>(1, target_mb * 1'000'000 / (answer_bytes + 400));
    const auto served = start_emulator({requests, answer_bytes, true, false});
    if (!served) return 2;
    const std::string& base = served->base;
    const std::string& job = served->job;

    llmbatch::GeminiConfig config;
    config.api_key = "bench-key";
    config.base_url = base;
    llmbatch::GeminiProvider<llmbatch::CurlTransport> gemini(config, llmbatch::CurlTransport{});
    llmbatch::CurlTransport control;
    const auto status = gemini.get_batch_job(job);
    std::size_t plain_bytes = 0;
    const double plain_seconds = plain_download_seconds(
        fmt::format("{}/download/v1beta/files/{}:download?alt=media", base, status.results_ref.substr(6)), plain_bytes);
    const long rss_before = peak_rss_kib();

    const auto dir = std::filesystem::temp_directory_path() / fmt::format("llmbatch-bench-{}", ::getpid());
    llmbatch::ResultStore store(dir);
    llmbatch::TrackedJob tracked;
    tracked.provider = "gemini";
    tracked.job_name = job;
    tracked.source = "bench.md";
    std::size_t bytes = 0;
    const auto start = std::chrono::steady_clock::now();
    const auto saved = store.save_streamed(tracked.source, tracked, "gemini", [&](const llmbatch::OutcomeSink& sink) {
        gemini.stream_batch_results(status, [&](llmbatch::RequestOutcome&& o) {
            bytes += o.ok() ? answer_bytes : 0;
            sink(std::move(o));
        });
    });
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const auto file_bytes = std::filesystem::file_size(saved.path);
    const long rss_after = peak_rss_kib();

    fmt::print("streaming fetch + save of {} requests ({:.0f} MB of answers, {:.0f} MB saved) over loopback:\n",
               saved.saved, static_cast<double>(bytes) / 1e6, static_cast<double>(file_bytes) / 1e6);
    fmt::print("  {:.2f} s, {:.1f} MB/s of answers\n", seconds, static_cast<double>(bytes) / 1e6 / seconds);
    fmt::print("  libcurl alone downloads the {:.0f} MB file into nothing in {:.2f} s: the fetch and save take {:.2f}x "
               "that (target: at most 2x)\n",
               static_cast<double>(plain_bytes) / 1e6, plain_seconds, seconds / plain_seconds);
    fmt::print("  peak RSS: {:.1f} MiB before the fetch, {:.1f} MiB after ({:.1f} bytes per request above the "
               "start)\n",
               rss_before / 1024.0, rss_after / 1024.0,
               static_cast<double>(rss_after - rss_before) * 1024.0 / static_cast<double>(saved.saved));
    const bool flat = rss_after < 64 * 1024 + static_cast<long>(saved.saved) * 64 / 1024;
    fmt::print("  target: under 64 MiB plus a few bytes per request: {}\n", flat ? "met" : "MISSED");
    std::filesystem::remove_all(dir);

    // The same through the tool: create one job of every prompt, then `fetch` it.
    if (!tool.empty() && std::filesystem::exists(tool)) {
        std::filesystem::create_directories(dir);
        {
            std::FILE* prompts = std::fopen((dir / "prompts.jsonl").c_str(), "w");
            for (std::size_t i = 0; i < requests; ++i)
                std::fprintf(prompts, "{\"source\": \"bench.md\", \"prompt\": \"Classify: item %zu\"}\n", i);
            std::fclose(prompts);
        }
        const std::vector<std::string> common = {"--tracking-file", (dir / "jobs.json").string(), "--state-file",
                                                 (dir / "state.json").string(), "--output-dir", (dir / "out").string(),
                                                 "--base-url", base};
        std::vector<std::string> create = {tool, "create", "--prompts", (dir / "prompts.jsonl").string(),
                                           "--batch-size", std::to_string(requests)};
        create.insert(create.end(), common.begin(), common.end());
        const auto [create_rc, create_rss] = run_tool(create);
        (void)control.send({"POST", base + "/_emulator/advance", {{"Content-Type", "application/json"}}, R"({"seconds": 3600})"});
        std::vector<std::string> fetch = {tool, "fetch", "--check-all-pending"};
        fetch.insert(fetch.end(), common.begin(), common.end());
        const auto tool_start = std::chrono::steady_clock::now();
        const auto [fetch_rc, fetch_rss] = run_tool(fetch);
        const double tool_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - tool_start).count();
        std::error_code ec;
        const auto tool_bytes = std::filesystem::file_size(dir / "out" / "bench.md.jsonl", ec);
        fmt::print("the llmbatch tool: create exit {} (peak RSS {:.1f} MiB); fetch exit {}, {:.2f} s, {:.0f} MB saved, "
                   "peak RSS {:.1f} MiB\n",
                   create_rc, create_rss / 1024.0, fetch_rc, tool_seconds, ec ? 0.0 : static_cast<double>(tool_bytes) / 1e6,
                   fetch_rss / 1024.0);
        std::filesystem::remove_all(dir);
    }

    stop_emulator(*served);
    return saved.saved == requests ? 0 : 1;
}

/// The inline job (see the file comment): each side's best of three runs.
int inline_fetch() {
    const char* n_env = std::getenv("LLMBATCH_BENCH_REQUESTS");
    const std::size_t requests = n_env ? std::strtoul(n_env, nullptr, 10) : 10'000;
    const auto served = start_emulator(inline_job(requests));
    if (!served) return 2;
    llmbatch::GeminiConfig config;
    config.api_key = "bench-key";
    config.base_url = served->base;
    llmbatch::CurlOptions plain;
    plain.accept_gzip = false;
    llmbatch::GeminiProvider<llmbatch::CurlTransport> gemini(config, llmbatch::CurlTransport(plain));
    const std::string url = fmt::format("{}/{}/{}", served->base, config.api_version, served->job);

    constexpr int runs = 3;
    double curl_best = 1e9, bare_best = 1e9, fetch_best = 1e9;
    std::size_t reply_bytes = 0, bare_count = 0, fetched_ok = 0;
    for (int run = 0; run < runs; ++run) {
        {
            std::size_t bytes = 0;
            curl_best = std::min(curl_best, plain_download_seconds(url, bytes));
            reply_bytes = bytes;
        }
        {
            std::size_t bytes = 0;
            std::string body;
            const auto start = std::chrono::steady_clock::now();
            (void)plain_download_seconds(url, bytes, &body);
            const Json reply = Json::parse(body);
            bare_best = std::min(bare_best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
            bare_count = reply["response"]["inlinedResponses"]["inlinedResponses"].size();
        }
        {
            const auto start = std::chrono::steady_clock::now();
            const llmbatch::BatchResults results = gemini.fetch_batch_results(served->job, {.filter_json = true});
            fetch_best = std::min(fetch_best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
            fetched_ok = 0;
            for (const auto& outcome : results) fetched_ok += outcome.ok() ? 1 : 0;
        }
    }
    stop_emulator(*served);
    fmt::print("inline fetch of a finished job of {} requests ({:.1f} MB reply, answered out of order) over loopback, "
               "best of {}:\n",
               requests, static_cast<double>(reply_bytes) / 1e6, runs);
    fmt::print("  libcurl alone getting the reply:                     {:7.3f} s\n", curl_best);
    fmt::print("  libcurl + a bare nlohmann::json::parse of it:         {:7.3f} s ({} answers)\n", bare_best, bare_count);
    fmt::print("  fetch_batch_results (filter_json, in input order):    {:7.3f} s ({} answers): {:.2f}x libcurl alone, "
               "{:.2f}x libcurl + a bare parse\n",
               fetch_best, fetched_ok, fetch_best / curl_best, fetch_best / bare_best);
    return fetched_ok == requests && bare_count == requests ? 0 : 1;
}

/// `--serve-inline N DIR`: serves the inline job of `inline_fetch` with N requests (its reply
/// rendered once) until this process's standard input closes, for clients outside it (the SDK
/// comparison). Writes DIR/base_url and DIR/job, and DIR/jobs.json: the job tracked for the
/// llmbatch tool (source `bench`, keys "0".."N-1").
int serve_inline(const std::string& count, const std::filesystem::path& dir) {
    const std::size_t requests = std::strtoul(count.c_str(), nullptr, 10);
    if (requests == 0) {
        fmt::print(stderr, "--serve-inline: the number of requests must be a positive integer, not '{}'\n", count);
        return 2;
    }
    const auto served = start_emulator(inline_job(requests));
    if (!served) return 2;
    int rc = 0;
    try {  // the server is stopped whatever happens
        std::filesystem::create_directories(dir);
        llmbatch::TrackedJob tracked;
        tracked.provider = "gemini";
        tracked.job_name = served->job;
        tracked.source = "bench";
        tracked.created_at = std::chrono::system_clock::now();
        for (std::size_t i = 0; i < requests; ++i) tracked.request_keys.push_back(std::to_string(i));
        llmbatch::JobTracker(dir / "jobs.json", dir / "state.json").add(std::move(tracked));
        llmbatch::detail::atomic_write_file(dir / "job", served->job + "\n");
        llmbatch::detail::atomic_write_file(dir / "base_url", served->base + "\n");
        char buffer[256];
        while (std::fread(buffer, 1, sizeof buffer, stdin) > 0) {
        }
    } catch (const std::exception& e) {
        fmt::print(stderr, "--serve-inline: {}\n", e.what());
        rc = 1;
    }
    stop_emulator(*served);
    return rc;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string arg = argc > 1 ? argv[1] : "";
    if (arg == "--inline") return inline_fetch();
    if (arg == "--serve-inline" && argc == 4) return serve_inline(argv[2], argv[3]);
    return results_file_fetch(arg);
}
