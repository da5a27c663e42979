#pragma once
/// @file commands/submit.hpp
/// Sending one batch to the provider and recording the job it becomes (`submit_batch`), shared by
/// `create` and `create --resubmit-failed`.

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "llmbatch/model.hpp"
#include "llmbatch/service_types.hpp"
#include "llmbatch/tracking.hpp"

#include "../context.hpp"

namespace llmbatch::cli::detail {

[[nodiscard]] inline std::string duplicate_message(std::int64_t index, const std::string& source, const std::string& job) {
    return fmt::format("Batch {} of '{}' already has a pending job, '{}'; wait for it or cancel it, or use --force to "
                       "create a second job.",
                       index, source, job);
}

[[nodiscard]] inline std::string display_name(const std::string& prefix, const std::string& source, std::int64_t index,
                                              std::string_view suffix = {}) {
    std::string name = fmt::format("{}{} batch {}{}", prefix, source, index, suffix);
    if (name.size() > 128) name.resize(128);
    return name;
}

/// Records a job just created at the provider. A pending job that appeared meanwhile (another
/// process) does not make us lose this one: it is then tracked too, with a warning.
/// @returns a warning to print, or an empty string.
inline std::string track_new_job(JobTracker& tracker, const TrackedJob& job, bool force) {
    try {
        tracker.add(job, force);
        return {};
    } catch (const DuplicateJobError& e) {
        tracker.add(job, true);
        return fmt::format("another pending job for this batch appeared meanwhile ({}); both are tracked",
                           e.existing_job());
    }
}

/// What became of one batch sent to the provider.
struct Submission {
    TrackedJob job{};       ///< as recorded (its job_name is empty when no job was created)
    std::string warning{};  ///< a note from the tracker (another pending job appeared meanwhile)
    std::string error{};    ///< why the job was not created, or not recorded
    bool created = false;   ///< the provider created the job
    bool tracked = false;   ///< and it is in the tracking file
};

/// Creates one job at the provider with `payload`, then records `job` (with the provider's name
/// for it and the creation time) in the tracker right after.
template <class B>
Submission submit_batch(Context<B>& ctx, const BatchPayload& payload, const CreateOptions& options, TrackedJob job,
                        bool force) {
    Submission s;
    CreatedBatchJob created;
    try {
        created = ctx.backend.service().create_batch_job_on(ctx.backend.target_provider(), payload, options);
    } catch (const std::exception& e) {
        s.error = e.what();
        return s;
    }
    s.created = true;
    job.provider = created.provider_name;
    job.job_name = created.job_name;
    job.created_at = ctx.backend.clock().utc_now();
    s.job = job;
    try {
        s.warning = track_new_job(ctx.tracker, job, force);
        s.tracked = true;
    } catch (const std::exception& e) {
        s.error = e.what();
    }
    return s;
}

}  // namespace llmbatch::cli::detail
