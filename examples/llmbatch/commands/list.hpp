#pragma once
/// @file commands/list.hpp
/// `llmbatch list`: the tracked jobs as a framed table (or JSON), with each completed job's failed
/// requests and the jobs that resubmit them.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/model.hpp"
#include "llmbatch/result_store.hpp"
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
         "Under a completed job with failed requests, a line says how many failed and which job resubmits\n"
         "them (or the command that would); under a resubmit, which job it resubmits."};
}

/// What `list` says beside the jobs: failed requests per completed job (from the saved results)
/// and which jobs resubmit which.
struct JobNotes {
    std::map<std::string, std::pair<std::size_t, std::size_t>> failed;  ///< job: (failed, saved) requests
    std::map<std::string, std::vector<std::string>> resubmits;          ///< job: the jobs resubmitting it

    JobNotes(const std::vector<TrackedJob>& all, const ResultStore& store) {
        std::set<std::string> sources;
        for (const auto& j : all) {
            if (j.status == TrackedStatus::completed) sources.insert(j.source);
            if (const auto it = j.labels.find("resubmit_of"); it != j.labels.end())
                resubmits[it->second].push_back(j.job_name);
        }
        for (const auto& source : sources) {
            try {
                store.for_each(source, [&](const Json& line) {
                    auto& [bad, saved] = failed[line.at("job").get<std::string>()];
                    ++saved;
                    if (line.value("status", "") == "error") ++bad;
                });
            } catch (const std::exception&) {
                // An unreadable results file is reported by the commands that read it; list shows the jobs.
            }
        }
    }

    [[nodiscard]] std::size_t failed_of(const std::string& job) const {
        const auto it = failed.find(job);
        return it == failed.end() ? 0 : it->second.first;
    }
};

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
    const JobNotes notes(status ? ctx.tracker.jobs() : jobs, ctx.store);
    if (ctx.common.json) {
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const auto& j : jobs) {
            auto doc = job_json(j);
            if (j.status == TrackedStatus::completed) doc["failed_requests"] = notes.failed_of(j.job_name);
            const auto it = notes.resubmits.find(j.job_name);
            doc["resubmitted_by"] = it == notes.resubmits.end() ? std::vector<std::string>{} : it->second;
            list.push_back(std::move(doc));
        }
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
        if (const auto it = j.labels.find("resubmit_of"); it != j.labels.end())
            ctx.say(fmt::format("  Resubmits the failed requests of {}", it->second));
        if (const auto bad = notes.failed_of(j.job_name); bad > 0 && j.status == TrackedStatus::completed) {
            const auto by = notes.resubmits.find(j.job_name);
            ctx.say(by != notes.resubmits.end()
                        ? fmt::format("  {} of {} request(s) failed; resubmitted as {}", bad,
                                      notes.failed.at(j.job_name).second, fmt::join(by->second, ", "))
                        : fmt::format("  {} of {} request(s) failed; to retry them: llmbatch create --resubmit-failed "
                                      "{} --prompts <the prompts file>{}",
                                      bad, notes.failed.at(j.job_name).second, j.job_name, ctx.same_files()));
        }
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
