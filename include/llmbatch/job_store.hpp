#pragma once
/// @file job_store.hpp
/// The `JobStore` concept: where a batch tool keeps its jobs (which batch of which source each
/// job covers, what became of it), the creates in flight, and which batches are done. The fetch
/// workflow (workflow.hpp) and tracked creates (tracked_create.hpp) are written against it.
///
/// Models:
/// - `JobTracker` (tracking.hpp): the user's document's tracking and state JSON files (default);
/// - `SqliteJobStore` (stores/sqlite.hpp, when SQLite is available): one database file, for many
///   jobs and concurrent processes on one machine.
///
/// Every model keeps the same rules, checked by the store contract suite
/// (tests/stores/contract.hpp):
/// - each change is atomic and durable once it returns; a failed change changes nothing;
/// - `add` and `begin_create` refuse a batch that has a pending job or an open create
///   (`DuplicateJobError`) unless forced; job names are unique;
/// - `mark_completed` marks the batch completed before (or with) the job, so a crash never leaves a
///   completed job whose batch is not marked;
/// - `reset_to_pending` keeps the batch's completion mark;
/// - `jobs()` and the selections return jobs in creation order;
/// - unknown job names are `InvalidArgument`; an unusable store is `TrackingFileError` (files) or
///   the model's own typed error, and is never overwritten.
///
/// | member (for `S& s`, `const S& c`)                        | does                                      |
/// |----------------------------------------------------------|-------------------------------------------|
/// | `c.jobs()`, `c.pending()` -> `std::vector<TrackedJob>`   | every job / the pending ones              |
/// | `c.find(name)` -> `std::optional<TrackedJob>`            | one job                                   |
/// | `c.select_refetch(hours, now)`                           | completed jobs created within `hours`     |
/// | `c.completed_batches(source)` -> `std::set<int64_t>`     | the batches of `source` marked completed  |
/// | `c.is_batch_completed(source, index)` -> `bool`          |                                           |
/// | `c.open_creates()` -> `std::vector<CreateIntent>`        | creates recorded and not settled          |
/// | `c.description()` -> `std::string`                       | what to call the store in messages        |
/// | `s.add(job, force)`, `s.update(name, change)`            | track a job; change one                   |
/// | `s.mark_completed(name, time)`, `s.mark_failed(name, message)`, `s.mark_cancelled(name, message)` | |
/// | `s.reset_to_pending(name)`, `s.unmark_completed(source, index)` |                                    |
/// | `s.begin_create(intent, force)`, `s.finish_create(token, name)` -> `TrackedJob`, `s.abandon_create(token)` | |

#include <chrono>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "llmbatch/tracked_job.hpp"
#include "llmbatch/tracking.hpp"

namespace llmbatch {

/// A job store's backing database failed (could not be opened, locked beyond its timeout, disk
/// full, ...). The change in progress was rolled back; nothing was written.
class StoreError : public Error {
public:
    StoreError(std::string message, std::filesystem::path path) : Error(std::move(message)), path_(std::move(path)) {}

    /// The store's file (or what names it).
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

/// A store of tracked jobs, creates in flight and completed batches (see the file comment).
template <class S>
concept JobStore = requires(S& s, const S& c, const TrackedJob& job, const std::string& text, std::int64_t index,
                            double hours, std::chrono::system_clock::time_point time, const CreateIntent& intent,
                            const std::function<void(TrackedJob&)>& change, bool force) {
    { c.jobs() } -> std::same_as<std::vector<TrackedJob>>;
    { c.pending() } -> std::same_as<std::vector<TrackedJob>>;
    { c.find(text) } -> std::same_as<std::optional<TrackedJob>>;
    { c.select_refetch(hours, time) } -> std::same_as<std::vector<TrackedJob>>;
    { c.completed_batches(text) } -> std::same_as<std::set<std::int64_t>>;
    { c.is_batch_completed(text, index) } -> std::convertible_to<bool>;
    { c.open_creates() } -> std::same_as<std::vector<CreateIntent>>;
    { c.description() } -> std::convertible_to<std::string>;
    s.add(job, force);
    s.update(text, change);
    s.mark_completed(text, time);
    s.mark_failed(text, text);
    s.mark_cancelled(text, text);
    s.reset_to_pending(text);
    s.unmark_completed(text, index);
    s.begin_create(intent, force);
    { s.finish_create(text, text) } -> std::same_as<TrackedJob>;
    s.abandon_create(text);
};

static_assert(JobStore<JobTracker>);

}  // namespace llmbatch
