#pragma once
/// @file commands/resubmit.hpp
/// `llmbatch create --resubmit-failed JOB`: one new job with exactly the failed requests of a job,
/// read from its saved results, sent to that job's provider (unless `--provider` says otherwise).

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/model.hpp"
#include "llmbatch/tracking.hpp"

#include "../context.hpp"
#include "../prompts_file.hpp"
#include "submit.hpp"

namespace llmbatch::cli::detail {

template <class B>
int create_resubmit(Context<B>& ctx, const std::string& original_name) {
    const auto file_path = ctx.args.value("--prompts");
    if (!file_path) throw UsageError("create --resubmit-failed needs --prompts FILE (the file the job was created from)");
    const auto original = ctx.tracker.find(original_name);
    if (!original)
        throw UsageError(fmt::format("Unknown job name, not in {}: {}", ctx.tracker.description(), original_name));
    const auto prompts = load_prompts(*file_path);
    const auto* source = prompts.find(original->source);
    if (!source)
        throw UsageError(fmt::format("Source '{}' of job {} is not in prompts file '{}'.", original->source,
                                     original_name, *file_path));
    const auto lines = ctx.store.load(original->source);
    if (std::none_of(lines.begin(), lines.end(), [&](const Json& l) { return l.at("job") == original_name; }))
        throw UsageError(fmt::format(
            "Job {} has no saved results in {}; fetch it first (llmbatch fetch --job-names {}{}){}.", original_name,
            ctx.store.path_for(original->source).string(), original_name, ctx.same_files(),
            ctx.common.store.kind == StoreSpec::Kind::postgresql
                ? fmt::format(", or write the results kept in the database (llmbatch export{})", ctx.same_files())
                : std::string()));
    const auto failed = ctx.store.failed_request_indices(original->source, original_name);
    nlohmann::ordered_json doc{{"command", "create"}, {"resubmit_of", original_name}};
    if (failed.empty()) {
        ctx.say(fmt::format("Job {} has no failed requests; nothing to resubmit.", original_name));
        doc["job_name"] = nullptr;
        doc["request_keys"] = nlohmann::ordered_json::array();
        if (ctx.common.json) ctx.emit(doc);
        return exit_success;
    }
    BatchPayload payload;
    std::vector<std::string> keys;
    for (const auto index : failed) {
        if (index >= original->request_keys.size())
            throw UsageError(fmt::format("Job {} tracks {} request key(s) but its results name failed request {}; the "
                                         "failed prompts cannot be identified.",
                                         original_name, original->request_keys.size(), index));
        const auto& key = original->request_keys[index];
        const auto* item = source->find(key);
        if (!item)
            throw UsageError(fmt::format("Request key '{}' of job {} is not in source '{}' of prompts file '{}'.", key,
                                         original_name, source->name, *file_path));
        payload.push_back(item->prompts);
        keys.push_back(key);
    }
    const bool force = ctx.args.flag("--force");
    BackendSettings settings;
    settings.provider = original->provider;  // unless --provider says otherwise
    if (auto sp = ctx.args.value("--system-prompt")) settings.system_prompt = *sp;
    if (auto model = ctx.args.value("--model")) settings.model = *model;
    ctx.configure(settings);
    if (!ctx.common.json) ctx.err << "Using " << ctx.backend.description() << ".\n";

    ctx.say(fmt::format("Resubmitting {} failed request(s) of {} ({} batch {})...", payload.size(), original_name,
                        original->source, original->batch_index));
    doc["source"] = original->source;
    doc["batch_index"] = original->batch_index;
    doc["request_keys"] = keys;
    if (!force)
        for (const auto& job : ctx.tracker.pending())
            if (job.source == original->source && job.batch_index == original->batch_index) {
                const auto message = duplicate_message(job.batch_index, job.source, job.job_name);
                ctx.say("  Refused - " + message);
                doc["job_name"] = nullptr;
                doc["error"] = message;
                if (ctx.common.json) ctx.emit(doc);
                return exit_refused;
            }
    TrackedJob job;
    job.source = original->source;
    job.batch_index = original->batch_index;
    job.labels = original->labels;
    job.labels["resubmit_of"] = original_name;
    job.request_keys = keys;
    CreateOptions options;
    options.display_name = display_name(ctx.args.value("--display-name-prefix").value_or(""), original->source,
                                        original->batch_index, " (resubmit)");
    const auto submitted = submit_batch(ctx, payload, options, job, force);
    if (!submitted.tracked) {
        ctx.say(fmt::format("  {} - {}", submitted.refused ? "Refused" : submitted.in_doubt ? "In doubt" : "Failed to create job",
                            submitted.error));
        doc["job_name"] = nullptr;
        doc["error"] = submitted.error;
        if (ctx.common.json) ctx.emit(doc);
        return submitted.refused ? exit_refused : exit_failure;
    }
    job = submitted.job;
    doc["job_name"] = job.job_name;
    if (!submitted.note.empty()) ctx.say("  Note - " + submitted.note);
    ctx.say(fmt::format("  Created job {} (request keys: {})", job.job_name, fmt::join(keys, ", ")));
    if (ctx.common.json) ctx.emit(doc);
    return exit_success;
}

}  // namespace llmbatch::cli::detail
