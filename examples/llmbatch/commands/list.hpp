#pragma once
/// @file commands/list.hpp
/// `llmbatch list`: the tracked jobs as a framed table (or JSON).

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

/// `llmbatch list`: its options and help.
[[nodiscard]] inline CommandSpec list_spec() {
    return {"list",
         "list [--status pending|completed|failed|cancelled] [--show-errors]",
         "List tracked jobs",
         {{"--status", Arity::one, "STATUS", "only jobs with this status"},
          {"--show-errors", Arity::flag, "", "show the error message of failed jobs"}},
         ""};
}

template <class B>
int list(Context<B>& ctx) {
    std::optional<TrackedStatus> status;
    if (const auto word = ctx.args.value("--status")) {
        status = parse_tracked_status(*word);
        if (!status)
            throw UsageError(fmt::format("--status takes pending, completed, failed or cancelled (got '{}')", *word));
    }
    const bool show_errors = ctx.args.flag("--show-errors");
    auto jobs = ctx.tracker.jobs();
    if (status) std::erase_if(jobs, [&](const TrackedJob& j) { return j.status != *status; });
    if (ctx.common.json) {
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const auto& j : jobs) list.push_back(job_json(j));
        ctx.emit({{"command", "list"}, {"total", jobs.size()}, {"jobs", list}});
        return exit_success;
    }
    if (jobs.empty()) {
        ctx.say(status ? fmt::format("No {} jobs in {}", to_string(*status), ctx.tracker.description())
                       : fmt::format("No jobs in {}", ctx.tracker.description()));
        return exit_success;
    }
    std::size_t name_w = 8, source_w = 6;
    for (const auto& j : jobs) {
        name_w = std::max(name_w, j.job_name.size());
        source_w = std::max(source_w, j.source.size());
    }
    auto row = [&](std::string_view name, std::string_view st, std::string_view source, std::string_view batch) {
        return fmt::format("{:<{}}  {:<9}  {:<{}}  {}", name, name_w, st, source, source_w, batch);
    };
    ctx.say(frame('=', 80));
    ctx.say(row("Job Name", "Status", "Source", "Batch"));
    ctx.say(frame('=', 80));
    std::size_t failed = 0;
    for (const auto& j : jobs) {
        ctx.say(row(j.job_name, to_string(j.status), j.source, std::to_string(j.batch_index)));
        if (j.status == TrackedStatus::failed) {
            ++failed;
            if (show_errors)
                ctx.say(fmt::format("  Error: {}", j.error_message.empty() ? std::string("(no message)") : j.error_message));
        }
    }
    ctx.say(frame('=', 80));
    ctx.say(fmt::format("Total: {} job(s)", jobs.size()));
    if (failed > 0 && !show_errors)
        ctx.say(fmt::format("Note: {} job(s) have failed. Use --show-errors to see error details.", failed));
    return exit_success;
}

}  // namespace llmbatch::cli::detail
