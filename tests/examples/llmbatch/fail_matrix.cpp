// The fail matrix of the llmbatch tool's create, fetch and refetch: each command sequence runs in process
// with one fault injected at network call N or at file operation N, for every N until a run no
// longer meets the fault, and after each run the files must be whole and truthful (every file
// parses, no saved result line is lost, no job is wrongly failed or completed, no batch has two
// jobs at the provider), and a fault-free re-run must reach the same files as a fault-free run.
#include "fail_matrix_world.hpp"

#include <doctest/doctest.h>

namespace {

using namespace fail_matrix;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using llmbatch::Json;
using llmbatch::testing::FaultyFiles;
using llmbatch::testing::FileFault;

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

/// What a fault-free re-run must reproduce: each batch's job status, the completed batches, the
/// lines; by batch, not by job name (a job created again after a fault has another name).
struct Snapshot {
    std::map<std::string, std::string> jobs;
    Json state;
    std::map<std::string, Json> lines;
    friend bool operator==(const Snapshot&, const Snapshot&) = default;
};

Snapshot snapshot(const Harness& h) {
    Snapshot s;
    std::map<std::string, std::string> batch_of;
    for (const auto& j : llmbatch::JobTracker(h.tracking(), h.state()).jobs()) {
        const auto batch = fmt::format("{} {}", j.source, j.batch_index);
        batch_of[j.job_name] = batch;
        auto& statuses = s.jobs[batch];  // every job of the batch, in creation order
        statuses += (statuses.empty() ? "" : " ") + std::string(llmbatch::to_string(j.status));
    }
    s.state = Json::parse(*llmbatch::detail::read_file_if_exists(h.state()));
    for (const auto& [key, saved] : result_lines(h)) {
        Json line = saved;
        const auto job = line.at("job").get<std::string>();
        const auto index = line.at("request_index").get<std::size_t>();
        line.erase("job");
        s.lines[fmt::format("{} {}", batch_of[job], index)] = std::move(line);
    }
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
        for (const auto& batch : h.provider_jobs_per_batch()) CHECK_MESSAGE(batch.second == 1, batch.first);
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

/// The creates of `write_prompts`' files (`@/` is the world's folder).
std::vector<Args> write_prompts_commands() {
    return {{"create", "--prompts", "@/gemini.jsonl", "--batch-size", "2"},
            {"create", "--prompts", "@/openai.jsonl", "--batch-size", "2", "--provider", "openai"}};
}

/// Prompts files for three batches of two requests: two for Gemini, one for OpenAI.
std::vector<Args> write_prompts(Harness& h) {
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
    return write_prompts_commands();
}

/// Three jobs, two on Gemini and one on OpenAI, two requests each, finished at the providers.
void three_finished_jobs(Harness& h) {
    for (const auto& create : write_prompts(h)) REQUIRE(h.run(create) == 0);
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

TEST_CASE("fail matrix: create under every network and file fault never orphans or duplicates a job") {
    // Recovery: once the provider is believed about a create left in doubt (the settling time),
    // create again, let the jobs finish and fetch them.
    const auto creates = write_prompts_commands();
    const Scenario create{[](Harness& h) { (void)write_prompts(h); },
                          creates,
                          {{"@advance", "660"}, creates[0], creates[1], {"@advance", "7200"}, {"fetch", "--check-all-pending"}}};
    run_all_faults("create", create);
}

}  // TEST_SUITE
