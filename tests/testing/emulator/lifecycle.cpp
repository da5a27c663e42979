#include "llmbatch/testing/emulator/lifecycle.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>

#include "llmbatch/testing/manual_clock.hpp"

namespace tests_testing_emulator_lifecycle {

namespace {

using namespace std::chrono_literals;
using llmbatch::testing::is_final;
using llmbatch::testing::JobError;
using llmbatch::testing::JobPhase;
using llmbatch::testing::Lifecycle;
using llmbatch::testing::ManualClock;

const auto t0 = ManualClock::default_utc_start();

Lifecycle life_of(std::size_t total) {
    Lifecycle life;
    life.create_time = t0;
    life.total = total;
    return life;  // pending 20 s, running 40 s, expiry after 48 h
}

}  // namespace

TEST_SUITE("testing") {

TEST_CASE("Lifecycle: pending, running at an even pace, then succeeded") {
    const Lifecycle life = life_of(4);
    auto s = life.at(t0 + 19s);
    CHECK(s.phase == JobPhase::pending);
    CHECK(s.pending == 4);
    CHECK(s.update_time == t0);

    s = life.at(t0 + 30s);
    CHECK(s.phase == JobPhase::running);
    CHECK(s.completed == 1);
    CHECK(s.succeeded == 1);
    CHECK(s.pending == 3);
    CHECK(s.update_time == t0 + 30s);

    s = life.at(t0 + 59s, [](std::size_t k) { return k >= 2 ? std::size_t{1} : 0; });  // request 2 failed
    CHECK(s.completed == 3);
    CHECK(s.failed == 1);
    CHECK(s.succeeded == 2);
    CHECK(s.update_time == t0 + 50s);

    s = life.at(t0 + 60s);
    CHECK(s.phase == JobPhase::succeeded);
    CHECK(s.completed == 4);
    CHECK(s.end_time == t0 + 60s);
    CHECK(is_final(s.phase));
}

TEST_CASE("Lifecycle: a finalizing phase after the last request") {
    Lifecycle life = life_of(2);
    life.timing.finalizing_for = 30s;
    auto s = life.at(t0 + 70s);
    CHECK(s.phase == JobPhase::finalizing);
    CHECK(s.completed == 2);
    CHECK(s.update_time == t0 + 60s);
    CHECK_FALSE(s.end_time);
    s = life.at(t0 + 90s);
    CHECK(s.phase == JobPhase::succeeded);
    CHECK(s.end_time == t0 + 90s);
}

TEST_CASE("Lifecycle: failure at the finish reports no completed request") {
    Lifecycle life = life_of(3);
    life.fail_at_finish = JobError{13, "Internal error encountered.", {}};
    auto s = life.at(t0 + 50s);
    CHECK(s.phase == JobPhase::running);
    s = life.at(t0 + 60s);
    CHECK(s.phase == JobPhase::failed);
    CHECK(s.completed == 0);
    CHECK(s.pending == 3);
    CHECK(s.error == JobError{13, "Internal error encountered.", {}});
}

TEST_CASE("Lifecycle: a cancelled job keeps the requests completed before its end") {
    Lifecycle life = life_of(4);
    life.cancel(t0 + 40s, JobError{1, "cancelled", {}});
    const auto s = life.at(t0 + 2h);
    CHECK(s.phase == JobPhase::cancelled);
    CHECK(s.end_time == t0 + 40s);
    CHECK(s.completed == 2);
    CHECK(s.succeeded == 2);
    CHECK(s.cancelled == 2);
    CHECK(s.pending == 0);
    CHECK(s.error->code == 1);
    CHECK_THROWS_AS(life.cancel(t0 + 3h), std::logic_error);
}

TEST_CASE("Lifecycle: cancellation goes through a cancelling phase of configurable length") {
    Lifecycle life = life_of(4);
    life.timing.cancelling_for = 10s;
    life.cancel(t0 + 30s);
    auto s = life.at(t0 + 35s);
    CHECK(s.phase == JobPhase::cancelling);
    CHECK(s.completed == 1);
    CHECK_FALSE(is_final(s.phase));
    life.cancel(t0 + 36s);  // a second request changes nothing
    s = life.at(t0 + 40s);
    CHECK(s.phase == JobPhase::cancelled);
    CHECK(s.end_time == t0 + 40s);
    CHECK(s.completed == 1);  // no request completes once the cancellation was requested
    CHECK(s.cancelled == 3);
}

TEST_CASE("Lifecycle: a cancellation requested just before the natural end still ends the job cancelled") {
    Lifecycle life = life_of(4);
    life.timing.cancelling_for = 10min;  // far past the 60 s the job would have needed
    life.cancel(t0 + 59s);
    auto s = life.at(t0 + 2min);
    CHECK(s.phase == JobPhase::cancelling);
    CHECK(s.completed == 3);
    s = life.at(t0 + 59s + 10min);
    CHECK(s.phase == JobPhase::cancelled);
    CHECK(s.completed == 3);
    CHECK(s.cancelled == 1);
}

TEST_CASE("Lifecycle: expiry after the window, with partial results") {
    Lifecycle life = life_of(4);
    life.timing.running_for = 96h;
    auto s = life.at(t0 + 47h);
    CHECK(s.phase == JobPhase::running);
    s = life.at(t0 + 48h);
    CHECK(s.phase == JobPhase::expired);
    CHECK(s.end_time == t0 + 48h);
    CHECK(s.completed == 1);  // (48 h - 20 s) / 96 h of 4 requests
    CHECK(s.expired == 3);
}

TEST_CASE("Lifecycle: early ends at a time, now or later") {
    Lifecycle life = life_of(2);
    life.end_at(JobPhase::failed, t0 + 5s, t0 + 5s, JobError{9, "no", {}});
    auto s = life.at(t0 + 6s);
    CHECK(s.phase == JobPhase::failed);
    CHECK(s.end_time == t0 + 5s);
    CHECK_THROWS_AS(life.end_at(JobPhase::expired, t0 + 7s, t0 + 7s), std::logic_error);

    Lifecycle later = life_of(4);
    later.end_at(JobPhase::expired, t0, t0 + 40s);
    CHECK(later.at(t0 + 39s).phase == JobPhase::running);
    s = later.at(t0 + 41s);
    CHECK(s.phase == JobPhase::expired);
    CHECK(s.completed == 2);
    CHECK(s.expired == 2);

    Lifecycle too_late = life_of(1);
    too_late.end_at(JobPhase::cancelled, t0, t0 + 2h);  // the natural end comes first
    CHECK(too_late.at(t0 + 3h).phase == JobPhase::succeeded);
}

TEST_CASE("Lifecycle: JSON round trip, provider state words accepted") {
    Lifecycle life = life_of(3);
    life.timing.finalizing_for = 5s;
    life.timing.cancelling_for = 7s;
    life.fail_at_finish = JobError{13, "x", "INTERNAL"};
    life.cancel(t0 + 25s);
    llmbatch::Json j = llmbatch::Json::object();
    life.write_to(j);
    const Lifecycle back = Lifecycle::read_from(j, 3);
    CHECK(back.at(t0 + 28s).phase == JobPhase::cancelling);
    CHECK(back.at(t0 + 1h).phase == JobPhase::cancelled);
    CHECK(back.timing.finalizing_for == 5s);
    CHECK(back.fail_at_finish == life.fail_at_finish);

    j["end"]["state"] = "BATCH_STATE_EXPIRED";
    CHECK(Lifecycle::read_from(j, 3).end->phase == JobPhase::expired);
    CHECK(llmbatch::testing::phase_from_name("cancelled") == JobPhase::cancelled);
    CHECK_THROWS_AS((void)llmbatch::testing::phase_from_name("BATCH_STATE_UNKNOWN"), std::invalid_argument);
}

}

}  // namespace tests_testing_emulator_lifecycle
