#pragma once
/// @file command_line.hpp
/// Reading an `llmbatch` command line with CLI11: which command, which options (`ParsedArgs`), or
/// a request for help or the version. Mistakes become `UsageError`s in the tool's words, with a
/// "did you mean" hint for a near miss.

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "backend.hpp"
#include "options.hpp"

namespace llmbatch::cli::detail {

/// How many single-character edits turn `a` into `b`.
[[nodiscard]] inline std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

/// " (did you mean 'x'?)" for the candidate nearest `word` when it is a near miss (a few edits
/// away, or a prefix of it), else an empty string.
[[nodiscard]] inline std::string did_you_mean(std::string_view word, const std::vector<std::string_view>& candidates) {
    std::string_view best;
    std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
    for (const auto candidate : candidates) {
        const auto d = candidate.rfind(word, 0) == 0 && word.size() > 3 ? 1 : edit_distance(word, candidate);
        if (d < best_distance) {
            best = candidate;
            best_distance = d;
        }
    }
    return best.empty() ? std::string() : fmt::format(" (did you mean '{}'?)", best);
}

/// What a command line asks for.
struct CommandLine {
    enum class Ask { run, tool_help, command_help, version };
    Ask ask = Ask::run;
    const CommandSpec* command = nullptr;  ///< the command (run, command_help)
    ParsedArgs options{};
};

[[nodiscard]] inline const OptionSpec* find_option(std::string_view name, const CommandSpec* command) {
    for (const auto& o : common_options)
        if (o.name == name) return &o;
    if (command)
        for (const auto& o : command->options)
            if (o.name == name) return &o;
    return nullptr;
}

[[nodiscard]] inline bool is_help(std::string_view arg) { return arg == "--help" || arg == "-h"; }

/// Finds help and version requests the way the tool always did: before the command they are the
/// tool's, after it the command's (whatever else the line holds).
[[nodiscard]] inline CommandLine::Ask asked_for(const std::vector<std::string>& args,
                                                const std::vector<CommandSpec>& commands, const CommandSpec*& command) {
    std::size_t i = 0;
    while (i < args.size() && args[i].size() > 1 && args[i][0] == '-') {
        if (is_help(args[i])) return CommandLine::Ask::tool_help;
        if (args[i] == "--version") return CommandLine::Ask::version;
        const auto* spec = find_option(args[i], nullptr);
        i += spec && spec->arity == Arity::one ? 2 : 1;
    }
    if (i >= args.size()) return CommandLine::Ask::run;
    if (args[i] == "help") return CommandLine::Ask::tool_help;
    for (const auto& c : commands)
        if (c.name == args[i]) command = &c;
    if (command && std::any_of(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end(),
                               [](const std::string& a) { return is_help(a); }))
        return CommandLine::Ask::command_help;
    return CommandLine::Ask::run;
}

/// Refuses an option that needs a value but is followed by another option or nothing (CLI11
/// would take the next option as its value).
/// @throws UsageError naming the option.
inline void check_values(const std::vector<std::string>& args, const CommandSpec* command) {
    for (std::size_t i = 0; i < args.size(); ++i) {
        const auto* spec = find_option(args[i], command);
        if (!spec || spec->arity == Arity::flag) continue;
        if (i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0) continue;
        if (spec->arity == Arity::one)
            throw UsageError(fmt::format("option {} needs a value ({})", spec->name, spec->metavar));
        throw UsageError(fmt::format("option {} needs at least one value ({})", spec->name, spec->metavar));
    }
}

/// Declares `spec` on `app`.
inline CLI::Option* declare(CLI::App& app, const OptionSpec& spec) {
    const std::string name(spec.name);
    if (spec.arity == Arity::flag) return app.add_flag(name)->disable_flag_override();
    auto* option = app.add_option(name)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    if (spec.arity == Arity::one) return option->expected(1);
    return option->expected(1, CLI::detail::expected_max_vector_size)->allow_extra_args(true);
}

/// The tool's message for a CLI11 complaint about an option's values.
[[nodiscard]] inline std::string mismatch_message(const CLI::ParseError& e, const CommandSpec* command) {
    const std::string what = e.what();
    const auto end = what.find_first_of(": ");
    auto name = what.substr(0, end);
    if (name.rfind("--", 0) != 0) name = "--" + name;  // a flag is named without its dashes
    const auto* spec = find_option(name, command);
    if (!spec) return what;
    if (spec->arity == Arity::flag) return fmt::format("option {} takes no value", spec->name);
    if (spec->arity == Arity::one) return fmt::format("option {} needs a value ({})", spec->name, spec->metavar);
    return fmt::format("option {} needs at least one value ({})", spec->name, spec->metavar);
}

/// The commands' names for messages: `create, fetch, ... or copy`.
[[nodiscard]] inline std::string command_list(const std::vector<CommandSpec>& commands) {
    std::string out;
    for (std::size_t i = 0; i < commands.size(); ++i)
        out += (i == 0 ? "" : i + 1 == commands.size() ? " or " : ", ") + std::string(commands[i].name);
    return out;
}

/// The tool's message for the first argument nobody took: an unknown option or command, or a
/// stray word.
[[nodiscard]] inline std::string extra_message(const std::string& extra, const CommandSpec* command,
                                               const std::vector<CommandSpec>& commands) {
    std::vector<std::string_view> names;
    if (!command) {
        for (const auto& c : commands) names.push_back(c.name);
        if (extra.rfind("-", 0) != 0)
            return fmt::format("unknown command '{}' (expected {}){}", extra, command_list(commands),
                               did_you_mean(extra, names));
    }
    if (extra.rfind("-", 0) != 0) return fmt::format("unexpected argument '{}' for '{}'", extra, command->name);
    for (const auto& o : common_options) names.push_back(o.name);
    if (command)
        for (const auto& o : command->options) names.push_back(o.name);
    const auto name = extra.substr(0, extra.find('='));
    return fmt::format("unknown option '{}'{}{}", name,
                       command ? fmt::format(" for '{}'", command->name) : std::string(" before the command"),
                       did_you_mean(name, names));
}

/// Reads `args` (without the program name); `command_name` is set as soon as the command is known
/// (for the messages about a line that fails later).
/// @throws UsageError for anything it cannot take.
[[nodiscard]] inline CommandLine parse_command_line(const std::vector<std::string>& args,
                                                    const std::vector<CommandSpec>& commands,
                                                    std::string& command_name) {
    CommandLine line;
    line.ask = asked_for(args, commands, line.command);
    if (line.command) command_name = std::string(line.command->name);
    if (line.ask != CommandLine::Ask::run) return line;
    check_values(args, line.command);

    CLI::App app("llmbatch");
    app.set_help_flag();
    app.allow_extras();
    app.require_subcommand(0, 1);
    std::vector<std::pair<const OptionSpec*, CLI::Option*>> declared;
    for (const auto& spec : common_options) declared.emplace_back(&spec, declare(app, spec));
    std::vector<std::pair<const CommandSpec*, CLI::App*>> subcommands;
    for (const auto& c : commands) {
        auto* sub = app.add_subcommand(std::string(c.name));
        sub->set_help_flag();
        sub->allow_extras();
        sub->fallthrough();
        for (const auto& spec : c.options) declared.emplace_back(&spec, declare(*sub, spec));
        subcommands.emplace_back(&c, sub);
    }
    // `show JOB...`: the words right after the command are its --job-names.
    auto words = args;
    if (line.command && line.command->name == "show") {
        const auto at = std::find(words.begin(), words.end(), "show");
        if (at != words.end() && at + 1 != words.end() && (at + 1)->rfind("-", 0) != 0)
            words.insert(at + 1, "--job-names");
    }
    std::vector<std::string> reversed(words.rbegin(), words.rend());
    try {
        app.parse(reversed);
    } catch (const CLI::ArgumentMismatch& e) {
        for (const auto& [spec, sub] : subcommands)
            if (sub->parsed()) line.command = spec;
        throw UsageError(mismatch_message(e, line.command));
    } catch (const CLI::ParseError& e) {
        throw UsageError(e.what());
    }
    for (const auto& [spec, sub] : subcommands)
        if (sub->parsed()) line.command = spec;
    if (const auto extras = app.remaining(true); !extras.empty())
        throw UsageError(extra_message(extras.front(), line.command, commands));
    if (!line.command) throw UsageError(fmt::format("no command given ({})", command_list(commands)));
    for (const auto& [spec, option] : declared)
        if (option->count() > 0) line.options.set(spec->name, option->results());
    return line;
}

}  // namespace llmbatch::cli::detail
