// wait_for_job: the poll schedule, the deadline, the progress callback, errors while polling.
#include "llmbatch/polling.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <vector>

#include "llmbatch/testing/manual_clock.hpp"

namespace tests_unit_polling {

using namespace std::chrono_literals;
using llmbatch::BatchJob;
using llmbatch::JobState;
using llmbatch::PollPolicy;
using llmbatch::WaitControl;
using llmbatch::testing::ManualClock;

namespace {

/// A provider whose job is done after `polls_until_done` looks; throws scripted errors first.
struct ScriptedProvider {
    static constexpr std::string_view name = "scripted";
    int polls_until_done = 3;
    int transient_errors = 0;
    bool fatal_error = false;
    int polls = 0;

    bool is_available() const { return true; }
    std::string create_batch_job(const llmbatch::BatchPayload&, const llmbatch::CreateOptions&) { return "job"; }
    BatchJob get_batch_job(const std::string& job_name) {
        ++polls;
        if (fatal_error) throw llmbatch::NotFoundError("gone", {"scripted", 404, "NOT_FOUND", "gone", false});
        if (transient_errors > 0) {
            --transient_errors;
            throw llmbatch::QuotaError("slow down", {"scripted", 429, "RESOURCE_EXHAUSTED", "slow down", true});
        }
        BatchJob job;
        job.name = job_name;
        job.counts.total = 10;
        job.counts.succeeded = std::min(10, polls * 3);
        job.state = polls >= polls_until_done ? JobState::succeeded : JobState::running;
        job.done = llmbatch::is_terminal(job.state);
        return job;
    }
    llmbatch::BatchResults fetch_batch_results(const std::string&, const llmbatch::FetchOptions&) { return {}; }
};
static_assert(llmbatch::BatchProvider<ScriptedProvider>);

PollPolicy exact(std::chrono::milliseconds initial = 10s, double multiplier = 2.0, std::chrono::milliseconds max = 60s) {
    PollPolicy p;
    p.initial_interval = initial;
    p.multiplier = multiplier;
    p.max_interval = max;
    p.jitter = 0;
    return p;
}

std::vector<ManualClock::duration> durations(std::initializer_list<std::chrono::milliseconds> ms) {
    return {ms.begin(), ms.end()};
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("wait_for_job: exact backoff schedule, capped, no real sleep") {
    ManualClock clock;
    ScriptedProvider p{6};
    const auto job = llmbatch::wait_for_job(p, "batches/j", clock, exact(10s, 2.0, 30s));
    CHECK(job.done);
    CHECK(job.state == JobState::succeeded);
    CHECK(p.polls == 6);
    CHECK(clock.sleeps() == durations({10s, 20s, 30s, 30s, 30s}));
}

TEST_CASE("wait_for_job: jitter keeps each wait within its bounds, reproducibly") {
    PollPolicy policy = exact(10s, 1.0, 10s);
    policy.jitter = 0.25;
    ManualClock a, b;
    ScriptedProvider pa{20}, pb{20};
    (void)llmbatch::wait_for_job(pa, "j", a, policy);
    (void)llmbatch::wait_for_job(pb, "j", b, policy);
    CHECK(a.sleeps() == b.sleeps());
    bool varied = false;
    for (auto s : a.sleeps()) {
        CHECK(s >= 7500ms);
        CHECK(s <= 12500ms);
        varied = varied || s != a.sleeps().front();
    }
    CHECK(varied);
}

TEST_CASE("wait_for_job: the deadline raises WaitTimeout naming the job and its last state") {
    ManualClock clock;
    ScriptedProvider p{1000};
    PollPolicy policy = exact(10s, 2.0, 60s);
    policy.deadline = 45s;
    try {
        (void)llmbatch::wait_for_job(p, "batches/slow", clock, policy);
        FAIL("expected WaitTimeout");
    } catch (const llmbatch::WaitTimeout& e) {
        CHECK(std::string(e.what()) == "Timed out after 45 s waiting for batch job batches/slow; last state: RUNNING");
        CHECK(e.last_status().state == JobState::running);
    }
    // 10 + 20 = 30 s, then the last wait is clipped to the 15 s left; one more look at 45 s.
    CHECK(clock.sleeps() == durations({10s, 20s, 15s}));
    CHECK(clock.elapsed() == 45s);
    CHECK(p.polls == 4);
}

TEST_CASE("wait_for_job: the callback sees every status and can stop the wait") {
    ManualClock clock;
    ScriptedProvider p{5};
    std::vector<std::int64_t> seen;
    const auto job = llmbatch::wait_for_job(p, "j", clock, exact(), [&](const BatchJob& j) {
        seen.push_back(j.counts.succeeded);
        return seen.size() == 2 ? WaitControl::stop : WaitControl::keep_waiting;
    });
    CHECK_FALSE(job.done);
    CHECK(seen == std::vector<std::int64_t>{3, 6});
    CHECK(clock.sleeps().size() == 1);

    ScriptedProvider all{3};
    std::vector<JobState> states;
    (void)llmbatch::wait_for_job(all, "j", clock, exact(), [&](const BatchJob& j) {
        states.push_back(j.state);
        return WaitControl::keep_waiting;
    });
    CHECK(states == std::vector<JobState>{JobState::running, JobState::running, JobState::succeeded});
}

TEST_CASE("wait_for_job: retryable errors while polling do not end the wait; others do") {
    ManualClock clock;
    ScriptedProvider flaky{2, 2};
    CHECK(llmbatch::wait_for_job(flaky, "j", clock, exact()).done);
    CHECK(flaky.polls == 3);  // two errors, then a finished job
    ScriptedProvider gone{2, 0, true};
    CHECK_THROWS_AS((void)llmbatch::wait_for_job(gone, "j", clock, exact()), llmbatch::NotFoundError);
    CHECK(gone.polls == 1);
}

TEST_CASE("wait_for_job: an already finished job returns without sleeping") {
    ManualClock clock;
    ScriptedProvider p{1};
    CHECK(llmbatch::wait_for_job(p, "j", clock, exact()).done);
    CHECK(clock.sleeps().empty());
}

}  // TEST_SUITE

}  // namespace tests_unit_polling
