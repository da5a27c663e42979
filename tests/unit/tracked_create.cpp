// tracked_create.hpp and the tracker's creates in flight: the record written before a create is
// sent, its file format, the batch it reserves, concurrent creating runs, and a provider that
// cannot be asked. (Every provider's lost replies and crashes: tests/providers/contract.)
#include "llmbatch/tracked_create.hpp"

#include <doctest/doctest.h>

#include "../support/temp_dir.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/service.hpp"
#include "llmbatch/testing/faulty_files.hpp"
#include "llmbatch/testing/gemini_emulator.hpp"
#include "llmbatch/testing/lossy_transport.hpp"
#include "llmbatch/testing/manual_clock.hpp"

namespace tests_unit_tracked_create {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using llmbatch::JobTracker;
using llmbatch::TrackedJob;
using llmbatch::testing::GeminiEmulator;
using llmbatch::testing::LossyTransport;
using llmbatch::testing::ManualClock;

using Gemini = llmbatch::GeminiProvider<LossyTransport<GeminiEmulator>, ManualClock>;

TrackedJob batch(std::int64_t index, std::size_t n = 2) {
    TrackedJob job;
    job.provider = "gemini";
    job.source = "notes/a.md";
    job.batch_index = index;
    job.created_at = ManualClock::default_utc_start();
    for (std::size_t i = 0; i < n; ++i) job.request_keys.push_back("k" + std::to_string(i));
    return job;
}

llmbatch::BatchPayload payload(std::size_t n = 2) {
    llmbatch::BatchPayload out;
    for (std::size_t i = 0; i < n; ++i) out.push_back({"prompt " + std::to_string(i)});
    return out;
}

/// One creating process: its own emulator (a provider account), service and tracker over shared files.
struct Run {
    ManualClock clock;
    GeminiEmulator emulator{clock};
    llmbatch::LLMService<Gemini> service{make()};
    JobTracker tracker;

