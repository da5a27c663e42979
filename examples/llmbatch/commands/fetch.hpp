#pragma once
/// @file commands/fetch.hpp
/// `llmbatch fetch`: `fetch_tracked_jobs` (workflow.hpp) over the tracked jobs.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <map>
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
#include "../prices.hpp"

namespace llmbatch::cli::detail {

/// `llmbatch fetch`: its options and help.
[[nodiscard]] inline CommandSpec fetch_spec() {
    return {"fetch",
         "fetch (--job-names N... | --check-all-pending | --refetch-hours H | --worker NAME)",
         "Check tracked jobs and save the results of finished ones",
         {{"--job-names", Arity::many, "N...", "these jobs, whatever their status"},
          {"--check-all-pending", Arity::flag, "", "every pending job (may be combined with --job-names)"},
          {"--refetch-hours", Arity::one, "H", "fetch again the completed jobs created within the last H hours (e.g. 0.5)"},
          {"--worker", Arity::one, "NAME", "the pending jobs, claimed a few at a time as worker NAME, so that workers "
                                           "sharing a PostgreSQL store never fetch the same job"},
          {"--lease-minutes", Arity::one, "M", "with --worker: how long a claim lasts; a worker that dies hands its jobs "
                                               "back after it (default 10)"},
          {"--claim-size", Arity::one, "N", "with --worker: jobs claimed at a time (default 10)"},
          {"--results-in-store", Arity::flag, "", "save the results in the PostgreSQL store instead of --output-dir "
                                                  "(write the files later with llmbatch export)"},
          {"--usage", Arity::flag, "", "after the summary, the tokens of the saved requests (always in --json)"},
          {"--prices", Arity::one, "FILE", "with the tokens, what they cost at batch prices "
                                           "(a JSON file of prices; see llmbatch show --help)"}},
         "Results are saved to <output-dir>/<source>.jsonl (a refetch replaces a job's lines); a job\n"
         "is marked completed only after its results are saved. A job that cannot be checked (network,\n"
         "quota, server error) stays pending. --refetch-hours cannot be combined with the other two.\n"
         "Workers (--worker) need a PostgreSQL store (--store postgresql://...); each worker needs its\n"
         "own name. Workers on several machines save their results in the database\n"
         "(--results-in-store), and llmbatch export writes the files from there."};
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

/// Runs the fetch on the command's store, saving to `results`; workers need a store that can
/// split the pending jobs.
template <class B, ResultSaver Results>
FetchReport fetch_selected(Context<B>& ctx, const FetchSelection& selection, const LineSink& sink, Results& results) {
    auto& service = ctx.backend.service();
    if (selection.worker) {
#ifdef LLMBATCH_HAVE_LIBPQ
        if (auto* pg = ctx.tracker.template get<PostgresJobStore>())
            return fetch_tracked_jobs(service, *pg, results, selection, ctx.backend.clock(), sink);
#endif
        throw UsageError(fmt::format("--worker needs a PostgreSQL store (--store postgresql://...): {} cannot split "
                                     "the pending jobs between workers",
                                     ctx.tracker.description()));
    }
    return fetch_tracked_jobs(service, ctx.tracker, results, selection, ctx.backend.clock(), sink);
}

/// `fetch_selected`, saving to the result files or, with `--results-in-store`, to the database.
template <class B>
FetchReport fetch_selected(Context<B>& ctx, const FetchSelection& selection, const LineSink& sink) {
    if (!ctx.args.flag("--results-in-store")) return fetch_selected(ctx, selection, sink, ctx.store);
#ifdef LLMBATCH_HAVE_LIBPQ
    if (ctx.common.store.kind == StoreSpec::Kind::postgresql) {
        PostgresResultStore results(ctx.common.store.location);
        return fetch_selected(ctx, selection, sink, results);
    }
#endif
    throw UsageError(fmt::format("--results-in-store needs a PostgreSQL store (--store postgresql://...), not {}",
                                 ctx.tracker.description()));
}

template <class B>
int fetch(Context<B>& ctx) {
    FetchSelection selection;
    selection.job_names = ctx.args.values("--job-names");
    selection.all_pending = ctx.args.flag("--check-all-pending");
    if (const auto hours = ctx.args.value("--refetch-hours"))
        selection.refetch_hours = positive_number("--refetch-hours", *hours, "hours");
    if (const auto name = ctx.args.value("--worker")) {
        FetchWorker worker;
        worker.name = *name;
        if (const auto m = ctx.args.value("--lease-minutes"))
            worker.lease = std::chrono::milliseconds(
                static_cast<std::int64_t>(positive_number("--lease-minutes", *m, "minutes") * 60'000.0));
        if (const auto n = ctx.args.value("--claim-size"))
            worker.claim_size = static_cast<int>(std::min<std::size_t>(positive_integer("--claim-size", *n), 10'000));
        selection.worker = std::move(worker);
        selection.all_pending = selection.job_names.empty() && !selection.refetch_hours;
    } else if (ctx.args.has("--lease-minutes") || ctx.args.has("--claim-size")) {
        throw UsageError("--lease-minutes and --claim-size go with --worker");
    }
    std::optional<PriceList> prices;
    if (const auto file = ctx.args.value("--prices")) prices = PriceList::load(*file);
    ctx.configure();
    bool spoke = false;
    const LineSink sink = [&](std::string_view line) {
        spoke = true;
        ctx.say(line);
    };
    FetchReport report;
    try {
        report = fetch_selected(ctx, selection, sink);
    } catch (const UsageError&) {
        throw;
    } catch (const InvalidArgument& e) {
        if (!spoke) throw UsageError(e.what());  // a bad selection: nothing was changed
        throw;
    }
    TokenUsage usage;
    std::map<std::string, TokenUsage> by_model;
    for (const auto& r : report.jobs) {
        usage += r.usage;
        for (const auto& [model, u] : r.usage_by_model) by_model[model] += u;
    }
    // The document's fetch output is kept as it is unless the tokens are asked for.
    if (ctx.args.flag("--usage") || prices) ctx.say(tokens_line(usage));
    const auto cost = prices ? std::optional(prices->estimate(by_model)) : std::nullopt;
    if (cost) ctx.say(prices->describe(*cost));
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
                        {"usage", {{"input", r.usage.input}, {"output", r.usage.output}, {"thinking", r.usage.thinking}}},
                        {"saved_to", r.saved_to.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.saved_to)},
                        {"error", r.error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.error)}});
    }
    if (ctx.common.json) {
        nlohmann::ordered_json summary{{"checked", report.summary.checked},
                                       {"completed", report.summary.completed},
                                       {"failed", report.summary.failed},
                                       {"still_pending", report.summary.still_pending}};
        if (report.summary.refetch_requested) summary["refetched"] = report.summary.refetched;
        summary["usage"] = {{"input", usage.input}, {"output", usage.output}, {"thinking", usage.thinking}};
        if (cost) summary["cost"] = prices->to_json(*cost);
        ctx.emit({{"command", "fetch"}, {"summary", summary}, {"jobs", jobs}});
    }
    return trouble ? exit_failure : exit_success;
}

}  // namespace llmbatch::cli::detail
