// The fetch workflow: selection rules, console lines, and the never-lose-data rules.
#include "llmbatch/workflow.hpp"

#include <doctest/doctest.h>

#include "../support/temp_dir.hpp"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/service.hpp"
#include "llmbatch/testing/gemini_emulator.hpp"
#include "llmbatch/testing/manual_clock.hpp"
#include "llmbatch/testing/fake_transport.hpp"
#include "llmbatch/testing/faulty_files.hpp"

namespace tests_unit_workflow {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using llmbatch::FetchSelection;
using llmbatch::TrackedJob;
using llmbatch::TrackedStatus;
using llmbatch::testing::GeminiEmulator;
using llmbatch::testing::ManualClock;

namespace {

using Gemini = llmbatch::GeminiProvider<GeminiEmulator, ManualClock>;

/// A tracker, a result store and a service over the emulator, in a fresh directory.
struct World {
    llmbatch_test::TempDir tmp{"llmbatch-workflow", true};
    fs::path dir = tmp.path;
    ManualClock clock;
    GeminiEmulator emulator{clock};
    llmbatch::LLMService<Gemini> service{make_gemini()};
    llmbatch::JobTracker tracker{dir / "jobs.json", dir / "state.json"};
    llmbatch::ResultStore store{dir / "results"};
    std::vector<std::string> lines;

    Gemini make_gemini() {
        llmbatch::GeminiConfig config;
        config.api_key = "k";
        config.retry.max_attempts = 3;
        return Gemini(config, emulator, clock);
    }

    /// Creates a job of `n` requests and tracks it.
    std::string create(const std::string& source, std::int64_t batch, std::size_t n) {
        llmbatch::BatchPayload payload;
        for (std::size_t i = 0; i < n; ++i) payload.push_back({"Categorise: " + source + " item " + std::to_string(i)});
        auto [provider, name] = service.create_batch_job(payload, {.filter_json = true});
        TrackedJob job;
        job.provider = provider;
        job.job_name = name;
        job.source = source;
        job.batch_index = batch;
        job.created_at = clock.utc_now();
        tracker.add(job);
        return name;
    }

