#pragma once
/// @file commands/create.hpp
/// `llmbatch create`: cut a prompts file into batches and create one provider batch job per batch;
/// `--resubmit-failed JOB` (resubmit.hpp) retries exactly the failed requests of a job.

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
#include <map>
#include <set>
#include <utility>

#include "../batch_plan.hpp"
#include "../prompts_file.hpp"
#include "resubmit.hpp"
#include "submit.hpp"

#include "../context.hpp"

namespace llmbatch::cli::detail {

/// `llmbatch create`: its options and help.
[[nodiscard]] inline CommandSpec create_spec() {
    return {"create",
         "create --prompts FILE [--batch-size N] [--sources S...] [--force] [--display-name-prefix P]\n"
         "       create --resubmit-failed JOB_NAME --prompts FILE [--force]",
         "Create batch jobs from a prompts file (one job per batch of prompts)",
         {{"--prompts", Arity::one, "FILE", "prompts as a JSON array or JSON Lines (required)"},
          {"--batch-size", Arity::one, "N", "prompts per batch job (default 10)"},
          {"--sources", Arity::many, "S...", "only these sources"},
          {"--force", Arity::flag, "", "create a job even when the batch already has a pending one"},
          {"--display-name-prefix", Arity::one, "P", "prefix of each job's display name"},
          {"--resubmit-failed", Arity::one, "JOB_NAME", "create a job with only the failed requests of that job"},
          {"--system-prompt", Arity::one, "FILE", "system prompt of every request"},
          {"--model", Arity::one, "NAME", "model of the provider the jobs go to (default: that provider's)"}},
         "Each item of the prompts file is one request:\n"
         "  {\"source\": \"History/gcse-history.md\", \"prompt\": \"...\"}\n"
         "  {\"source\": \"...\", \"prompts\": [\"...\", \"...\"], \"id\": \"q7\", \"labels\": {\"subject\": \"History\"}}\n"
         "Items are grouped by source (in file order); each source is cut into batches of --batch-size\n"
         "requests, and each batch becomes one batch job. Batches already completed are skipped; a batch\n"
         "with a pending job is refused unless --force."};
}

template <class B>
int create(Context<B>& ctx) {
    if (const auto original = ctx.args.value("--resubmit-failed")) return create_resubmit(ctx, *original);
    const auto file_path = ctx.args.value("--prompts");
    if (!file_path) throw UsageError("create needs --prompts FILE");
    const std::size_t batch_size = positive_integer("--batch-size", ctx.args.value("--batch-size").value_or("10"));
    const bool force = ctx.args.flag("--force");
    const std::string prefix = ctx.args.value("--display-name-prefix").value_or("");

    auto prompts = load_prompts(*file_path);
    if (ctx.args.has("--sources")) {
        std::vector<PromptSource> chosen;
        std::vector<std::string> unknown;
        for (const auto& name : ctx.args.values("--sources")) {
            if (std::any_of(chosen.begin(), chosen.end(), [&](const PromptSource& s) { return s.name == name; })) continue;
            if (const auto* s = prompts.find(name)) chosen.push_back(*s);
            else unknown.push_back(name);
        }
        if (!unknown.empty()) {
            std::vector<std::string> known;
            for (const auto& s : prompts.sources) known.push_back(s.name);
            throw UsageError(fmt::format("Source(s) not in prompts file '{}': {} (its sources: {})", *file_path,
                                         fmt::join(unknown, ", "), fmt::join(known, ", ")));
        }
        // Keep the file's order.
        std::vector<PromptSource> ordered;
        for (const auto& s : prompts.sources)
            if (std::any_of(chosen.begin(), chosen.end(), [&](const PromptSource& c) { return c.name == s.name; }))
                ordered.push_back(s);
        prompts.sources = std::move(ordered);
    }
    std::vector<std::vector<PlannedBatch>> plans;
    for (const auto& source : prompts.sources) plans.push_back(plan_batches(source, batch_size, prompts.path));

    // Read the tracking and state files before creating anything: a broken file stops us here.
    std::map<std::pair<std::string, std::int64_t>, std::string> pending;
    for (const auto& job : ctx.tracker.pending()) pending.emplace(std::make_pair(job.source, job.batch_index), job.job_name);
    std::vector<std::set<std::int64_t>> completed;
    for (const auto& source : prompts.sources) completed.push_back(ctx.tracker.completed_batches(source.name));

    BackendSettings settings;
    if (auto sp = ctx.args.value("--system-prompt")) settings.system_prompt = *sp;
    if (auto model = ctx.args.value("--model")) settings.model = *model;
    ctx.configure(settings);
    if (!ctx.common.json) ctx.err << "Using " << ctx.backend.description() << ".\n";
    // Creates an earlier run left in flight are settled first: their jobs are tracked, or their
    // batches freed, or (still in doubt) kept reserved.
    const auto settled = settle_earlier_creates(ctx);
    for (const auto& job : ctx.tracker.pending()) pending.emplace(std::make_pair(job.source, job.batch_index), job.job_name);

    ctx.say(fmt::format("Loaded {} prompt(s) from {} source(s) in {}", prompts.prompt_count(), prompts.sources.size(),
                        *file_path));
    std::size_t total_batches = 0, skipped = 0, created_count = 0, refused = 0, failed = 0;
    bool stopped = false;
    nlohmann::ordered_json jobs = nlohmann::ordered_json::array();
    for (std::size_t s = 0; s < prompts.sources.size() && !stopped; ++s) {
        const auto& source = prompts.sources[s];
        ctx.say("");
        ctx.say(fmt::format("Processing {} ({} prompts)...", source.name, source.items.size()));
        for (const auto& batch : plans[s]) {
            ++total_batches;
            nlohmann::ordered_json record{{"source", batch.source}, {"batch_index", batch.index},
                                          {"requests", batch.items.size()}};
            auto finish = [&](std::string_view outcome, const std::string& job_name, const std::string& error) {
                record["outcome"] = outcome;
                record["job_name"] = job_name.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(job_name);
                record["error"] = error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(error);
                jobs.push_back(record);
            };
            if (completed[s].count(batch.index)) {
                ctx.say(fmt::format("  Batch {}: Already completed (skipping)", batch.index));
                ++skipped;
                finish("skipped", "", "");
                continue;
            }
            const auto key = std::make_pair(batch.source, batch.index);
            if (const auto it = pending.find(key); !force && it != pending.end()) {
                const auto message = duplicate_message(batch.index, batch.source, it->second);
                ctx.say(fmt::format("  Batch {}: Refused - {}", batch.index, message));
                ++refused;
                finish("refused", "", message);
                continue;
            }
            TrackedJob job;
            job.source = batch.source;
            job.batch_index = batch.index;
            job.labels = batch.labels;
            job.request_keys = batch.keys();
            CreateOptions options;
            options.display_name = display_name(prefix, batch.source, batch.index);
            const auto submitted = submit_batch(ctx, batch.payload(), options, job, force);
            if (submitted.refused) {
                ctx.say(fmt::format("  Batch {}: Refused - {}", batch.index, submitted.error));
                ++refused;
                finish("refused", "", submitted.error);
                continue;
            }
            if (submitted.in_doubt) {
                ctx.say(fmt::format("  Batch {}: {}", batch.index, submitted.error));
                ctx.say("  No further batches are created now: run this create again to settle it first.");
                ++failed;
                finish("in_doubt", "", submitted.error);
                stopped = true;
                break;
            }
            if (!submitted.tracked) {
                ctx.say(fmt::format("  Batch {}: Failed to create job - {}", batch.index, submitted.error));
                ++failed;
                finish("failed", "", submitted.error);
                continue;
            }
            job = submitted.job;
            ctx.say(fmt::format("  Batch {}: Created job {}", batch.index, job.job_name));
            if (!submitted.note.empty()) ctx.say(fmt::format("  Batch {}: Note - {}", batch.index, submitted.note));
            ++created_count;
            pending[key] = job.job_name;
            finish("created", job.job_name, "");
        }
    }
    ctx.say("");
    ctx.say(frame('=', 60));
    ctx.say("Summary:");
    ctx.say(fmt::format("  Total sources: {}", prompts.sources.size()));
    ctx.say(fmt::format("  Total batches: {}", total_batches));
    ctx.say(fmt::format("  Skipped (already completed): {}", skipped));
    ctx.say(fmt::format("  Created jobs: {}", created_count));
    ctx.say(fmt::format("  Refused (pending job exists): {}", refused));
    ctx.say(fmt::format("  Failed: {}", failed));
    ctx.say(frame('=', 60));
    if (created_count > 0 && !stopped)
        ctx.say(fmt::format("Next: 'llmbatch wait{0}' to follow the jobs, then 'llmbatch fetch --check-all-pending{0}' "
                            "to save their results.",
                            ctx.same_files()));
    if (ctx.common.json)
        ctx.emit({{"command", "create"},
                  {"earlier_creates", settled},
                  {"jobs", jobs},
                  {"summary",
                   {{"total_sources", prompts.sources.size()},
                    {"total_batches", total_batches},
                    {"skipped", skipped},
                    {"created", created_count},
                    {"refused", refused},
                    {"failed", failed}}}});
    if (failed > 0) return exit_failure;
    return refused > 0 ? exit_refused : exit_success;
}

}  // namespace llmbatch::cli::detail
