#pragma once
/// @file commands/export.hpp
/// `llmbatch export`: the saved results as one CSV or JSON Lines table for spreadsheets and scripts
/// (`--format`), or the results that fetch workers kept in a PostgreSQL store
/// (`fetch --results-in-store`) written to the JSON Lines files under --output-dir.

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../context.hpp"
#include "../results_table.hpp"
#include "../store_spec.hpp"

namespace llmbatch::cli::detail {

/// `llmbatch export`: its options and help.
[[nodiscard]] inline CommandSpec export_spec() {
    return {"export",
            "export (--format csv|jsonl [--out FILE] [--all] | --store postgresql://...) [--sources S...]",
            "Write saved results as a table, or the results kept in a PostgreSQL store to the result files",
            {{"--format", Arity::one, "FORMAT", "csv or jsonl: one row per request (source, request_key, status, text, "
                                                "job, batch_index, request_index, error_status, error_message)"},
             {"--out", Arity::one, "FILE", "with --format: write the table to FILE instead of printing it"},
             {"--all", Arity::flag, "", "with --format: every saved line; default: the newest outcome of each request "
                                        "(a resubmitted request's new result)"},
             {"--sources", Arity::many, "S...", "only these sources (default: every source of the tracked jobs, or "
                                                "every source in the database)"}},
            "With --format the table is read from the result files under --output-dir. Without it,\n"
            "a PostgreSQL store's results are written to <output-dir>/<source>.jsonl exactly as fetch\n"
            "writes them, each job's lines replacing the lines that job already had there; other jobs'\n"
            "lines stay, and running it again changes nothing."};
}

/// `export --format`: the table of the result files.
template <class B>
int export_table(Context<B>& ctx, const std::string& format) {
    TableOptions options;
    if (format == "csv") options.format = TableOptions::Format::csv;
    else if (format == "jsonl") options.format = TableOptions::Format::jsonl;
    else throw UsageError(fmt::format("--format takes csv or jsonl (got '{}')", format));
    options.every_line = ctx.args.flag("--all");
    auto sources = ctx.args.values("--sources");
    if (sources.empty()) {
        std::set<std::string> seen;
        for (const auto& job : ctx.tracker.jobs())
            if (seen.insert(job.source).second) sources.push_back(job.source);
    }
    for (const auto& source : sources) {
        try {
            (void)ctx.store.path_for(source);
        } catch (const InvalidArgument& e) {
            throw UsageError(e.what());
        }
    }
    const auto out_file = ctx.args.value("--out");
    if (!out_file) {
        write_results_table(ctx.store, sources, options, ctx.out);
        return exit_success;
    }
    // Written beside the target and renamed over it: a failed export leaves no half table.
    const std::filesystem::path target = *out_file;
    const auto partial = std::filesystem::path(target.string() + ".partial");
    std::size_t rows = 0;
    {
        std::ofstream file(partial, std::ios::binary | std::ios::trunc);
        if (!file) throw FileError(fmt::format("cannot write '{}'", partial.string()), partial);
        rows = write_results_table(ctx.store, sources, options, file);
        file.flush();
        if (!file) throw FileError(fmt::format("cannot write '{}'", partial.string()), partial);
    }
    std::filesystem::rename(partial, target);
    ctx.say(fmt::format("Wrote {} row(s) of {} source(s) to {}", rows, sources.size(), target.string()));
    if (ctx.common.json)
        ctx.emit({{"command", "export"}, {"format", format}, {"path", target.string()}, {"rows", rows},
                  {"sources", sources}});
    return exit_success;
}

template <class B>
int export_results_command(Context<B>& ctx) {
    if (const auto format = ctx.args.value("--format")) return export_table(ctx, *format);
    if (ctx.args.has("--out") || ctx.args.has("--all")) throw UsageError("--out and --all go with --format");
#ifdef LLMBATCH_HAVE_LIBPQ
    if (ctx.common.store.kind == StoreSpec::Kind::postgresql) {
        const PostgresResultStore results(ctx.common.store.location);
        ResultsExport report;
        try {
            report = export_results(results, ctx.store, ctx.args.values("--sources"));
        } catch (const UsageError&) {
            throw;
        } catch (const InvalidArgument& e) {  // a source the store does not hold, a bad source name
            throw UsageError(e.what());
        }
        nlohmann::ordered_json sources = nlohmann::ordered_json::array();
        for (const auto& s : report.sources) {
            ctx.say(fmt::format("{}: {} line(s) of {} job(s) written to {}", s.source, s.lines, s.jobs.size(),
                                s.path.string()));
            sources.push_back({{"source", s.source}, {"path", s.path.string()}, {"jobs", s.jobs}, {"lines", s.lines}});
        }
        ctx.say(fmt::format("Exported {} line(s) of {} job(s) from {} source(s) in {}", report.lines, report.jobs,
                            report.sources.size(), results.description()));
        if (ctx.common.json)
            ctx.emit({{"command", "export"}, {"sources", sources}, {"jobs", report.jobs}, {"lines", report.lines}});
        return exit_success;
    }
#endif
    throw UsageError(fmt::format("export needs --format csv|jsonl, or a PostgreSQL store (--store postgresql://...) "
                                 "whose results it writes to files; {} keeps no results",
                                 ctx.tracker.description()));
}

}  // namespace llmbatch::cli::detail