    llmbatch::FetchReport fetch(const FetchSelection& selection) {
        lines.clear();
        return llmbatch::fetch_tracked_jobs(service, tracker, store, selection, clock,
                                            [&](std::string_view l) { lines.emplace_back(l); });
    }
    [[nodiscard]] bool printed(std::string_view line) const {
        return std::find(lines.begin(), lines.end(), line) != lines.end();
    }
    [[nodiscard]] TrackedStatus status(const std::string& name) const { return tracker.find(name)->status; }
};

FetchSelection pending_only() { return {.job_names = {}, .all_pending = true, .refetch_hours = std::nullopt}; }
FetchSelection refetch(double hours) { return {.job_names = {}, .all_pending = false, .refetch_hours = hours}; }

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("workflow: bad selections are refused before anything changes") {
    World w;
    const auto name = w.create("a.md", 0, 2);
    const auto before = w.tracker.jobs();
    CHECK_THROWS_WITH_AS(w.fetch({.job_names = {name}, .all_pending = false, .refetch_hours = 6.0}),
                         "--refetch-hours cannot be combined with --job-names or --check-all-pending (use one method at a time)",
                         llmbatch::InvalidArgument);
    CHECK_THROWS_AS(w.fetch({.job_names = {}, .all_pending = true, .refetch_hours = 1.0}), llmbatch::InvalidArgument);
    CHECK_THROWS_WITH_AS(w.fetch({}), "No jobs specified. Use --job-names, --check-all-pending, or --refetch-hours",
                         llmbatch::InvalidArgument);
    CHECK_THROWS_AS(w.fetch({.job_names = {name, "batches/nope"}, .all_pending = false, .refetch_hours = std::nullopt}),
                    llmbatch::InvalidArgument);
    CHECK_THROWS_AS(w.fetch(refetch(0)), llmbatch::InvalidArgument);
    CHECK_THROWS_AS(w.fetch(refetch(-2)), llmbatch::InvalidArgument);
    CHECK(w.tracker.jobs() == before);
}

TEST_CASE("workflow: unfinished jobs stay pending; finished ones are saved, then marked completed") {
    World w;
    const auto name = w.create("Geography/gcse-geography.md", 0, 3);
    auto report = w.fetch(pending_only());
    CHECK(w.printed("  Status: PENDING (still pending)"));
    CHECK(report.summary.still_pending == 1);
    CHECK(w.status(name) == TrackedStatus::pending);

    w.clock.advance(2h);
    report = w.fetch(pending_only());
    const auto file = w.store.path_for("Geography/gcse-geography.md");
    CHECK(w.printed("Job " + name + " (Geography/gcse-geography.md batch 0)"));
    CHECK(w.printed("  Status: SUCCEEDED"));
    CHECK(w.printed("  Saved 3 result(s) to " + file.string()));
    CHECK(report.summary.completed == 1);
    CHECK(report.jobs.at(0).saved_to == file.string());
    CHECK(w.status(name) == TrackedStatus::completed);
    CHECK(w.tracker.is_batch_completed("Geography/gcse-geography.md", 0));
    CHECK(w.store.load("Geography/gcse-geography.md").size() == 3);
    // The framed summary closes the output.
    REQUIRE(w.lines.size() >= 8);
    const std::vector<std::string> tail(w.lines.end() - 8, w.lines.end());
    CHECK(tail == std::vector<std::string>{"", std::string(60, '='), "Summary:", "  Checked: 1", "  Completed: 1",
                                           "  Failed: 0", "  Still pending: 0", std::string(60, '=')});
}

TEST_CASE("workflow: a transient failure leaves the job pending; the next fetch completes it") {
    World w;
    const auto name = w.create("a.md", 0, 2);
    w.clock.advance(2h);
    w.emulator.inject_http_errors(3, 503, "UNAVAILABLE", "The service is currently unavailable.");
    auto report = w.fetch(pending_only());
    CHECK(report.summary.still_pending == 1);
    CHECK(report.summary.failed == 0);
    CHECK(w.status(name) == TrackedStatus::pending);
    CHECK(std::any_of(w.lines.begin(), w.lines.end(), [](const std::string& l) {
        return l.rfind("  Error checking job: ", 0) == 0 && l.find("(still pending)") != std::string::npos;
    }));
    report = w.fetch(pending_only());
    CHECK(report.summary.completed == 1);
    CHECK(w.status(name) == TrackedStatus::completed);
}

TEST_CASE("workflow: only a job the provider reports as failed, cancelled or expired leaves pending") {
    World w;
    const auto failed = w.create("a.md", 0, 1);
    const auto cancelled = w.create("a.md", 1, 1);
    const auto expired = w.create("a.md", 2, 1);
    w.emulator.fail_job(failed, 13, "Internal error encountered.");
    w.service.cancel_batch_job("gemini", cancelled);
    w.emulator.expire_job(expired);
    const auto report = w.fetch(pending_only());
    CHECK(report.summary.failed == 3);
    CHECK(w.status(failed) == TrackedStatus::failed);
    CHECK(w.tracker.find(failed)->error_message == "Internal error encountered.");
    CHECK(w.printed("  Error: Batch job failed - Internal error encountered."));
    CHECK(w.status(cancelled) == TrackedStatus::cancelled);
    CHECK(w.status(expired) == TrackedStatus::failed);
    CHECK_FALSE(w.tracker.is_batch_completed("a.md", 0));
}

TEST_CASE("workflow: per-request failures are saved as errors and reported") {
    World w;
    w.emulator.inject_request_error(1, 3, "Request contains an invalid argument.", "INVALID_ARGUMENT");
    const auto name = w.create("a.md", 0, 3);
    w.clock.advance(2h);
    const auto report = w.fetch(pending_only());
    CHECK(report.jobs.at(0).failed_requests == 1);
    CHECK(w.printed("  Saved 3 result(s) to " + w.store.path_for("a.md").string()));
    CHECK(w.printed("  Warning: 1 request(s) failed (indices 1); saved as errors, resubmit them with the failed subset"));
    CHECK(w.store.failed_request_indices("a.md", name) == std::vector<std::size_t>{1});
}

TEST_CASE("workflow: refetch prints the document's lines and replaces, never duplicates, saved lines") {
    World w;
    const auto geo = w.create("Geography/gcse-geography.md", 0, 10);
    const auto hist = w.create("History/gcse-history.md", 1, 15);
    w.clock.advance(2h);
    (void)w.fetch(pending_only());
    w.clock.advance(2h);
    const auto report = w.fetch(refetch(6));
    const std::vector<std::string> head(w.lines.begin(), w.lines.begin() + 5);
    CHECK(head == std::vector<std::string>{
                       "Found 2 job(s) completed within last 6.0 hour(s)",
                       "Reset " + geo + " (Geography/gcse-geography.md batch 0) to pending",
                       "Reset " + hist + " (History/gcse-history.md batch 1) to pending", "", "Checking 2 job(s)..."});
    CHECK(report.summary.refetched == 2);
    CHECK(report.summary.completed == 2);
    CHECK(w.printed("  Refetched: 2"));
    CHECK(w.store.load("Geography/gcse-geography.md").size() == 10);
    CHECK(w.store.load("History/gcse-history.md").size() == 15);
    CHECK(w.status(geo) == TrackedStatus::completed);

    // A window shorter than the jobs' age selects nothing.
    w.fetch(refetch(0.5));
    CHECK(w.lines.front() == "No jobs to refetch");
}

TEST_CASE("workflow: a refetch whose fetch fails keeps the completion mark") {
    World w;
    const auto name = w.create("a.md", 0, 2);
    w.clock.advance(2h);
    (void)w.fetch(pending_only());
    REQUIRE(w.tracker.is_batch_completed("a.md", 0));
    w.service.delete_batch_job("gemini", name);  // the provider no longer has the job
    const auto report = w.fetch(refetch(24));
    CHECK(report.summary.still_pending == 1);
    CHECK(w.status(name) == TrackedStatus::pending);
    CHECK(w.tracker.is_batch_completed("a.md", 0));  // the old results stay marked as saved
    CHECK(w.store.load("a.md").size() == 2);         // and stay on disk
}

}  // TEST_SUITE

namespace {

using FakeGemini = llmbatch::GeminiProvider<llmbatch::testing::FakeTransport, ManualClock>;

llmbatch::Json keyed_answer(const std::string& key, const std::string& text) {
    return {{"response", {{"candidates", llmbatch::Json::array({{{"content", {{"parts", llmbatch::Json::array({{{"text", text}}})}}}}})}}},
            {"metadata", {{"key", key}, {"filter_json", "true"}}}};
}

llmbatch::Json finished_op(const std::string& name, const std::string& state, int count, llmbatch::Json items) {
    llmbatch::Json out = {{"inlinedResponses", {{"inlinedResponses", std::move(items)}}}};
    return {{"name", name},
            {"metadata", {{"state", state}, {"batchStats", {{"requestCount", std::to_string(count)}}}, {"output", out}}},
            {"done", true},
            {"response", out}};
}

/// A tracker, a store and a service over a scripted transport that answers `GET <job>` with `op`;
/// the job is tracked under source `s.md`.
struct ScriptedWorld {
    llmbatch_test::TempDir tmp{"llmbatch-workflow", true};
    llmbatch::testing::FakeTransport t;
    ManualClock clock;
    llmbatch::LLMService<FakeGemini> service{make_gemini()};
    llmbatch::JobTracker tracker{tmp.path / "jobs.json", tmp.path / "state.json"};
    llmbatch::ResultStore store{tmp.path / "results"};
    std::vector<std::string> lines;

