// fetch_worker: one of several processes sharing the pending jobs of a PostgreSQL job store, for
// the multi-worker test (tests/stores/workers.sh). The jobs run on a Gemini emulator served over
// HTTP (examples/emulator_server), reached through libcurl.
//
// Usage:
//   fetch_worker seed   <conninfo> <base-url> <jobs>             creates <jobs> jobs of 2 requests, tracks them,
//                                                                 and moves the emulator's clock past their end
//   fetch_worker run    <conninfo> <base-url> <results-dir> <worker> <lease-ms>
//                                                                 fetches the jobs it claims; prints "saved <job>"
//   fetch_worker verify <conninfo> <results-dir> <jobs>           checks every job is completed and its results
//                                                                 are saved exactly once
#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/result_store.hpp"
#include "llmbatch/service.hpp"
#include "llmbatch/stores/postgresql.hpp"
#include "llmbatch/transport/curl.hpp"
#include "llmbatch/workflow.hpp"

#include <chrono>
#include <cstdio>
#include <exception>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace {

using Gemini = llmbatch::GeminiProvider<llmbatch::CurlTransport, llmbatch::SystemClock>;

llmbatch::LLMService<Gemini> service_at(const std::string& base_url) {
    llmbatch::GeminiConfig config;
    config.api_key = "worker-key";
    config.base_url = base_url;
    return llmbatch::LLMService<Gemini>(Gemini(config));
}

std::string source_of(int i) { return fmt::format("workers/s{}.md", i / 100); }

int seed(const std::string& conninfo, const std::string& base_url, int jobs) {
    llmbatch::PostgresJobStore store(conninfo);
    auto service = service_at(base_url);
    for (int i = 0; i < jobs; ++i) {
        auto [provider, name] = service.create_batch_job({{fmt::format("job {} a", i)}, {fmt::format("job {} b", i)}});
        llmbatch::TrackedJob job;
        job.provider = provider;
        job.job_name = name;
        job.source = source_of(i);
        job.batch_index = i % 100;
        job.created_at = std::chrono::system_clock::now();
        job.request_keys = {"0", "1"};
        store.add(job);
    }
    llmbatch::CurlTransport transport;
    llmbatch::HttpRequest advance;
    advance.method = "POST";
    advance.url = base_url + "/_emulator/advance";
    advance.body = R"({"seconds": 86400})";
    advance.headers.set("Content-Type", "application/json");
    return transport.send(advance).status == 200 ? 0 : 1;
}

int run(const std::string& conninfo, const std::string& base_url, const std::string& results, const std::string& worker,
        long lease_ms) {
    llmbatch::PostgresJobStore store(conninfo);
    llmbatch::ResultStore result_store(results);
    auto service = service_at(base_url);
    llmbatch::SystemClock clock;
    llmbatch::FetchSelection selection;
    selection.all_pending = true;
    selection.worker = llmbatch::FetchWorker{worker, std::chrono::milliseconds(lease_ms), 5};
    // One line per job as soon as its results are saved (a killed worker has said what it saved).
    std::string current;
    (void)llmbatch::fetch_tracked_jobs(service, store, result_store, selection, clock, [&](std::string_view line) {
        if (line.substr(0, 4) == "Job ") current = std::string(line.substr(4, line.find(' ', 4) - 4));
        if (line.substr(0, 8) == "  Saved ") {
            std::printf("saved %s\n", current.c_str());
            std::fflush(stdout);
        }
    });
    return 0;
}

int verify(const std::string& conninfo, const std::string& results, int jobs) {
    llmbatch::PostgresJobStore store(conninfo);
    llmbatch::ResultStore result_store(results);
    int problems = 0;
    const auto tracked = store.jobs();
    if (static_cast<int>(tracked.size()) != jobs) {
        std::printf("expected %d tracked jobs, found %zu\n", jobs, tracked.size());
        ++problems;
    }
    std::set<std::string> sources;
    for (const auto& job : tracked) {
        sources.insert(job.source);
        if (job.status != llmbatch::TrackedStatus::completed) {
            std::printf("%s is %s, not completed\n", job.job_name.c_str(), std::string(to_string(job.status)).c_str());
            ++problems;
        }
    }
    std::map<std::string, std::multiset<long>> lines;
    for (const auto& source : sources)
        for (const auto& line : result_store.load(source))
            lines[line.at("job").get<std::string>()].insert(line.at("request_index").get<long>());
    for (const auto& job : tracked)
        if (lines[job.job_name] != std::multiset<long>{0, 1}) {
            std::printf("%s has %zu result line(s) saved, not its 2 once each\n", job.job_name.c_str(),
                        lines[job.job_name].size());
            ++problems;
        }
    std::printf("%d job(s) checked, %d problem(s)\n", jobs, problems);
    return problems == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    try {
        if (args.size() == 4 && args[0] == "seed") return seed(args[1], args[2], std::stoi(args[3]));
        if (args.size() == 6 && args[0] == "run") return run(args[1], args[2], args[3], args[4], std::stol(args[5]));
        if (args.size() == 4 && args[0] == "verify") return verify(args[1], args[2], std::stoi(args[3]));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "fetch_worker: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: fetch_worker seed|run|verify ... (see the source)\n");
    return 2;
}
