#pragma once
/// @file commands/show.hpp
/// `llmbatch show JOB`: one job as tracked, as its provider sees it now, and its saved results.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/time.hpp"
#include "llmbatch/model.hpp"

#include "../context.hpp"
#include "../prices.hpp"
#include "../results_table.hpp"

namespace llmbatch::cli::detail {

/// `llmbatch show`: its options and help.
[[nodiscard]] inline CommandSpec show_spec() {
    return {"show",
            "show JOB... [--results K]",
            "Show a job: as tracked, at its provider now, and its saved results",
            {{"--job-names", Arity::many, "N...", "the jobs (the same as naming them right after show)"},
             {"--results", Arity::one, "K", "how many saved results to print per job (default 10; 0: none)"},
             {"--prices", Arity::one, "FILE", "estimate what the saved requests cost from these token prices"}},
            "The provider is asked for the job's state and request counts; when it cannot be reached\n"
            "the tracked record and the saved results are still shown (exit code 1).\n\n"
            "A prices file (--prices, for show and fetch) is JSON: the listed price per million tokens of each\n"
            "model; batch jobs cost half of it unless \"batch_discount\" says otherwise. A model is priced by\n"
            "the longest name it starts with; thinking is priced as output unless given:\n"
            "  {\"currency\": \"USD\", \"batch_discount\": 0.5, \"models\": {\"gemini-2.5-flash\":\n"
            "    {\"input\": 0.30, \"output\": 2.50, \"thinking\": 2.50, \"cached_input\": 0.03}}}"};
}

/// The start of `text` on one line, at most `n` characters.
[[nodiscard]] inline std::string one_line(std::string text, std::size_t n) {
    std::replace(text.begin(), text.end(), '\n', ' ');
    if (text.size() > n) text = text.substr(0, n) + "...";
    return text;
}

template <class B>
int show(Context<B>& ctx) {
    const auto jobs = ctx.named_jobs();
    if (jobs.empty()) throw UsageError("show needs a job name: llmbatch show JOB");
    std::size_t limit = 10;
    if (const auto k = ctx.args.value("--results"))
        limit = *k == "0" ? 0 : positive_integer("--results", *k);
    std::optional<PriceList> prices;
    if (const auto file = ctx.args.value("--prices")) prices = PriceList::load(*file);
    ctx.configure();
    bool trouble = false;
    nlohmann::ordered_json docs = nlohmann::ordered_json::array();
    for (const auto& job : jobs) {
        auto doc = job_json(job);
        ctx.say(fmt::format("Job {}", job.job_name));
        ctx.say(fmt::format("  Provider: {}", job.provider));
        ctx.say(fmt::format("  Source: {} (batch {}, {} request(s))", job.source, job.batch_index, job.request_keys.size()));
        ctx.say(fmt::format("  Created: {}", ::llmbatch::detail::format_rfc3339(job.created_at, false)));
        ctx.say(fmt::format("  Tracked status: {}{}", to_string(job.status),
                            job.completed_at ? " (completed " + ::llmbatch::detail::format_rfc3339(*job.completed_at, false) + ")"
                                             : std::string()));
        if (!job.error_message.empty()) ctx.say(fmt::format("  Error: {}", job.error_message));
        for (const auto& [k, v] : job.labels) ctx.say(fmt::format("  Label: {}={}", k, v));

        try {
            const auto status = ctx.backend.service().get_batch_job_status(job.provider, job.job_name);
            const auto& c = status.counts;
            const bool counts_known = status.done || !status.counts_final_only_at_end;
            ctx.say(fmt::format("  At the provider: {}{}", status.state,
                                counts_known ? fmt::format(" ({} succeeded, {} failed, {} pending, {} cancelled, {} expired "
                                                           "of {})",
                                                           c.succeeded, c.failed, c.pending, c.cancelled, c.expired, c.total)
                                             : std::string(" (counts are given when the job ends)")));
            doc["provider_state"] = std::string(to_string(status.state));
            doc["provider_counts"] = {{"total", c.total},         {"succeeded", c.succeeded}, {"failed", c.failed},
                                      {"pending", c.pending},     {"cancelled", c.cancelled}, {"expired", c.expired}};
        } catch (const Error& e) {
            trouble = true;
            ctx.say(fmt::format("  At the provider: could not be checked: {}", e.what()));
            doc["provider_state"] = nullptr;
            doc["provider_error"] = e.what();
        }

        std::size_t saved = 0, failed = 0;
        TokenUsage usage;
        std::map<std::string, TokenUsage> by_model;
        nlohmann::ordered_json results = nlohmann::ordered_json::array();
        std::vector<std::string> printed;
        ctx.store.for_each(job.source, [&](const Json& line) {
            if (line.at("job") != job.job_name) return;
            ++saved;
            const auto row = table_row(line);  // source, key, status, text, job, batch, index, error status, message
            if (row[2] != "ok") ++failed;
            if (const auto u = saved_usage(line)) {
                usage += *u;
                by_model[line.value("model", std::string())] += *u;
            }
            if (printed.size() >= limit) return;
            printed.push_back(row[2] == "ok"
                                  ? fmt::format("    [{}] {}: {}", row[6], row[1], one_line(row[3], 100))
                                  : fmt::format("    [{}] {}: {} {}", row[6], row[1], row[7], one_line(row[8], 100)));
            results.push_back(nlohmann::ordered_json::parse(line.dump()));
        });
        const auto cost = prices ? std::optional(prices->estimate(by_model)) : std::nullopt;
        if (saved == 0) {
            ctx.say("  Saved results: none yet");
        } else {
            ctx.say(fmt::format("  Saved results: {} line(s) in {}, {} failed", saved,
                                ctx.store.path_for(job.source).string(), failed));
            if (usage.input + usage.output + usage.thinking > 0)
                ctx.say("  " + tokens_line(usage));
            if (cost) ctx.say("  " + prices->describe(*cost));
            for (const auto& line : printed) ctx.say(line);
            if (saved > printed.size()) ctx.say(fmt::format("    ... and {} more", saved - printed.size()));
        }
        doc["saved_results"] = saved;
        doc["failed_results"] = failed;
        doc["usage"] = {{"input", usage.input}, {"output", usage.output}, {"thinking", usage.thinking}};
        if (cost) doc["cost"] = prices->to_json(*cost);
        doc["results"] = std::move(results);
        docs.push_back(std::move(doc));
    }
    if (ctx.common.json) ctx.emit({{"command", "show"}, {"jobs", std::move(docs)}});
    return trouble ? exit_failure : exit_success;
}

}  // namespace llmbatch::cli::detail