    ScriptedWorld(const std::string& job_name, const llmbatch::Json& op) {
        t.on("GET", "/v1beta/" + job_name, llmbatch::testing::json_response(200, op));
        TrackedJob job;
        job.provider = "gemini";
        job.job_name = job_name;
        job.source = "s.md";
        tracker.add(job);
    }
    FakeGemini make_gemini() {
        llmbatch::GeminiConfig config;
        config.api_key = "k";
        return FakeGemini(config, t, clock);
    }
    llmbatch::FetchReport fetch() {
        return llmbatch::fetch_tracked_jobs(service, tracker, store, pending_only(), clock,
                                            [&](std::string_view l) { lines.emplace_back(l); });
    }
};

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("each job is read once: its status GET also gives the results that are saved") {
    ScriptedWorld w("batches/one", finished_op("batches/one", "BATCH_STATE_SUCCEEDED", 2,
                                               llmbatch::Json::array({keyed_answer("1", "{\"n\": 1}"),
                                                                      keyed_answer("0", "{\"n\": 0}")})));
    const auto report = w.fetch();
    CHECK(report.summary.completed == 1);
    CHECK(w.t.call_count() == 1);
    const auto lines = w.store.load("s.md");
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]["value"] == llmbatch::Json{{"n", 0}});
}

