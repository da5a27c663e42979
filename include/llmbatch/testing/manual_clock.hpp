#pragma once
/// @file testing/manual_clock.hpp
/// `ManualClock`: a clock whose time moves only when told, and whose `sleep_for` returns at once.
///
/// It models `llmbatch::Clock`, so it can stand in for `SystemClock` anywhere: a polling loop
/// "sleeps" instantly, each sleep is recorded, and a test asserts the exact backoff schedule.
/// Copies share one state, so a provider, an emulator and the test can each hold a copy of the
/// same clock and see the same time.
///
/// **Example**:
/// ```cpp
/// llmbatch::testing::ManualClock clock;
/// auto seen_by_provider = clock;              // shares the state
/// seen_by_provider.sleep_for(std::chrono::seconds(5));
/// assert(clock.elapsed() == std::chrono::seconds(5));
/// assert(clock.sleeps().size() == 1);
/// ```

#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include "llmbatch/clock.hpp"

namespace llmbatch::testing {

/// A manually driven clock. `now()` starts at `time_point{}`; `utc_now()` starts at the
/// `utc_start` given to the constructor (2026-01-01T00:00:00Z by default). Both move only
/// through `sleep_for` and `advance`. Every member is safe to call from several threads.
class ManualClock {
public:
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::steady_clock::time_point;

    /// The default wall-clock start: 2026-01-01T00:00:00Z.
    [[nodiscard]] static std::chrono::system_clock::time_point default_utc_start() noexcept {
        using namespace std::chrono;
        return time_point_cast<system_clock::duration>(sys_days{year{2026} / January / day{1}});
    }

    /// A clock at `time_point{}` whose wall-clock time is `utc_start`.
    explicit ManualClock(std::chrono::system_clock::time_point utc_start = default_utc_start())
        : state_(std::make_shared<State>(utc_start)) {}

    /// The current virtual time.
    [[nodiscard]] time_point now() const {
        std::lock_guard lock(state_->mutex);
        return time_point{} + state_->elapsed;
    }

    /// The virtual wall-clock time: `utc_start + elapsed()`.
    [[nodiscard]] std::chrono::system_clock::time_point utc_now() const {
        std::lock_guard lock(state_->mutex);
        return state_->utc_start + std::chrono::duration_cast<std::chrono::system_clock::duration>(state_->elapsed);
    }

    /// Records a sleep of `d` and advances the time by `d`; returns at once.
    /// A negative `d` is recorded, and slept, as zero.
    void sleep_for(duration d) {
        if (d < duration::zero()) d = duration::zero();
        std::lock_guard lock(state_->mutex);
        state_->sleeps.push_back(d);
        state_->elapsed += d;
    }

    /// Advances the time by `d` without recording a sleep (time passing outside the code under test).
    /// @throws std::invalid_argument when `d` is negative: the clock is monotonic.
    void advance(duration d) {
        if (d < duration::zero()) throw std::invalid_argument("ManualClock cannot move backwards.");
        std::lock_guard lock(state_->mutex);
        state_->elapsed += d;
    }

    /// Time elapsed since construction (sleeps and advances together).
    [[nodiscard]] duration elapsed() const {
        std::lock_guard lock(state_->mutex);
        return state_->elapsed;
    }

    /// Every recorded sleep, in the order slept.
    [[nodiscard]] std::vector<duration> sleeps() const {
        std::lock_guard lock(state_->mutex);
        return state_->sleeps;
    }

    /// Sum of the recorded sleeps.
    [[nodiscard]] duration total_slept() const {
        std::lock_guard lock(state_->mutex);
        duration sum{};
        for (auto d : state_->sleeps) sum += d;
        return sum;
    }

    /// Forgets the recorded sleeps (the time stays where it is).
    void clear_sleeps() {
        std::lock_guard lock(state_->mutex);
        state_->sleeps.clear();
    }

    /// True when `other` is a copy of this clock (both see the same time).
    [[nodiscard]] bool shares_state_with(const ManualClock& other) const noexcept { return state_ == other.state_; }

private:
    struct State {
        explicit State(std::chrono::system_clock::time_point start) : utc_start(start) {}
        std::mutex mutex;
        std::chrono::system_clock::time_point utc_start;
        duration elapsed{};
        std::vector<duration> sleeps;
    };
    std::shared_ptr<State> state_;
};

static_assert(llmbatch::Clock<ManualClock>);

}  // namespace llmbatch::testing
