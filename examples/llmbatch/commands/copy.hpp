#pragma once
/// @file commands/copy.hpp
/// `llmbatch copy`: copy the tracked jobs of one store into another (the JSON files into SQLite,
/// SQLite into PostgreSQL, ...), losing nothing; see `copy_job_store` (any_job_store.hpp).

#include <filesystem>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/any_job_store.hpp"

#include "../context.hpp"
#include "../store_spec.hpp"

namespace llmbatch::cli::detail {

/// `llmbatch copy`: its options and help.
[[nodiscard]] inline CommandSpec copy_spec() {
    return {"copy",
            "copy --to SPEC",
            "Copy every tracked job into another store",
            {{"--to", Arity::one, "SPEC", "the store to copy into: json:PATH, sqlite:PATH or a postgresql:// connection "
                                          "string (created when missing)"},
             {"--to-state-file", Arity::one, "PATH", "with --to json:PATH: its completed batches (default "
                                                     "llmbatch_state.json beside PATH)"}},
            "Copies from --store (default: the JSON files) every job with all its fields and status, the\n"
            "completed batches of their sources, and the creates in flight. Jobs the target already\n"
            "tracks are left as they are there, so an interrupted copy can be run again. The source is\n"
            "not changed; use the target with --store afterwards."};
}

template <class B>
int copy_store(Context<B>& ctx) {
    const auto to_text = ctx.args.value("--to");
    if (!to_text) throw UsageError("copy needs --to SPEC (json:PATH, sqlite:PATH or a postgresql:// connection string)");
    const auto to_spec = parse_store_spec("--to", *to_text);
    std::filesystem::path to_state;
    if (const auto s = ctx.args.value("--to-state-file")) {
        if (to_spec.kind != StoreSpec::Kind::json) throw UsageError("--to-state-file goes with --to json:PATH");
        to_state = *s;
    } else {
        to_state = std::filesystem::path(to_spec.location).parent_path() / "llmbatch_state.json";
    }
    if (to_spec.shown() == ctx.common.store.shown() ||
        (to_spec.kind == StoreSpec::Kind::json && ctx.common.store.kind == StoreSpec::Kind::json &&
         std::filesystem::weakly_canonical(to_state) == std::filesystem::weakly_canonical(ctx.common.state_file)))
        throw UsageError(fmt::format("copy --to {} names the store it copies from", to_spec.shown()));

    auto target = open_store(to_spec, to_state);
    const auto report = copy_job_store(ctx.tracker, target);
    if (ctx.common.json) {
        ctx.emit({{"command", "copy"},
                  {"from", ctx.tracker.description()},
                  {"to", target.description()},
                  {"jobs_copied", report.jobs_copied},
                  {"jobs_already_there", report.jobs_already_there},
                  {"completed_batches", report.completed_batches},
                  {"open_creates", report.open_creates}});
    } else {
        ctx.say(fmt::format("Copied {} job(s), {} completed batch mark(s) and {} create(s) in flight from {} to {}",
                            report.jobs_copied, report.completed_batches, report.open_creates,
                            ctx.tracker.description(), target.description()));
        if (report.jobs_already_there > 0)
            ctx.say(fmt::format("{} job(s) were already in {} and were left as they are there", report.jobs_already_there,
                                target.description()));
        ctx.say(fmt::format("Use it with: llmbatch <command> --store {}", shell_word(to_spec.shown())));
    }
    return exit_success;
}

}  // namespace llmbatch::cli::detail
