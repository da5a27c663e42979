#pragma once
/// @file options.hpp
/// The `llmbatch` tool's options: how a command describes them (`OptionSpec`, `CommandSpec`), the
/// options every command shares, what a command line gave (`ParsedArgs`), and checked numbers.

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <fmt/format.h>

#include "backend.hpp"

namespace llmbatch::cli::detail {

/// How many values an option takes.
enum class Arity { flag, one, many };

/// One option of a command: its name, values, the word shown for them and its help line.
struct OptionSpec {
    std::string_view name;
    Arity arity;
    std::string_view metavar;
    std::string_view help;
};

/// The options every command takes.
inline constexpr OptionSpec common_options[] = {
    {"--store", Arity::one, "SPEC", "where jobs are tracked: json:PATH (default json:llmbatch_jobs.json), sqlite:PATH, "
                                    "or a postgresql:// connection string"},
    {"--tracking-file", Arity::one, "PATH", "the tracked jobs (default llmbatch_jobs.json; the same as --store json:PATH)"},
    {"--state-file", Arity::one, "PATH", "the completed batches (default llmbatch_state.json)"},
    {"--output-dir", Arity::one, "DIR", "where results are saved, one .jsonl per source (default results)"},
    {"--json", Arity::flag, "", "print one JSON document instead of text"},
    {"--provider", Arity::one, "NAME", "gemini, openai, mistral or anthropic: where create sends jobs and --base-url points "
                                       "(default: the first with an API key, else gemini)"},
    {"--emulator", Arity::flag, "", "use the built-in emulators even when an API key is set"},
    {"--emulator-state", Arity::one, "PATH", "the emulators' jobs, one section per provider "
                                             "(default <tracking-file>.emulator.json)"},
    {"--base-url", Arity::one, "URL", "the API endpoint of --provider (e.g. an emulator_server)"},
    {"--emulator-fail-requests", Arity::one, "I,J,...", "emulators only: these requests (request_index, from 0) of "
                                                        "the next job created fail"},
    {"--emulator-fail-job", Arity::flag, "", "emulators only: the next job created fails as a whole"},
    {"--emulator-http-errors", Arity::one, "N[:STATUS]", "emulators only: the next N calls get HTTP STATUS "
                                                         "(default 503) and are retried"},
};

/// One command: its name, usage line, one-line summary, options and the text after them in its help.
struct CommandSpec {
    std::string_view name;
    std::string_view synopsis;
    std::string_view summary;
    std::vector<OptionSpec> options;
    std::string_view details;
};

/// The options one command line gave, by name (every value of each occurrence, in order).
class ParsedArgs {
public:
    [[nodiscard]] bool flag(std::string_view name) const { return values_.count(std::string(name)) != 0; }
    [[nodiscard]] bool has(std::string_view name) const { return flag(name); }
    /// The last value given to `name`.
    [[nodiscard]] std::optional<std::string> value(std::string_view name) const {
        const auto it = values_.find(std::string(name));
        if (it == values_.end() || it->second.empty()) return std::nullopt;
        return it->second.back();
    }
    [[nodiscard]] std::vector<std::string> values(std::string_view name) const {
        const auto it = values_.find(std::string(name));
        return it == values_.end() ? std::vector<std::string>{} : it->second;
    }
    /// Records that `name` was given, with `values` (none for a flag).
    void set(std::string_view name, std::vector<std::string> values) { values_[std::string(name)] = std::move(values); }

private:
    std::map<std::string, std::vector<std::string>> values_;
};

/// A number of hours, seconds, ... given on the command line: finite and greater than zero.
/// @throws UsageError naming the option and the text.
[[nodiscard]] inline double positive_number(std::string_view option, const std::string& text, std::string_view unit) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v) || !(v > 0))
        throw UsageError(fmt::format("{} takes a number of {} greater than zero (got '{}')", option, unit, text));
    return v;
}

/// A whole number of at least 1 given on the command line.
/// @throws UsageError naming the option and the text.
[[nodiscard]] inline std::size_t positive_integer(std::string_view option, const std::string& text) {
    std::size_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || v < 1)
        throw UsageError(fmt::format("{} takes a whole number of at least 1 (got '{}')", option, text));
    return v;
}

}  // namespace llmbatch::cli::detail
