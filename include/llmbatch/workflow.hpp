#pragma once
/// @file workflow.hpp
/// The fetch workflow of a batch tool: check tracked jobs, save the results of finished ones,
/// and refetch recently completed ones (`--refetch-hours`), without ever losing data.
///
/// Selection (exactly as the user's document describes `batch-fetch`):
/// - `job_names`: those tracked jobs, whatever their status (an unknown name is an error);
/// - `all_pending`: every pending job (may be combined with `job_names`);
/// - `refetch_hours = H`: completed jobs whose `created_at` is within the last H hours (H may be
///   fractional) are reset to pending and fetched again from the existing job; no job is
///   created. It cannot be combined with the other two.
///
/// Safety rules:
/// - a failure to reach the provider (network, 5xx, 429, or any other error while checking) leaves
///   a job as it was (a pending job stays pending); only a job the provider reports as failed,
///   cancelled or expired becomes failed (cancelled);
/// - results are saved before the job is marked completed, and a refetched job keeps its
///   completion mark in the state file until its new results are saved;
/// - per-request failures are saved as error lines, never dropped;
/// - a job cancelled or expired after some of its requests finished has those results saved
///   (the others as CANCELLED / EXPIRED error lines) before it is marked cancelled (failed).
///
/// The workflow reports the document's console lines through a `LineSink` and returns a
/// `FetchReport` (the summary counts plus one record per job) for tools that want JSON.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/clock.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/job_store.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/result_store.hpp"
#include "llmbatch/tracking.hpp"

