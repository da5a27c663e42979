#pragma once
/// @file help.hpp
/// The `llmbatch` tool's help texts: the tool's (`llmbatch --help`) and each command's
/// (`llmbatch <command> --help`), made from the commands' `CommandSpec`s.

#include <iterator>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "options.hpp"

namespace llmbatch::cli::detail {

inline void print_options(std::ostream& out, const std::vector<OptionSpec>& options) {
    for (const auto& o : options) {
        const std::string left = o.metavar.empty() ? std::string(o.name) : fmt::format("{} {}", o.name, o.metavar);
        out << fmt::format("  {:<28}{}\n", left, o.help);
    }
}

/// What each exit code means, as the help says it.
inline constexpr std::string_view exit_code_help =
    "Exit codes: 0 success, 1 a job failed or an error occurred, 2 bad usage or input (nothing was changed),\n"
    "3 create refused a batch because it already has a pending job (nothing failed; see --force).\n";

inline void print_tool_help(std::ostream& out, std::string_view backend, const std::vector<CommandSpec>& commands) {
    out << "llmbatch: submit prompts as LLM batch jobs, track them, and save their results.\n\n"
           "Usage: llmbatch [common options] <command> [options]\n\nCommands:\n";
    for (const auto& c : commands) out << fmt::format("  {:<16}{}\n", c.name, c.summary);
    out << "\nCommon options (every command):\n";
    print_options(out, std::vector<OptionSpec>(std::begin(common_options), std::end(common_options)));
    out << "  -h, --help                  this help, or a command's help after the command\n"
           "  --version                   the version of llmbatch\n\n"
           "Without GEMINI_API_KEY, OPENAI_API_KEY, MISTRAL_API_KEY and ANTHROPIC_API_KEY the built-in emulators\n"
           "answer (offline; jobs finish within seconds); with a key (and a build with libcurl) the live APIs do.\n";
    if (!backend.empty()) out << "Provider now: " << backend << ".\n";
    out << "\nA first session:\n"
           "  llmbatch create --prompts examples/data/prompts.jsonl\n"
           "  llmbatch wait\n"
           "  llmbatch fetch --check-all-pending\n"
           "  llmbatch list\n\n"
        << exit_code_help;
}

inline void print_command_help(std::ostream& out, const CommandSpec& c) {
    out << "Usage: llmbatch " << c.synopsis << "\n\n" << c.summary << ".\n\nOptions:\n";
    print_options(out, c.options);
    out << "\nCommon options:\n";
    print_options(out, std::vector<OptionSpec>(std::begin(common_options), std::end(common_options)));
    if (!c.details.empty()) out << "\n" << c.details << "\n";
    out << "\n" << exit_code_help;
}

}  // namespace llmbatch::cli::detail
