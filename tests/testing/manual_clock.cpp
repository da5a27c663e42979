#include "llmbatch/testing/manual_clock.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <stdexcept>
#include <vector>

#include "llmbatch/detail/time.hpp"

namespace tests_testing_manual_clock {

namespace {

using namespace std::chrono_literals;
using llmbatch::testing::ManualClock;

/// A retry loop written against the Clock concept, as library code would be.
template <llmbatch::Clock C>
int retry_with_doubling(C& clock, int attempts) {
    auto delay = typename C::duration(std::chrono::seconds(1));
    for (int i = 0; i < attempts; ++i) {
        clock.sleep_for(delay);
        delay *= 2;
    }
    return attempts;
}

}  // namespace

TEST_SUITE("testing") {
    TEST_CASE("ManualClock starts at the epoch of its time_point and at 2026-01-01 UTC") {
        const ManualClock clock;
        CHECK(clock.now() == ManualClock::time_point{});
        CHECK(clock.elapsed() == ManualClock::duration::zero());
        CHECK(llmbatch::detail::format_rfc3339(clock.utc_now()) == "2026-01-01T00:00:00Z");
        CHECK(clock.sleeps().empty());
    }

    TEST_CASE("ManualClock takes another wall-clock start") {
        const auto start = *llmbatch::detail::parse_rfc3339("2025-12-10T18:27:01.5Z");
        ManualClock clock(start);
        CHECK(clock.utc_now() == start);
        clock.advance(2s);
        CHECK(llmbatch::detail::format_rfc3339(clock.utc_now()) == "2025-12-10T18:27:03.500000000Z");
    }

    TEST_CASE("ManualClock::sleep_for records the sleep and moves both clocks at once") {
        ManualClock clock;
        clock.sleep_for(1500ms);
        clock.sleep_for(3s);
        CHECK(clock.now() - ManualClock::time_point{} == 4500ms);
        CHECK(clock.elapsed() == 4500ms);
        CHECK(clock.utc_now() - ManualClock::default_utc_start() == 4500ms);
        CHECK(clock.sleeps() == std::vector<ManualClock::duration>{1500ms, 3s});
        CHECK(clock.total_slept() == 4500ms);
    }

    TEST_CASE("ManualClock treats a negative sleep as zero") {
        ManualClock clock;
        clock.sleep_for(-5s);
        CHECK(clock.elapsed() == 0s);
        REQUIRE(clock.sleeps().size() == 1);
        CHECK(clock.sleeps()[0] == 0s);
    }

    TEST_CASE("ManualClock::advance moves time without recording a sleep and never goes back") {
        ManualClock clock;
        clock.advance(1h);
        CHECK(clock.elapsed() == 1h);
        CHECK(clock.sleeps().empty());
        CHECK_THROWS_AS(clock.advance(-1s), std::invalid_argument);
        CHECK(clock.elapsed() == 1h);
    }

    TEST_CASE("ManualClock::clear_sleeps forgets the sleeps but keeps the time") {
        ManualClock clock;
        clock.sleep_for(2s);
        clock.clear_sleeps();
        CHECK(clock.sleeps().empty());
        CHECK(clock.elapsed() == 2s);
        clock.sleep_for(1s);
        CHECK(clock.sleeps() == std::vector<ManualClock::duration>{1s});
    }

    TEST_CASE("ManualClock copies share one time and one sleep record") {
        ManualClock clock;
        ManualClock copy = clock;
        copy.sleep_for(10s);
        CHECK(clock.elapsed() == 10s);
        CHECK(clock.sleeps().size() == 1);
        clock.advance(5s);
        CHECK(copy.now() == clock.now());
        copy.clear_sleeps();
        CHECK(clock.sleeps().empty());
        CHECK(copy.shares_state_with(clock));
        CHECK_FALSE(ManualClock{}.shares_state_with(clock));
    }

    TEST_CASE("ManualClock drives code written against the Clock concept without waiting") {
        static_assert(llmbatch::Clock<ManualClock>);
        ManualClock clock;
        const auto wall_before = std::chrono::steady_clock::now();
        CHECK(retry_with_doubling(clock, 4) == 4);
        CHECK(std::chrono::steady_clock::now() - wall_before < 1s);
        CHECK(clock.sleeps() == std::vector<ManualClock::duration>{1s, 2s, 4s, 8s});
        CHECK(clock.elapsed() == 15s);
    }
}

}  // namespace tests_testing_manual_clock
