#pragma once
/// @file cli.hpp
/// `llmbatch`, the batch command-line tool, as a library: `llmbatch::cli::run(args, backend, out, err)`
/// reads a command line, runs one command and returns its exit code. Everything it prints goes to
/// `out` and `err`, so tests capture it; the program's `main` (main.cpp) is a thin shell around it.
///
/// Commands, one file each in commands/: `create` (and `create --resubmit-failed`), `fetch`,
/// `list`, `cancel`, `refresh-errors`, `wait`, `show`, `export` and `copy`. The providers come from a `Backend`
/// (backend.hpp): `EmulatorBackend` (the built-in emulators, their state kept in one file so a job
/// created by one process is fetched by a later one) or, when built with libcurl
/// (`LLMBATCH_HAVE_CURL`), `LiveBackend` (the providers' APIs).
///
/// Example:
/// @code
/// llmbatch::testing::ManualClock clock;
/// llmbatch::testing::GeminiEmulator emulator(clock);
/// llmbatch::cli::EmulatorBackend<llmbatch::testing::ManualClock> backend(emulator);
/// std::ostringstream out, err;
/// int code = llmbatch::cli::run({"create", "--prompts", "prompts.jsonl"}, backend, out, err);
/// @endcode

#include <algorithm>
#include <exception>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/error.hpp"

#include "backend.hpp"
#include "command_line.hpp"
#include "commands/cancel.hpp"
#include "commands/copy.hpp"
#include "commands/create.hpp"
#include "commands/export.hpp"
#include "commands/fetch.hpp"
#include "commands/list.hpp"
#include "commands/refresh_errors.hpp"
#include "commands/show.hpp"
#include "commands/wait.hpp"
#include "context.hpp"
#include "emulator_backend.hpp"
#include "help.hpp"
#include "live_backend.hpp"

namespace llmbatch::cli {

/// The tool's version (the build passes the project's).
#ifdef LLMBATCH_VERSION
inline constexpr std::string_view version = LLMBATCH_VERSION;
#else
inline constexpr std::string_view version = "unknown";
#endif

namespace detail {

/// Every command, in the order the help lists them.
[[nodiscard]] inline const std::vector<CommandSpec>& commands() {
    static const std::vector<CommandSpec> specs = {create_spec(), fetch_spec(),          list_spec(),
                                                   cancel_spec(), refresh_errors_spec(), wait_spec(),
                                                   show_spec(),   export_spec(),         copy_spec()};
    return specs;
}

/// Runs the command named `name` (one of `commands()`).
template <class B>
int run_command(std::string_view name, Context<B>& ctx) {
    if (name == "create") return create(ctx);
    if (name == "fetch") return fetch(ctx);
    if (name == "list") return list(ctx);
    if (name == "cancel") return cancel(ctx);
    if (name == "refresh-errors") return refresh_errors(ctx);
    if (name == "copy") return copy_store(ctx);
    if (name == "show") return show(ctx);
    if (name == "export") return export_results_command(ctx);
    return wait(ctx);
}

}  // namespace detail

/// Runs one `llmbatch` command line (`args` without the program name) on `backend`, printing to
/// `out` and `err`, and returns the exit code: 0 success, 1 when a job failed or an error
/// occurred, 2 for bad usage or input, 3 when create refused a batch that has a pending job. With `--json`, `out` receives exactly one JSON document
/// (`{"command": ..., "error": ..., "exit_code": ...}` on errors); messages still go to `err`.
/// Nothing escapes: every exception becomes a message on `err` and an exit code.
template <Backend B>
int run(const std::vector<std::string>& args, B& backend, std::ostream& out, std::ostream& err,
        const RunOptions& options = {}) {
    const bool json = std::find(args.begin(), args.end(), "--json") != args.end();
    std::string command_name;
    auto fail = [&](const std::string& message, int code) {
        err << "Error: " << message << '\n';
        if (code == exit_usage)
            err << (command_name.empty() ? std::string("Run 'llmbatch --help' for usage.")
                                         : fmt::format("Run 'llmbatch {} --help' for usage.", command_name))
                << '\n';
        if (json)
            out << nlohmann::ordered_json{{"command", command_name.empty() ? nlohmann::ordered_json(nullptr)
                                                                           : nlohmann::ordered_json(command_name)},
                                          {"error", message},
                                          {"exit_code", code}}
                       .dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                << '\n';
        return code;
    };
    try {
        const auto line = detail::parse_command_line(args, detail::commands(), command_name);
        switch (line.ask) {
            case detail::CommandLine::Ask::tool_help:
                detail::print_tool_help(out, backend.description(), detail::commands());
                return exit_success;
            case detail::CommandLine::Ask::command_help:
                detail::print_command_help(out, *line.command);
                return exit_success;
            case detail::CommandLine::Ask::version:
                out << "llmbatch " << version << '\n';
                return exit_success;
            case detail::CommandLine::Ask::run:
                break;
        }
        const auto& parsed = line.options;

        detail::CommonOptions common;
        if (auto v = parsed.value("--store")) {
            common.store = detail::parse_store_spec("--store", *v);
            if (parsed.has("--tracking-file"))
                throw UsageError("give --store or --tracking-file, not both (--store json:PATH names the tracking file)");
            // The emulators' state file stays named after the tracking file whatever the store, so
            // the emulated jobs stay where they were when the jobs move to a database.
            if (common.store.kind == detail::StoreSpec::Kind::json) common.tracking_file = common.store.location;
        } else if (auto t = parsed.value("--tracking-file")) {
            common.tracking_file = *t;
            common.store.location = *t;
        }
        if (common.store.kind != detail::StoreSpec::Kind::json && parsed.has("--state-file"))
            throw UsageError("--state-file belongs to json: stores; a database keeps its completed batches itself");
        if (auto v = parsed.value("--state-file")) common.state_file = *v;
        if (auto v = parsed.value("--output-dir")) common.output_dir = *v;
        if (auto v = parsed.value("--base-url")) common.base_url = *v;
        if (auto v = parsed.value("--provider")) common.provider = checked_provider(*v);
        common.json = parsed.flag("--json");
        common.emulator_faults = detail::emulator_faults(parsed);
        common.emulator_state = parsed.value("--emulator-state")
                                    .value_or(common.tracking_file.string() + ".emulator.json");
        for (const auto* p : {&common.tracking_file, &common.state_file, &common.output_dir, &common.emulator_state})
            if (p->empty()) throw UsageError("file and directory options need a non-empty path");
        std::unique_ptr<detail::Context<B>> ctx;
        try {
            ctx = std::make_unique<detail::Context<B>>(backend, out, err, options, common, parsed);
        } catch (const InvalidArgument& e) {
            throw UsageError(e.what());
        }
        return detail::run_command(command_name, *ctx);
    } catch (const UsageError& e) {
        return fail(e.what(), exit_usage);
    } catch (const std::exception& e) {
        return fail(e.what(), exit_failure);
    }
}

}  // namespace llmbatch::cli