TEST_CASE("a cancelled job's finished requests are saved before it is marked cancelled") {
    auto op = finished_op("batches/cx", "BATCH_STATE_CANCELLED", 3,
                          llmbatch::Json::array({keyed_answer("1", "{\"n\": 1}")}));
    op["error"] = {{"code", 1}, {"message", "Cancelled by user."}};
    ScriptedWorld w("batches/cx", op);
    const auto report = w.fetch();
    auto& lines = w.lines;
    CHECK(report.summary.failed == 1);
    CHECK(w.tracker.find("batches/cx")->status == TrackedStatus::cancelled);
    REQUIRE(report.jobs.size() == 1);
    CHECK(report.jobs[0].saved == 3);
    CHECK(report.jobs[0].failed_requests == 2);
    const auto saved = w.store.load("s.md");
    REQUIRE(saved.size() == 3);
    CHECK(saved[0]["error"]["status"] == "CANCELLED");
    CHECK(saved[1]["value"] == llmbatch::Json{{"n", 1}});
    CHECK(std::find(lines.begin(), lines.end(),
                    "  Error: Batch job cancelled - the job was cancelled before finishing; the results of its "
                    "finished requests were saved") != lines.end());
}

}  // TEST_SUITE

TEST_SUITE("unit") {

TEST_CASE("an empty results download is a per-job provider error: the job stays pending, the run goes on") {
    llmbatch::Json op = {{"name", "batches/ef"},
                         {"metadata",
                          {{"state", "BATCH_STATE_SUCCEEDED"},
                           {"batchStats", {{"requestCount", "2"}}},
                           {"output", {{"responsesFile", "files/res1"}}}}},
                         {"done", true},
                         {"response", {{"responsesFile", "files/res1"}}}};
    ScriptedWorld w("batches/ef", op);
    TrackedJob other;
    other.provider = "gemini";
    other.job_name = "batches/two";
    other.source = "t.md";
    other.request_keys = {"0", "1"};
    w.tracker.add(other);
    w.t.on("GET", "/v1beta/batches/two",
           llmbatch::testing::json_response(200, finished_op("batches/two", "BATCH_STATE_SUCCEEDED", 2,
                                                             llmbatch::Json::array({keyed_answer("0", "{\"n\": 0}"),
                                                                                    keyed_answer("1", "{\"n\": 1}")}))));
    llmbatch::HttpResponse empty;
    empty.status = 200;
    w.t.on("GET", "/download/v1beta/files/res1:download", empty);
    const auto report = w.fetch();
    CHECK(report.summary.checked == 2);
    CHECK(report.summary.still_pending == 1);
    CHECK(report.summary.completed == 1);
    CHECK(w.tracker.find("batches/ef")->status == TrackedStatus::pending);
    CHECK(w.tracker.find("batches/two")->status == TrackedStatus::completed);
    CHECK(w.store.load("s.md").empty());
}

TEST_CASE("a refetch that finds the provider without the results leaves the completed, saved job as it was") {
    ScriptedWorld w("batches/rf", finished_op("batches/rf", "BATCH_STATE_SUCCEEDED", 2,
                                              llmbatch::Json::array({keyed_answer("0", "{\"n\": 0}"),
                                                                     keyed_answer("1", "{\"n\": 1}")})));
    // The next status GET finds the job without its results.
    llmbatch::Json gone = {{"name", "batches/rf"},
                           {"metadata", {{"state", "BATCH_STATE_SUCCEEDED"}, {"batchStats", {{"requestCount", "2"}}}}},
                           {"done", true}};
    w.t.on("GET", "/v1beta/batches/rf", llmbatch::testing::json_response(200, gone));
    REQUIRE(w.fetch().summary.completed == 1);
    const auto saved = w.store.load("s.md");
    REQUIRE(saved.size() == 2);
    const auto report = llmbatch::fetch_tracked_jobs(w.service, w.tracker, w.store, refetch(1e9), w.clock,
                                                     [](std::string_view) {});
    REQUIRE(report.jobs.size() == 1);
    CHECK_FALSE(report.jobs[0].error.empty());
    CHECK(report.summary.failed == 0);
    CHECK(w.tracker.find("batches/rf")->status == TrackedStatus::completed);
    CHECK(w.tracker.is_batch_completed("s.md", 0));
    CHECK(w.store.load("s.md") == saved);
}

}  // TEST_SUITE

