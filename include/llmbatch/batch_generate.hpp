#pragma once
/// @file batch_generate.hpp
/// A batch as one blocking call: `batch_generate(provider, payload)` creates a job, waits for it
/// and fetches its results in input order; `finish_batch_job(provider, job)` does the last two for
/// a job that already exists. `LLMService::batch_generate` runs the same on the first available
/// provider.
///
/// A job is never left running unseen: when the wait ends without the job (the deadline passed,
/// or the progress callback stopped it), the job is cancelled (unless `cancel_on_abandon` is
/// false), and the `WaitTimeout` says which it was and names the job.
///
/// Example:
/// @code
/// llmbatch::BatchGenerateOptions options;
/// options.create.filter_json = true;
/// options.poll.deadline = std::chrono::hours(24);
/// llmbatch::BatchResults results = llmbatch::batch_generate(gemini, payload, options);
/// for (const auto& outcome : results) { ... }
/// @endcode

#include <string>
#include <type_traits>
#include <utility>

#include <fmt/format.h>

#include "llmbatch/clock.hpp"
#include "llmbatch/concepts.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/polling.hpp"
#include "llmbatch/results.hpp"

namespace llmbatch {

/// Settings of `batch_generate` and `finish_batch_job`.
struct BatchGenerateOptions {
    /// Options of the create (`filter_json`, `display_name`, ...).
    CreateOptions create{};
    /// Options of the fetch; an unset `filter_json` takes the create's.
    FetchOptions fetch{};
    /// How often to look at the job, and for how long (`deadline`; none waits as long as the job
    /// runs).
    PollPolicy poll{};
    /// Called with every status seen; returning `WaitControl::stop` abandons the wait.
    ProgressCallback on_progress{};
    /// Cancel the job when the wait ends without it (deadline passed, or the progress callback
    /// stopped it), so no job keeps running unseen. False leaves it running; the error names it.
    bool cancel_on_abandon = true;
};

namespace detail {

/// `P` offers the clock it waits on: `p.clock()` returns a `Clock` (by reference).
template <class P>
concept has_own_clock = requires(P& p) { p.clock(); } && Clock<std::remove_cvref_t<decltype(std::declval<P&>().clock())>>;

/// `why`, completed with what became of the abandoned job: cancelled, or left running (named).
template <class P>
[[nodiscard]] std::string abandon_job(P& p, const std::string& job_name, std::string why, bool cancel) {
    if constexpr (CancellableBatchProvider<P>) {
        if (cancel) {
            try {
                p.cancel_batch_job(job_name);
                return why + fmt::format("; the job was cancelled on {}", P::name);
            } catch (const Error& e) {
                return why + fmt::format("; cancelling it failed ({}), so it may still run on {} as {}", e.what(),
                                         P::name, job_name);
            }
        }
    }
    return why + fmt::format("; the job is still running on {} as {}", P::name, job_name);
}

}  // namespace detail

/// Waits for the job `job_name` of `p` on `p.clock()` (the system clock when `p` has none) and
/// fetches its results in input order.
/// @throws WaitTimeout when the wait ends without the job (see the file comment); JobFailed when
///         the job failed, or was cancelled or expired without results; the provider's errors.
template <BatchProvider P>
[[nodiscard]] BatchResults finish_batch_job(P& p, const std::string& job_name, const BatchGenerateOptions& options = {}) {
    auto wait = [&](auto& clock) {
        return wait_until_done([&] { return p.get_batch_job(job_name); }, job_name, clock, options.poll,
                               options.on_progress);
    };
    BatchJob status;
    try {
        if constexpr (detail::has_own_clock<P>) {
            status = wait(p.clock());
        } else {
            SystemClock clock;
            status = wait(clock);
        }
    } catch (const WaitTimeout& e) {
        throw WaitTimeout(detail::abandon_job(p, job_name, e.what(), options.cancel_on_abandon), e.last_status());
    }
    if (!status.done)
        throw WaitTimeout(detail::abandon_job(p, job_name,
                                              fmt::format("The wait for batch job {} was stopped; last state: {}",
                                                          job_name, status.state),
                                              options.cancel_on_abandon),
                          status);
    FetchOptions fetch = options.fetch;
    if (!fetch.filter_json) fetch.filter_json = options.create.filter_json;
    if constexpr (StreamingBatchProvider<P>) return p.fetch_batch_results(status, fetch);
    else return p.fetch_batch_results(job_name, fetch);
}

/// Creates a job of `payload` on `p`, waits for it and fetches its results (see
/// `finish_batch_job`).
/// @throws what `create_batch_job` and `finish_batch_job` throw.
template <BatchProvider P>
[[nodiscard]] BatchResults batch_generate(P& p, const BatchPayload& payload, const BatchGenerateOptions& options = {}) {
    const std::string job_name(p.create_batch_job(payload, options.create));
    return finish_batch_job(p, job_name, options);
}

}  // namespace llmbatch