namespace llmbatch {

/// One of several workers sharing the pending jobs of a store that can claim them
/// (`ClaimingJobStore`, such as `PostgresJobStore`).
struct FetchWorker {
    std::string name{};  ///< unique among the workers
    /// How long a claim holds a job: a worker that dies hands its jobs back after it.
    std::chrono::milliseconds lease = std::chrono::minutes(10);
    int claim_size = 10;  ///< jobs claimed at a time
};

/// Which tracked jobs a fetch looks at.
struct FetchSelection {
    std::vector<std::string> job_names{};
    bool all_pending = false;
    std::optional<double> refetch_hours{};
    /// With `all_pending`: take the pending jobs a claim at a time, as this worker, so that
    /// workers fetching at once never check the same job. Needs a `ClaimingJobStore`.
    std::optional<FetchWorker> worker{};
};

/// A job store whose pending jobs workers can claim (see `PostgresJobStore::claim_pending`).
template <class S>
concept ClaimingJobStore = JobStore<S> && requires(S& s, const std::string& text, std::chrono::milliseconds lease, int n) {
    { s.claim_pending(text, lease, n) } -> std::same_as<std::vector<TrackedJob>>;
    s.release(text, text);
};

/// What happened to one job during a fetch.
struct FetchedJobReport {
    std::string job_name{};
    std::string source{};
    std::int64_t batch_index = 0;
    std::string state{};           ///< provider state seen (`SUCCEEDED`, `RUNNING`, ...), empty if unknown
    TrackedStatus status = TrackedStatus::pending;  ///< tracking status after the fetch
    bool refetched = false;
    std::size_t saved = 0;         ///< result lines saved
    std::size_t failed_requests = 0;
    TokenUsage usage{};            ///< tokens of the saved requests, when the provider reports them
    std::map<std::string, TokenUsage> usage_by_model{};  ///< the same by the model that answered
    std::string saved_to{};        ///< where the results went (`SavedResults::where`), when saved
    std::string error{};           ///< what went wrong, if anything
};

/// The summary counts of a fetch, as printed in its `Summary:` block.
struct FetchSummary {
    std::size_t checked = 0;
    std::size_t completed = 0;
    std::size_t failed = 0;
    std::size_t still_pending = 0;
    std::size_t refetched = 0;
    bool refetch_requested = false;
};

struct FetchReport {
    FetchSummary summary{};
    std::vector<FetchedJobReport> jobs{};
};

/// Receives one console line at a time (without the newline).
using LineSink = std::function<void(std::string_view)>;

namespace detail {

/// Formats hours as Python prints a float: `6.0`, `0.5`, `24.0`, `1.25`.
[[nodiscard]] inline std::string python_float(double v) {
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{:.1f}", v);
    return fmt::format("{}", v);
}

[[nodiscard]] inline std::string describe(const TrackedJob& job) {
    return fmt::format("{} ({} batch {})", job.job_name, job.source, job.batch_index);
}

}  // namespace detail

/// Checks the selected jobs through `service` (anything with `get_batch_job_status(provider, job)`
/// and `stream_batch_results(provider, const BatchJob&, sink)`, such as `LLMService`: each job is
/// read once, and its results stream into the store), saves finished jobs' results
/// to `store` (any `ResultSaver`: `ResultStore` files, or a database such as
/// `PostgresResultStore`), and updates `tracker`. Times come from `clock.utc_now()`.
/// @throws InvalidArgument for a bad selection (nothing is changed then); errors from the
///         tracking or result files propagate (those files stay intact).
template <class Service, JobStore Store, ResultSaver Results, Clock ClockT>
FetchReport fetch_tracked_jobs(Service& service, Store& tracker, Results& store, const FetchSelection& selection,
                               ClockT& clock, const LineSink& out = {}) {
    auto say = [&](std::string_view line) {
        if (out) out(line);
    };
    const bool by_names = !selection.job_names.empty();
    if (selection.refetch_hours && (by_names || selection.all_pending))
        throw InvalidArgument(
            "--refetch-hours cannot be combined with --job-names or --check-all-pending (use one method at a time)");
    if (!selection.refetch_hours && !by_names && !selection.all_pending)
        throw InvalidArgument("No jobs specified. Use --job-names, --check-all-pending, or --refetch-hours");
    if (selection.worker) {
        if (by_names || selection.refetch_hours)
            throw InvalidArgument("A worker fetches the pending jobs it claims; it cannot be combined with --job-names or "
                                  "--refetch-hours");
        if (selection.worker->name.empty()) throw InvalidArgument("A fetching worker needs a name.");
        if constexpr (!ClaimingJobStore<Store>)
            throw InvalidArgument(fmt::format("Job store {} cannot split pending jobs between workers; use a PostgreSQL "
                                              "store for several workers.",
                                              tracker.description()));
    }

    FetchReport report;
    std::vector<TrackedJob> jobs;
    std::vector<std::string> refetched_names;
    if (selection.refetch_hours) {
        report.summary.refetch_requested = true;
        jobs = tracker.select_refetch(*selection.refetch_hours, clock.utc_now());
        if (jobs.empty()) {
            say("No jobs to refetch");
        } else {
            say(fmt::format("Found {} job(s) completed within last {} hour(s)", jobs.size(),
                            detail::python_float(*selection.refetch_hours)));
            for (auto& job : jobs) {
                // The completion mark in the state file stays until the new results are saved.
                tracker.reset_to_pending(job.job_name);
                job.status = TrackedStatus::pending;
                refetched_names.push_back(job.job_name);
                say(fmt::format("Reset {} to pending", detail::describe(job)));
            }
            report.summary.refetched = jobs.size();
        }
    } else {
        std::vector<std::string> unknown;
        for (const auto& name : selection.job_names) {
            if (auto job = tracker.find(name)) {
                if (std::none_of(jobs.begin(), jobs.end(), [&](const TrackedJob& j) { return j.job_name == name; }))
                    jobs.push_back(std::move(*job));
            } else {
                unknown.push_back(name);
            }
        }
        if (!unknown.empty())
            throw InvalidArgument(fmt::format("Unknown job name(s), not in {}: {}", tracker.description(),
                                              fmt::join(unknown, ", ")));
        if (selection.all_pending && !selection.worker)
            for (auto& job : tracker.pending())
                if (std::none_of(jobs.begin(), jobs.end(), [&](const TrackedJob& j) { return j.job_name == job.job_name; }))
                    jobs.push_back(std::move(job));
    }

    if (selection.worker) {
        say("");
        say(fmt::format("Checking the pending jobs this worker ({}) claims...", selection.worker->name));
    } else if (jobs.empty()) {
        say("No jobs to check");
    } else {
        say("");
        say(fmt::format("Checking {} job(s)...", jobs.size()));
    }

    enum class Outcome { completed, failed, pending };
    // Checks one job, updates the tracker and fills `r`; says how it ended for the summary.
    auto check = [&](const TrackedJob& job, FetchedJobReport& r) -> Outcome {
        // The provider could not be asked or did not answer: nothing is known, nothing changes.
        auto keep_pending = [&](const std::string& what) {
            r.error = what;
            say(fmt::format("  Error checking job: {} (still pending)", what));
            return Outcome::pending;
        };
        // The provider reports the job ended without results.
        auto job_failed = [&](std::string_view line, const std::string& message, bool cancelled) {
            say(fmt::format("  Error: {} - {}", line, message));
            if (cancelled)
                tracker.mark_cancelled(job.job_name, message);
            else
                tracker.mark_failed(job.job_name, message);
            r.status = cancelled ? TrackedStatus::cancelled : TrackedStatus::failed;
            r.error = message;
            return Outcome::failed;
        };

        // A refetch that finds the provider without the results: the job keeps its completion and
        // the results saved earlier, rather than becoming failed.
        const bool saved_before = r.refetched && tracker.is_batch_completed(job.source, job.batch_index);
        auto keep_completed = [&](const std::string& message) {
            say(fmt::format("  Error: No results returned - {} (the results saved earlier are kept)", message));
            tracker.update(job.job_name, [](TrackedJob& j) { j.status = TrackedStatus::completed; });
            r.status = TrackedStatus::completed;
            r.error = message;
            return Outcome::completed;
        };

        BatchJob status;
        try {
            status = service.get_batch_job_status(job.provider, job.job_name);
        } catch (const ProviderError& e) {
            return keep_pending(e.what());
        } catch (const InvalidArgument& e) {  // e.g. the provider is not in this service
            return keep_pending(e.what());
        }
        r.state = std::string(to_string(status.state));
        if (!status.done) {
            say(fmt::format("  Status: {} (still pending)", status.state));
            if (job.status != TrackedStatus::pending) tracker.reset_to_pending(job.job_name);
            r.status = TrackedStatus::pending;
            return Outcome::pending;
        }
        say(fmt::format("  Status: {}", status.state));
        const bool ended_early = status.state == JobState::cancelled || status.state == JobState::expired;
        const bool failed = status.state == JobState::failed || (status.state == JobState::succeeded && status.error);
        const bool cancelled = status.state == JobState::cancelled;
        if (failed || (ended_early && status.results_location == ResultsLocation::none)) {
            const std::string message = status.error && !status.error->message.empty()
                                            ? status.error->message
                                            : fmt::format("state {}", status.state);
            if (failed || job.request_keys.empty() || saved_before) return job_failed("Batch job failed", message, cancelled);
            // Ended before any request finished: every request is saved as CANCELLED / EXPIRED, so
            // the results file tells what became of each and a resubmit can take them all.
            const auto saved = store.save_streamed(job.source, job, job.provider, [&](const OutcomeSink& sink) {
                for (std::size_t i = 0; i < job.request_keys.size(); ++i)
                    sink(missing_outcome(i, job.request_keys[i], status.state));
            });
            r.saved = saved.saved;
            r.failed_requests = saved.failed_indices.size();
            r.saved_to = saved.where;
            say(fmt::format("  Saved {} result(s) to {}", saved.saved, saved.where));
            return job_failed(cancelled ? "Batch job cancelled" : "Batch job expired", message, cancelled);
        }

        // Results stream from the provider into the store; only once they are saved is the job
        // marked (which also restores the state file's completion mark).
        SavedResults saved;
        try {
            saved = store.save_streamed(job.source, job, job.provider, [&](const OutcomeSink& sink) {
                // The count submitted, not the provider's word, says how many results to expect.
                FetchOptions options;
                options.request_count = job.request_keys.size();
                service.stream_batch_results(job.provider, status, sink, options);
            });
        } catch (const JobFailed& e) {
            if (saved_before) return keep_completed(e.what());
            return job_failed("Batch job failed", e.what(), e.state() == "CANCELLED");
        } catch (const ResultsMissing& e) {
            if (saved_before) return keep_completed(e.what());
            return job_failed("No results returned", e.what(), false);
        } catch (const ProviderError& e) {
            return keep_pending(e.what());
        } catch (const InvalidArgument& e) {  // e.g. an empty results download: nothing is saved
            return keep_pending(e.what());
        }
        r.saved = saved.saved;
        r.failed_requests = saved.failed_indices.size();
        r.usage = saved.usage;
        r.usage_by_model = std::move(saved.usage_by_model);
        r.saved_to = saved.where;
        say(fmt::format("  Saved {} result(s) to {}", saved.saved, saved.where));
        if (ended_early) {
            const std::string message = fmt::format(
                "the job {} before finishing; the results of its finished requests were saved",
                cancelled ? "was cancelled" : "expired");
            return job_failed(cancelled ? "Batch job cancelled" : "Batch job expired", message, cancelled);
        }
        tracker.mark_completed(job.job_name, clock.utc_now());
        r.status = TrackedStatus::completed;
        if (!saved.failed_indices.empty())
            say(fmt::format("  Warning: {} request(s) failed (indices {}); saved as errors, resubmit them with "
                            "the failed subset",
                            saved.failed_indices.size(), fmt::join(saved.failed_indices, ", ")));
        return Outcome::completed;
    };

    auto process = [&](const TrackedJob& job) {
        FetchedJobReport r;
        r.job_name = job.job_name;
        r.source = job.source;
        r.batch_index = job.batch_index;
        r.refetched = std::find(refetched_names.begin(), refetched_names.end(), job.job_name) != refetched_names.end();
        r.status = job.status;
        say("");
        say(fmt::format("Job {}", detail::describe(job)));
        ++report.summary.checked;
        switch (check(job, r)) {
            case Outcome::completed: ++report.summary.completed; break;
            case Outcome::failed: ++report.summary.failed; break;
            case Outcome::pending: ++report.summary.still_pending; break;
        }
        report.jobs.push_back(std::move(r));
        return report.jobs.back().status;
    };
    for (const auto& job : jobs) process(job);
    if constexpr (ClaimingJobStore<Store>) {
        if (selection.worker) {
            // Jobs still pending stay claimed until the end, so this run does not take them again.
            std::vector<std::string> still_pending;
            for (;;) {
                const auto claimed = tracker.claim_pending(selection.worker->name, selection.worker->lease,
                                                           selection.worker->claim_size);
                if (claimed.empty()) break;
                for (const auto& job : claimed)
                    if (process(job) == TrackedStatus::pending) still_pending.push_back(job.job_name);
            }
            for (const auto& name : still_pending) tracker.release(selection.worker->name, name);
        }
    }

    say("");
    say(std::string(60, '='));
    say("Summary:");
    say(fmt::format("  Checked: {}", report.summary.checked));
    say(fmt::format("  Completed: {}", report.summary.completed));
    say(fmt::format("  Failed: {}", report.summary.failed));
    say(fmt::format("  Still pending: {}", report.summary.still_pending));
    if (report.summary.refetch_requested) say(fmt::format("  Refetched: {}", report.summary.refetched));
    say(std::string(60, '='));
    return report;
}

}  // namespace llmbatch
