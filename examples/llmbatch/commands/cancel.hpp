#pragma once
/// @file commands/cancel.hpp
/// `llmbatch cancel`: cancel pending jobs at their provider.

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
#include "llmbatch/tracking.hpp"

#include "../context.hpp"

namespace llmbatch::cli::detail {

/// `llmbatch cancel`: its options and help.
[[nodiscard]] inline CommandSpec cancel_spec() {
    return {"cancel",
         "cancel (--job-names N... | --cancel-all-pending)",
         "Cancel pending jobs at the provider",
         {{"--job-names", Arity::many, "N...", "these jobs (only pending ones are cancelled)"},
          {"--cancel-all-pending", Arity::flag, "", "every pending job"}},
         ""};
}

template <class B>
int cancel(Context<B>& ctx) {
    const bool by_names = ctx.args.has("--job-names");
    const bool all = ctx.args.flag("--cancel-all-pending");
    if (!by_names && !all) throw UsageError("Must specify either --job-names or --cancel-all-pending");
    if (by_names && all) throw UsageError("Specify either --job-names or --cancel-all-pending, not both");
    const auto jobs = by_names ? ctx.named_jobs() : ctx.tracker.pending();
    ctx.configure();
    nlohmann::ordered_json records = nlohmann::ordered_json::array();
    std::size_t cancelled = 0, failed = 0, skipped = 0;
    if (jobs.empty()) ctx.say("No pending jobs to cancel");
    else ctx.say(fmt::format("Cancelling {} job(s)...", jobs.size()));
    for (const auto& job : jobs) {
        ctx.say("");
        ctx.say(fmt::format("Job {}", ::llmbatch::detail::describe(job)));
        nlohmann::ordered_json record{{"job_name", job.job_name}, {"source", job.source}, {"batch_index", job.batch_index}};
        if (job.status != TrackedStatus::pending) {
            ctx.say(fmt::format("  Skipped: Job status is '{}', not 'pending'", to_string(job.status)));
            ++skipped;
            record["outcome"] = "skipped";
            record["error"] = nullptr;
            records.push_back(record);
            continue;
        }
        try {
            ctx.backend.service().cancel_batch_job(job.provider, job.job_name);
        } catch (const std::exception& e) {
            ctx.say(fmt::format("  Failed to cancel: {} (still pending)", e.what()));
            ++failed;
            record["outcome"] = "failed";
            record["error"] = e.what();
            records.push_back(record);
            continue;
        }
        ctx.tracker.mark_cancelled(job.job_name, "Cancelled by user.");
        ctx.say("  Cancelled");
        ++cancelled;
        record["outcome"] = "cancelled";
        record["error"] = nullptr;
        records.push_back(record);
    }
    ctx.say("");
    ctx.say(frame('=', 60));
    ctx.say("Summary:");
    ctx.say(fmt::format("  Cancelled: {}", cancelled));
    ctx.say(fmt::format("  Failed to cancel: {}", failed));
    ctx.say(fmt::format("  Skipped (not pending): {}", skipped));
    ctx.say(frame('=', 60));
    if (ctx.common.json)
        ctx.emit({{"command", "cancel"},
                  {"jobs", records},
                  {"summary", {{"cancelled", cancelled}, {"failed", failed}, {"skipped", skipped}}}});
    return failed > 0 ? exit_failure : exit_success;
}

}  // namespace llmbatch::cli::detail
