#pragma once
/// @file commands/fetch.hpp
/// `llmbatch fetch`: `fetch_tracked_jobs` (workflow.hpp) over the tracked jobs.

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
#include "llmbatch/workflow.hpp"

#include "../context.hpp"

namespace llmbatch::cli::detail {

/// `llmbatch fetch`: its options and help.
[[nodiscard]] inline CommandSpec fetch_spec() {
    return {"fetch",
         "fetch (--job-names N... | --check-all-pending | --refetch-hours H)",
         "Check tracked jobs and save the results of finished ones",
         {{"--job-names", Arity::many, "N...", "these jobs, whatever their status"},
          {"--check-all-pending", Arity::flag, "", "every pending job (may be combined with --job-names)"},
          {"--refetch-hours", Arity::one, "H", "fetch again the completed jobs created within the last H hours (e.g. 0.5)"}},
         "Results are saved to <output-dir>/<source>.jsonl (a refetch replaces a job's lines); a job\n"
         "is marked completed only after its results are saved. A job that cannot be checked (network,\n"
         "quota, server error) stays pending. --refetch-hours cannot be combined with the other two."};
}

/// After the summary: the command that retries the failed requests of each job that has some.
template <class B>
void say_how_to_resubmit(Context<B>& ctx, const FetchReport& report) {
    for (const auto& r : report.jobs)
        if (r.failed_requests > 0)
            ctx.say(fmt::format("{} request(s) of {} failed; to retry them: llmbatch create --resubmit-failed {} "
                                "--prompts <the prompts file>{}",
                                r.failed_requests, r.job_name, r.job_name, ctx.same_files()));
}

template <class B>
int fetch(Context<B>& ctx) {
    FetchSelection selection;
    selection.job_names = ctx.args.values("--job-names");
    selection.all_pending = ctx.args.flag("--check-all-pending");
    if (const auto hours = ctx.args.value("--refetch-hours"))
        selection.refetch_hours = positive_number("--refetch-hours", *hours, "hours");
    ctx.configure();
    bool spoke = false;
    const LineSink sink = [&](std::string_view line) {
        spoke = true;
        ctx.say(line);
    };
    FetchReport report;
    try {
        report = fetch_tracked_jobs(ctx.backend.service(), ctx.tracker, ctx.store, selection, ctx.backend.clock(), sink);
    } catch (const UsageError&) {
        throw;
    } catch (const InvalidArgument& e) {
        if (!spoke) throw UsageError(e.what());  // a bad selection: nothing was changed
        throw;
    }
    say_how_to_resubmit(ctx, report);
    bool trouble = report.summary.failed > 0;
    nlohmann::ordered_json jobs = nlohmann::ordered_json::array();
    for (const auto& r : report.jobs) {
        if (!r.error.empty()) trouble = true;
        jobs.push_back({{"job_name", r.job_name},
                        {"source", r.source},
                        {"batch_index", r.batch_index},
                        {"state", r.state},
                        {"status", to_string(r.status)},
                        {"refetched", r.refetched},
                        {"saved", r.saved},
                        {"failed_requests", r.failed_requests},
                        {"saved_to", r.saved_to.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.saved_to)},
                        {"error", r.error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.error)}});
    }
    if (ctx.common.json) {
        nlohmann::ordered_json summary{{"checked", report.summary.checked},
                                       {"completed", report.summary.completed},
                                       {"failed", report.summary.failed},
                                       {"still_pending", report.summary.still_pending}};
        if (report.summary.refetch_requested) summary["refetched"] = report.summary.refetched;
        ctx.emit({{"command", "fetch"}, {"summary", summary}, {"jobs", jobs}});
    }
    return trouble ? exit_failure : exit_success;
}

}  // namespace llmbatch::cli::detail