    explicit Run(const fs::path& dir) : tracker(dir / "jobs.json", dir / "state.json") {}
    Gemini make() {
        llmbatch::GeminiConfig config;
        config.api_key = "tracked-create-key";
        config.retry.max_attempts = 2;
        config.retry.jitter = 0;
        return Gemini(config, LossyTransport<GeminiEmulator>(emulator), clock);
    }
};

nlohmann::json read_json(const fs::path& file) {
    std::ifstream in(file);
    return nlohmann::json::parse(in);
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("tracker: a create in flight is kept under \"creating\" in the tracking file until it is settled") {
    llmbatch_test::TempDir tmp("llmbatch-intent", true);
    JobTracker tracker(tmp.path / "jobs.json", tmp.path / "state.json");
    tracker.begin_create({"token-a", batch(0)});
    auto raw = read_json(tracker.tracking_file());
    REQUIRE(raw.contains("creating"));
    CHECK(raw["creating"]["token-a"] == nlohmann::json{{"provider", "gemini"},
                                                       {"source", "notes/a.md"},
                                                       {"batch_index", 0},
                                                       {"created_at", "2026-01-01T00:00:00Z"},
                                                       {"labels", nlohmann::json::object()},
                                                       {"request_keys", {"k0", "k1"}}});
    CHECK(raw["jobs"].empty());
    (void)tracker.finish_create("token-a", "batches/abc");
    raw = read_json(tracker.tracking_file());
    CHECK_FALSE(raw.contains("creating"));
    CHECK(raw["jobs"]["batches/abc"]["request_keys"] == nlohmann::json::array({"k0", "k1"}));
}

TEST_CASE("tracker: a broken record of a create in flight makes the file unusable, never half-read") {
    llmbatch_test::TempDir tmp("llmbatch-intent", true);
    const auto file = tmp.path / "jobs.json";
    JobTracker tracker(file, tmp.path / "state.json");
    const std::string head = R"({"format": "llmbatch-tracking", "version": 1, "jobs": {}, "creating": )";
    for (const std::string tail : {R"([])", R"({"no token!": {}})", R"({"t1": {"provider": "gemini"}})",
                                   R"({"t1": {"provider": "gemini", "source": "s", "batch_index": -1, "created_at": "2026-01-01T00:00:00Z"}})"}) {
        CAPTURE(tail);
        std::ofstream(file) << head << tail << "}";
        CHECK_THROWS_AS((void)tracker.open_creates(), llmbatch::TrackingFileError);
        CHECK_THROWS_AS(tracker.begin_create({"t2", batch(3)}), llmbatch::TrackingFileError);
    }
}

TEST_CASE("tracked create: concurrent creating runs on one tracking file create every batch exactly once") {
    llmbatch_test::TempDir tmp("llmbatch-intent");
    constexpr int batches = 12;
    Run a(tmp.path), b(tmp.path);
    b.emulator.set_next_job_number(1000);  // two accounts never share job names
    auto create_all = [&](Run& run) {
        for (int i = 0; i < batches; ++i) {
            try {
                (void)llmbatch::create_tracked_job(run.service, run.tracker, run.clock, "gemini", batch(i), payload());
            } catch (const llmbatch::DuplicateJobError&) {
                // the other run has it
            }
        }
    };
    std::thread other([&] { create_all(b); });
    create_all(a);
    other.join();
    CHECK(a.emulator.job_count() + b.emulator.job_count() == batches);
    const auto jobs = a.tracker.jobs();
    REQUIRE(jobs.size() == batches);
    std::set<std::int64_t> seen;
    for (const auto& job : jobs) seen.insert(job.batch_index);
    CHECK(seen.size() == batches);
    CHECK(a.tracker.open_creates().empty());
}

TEST_CASE("tracked create: a lost reply while the provider cannot be listed stays in doubt, and is settled later") {
    llmbatch_test::TempDir tmp("llmbatch-intent", true);
    Run run(tmp.path);
    auto& transport = run.service.provider<Gemini>().transport();
    transport.lose_reply_of_next(
        [](const llmbatch::HttpRequest& r) { return r.url.find(":batchGenerateContent") != std::string::npos; });
    transport.refuse_next([](const llmbatch::HttpRequest& r) { return r.method == "GET"; }, 400);  // the lookup
    try {
        (void)llmbatch::create_tracked_job(run.service, run.tracker, run.clock, "gemini", batch(0), payload());
        FAIL("the create is in doubt");
    } catch (const llmbatch::CreateInDoubt& e) {
        const std::string message = e.what();
        CHECK(message.find("batch 0 of 'notes/a.md'") != std::string::npos);
        CHECK(message.find("could not be asked") != std::string::npos);
        CHECK(message.find(e.intent().token) != std::string::npos);
        CHECK(message.find("tracked-create-key") == std::string::npos);
        CHECK_FALSE(e.decidable_after().has_value());
    }
    CHECK(run.emulator.job_count() == 1);
    CHECK(run.tracker.jobs().empty());
    const auto settled = llmbatch::resolve_open_creates(run.service, run.tracker, run.clock);
    REQUIRE(settled.size() == 1);
    CHECK(settled[0].settlement == llmbatch::CreateSettlement::adopted);
    REQUIRE(run.tracker.jobs().size() == 1);
    CHECK(run.tracker.jobs().front().request_keys == std::vector<std::string>{"k0", "k1"});
    CHECK(run.emulator.job_count() == 1);
}

TEST_CASE("tracked create: the client token is fresh, valid, and given to the provider") {
    const auto a = llmbatch::make_client_token(), b = llmbatch::make_client_token();
    CHECK(a != b);
    CHECK(a.size() == 32);
    CHECK(llmbatch::client_token_valid(a));
    CHECK_FALSE(llmbatch::client_token_valid(""));
    CHECK_FALSE(llmbatch::client_token_valid(std::string(65, 'a')));
    CHECK_FALSE(llmbatch::client_token_valid("a/b"));

    llmbatch_test::TempDir tmp("llmbatch-intent", true);
    Run run(tmp.path);
    llmbatch::TrackedCreateOptions options;
    options.create.client_token = "my-own-token";
    options.create.display_name = "notes batch 0";
    const auto created = llmbatch::create_tracked_job(run.service, run.tracker, run.clock, "gemini", batch(0), payload(), options);
    CHECK_FALSE(created.adopted);
    const auto job = run.service.get_batch_job_status("gemini", created.job.job_name);
    CHECK(job.client_token == "my-own-token");
    CHECK(job.display_name == "notes batch 0 [my-own-token]");
}

TEST_CASE("tracked create: a fault or a kill at every file operation ends, after a re-run, with exactly one job") {
    using llmbatch::testing::FaultyFiles;
    using llmbatch::testing::FileFault;
    std::map<std::string, int> outcomes;
    for (const auto fault : {FileFault::enospc, FileFault::eio, FileFault::short_write, FileFault::kill}) {
        for (std::size_t n = 1;; ++n) {
            CAPTURE(llmbatch::testing::to_string(fault));
            CAPTURE(n);
            llmbatch_test::TempDir tmp("llmbatch-intent", true);
            Run run(tmp.path);
            bool fired = false;
            {
                FaultyFiles files;
                files.fail_at(n, fault);
                try {
                    (void)llmbatch::create_tracked_job(run.service, run.tracker, run.clock, "gemini", batch(0), payload());
                    ++outcomes["created"];
                } catch (const llmbatch::CreateInDoubt&) {
                    ++outcomes["in doubt"];  // made, not recorded: the record stays open
                    CHECK(run.emulator.job_count() == 1);
                } catch (const llmbatch::Error&) {
                    ++outcomes["not sent"];  // the record could not be written: nothing was sent
                    CHECK(run.emulator.job_count() == 0);
                    CHECK(run.tracker.open_creates().empty());
                } catch (const llmbatch::testing::SimulatedKill&) {
                    ++outcomes["killed"];
                }
                fired = files.fired();
            }
            if (!fired) break;
            // The next run: settle what the last one left, then create the batch if it still needs a job.
            JobTracker next(tmp.path / "jobs.json", tmp.path / "state.json");
            (void)llmbatch::resolve_open_creates(run.service, next, run.clock);
            if (!next.open_creates().empty()) {  // killed after the record, before sending: known after the settling time
                run.clock.advance(11min);
                (void)llmbatch::resolve_open_creates(run.service, next, run.clock);
            }
            if (next.jobs().empty())
                (void)llmbatch::create_tracked_job(run.service, next, run.clock, "gemini", batch(0), payload());
            CHECK(run.emulator.job_count() == 1);
            REQUIRE(next.jobs().size() == 1);
            CHECK(next.open_creates().empty());
            CHECK(next.jobs().front().request_keys == std::vector<std::string>{"k0", "k1"});
        }
    }
    MESSAGE("outcomes: created ", outcomes["created"], ", in doubt ", outcomes["in doubt"], ", not sent ",
            outcomes["not sent"], ", killed ", outcomes["killed"]);
    CHECK(outcomes["in doubt"] > 0);
    CHECK(outcomes["killed"] > 0);
}

}  // TEST_SUITE

}  // namespace tests_unit_tracked_create
