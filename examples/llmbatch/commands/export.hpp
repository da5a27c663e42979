#pragma once
/// @file commands/export.hpp
/// `llmbatch export`: write the results that fetch workers saved in a PostgreSQL store
/// (`fetch --results-in-store`) to the JSON Lines files under --output-dir.

#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../context.hpp"
#include "../store_spec.hpp"

namespace llmbatch::cli::detail {

/// `llmbatch export`: its options and help.
[[nodiscard]] inline CommandSpec export_spec() {
    return {"export",
            "export --store postgresql://... [--sources S...]",
            "Write the results kept in a PostgreSQL store to the result files",
            {{"--sources", Arity::many, "S...", "only these sources (default: every source in the store)"}},
            "Writes <output-dir>/<source>.jsonl exactly as fetch writes it, each job's lines replacing\n"
            "the lines that job already had there; other jobs' lines stay. Running it again changes\n"
            "nothing."};
}

template <class B>
int export_results_command(Context<B>& ctx) {
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
    throw UsageError(fmt::format("export writes the results kept in a PostgreSQL store (--store postgresql://...); "
                                 "{} keeps none",
                                 ctx.tracker.description()));
}

}  // namespace llmbatch::cli::detail
