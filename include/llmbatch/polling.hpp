#pragma once
/// @file polling.hpp
/// Waiting for a batch job: `wait_for_job` polls a provider (or an `LLMService`) until the job
/// reaches a terminal state, with exponential backoff, jitter and an overall deadline, all
/// through the `Clock` policy.
///
/// Example:
/// @code
/// llmbatch::PollPolicy policy;               // 10 s, x1.5, up to 5 min, +-10 %
/// policy.deadline = std::chrono::hours(24);
/// auto job = llmbatch::wait_for_job(gemini, job_name, clock, policy, [](const llmbatch::BatchJob& j) {
///     fmt::print("{}: {}/{} done\n", j.state, j.counts.succeeded + j.counts.failed, j.counts.total);
///     return llmbatch::WaitControl::keep_waiting;
/// });
/// @endcode

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "llmbatch/clock.hpp"
#include "llmbatch/concepts.hpp"
#include "llmbatch/detail/jitter.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"

namespace llmbatch {

/// How often to look at a job.
struct PollPolicy {
    /// Wait after the first look; each later wait is `multiplier` times longer, up to `max_interval`.
    std::chrono::milliseconds initial_interval{10'000};
    double multiplier = 1.5;
    std::chrono::milliseconds max_interval{300'000};
    /// Each wait is scaled by a random factor in [1 - jitter, 1 + jitter] (0 disables jitter).
    double jitter = 0.1;
    /// Give up after this long (measured on the clock from the start of the wait).
    std::optional<std::chrono::milliseconds> deadline{};
    /// Seed of the jitter generator (fixed for reproducible schedules).
    std::uint64_t seed = 0x706f6c6c696e6721ULL;
};

/// What a progress callback tells `wait_for_job` to do next.
enum class WaitControl { keep_waiting, stop };

/// Called with every observed status; return `WaitControl::stop` to end the wait early.
using ProgressCallback = std::function<WaitControl(const BatchJob&)>;

/// The wait reached its deadline before the job finished.
class WaitTimeout : public Error {
public:
    WaitTimeout(std::string message, BatchJob last) : Error(std::move(message)), last_(std::move(last)) {}
    /// The last status observed.
    [[nodiscard]] const BatchJob& last_status() const noexcept { return last_; }

private:
    BatchJob last_;
};

/// The waits `wait_for_job` makes, before the deadline clips them: wait `n` (0-based) is
/// `initial_interval * multiplier^n`, capped at `max_interval`, times a jitter factor.
class PollSchedule {
public:
    explicit PollSchedule(const PollPolicy& policy) : policy_(policy), jitter_(policy.seed) {}

    /// The next wait.
    [[nodiscard]] std::chrono::milliseconds next() {
        const double capped = std::min(current_, static_cast<double>(policy_.max_interval.count()));
        current_ = capped * std::max(policy_.multiplier, 1.0);
        const double factor = 1.0 + std::clamp(policy_.jitter, 0.0, 1.0) * jitter_.unit();
        return std::chrono::milliseconds(static_cast<std::int64_t>(capped * factor));
    }

private:
    PollPolicy policy_;
    detail::Jitter jitter_;
    double current_ = static_cast<double>(policy_.initial_interval.count());
};

/// Polls `get_status()` until it reports a finished job, the callback says stop, or the
/// deadline passes. Returns the last observed status (check `done`: it is false when the
/// callback stopped the wait). A retryable `ProviderError` while polling (quota, 5xx, network)
/// does not end the wait; any other error propagates.
/// @throws WaitTimeout naming the job and its last state when the deadline passes.
template <class GetStatus, Clock ClockT>
[[nodiscard]] BatchJob wait_until_done(GetStatus&& get_status, std::string_view job_name, ClockT& clock,
                                       const PollPolicy& policy = {}, const ProgressCallback& on_progress = {}) {
    const auto start = clock.now();
    PollSchedule schedule(policy);
    BatchJob last;
    last.name = std::string(job_name);
    for (;;) {
        try {
            last = get_status();
            if (on_progress && on_progress(last) == WaitControl::stop) return last;
            if (last.done) return last;
        } catch (const ProviderError& e) {
            if (!e.retryable()) throw;
        }
        auto wait = std::chrono::duration_cast<typename ClockT::duration>(schedule.next());
        if (policy.deadline) {
            const auto left = std::chrono::duration_cast<typename ClockT::duration>(*policy.deadline) - (clock.now() - start);
            if (left <= ClockT::duration::zero())
                throw WaitTimeout(fmt::format("Timed out after {} s waiting for batch job {}; last state: {}",
                                              std::chrono::duration_cast<std::chrono::seconds>(*policy.deadline).count(),
                                              job_name, last.state),
                                  last);
            wait = std::min(wait, left);
        }
        clock.sleep_for(wait);
    }
}

/// Waits for a job of `provider` (any `BatchProvider`); see `wait_until_done`.
template <BatchProvider P, Clock ClockT>
[[nodiscard]] BatchJob wait_for_job(P& provider, const std::string& job_name, ClockT& clock,
                                    const PollPolicy& policy = {}, const ProgressCallback& on_progress = {}) {
    return wait_until_done([&] { return provider.get_batch_job(job_name); }, job_name, clock, policy, on_progress);
}

}  // namespace llmbatch