namespace {

/// A transport that cannot reach the server and says so the way a client library might: with
/// the request's URL and headers, key included, in its message.
struct KeyEchoingTransport {
    llmbatch::HttpResponse send(const llmbatch::HttpRequest& request) {
        std::string message = "could not reach " + request.url;
        for (const auto& [name, value] : request.headers) message += " " + name + ": " + value;
        throw llmbatch::TransportError(message, false);
    }
};

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("workflow: a job whose results cannot be saved stays pending, and the next fetch saves and completes it") {
    using llmbatch::testing::FaultyFiles;
    using llmbatch::testing::FileFault;
    std::size_t kept_pending = 0;
    for (const auto fault : {FileFault::enospc, FileFault::short_write}) {
        for (std::size_t n = 1;; ++n) {
            CAPTURE(n);
            World w;
            const auto name = w.create("a.md", 0, 3);
            w.clock.advance(2h);
            {
                FaultyFiles files;
                files.fail_at(n, fault);
                try {
                    (void)w.fetch(pending_only());
                } catch (const llmbatch::FileError&) {  // the files' errors propagate, the files stay intact
                }
                if (!files.fired()) break;
            }
            // Completed only with every result saved; otherwise still pending, results not marked.
            if (w.status(name) == TrackedStatus::completed) {
                CHECK(w.store.load("a.md").size() == 3);
                CHECK(w.tracker.is_batch_completed("a.md", 0));
            } else {
                ++kept_pending;
                CHECK(w.status(name) == TrackedStatus::pending);
            }
            const auto report = w.fetch(pending_only());
            CHECK(report.summary.still_pending == 0);
            CHECK(w.status(name) == TrackedStatus::completed);
            CHECK(w.tracker.is_batch_completed("a.md", 0));
            CHECK(w.store.load("a.md").size() == 3);
        }
    }
    CHECK(kept_pending > 0);
}

TEST_CASE("workflow: a refetch that does not complete still counts as refetched, and as still pending") {
    World w;
    const auto name = w.create("a.md", 0, 2);
    const auto other = w.create("b.md", 0, 2);
    w.clock.advance(2h);
    (void)w.fetch(pending_only());
    w.service.delete_batch_job("gemini", name);  // one of the two can no longer be fetched
    const auto report = w.fetch(refetch(24));
    CHECK(report.summary.refetched == 2);
    CHECK(report.summary.completed == 1);
    CHECK(report.summary.still_pending == 1);
    CHECK(w.printed("  Refetched: 2"));
    CHECK(w.printed("  Still pending: 1"));
    CHECK(w.status(other) == TrackedStatus::completed);
}

TEST_CASE("workflow: the API key never appears in a transport error, in the console lines or the report") {
    const std::string key = "AIza-secret-key-0123456789";
    ManualClock clock;
    llmbatch::GeminiConfig config;
    config.api_key = key;
    config.retry.max_attempts = 2;
    llmbatch::LLMService<llmbatch::GeminiProvider<KeyEchoingTransport, ManualClock>> service{
        llmbatch::GeminiProvider<KeyEchoingTransport, ManualClock>(config, KeyEchoingTransport{}, clock)};
    llmbatch_test::TempDir tmp{"llmbatch-workflow", true};
    llmbatch::JobTracker tracker{tmp.path / "jobs.json", tmp.path / "state.json"};
    llmbatch::ResultStore store{tmp.path / "results"};
    TrackedJob job;
    job.provider = "gemini";
    job.job_name = "batches/unreachable";
    job.source = "s.md";
    tracker.add(job);
    std::vector<std::string> lines;
    const auto report = llmbatch::fetch_tracked_jobs(service, tracker, store, pending_only(), clock,
                                                     [&](std::string_view l) { lines.emplace_back(l); });
    REQUIRE(report.jobs.size() == 1);
    CHECK(report.jobs[0].error.find("could not reach") != std::string::npos);
    CHECK(report.jobs[0].error.find("[REDACTED]") != std::string::npos);
    CHECK(report.jobs[0].error.find(key) == std::string::npos);
    for (const auto& line : lines) CHECK(line.find(key) == std::string::npos);
    CHECK(tracker.find(job.job_name)->status == TrackedStatus::pending);
}

}  // TEST_SUITE

}  // namespace tests_unit_workflow
