#pragma once
/// @file commands/refresh_errors.hpp
/// `llmbatch refresh-errors`: ask the provider again about failed jobs.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/model.hpp"
#include "llmbatch/any_job_store.hpp"

#include "../context.hpp"

namespace llmbatch::cli::detail {

/// `llmbatch refresh-errors`: its options and help.
[[nodiscard]] inline CommandSpec refresh_errors_spec() {
    return {"refresh-errors",
         "refresh-errors [--job-names N...]",
         "Ask the provider again about failed jobs",
         {{"--job-names", Arity::many, "N...", "these jobs (default: every failed job)"}},
         "A failed job that actually succeeded (or is still running) is reset to pending, so the next\n"
         "fetch saves its results; otherwise its error message is updated."};
}

[[nodiscard]] inline std::vector<TrackedJob> failed_jobs(const AnyJobStore& tracker) {
    auto jobs = tracker.jobs();
    std::erase_if(jobs, [](const TrackedJob& j) { return j.status != TrackedStatus::failed; });
    return jobs;
}

template <class B>
int refresh_errors(Context<B>& ctx) {
    const auto jobs = ctx.args.has("--job-names") ? ctx.named_jobs() : failed_jobs(ctx.tracker);
    ctx.configure();
    nlohmann::ordered_json records = nlohmann::ordered_json::array();
    std::size_t updated = 0, reset = 0, skipped = 0;
    bool trouble = false;
    if (jobs.empty()) ctx.say("No failed jobs to refresh");
    else ctx.say(fmt::format("Refreshing {} job(s)...", jobs.size()));
    for (const auto& job : jobs) {
        ctx.say("");
        ctx.say(fmt::format("Job {}", ::llmbatch::detail::describe(job)));
        nlohmann::ordered_json record{{"job_name", job.job_name}, {"source", job.source}, {"batch_index", job.batch_index}};
        auto done = [&](std::string_view outcome, const std::string& state, const std::string& message) {
            record["outcome"] = outcome;
            record["state"] = state.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(state);
            record["error"] = message.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(message);
            records.push_back(record);
        };
        if (job.status != TrackedStatus::failed) {
            ctx.say(fmt::format("  Skipped: Job status is '{}', not 'failed'", to_string(job.status)));
            ++skipped;
            done("skipped", "", "");
            continue;
        }
        BatchJob status;
        try {
            status = ctx.backend.service().get_batch_job_status(job.provider, job.job_name);
        } catch (const std::exception& e) {
            ctx.say(fmt::format("  Error checking job: {}", e.what()));
            ++skipped;
            trouble = true;
            done("error", "", e.what());
            continue;
        }
        const std::string state(to_string(status.state));
        if (status.state == JobState::succeeded && !status.error) {
            ctx.say("  Job actually succeeded! Resetting to pending...");
            ctx.tracker.reset_to_pending(job.job_name);
            ++reset;
            done("reset", state, "");
        } else if (!status.done) {
            ctx.say(fmt::format("  Job is still {}! Resetting to pending...", state));
            ctx.tracker.reset_to_pending(job.job_name);
            ++reset;
            done("reset", state, "");
        } else if (status.error && !status.error->message.empty()) {
            ctx.say(fmt::format("  Updated error: {}", status.error->message));
            ctx.tracker.mark_failed(job.job_name, status.error->message);
            ++updated;
            done("updated", state, status.error->message);
        } else {
            ctx.say(fmt::format("  No error details available (job state: {})", state));
            ++skipped;
            done("skipped", state, "");
        }
    }
    ctx.say("");
    ctx.say(frame('=', 60));
    ctx.say("Summary:");
    ctx.say(fmt::format("  Updated with errors: {}", updated));
    ctx.say(fmt::format("  Actually succeeded (reset to pending): {}", reset));
    ctx.say(fmt::format("  Skipped: {}", skipped));
    ctx.say(frame('=', 60));
    if (reset > 0)
        ctx.say(fmt::format("Run 'llmbatch fetch --check-all-pending{}' to save their results.", ctx.same_files()));
    if (ctx.common.json)
        ctx.emit({{"command", "refresh-errors"},
                  {"jobs", records},
                  {"summary", {{"updated", updated}, {"reset_to_pending", reset}, {"skipped", skipped}}}});
    return trouble ? exit_failure : exit_success;
}

}  // namespace llmbatch::cli::detail
