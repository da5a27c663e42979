#pragma once
/// @file cli.hpp
/// `llmbatch`, the batch command-line tool, as a library: `llmbatch::cli::run(args, backend, out, err)`
/// parses a command line, runs one subcommand and returns its exit code. Everything it prints goes
/// to `out` and `err`, so tests capture it; the program's `main` is a thin shell around it.
///
/// Subcommands:
/// - `create`: cut a prompts file (JSON array or JSON Lines) into batches, one provider batch job
///   per batch, tracked as soon as it exists; batches already completed are skipped and a batch
///   with a pending job is refused unless `--force`; `--resubmit-failed JOB` retries exactly the
///   failed requests of a job;
/// - `fetch`: `llmbatch::fetch_tracked_jobs` (see workflow.hpp) over the tracked jobs;
/// - `list`, `cancel`, `refresh-errors` and `wait`.
///
/// Exit codes: 0 success; 1 when a job failed or an error occurred; 2 for bad usage or input.
///
/// The providers come from a `Backend` (cli/backends.hpp): `EmulatorBackend` (the built-in Gemini,
/// OpenAI and Mistral emulators, with their state kept in files so a job created by one process is
/// fetched by a later one) or, when built with libcurl (`LLMBATCH_HAVE_CURL`), `LiveBackend` (the
/// providers' APIs). `create` sends jobs to `--provider` (default: the first provider with an API
/// key); every other command works on the tracked jobs of any provider.
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
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/clock.hpp"
#include "llmbatch/detail/file_io.hpp"
#include "llmbatch/detail/time.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/providers/common/jsonl.hpp"
#include "llmbatch/polling.hpp"
#include "llmbatch/result_store.hpp"
#include "llmbatch/service.hpp"
#include "llmbatch/tracking.hpp"
#include "llmbatch/workflow.hpp"

#include "cli/backends.hpp"

namespace llmbatch::cli {

/// What `run` needs to know about the process it runs in.
struct RunOptions {
    /// `out` is a terminal: `wait` rewrites one progress line with `\r` instead of printing a
    /// line per change. The program's `main` passes `isatty(STDOUT_FILENO)`.
    bool out_is_terminal = false;
};

// =============================================================================================
// Prompts files
// =============================================================================================

/// One request of a prompts file.
struct PromptItem {
    std::string source{};
    PromptSequence prompts{};                    ///< `prompt` as one element, or `prompts`
    std::string key{};                           ///< `id`, else the item's 0-based position in its source
    std::map<std::string, std::string> labels{};
    std::string where{};                         ///< `line 3` (for messages)
};

/// The items of one source, in file order.
struct PromptSource {
    std::string name{};
    std::vector<PromptItem> items{};

    [[nodiscard]] const PromptItem* find(const std::string& key) const {
        for (const auto& item : items)
            if (item.key == key) return &item;
        return nullptr;
    }
};

/// A loaded prompts file: its sources in order of first appearance.
struct PromptsFile {
    std::filesystem::path path{};
    std::vector<PromptSource> sources{};

    [[nodiscard]] std::size_t prompt_count() const {
        std::size_t n = 0;
        for (const auto& s : sources) n += s.items.size();
        return n;
    }
    [[nodiscard]] const PromptSource* find(const std::string& name) const {
        for (const auto& s : sources)
            if (s.name == name) return &s;
        return nullptr;
    }
};

namespace detail {

/// Byte offsets of the elements of the top-level JSON array `text` (already known to parse).
[[nodiscard]] inline std::vector<std::size_t> array_element_offsets(std::string_view text) {
    std::vector<std::size_t> out;
    int depth = 0;
    bool in_string = false, escaped = false, expect_value = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
        if (expect_value && depth == 1 && c != ']') out.push_back(i);
        expect_value = false;
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') {
            ++depth;
            if (depth == 1) expect_value = true;
        } else if (c == ']' || c == '}') --depth;
        else if (c == ',' && depth == 1) expect_value = true;
    }
    return out;
}

[[nodiscard]] inline std::size_t line_of(std::string_view text, std::size_t offset) {
    offset = std::min(offset, text.size());
    return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

[[nodiscard]] inline std::string label_list(const std::map<std::string, std::string>& labels) {
    std::vector<std::string> parts;
    for (const auto& [k, v] : labels) parts.push_back(k + "=" + v);
    return fmt::format("{}", fmt::join(parts, ", "));
}

}  // namespace detail

/// Reads a prompts file: a JSON array of items, or JSON Lines (one item per line; blank lines
/// are skipped). An item is `{"source": "...", "prompt": "..."}` or `{"source": "...",
/// "prompts": ["...", ...]}` (the prompts of one request, joined with a newline), with an
/// optional `"id"` (string or integer; the request key, unique within its source; default: the
/// item's 0-based position within its source) and optional `"labels"` (an object of strings).
/// A source must be a relative path of plain parts (it names the results file).
/// @throws UsageError naming the file and the line for anything else (nothing is half-loaded).
[[nodiscard]] inline PromptsFile load_prompts(const std::filesystem::path& path) {
    auto fail = [&](const std::string& where, const std::string& what) -> UsageError {
        return UsageError(where.empty() ? fmt::format("Prompts file '{}': {}", path.string(), what)
                                        : fmt::format("Prompts file '{}', {}: {}", path.string(), where, what));
    };
    std::optional<std::string> text;
    try {
        text = ::llmbatch::detail::read_file_if_exists(path);
    } catch (const FileError& e) {
        throw UsageError(fmt::format("Prompts file '{}' cannot be read: {}", path.string(), e.what()));
    }
    if (!text) throw UsageError(fmt::format("Prompts file '{}' not found.", path.string()));
    std::string_view body = *text;
    if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);

    std::vector<std::pair<Json, std::string>> raw;  // item, where
    const auto first = body.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && body[first] == '[') {
        Json doc;
        try {
            doc = Json::parse(body);
        } catch (const Json::parse_error& e) {
            throw fail(fmt::format("line {}", detail::line_of(body, e.byte > 0 ? e.byte - 1 : 0)),
                       fmt::format("invalid JSON ({})", e.what()));
        }
        const auto offsets = detail::array_element_offsets(body);
        // Lines counted as the offsets ascend: one pass over the text, whatever the item count.
        std::size_t counted_to = 0, line = 1;
        raw.reserve(doc.size());
        for (std::size_t i = 0; i < doc.size(); ++i) {
            std::size_t item_line = 0;
            if (i < offsets.size()) {
                const auto offset = std::max(counted_to, std::min(offsets[i], body.size()));
                line += static_cast<std::size_t>(std::count(body.begin() + static_cast<std::ptrdiff_t>(counted_to),
                                                            body.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
                counted_to = offset;
                item_line = line;
            }
            raw.emplace_back(std::move(doc[i]), fmt::format("line {} (item {})", item_line, i + 1));
        }
    } else {
        for_each_jsonl_line(body, [&](std::string_view line, std::size_t number) {
            const std::string where = fmt::format("line {}", number);
            try {
                raw.emplace_back(Json::parse(line), where);
            } catch (const Json::parse_error& e) {
                throw fail(where, fmt::format("invalid JSON ({})", e.what()));
            }
        });
    }
    if (raw.empty()) throw fail("", "it holds no prompts");

    PromptsFile file;
    file.path = path;
    const ResultStore paths(".");
    std::map<std::string, std::map<std::string, std::string>> key_owner;  // source -> key -> where
    std::map<std::string, std::size_t> source_index;                      // source -> its place in file.sources
    for (auto& [item, where] : raw) {
        if (!item.is_object()) throw fail(where, "expected a JSON object with \"source\" and \"prompt\" or \"prompts\"");
        for (const auto& [field, value] : item.items())
            if (field != "source" && field != "prompt" && field != "prompts" && field != "id" && field != "labels")
                throw fail(where, fmt::format("unknown field \"{}\" (expected source, prompt, prompts, id, labels)", field));
        PromptItem p;
        p.where = where;
        const auto source = item.find("source");
        if (source == item.end()) throw fail(where, "\"source\" is missing");
        if (!source->is_string() || source->get_ref<const std::string&>().empty())
            throw fail(where, "\"source\" must be a non-empty string");
        p.source = source->get<std::string>();
        if (std::any_of(p.source.begin(), p.source.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; }))
            throw fail(where, "\"source\" must not contain control characters (such as a newline or a tab)");
        try {
            (void)paths.path_for(p.source);
        } catch (const InvalidArgument& e) {
            throw fail(where, e.what());
        }
        const auto prompt = item.find("prompt");
        const auto prompts = item.find("prompts");
        if (prompt != item.end() && prompts != item.end()) throw fail(where, "give \"prompt\" or \"prompts\", not both");
        if (prompt != item.end()) {
            if (!prompt->is_string() || prompt->get_ref<const std::string&>().empty())
                throw fail(where, "\"prompt\" must be a non-empty string");
            p.prompts.push_back(prompt->get<std::string>());
        } else if (prompts != item.end()) {
            if (!prompts->is_array() || prompts->empty())
                throw fail(where, "\"prompts\" must be a non-empty array of strings");
            for (const auto& s : *prompts) {
                if (!s.is_string() || s.get_ref<const std::string&>().empty())
                    throw fail(where, "\"prompts\" must be a non-empty array of non-empty strings");
                p.prompts.push_back(s.get<std::string>());
            }
        } else {
            throw fail(where, "\"prompt\" (or \"prompts\") is missing");
        }
        if (const auto labels = item.find("labels"); labels != item.end() && !labels->is_null()) {
            if (!labels->is_object()) throw fail(where, "\"labels\" must be an object of strings");
            for (const auto& [k, v] : labels->items()) {
                if (!v.is_string()) throw fail(where, fmt::format("label \"{}\" must be a string", k));
                p.labels.emplace(k, v.get<std::string>());
            }
        }
        auto [found, added] = source_index.try_emplace(p.source, file.sources.size());
        if (added) file.sources.push_back(PromptSource{p.source, {}});
        auto it = file.sources.begin() + static_cast<std::ptrdiff_t>(found->second);
        if (const auto id = item.find("id"); id != item.end() && !id->is_null()) {
            if (id->is_string() && !id->get_ref<const std::string&>().empty()) p.key = id->get<std::string>();
            else if (id->is_number_integer()) p.key = id->dump();
            else throw fail(where, "\"id\" must be a non-empty string or an integer");
        } else {
            p.key = std::to_string(it->items.size());
        }
        auto& owners = key_owner[p.source];
        if (const auto taken = owners.find(p.key); taken != owners.end())
            throw fail(where, fmt::format("request key '{}' of source '{}' is already used on {}; ids must be unique "
                                          "within a source (an item without an id is keyed by its position)",
                                          p.key, p.source, taken->second));
        owners.emplace(p.key, where);
        it->items.push_back(std::move(p));
    }
    return file;
}

/// One batch of one source: the requests of one provider batch job.
struct PlannedBatch {
    std::string source{};
    std::int64_t index = 0;
    std::vector<const PromptItem*> items{};
    std::map<std::string, std::string> labels{};  ///< the items' labels (they must agree)

    [[nodiscard]] BatchPayload payload() const {
        BatchPayload out;
        for (const auto* item : items) out.push_back(item->prompts);
        return out;
    }
    [[nodiscard]] std::vector<std::string> keys() const {
        std::vector<std::string> out;
        for (const auto* item : items) out.push_back(item->key);
        return out;
    }
};

/// Cuts `source` into consecutive batches of `batch_size` items. A job carries one set of
/// labels, so the items of one batch must not give one label two values.
/// @throws UsageError naming both lines when they do.
[[nodiscard]] inline std::vector<PlannedBatch> plan_batches(const PromptSource& source, std::size_t batch_size,
                                                            const std::filesystem::path& file) {
    std::vector<PlannedBatch> out;
    for (std::size_t start = 0; start < source.items.size(); start += batch_size) {
        PlannedBatch batch;
        batch.source = source.name;
        batch.index = static_cast<std::int64_t>(out.size());
        std::map<std::string, const PromptItem*> label_from;
        for (std::size_t i = start; i < std::min(source.items.size(), start + batch_size); ++i) {
            const auto* item = &source.items[i];
            batch.items.push_back(item);
            for (const auto& [k, v] : item->labels) {
                const auto [it, fresh] = batch.labels.emplace(k, v);
                if (!fresh && it->second != v)
                    throw UsageError(fmt::format(
                        "Prompts file '{}', {}: label \"{}\" is \"{}\" but {}, in the same batch (batch {} of '{}'), "
                        "gives \"{}\"; a batch job carries one set of labels, so the items of a batch must agree.",
                        file.string(), item->where, k, v, label_from[k]->where, batch.index, source.name, it->second));
                label_from.emplace(k, item);
            }
        }
        out.push_back(std::move(batch));
    }
    return out;
}

// =============================================================================================
// Command-line parsing
// =============================================================================================

namespace detail {

enum class Arity { flag, one, many };

struct OptionSpec {
    std::string_view name;
    Arity arity;
    std::string_view metavar;
    std::string_view help;
};

inline constexpr OptionSpec common_options[] = {
    {"--tracking-file", Arity::one, "PATH", "the tracked jobs (default llmbatch_jobs.json)"},
    {"--state-file", Arity::one, "PATH", "the completed batches (default llmbatch_state.json)"},
    {"--output-dir", Arity::one, "DIR", "where results are saved, one .jsonl per source (default results)"},
    {"--json", Arity::flag, "", "print one JSON document instead of text"},
    {"--provider", Arity::one, "NAME", "gemini, openai, mistral or anthropic: where create sends jobs and --base-url points "
                                       "(default: the first with an API key, else gemini)"},
    {"--emulator", Arity::flag, "", "use the built-in emulators even when an API key is set"},
    {"--emulator-state", Arity::one, "PATH", "the Gemini emulator's jobs (default <tracking-file>.emulator.json; "
                                             "the others' files beside it)"},
    {"--base-url", Arity::one, "URL", "the API endpoint of --provider (e.g. an emulator_server)"},
};

struct CommandSpec {
    std::string_view name;
    std::string_view synopsis;
    std::string_view summary;
    std::vector<OptionSpec> options;
    std::string_view details;
};

[[nodiscard]] inline const std::vector<CommandSpec>& commands() {
    static const std::vector<CommandSpec> specs = {
        {"create",
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
         "with a pending job is refused unless --force."},
        {"fetch",
         "fetch (--job-names N... | --check-all-pending | --refetch-hours H)",
         "Check tracked jobs and save the results of finished ones",
         {{"--job-names", Arity::many, "N...", "these jobs, whatever their status"},
          {"--check-all-pending", Arity::flag, "", "every pending job (may be combined with --job-names)"},
          {"--refetch-hours", Arity::one, "H", "fetch again the completed jobs created within the last H hours (e.g. 0.5)"}},
         "Results are saved to <output-dir>/<source>.jsonl (a refetch replaces a job's lines); a job\n"
         "is marked completed only after its results are saved. A job that cannot be checked (network,\n"
         "quota, server error) stays pending. --refetch-hours cannot be combined with the other two."},
        {"list",
         "list [--status pending|completed|failed|cancelled] [--show-errors]",
         "List tracked jobs",
         {{"--status", Arity::one, "STATUS", "only jobs with this status"},
          {"--show-errors", Arity::flag, "", "show the error message of failed jobs"}},
         ""},
        {"cancel",
         "cancel (--job-names N... | --cancel-all-pending)",
         "Cancel pending jobs at the provider",
         {{"--job-names", Arity::many, "N...", "these jobs (only pending ones are cancelled)"},
          {"--cancel-all-pending", Arity::flag, "", "every pending job"}},
         ""},
        {"refresh-errors",
         "refresh-errors [--job-names N...]",
         "Ask the provider again about failed jobs",
         {{"--job-names", Arity::many, "N...", "these jobs (default: every failed job)"}},
         "A failed job that actually succeeded (or is still running) is reset to pending, so the next\n"
         "fetch saves its results; otherwise its error message is updated."},
        {"wait",
         "wait [--job-names N...] [--poll-interval SECONDS] [--timeout SECONDS]",
         "Wait until jobs finish, showing their progress",
         {{"--job-names", Arity::many, "N...", "these jobs (default: every pending job)"},
          {"--poll-interval", Arity::one, "SECONDS", "time between checks (default: 5 s, growing to 60 s)"},
          {"--timeout", Arity::one, "SECONDS", "give up after this long"}},
         "Nothing is saved: run 'llmbatch fetch --check-all-pending' afterwards."},
    };
    return specs;
}

[[nodiscard]] inline const CommandSpec* find_command(std::string_view name) {
    for (const auto& c : commands())
        if (c.name == name) return &c;
    return nullptr;
}

/// Options of one command line.
class ParsedArgs {
public:
    [[nodiscard]] bool flag(std::string_view name) const { return values_.count(std::string(name)) != 0; }
    [[nodiscard]] bool has(std::string_view name) const { return flag(name); }
    [[nodiscard]] std::optional<std::string> value(std::string_view name) const {
        const auto it = values_.find(std::string(name));
        if (it == values_.end() || it->second.empty()) return std::nullopt;
        return it->second.back();
    }
    [[nodiscard]] std::vector<std::string> values(std::string_view name) const {
        const auto it = values_.find(std::string(name));
        return it == values_.end() ? std::vector<std::string>{} : it->second;
    }
    std::map<std::string, std::vector<std::string>> values_;
};

[[nodiscard]] inline const OptionSpec* find_option(std::string_view name, const CommandSpec* command) {
    for (const auto& o : common_options)
        if (o.name == name) return &o;
    if (command)
        for (const auto& o : command->options)
            if (o.name == name) return &o;
    return nullptr;
}

/// Parses `args[i...]` into `parsed` until the end (or, with `stop_at_word`, the first word that is
/// not an option or a value).
inline std::size_t parse_options(const std::vector<std::string>& args, std::size_t i, const CommandSpec* command,
                                 ParsedArgs& parsed, bool stop_at_word) {
    const std::string where = command ? fmt::format(" for '{}'", command->name) : std::string(" before the command");
    while (i < args.size()) {
        std::string token = args[i];
        if (token.rfind("--", 0) != 0) {
            if (stop_at_word) return i;
            throw UsageError(fmt::format("unexpected argument '{}'{}", token, where));
        }
        std::optional<std::string> inline_value;
        if (const auto eq = token.find('='); eq != std::string::npos) {
            inline_value = token.substr(eq + 1);
            token = token.substr(0, eq);
        }
        const auto* spec = find_option(token, command);
        if (!spec) throw UsageError(fmt::format("unknown option '{}'{}", token, where));
        auto& slot = parsed.values_[std::string(spec->name)];
        ++i;
        switch (spec->arity) {
            case Arity::flag:
                if (inline_value) throw UsageError(fmt::format("option {} takes no value", spec->name));
                break;
            case Arity::one:
                if (inline_value) {
                    slot.push_back(*inline_value);
                } else {
                    if (i >= args.size() || args[i].rfind("--", 0) == 0)
                        throw UsageError(fmt::format("option {} needs a value ({})", spec->name, spec->metavar));
                    slot.push_back(args[i++]);
                }
                break;
            case Arity::many: {
                const auto before = slot.size();
                if (inline_value) slot.push_back(*inline_value);
                while (i < args.size() && args[i].rfind("--", 0) != 0) slot.push_back(args[i++]);
                if (slot.size() == before)
                    throw UsageError(fmt::format("option {} needs at least one value ({})", spec->name, spec->metavar));
                break;
            }
        }
    }
    return i;
}

inline void print_options(std::ostream& out, const std::vector<OptionSpec>& options) {
    for (const auto& o : options) {
        const std::string left = o.metavar.empty() ? std::string(o.name) : fmt::format("{} {}", o.name, o.metavar);
        out << fmt::format("  {:<28}{}\n", left, o.help);
    }
}

inline void print_tool_help(std::ostream& out, std::string_view backend) {
    out << "llmbatch: submit prompts as LLM batch jobs, track them, and save their results.\n\n"
           "Usage: llmbatch [common options] <command> [options]\n\nCommands:\n";
    for (const auto& c : commands()) out << fmt::format("  {:<16}{}\n", c.name, c.summary);
    out << "\nCommon options (every command):\n";
    print_options(out, std::vector<OptionSpec>(std::begin(common_options), std::end(common_options)));
    out << "  -h, --help                  this help, or a command's help after the command\n\n"
           "Without GEMINI_API_KEY, OPENAI_API_KEY, MISTRAL_API_KEY and ANTHROPIC_API_KEY the built-in emulators\n"
           "answer (offline; jobs finish within seconds); with a key (and a build with libcurl) the live APIs do.\n";
    if (!backend.empty()) out << "Provider now: " << backend << ".\n";
    out << "\nA first session:\n"
           "  llmbatch create --prompts examples/data/prompts.jsonl\n"
           "  llmbatch wait\n"
           "  llmbatch fetch --check-all-pending\n"
           "  llmbatch list\n\n"
           "Exit codes: 0 success, 1 a job failed or an error occurred, 2 bad usage or input.\n";
}

inline void print_command_help(std::ostream& out, const CommandSpec& c) {
    out << "Usage: llmbatch " << c.synopsis << "\n\n" << c.summary << ".\n\nOptions:\n";
    print_options(out, c.options);
    out << "\nCommon options:\n";
    print_options(out, std::vector<OptionSpec>(std::begin(common_options), std::end(common_options)));
    if (!c.details.empty()) out << "\n" << c.details << "\n";
}

/// A number of hours, seconds, ... given on the command line: finite and greater than zero.
[[nodiscard]] inline double positive_number(std::string_view option, const std::string& text, std::string_view unit) {
    char* end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v) || !(v > 0))
        throw UsageError(fmt::format("{} takes a number of {} greater than zero (got '{}')", option, unit, text));
    return v;
}

[[nodiscard]] inline std::size_t positive_integer(std::string_view option, const std::string& text) {
    std::size_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size() || v < 1)
        throw UsageError(fmt::format("{} takes a whole number of at least 1 (got '{}')", option, text));
    return v;
}

[[nodiscard]] inline std::string frame(char c, std::size_t n) { return std::string(n, c); }

[[nodiscard]] inline nlohmann::ordered_json job_json(const TrackedJob& job) {
    nlohmann::ordered_json j;
    j["job_name"] = job.job_name;
    j["provider"] = job.provider;
    j["source"] = job.source;
    j["batch_index"] = job.batch_index;
    j["status"] = to_string(job.status);
    j["created_at"] = ::llmbatch::detail::format_rfc3339(job.created_at, false);
    j["completed_at"] = job.completed_at ? nlohmann::ordered_json(::llmbatch::detail::format_rfc3339(*job.completed_at, false))
                                         : nlohmann::ordered_json(nullptr);
    j["error_message"] = job.error_message.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(job.error_message);
    j["labels"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : job.labels) j["labels"][k] = v;
    j["request_keys"] = job.request_keys;
    return j;
}

}  // namespace detail

// =============================================================================================
// Commands
// =============================================================================================

namespace detail {

/// The options every command shares, with their defaults.
struct CommonOptions {
    std::filesystem::path tracking_file = "llmbatch_jobs.json";
    std::filesystem::path state_file = "llmbatch_state.json";
    std::filesystem::path output_dir = "results";
    std::filesystem::path emulator_state{};
    std::string provider{};
    std::string base_url{};
    bool json = false;
};

/// One command being run.
template <class B>
struct Context {
    B& backend;
    std::ostream& out;
    std::ostream& err;
    const RunOptions& run;
    const CommonOptions& common;
    const ParsedArgs& args;
    JobTracker tracker;
    ResultStore store;

    Context(B& b, std::ostream& o, std::ostream& e, const RunOptions& r, const CommonOptions& c, const ParsedArgs& a)
        : backend(b), out(o), err(e), run(r), common(c), args(a), tracker(c.tracking_file, c.state_file),
          store(c.output_dir) {}

    /// A line of text output (nothing in JSON mode).
    void say(std::string_view line) {
        if (!common.json) out << line << '\n';
    }

    /// Prints `doc`; invalid UTF-8 (e.g. in a server's message) is replaced, never thrown on.
    void emit(const nlohmann::ordered_json& doc) {
        out << doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
    }

    void configure(const BackendSettings& extra = {}) {
        BackendSettings s = extra;
        s.tracking_file = common.tracking_file;
        s.emulator_state = common.emulator_state;
        s.base_url = common.base_url;
        if (!common.provider.empty()) s.provider = common.provider;  // --provider wins
        backend.configure(s);
    }

    /// The options a follow-up command needs to see the same files, e.g. ` --tracking-file x.json`.
    [[nodiscard]] std::string same_files() const {
        const CommonOptions defaults;
        std::string s;
        if (common.tracking_file != defaults.tracking_file) s += " --tracking-file " + common.tracking_file.string();
        if (common.state_file != defaults.state_file) s += " --state-file " + common.state_file.string();
        if (common.output_dir != defaults.output_dir) s += " --output-dir " + common.output_dir.string();
        return s;
    }

    /// The tracked jobs named by `--job-names`, in the order given (duplicates once).
    /// @throws UsageError listing the names that are not tracked.
    [[nodiscard]] std::vector<TrackedJob> named_jobs() {
        std::vector<TrackedJob> out_jobs;
        std::vector<std::string> unknown;
        for (const auto& name : args.values("--job-names")) {
            if (std::any_of(out_jobs.begin(), out_jobs.end(), [&](const TrackedJob& j) { return j.job_name == name; }))
                continue;
            if (auto job = tracker.find(name)) out_jobs.push_back(std::move(*job));
            else unknown.push_back(name);
        }
        if (!unknown.empty())
            throw UsageError(fmt::format("Unknown job name(s), not in {}: {}", common.tracking_file.string(),
                                         fmt::join(unknown, ", ")));
        return out_jobs;
    }
};

[[nodiscard]] inline std::string duplicate_message(std::int64_t index, const std::string& source, const std::string& job) {
    return fmt::format("Batch {} of '{}' already has a pending job, '{}'; wait for it or cancel it, or use --force to "
                       "create a second job.",
                       index, source, job);
}

[[nodiscard]] inline std::string display_name(const std::string& prefix, const std::string& source, std::int64_t index,
                                              std::string_view suffix = {}) {
    std::string name = fmt::format("{}{} batch {}{}", prefix, source, index, suffix);
    if (name.size() > 128) name.resize(128);
    return name;
}

/// Records a job just created at the provider. A pending job that appeared meanwhile (another
/// process) does not make us lose this one: it is then tracked too, with a warning.
/// @returns a warning to print, or an empty string.
inline std::string track_new_job(JobTracker& tracker, const TrackedJob& job, bool force) {
    try {
        tracker.add(job, force);
        return {};
    } catch (const DuplicateJobError& e) {
        tracker.add(job, true);
        return fmt::format("another pending job for this batch appeared meanwhile ({}); both are tracked",
                           e.existing_job());
    }
}

template <class B>
int create_resubmit(Context<B>& ctx, const std::string& original_name) {
    const auto file_path = ctx.args.value("--prompts");
    if (!file_path) throw UsageError("create --resubmit-failed needs --prompts FILE (the file the job was created from)");
    const auto original = ctx.tracker.find(original_name);
    if (!original)
        throw UsageError(fmt::format("Unknown job name, not in {}: {}", ctx.common.tracking_file.string(), original_name));
    const auto prompts = load_prompts(*file_path);
    const auto* source = prompts.find(original->source);
    if (!source)
        throw UsageError(fmt::format("Source '{}' of job {} is not in prompts file '{}'.", original->source,
                                     original_name, *file_path));
    const auto lines = ctx.store.load(original->source);
    if (std::none_of(lines.begin(), lines.end(), [&](const Json& l) { return l.at("job") == original_name; }))
        throw UsageError(fmt::format("Job {} has no saved results in {}; fetch it first (llmbatch fetch --job-names {}{}).",
                                     original_name, ctx.store.path_for(original->source).string(), original_name,
                                     ctx.same_files()));
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
                return exit_failure;
            }
    CreatedBatchJob created;
    try {
        CreateOptions options;
        options.display_name = display_name(ctx.args.value("--display-name-prefix").value_or(""), original->source,
                                            original->batch_index, " (resubmit)");
        created = ctx.backend.service().create_batch_job_on(ctx.backend.target_provider(), payload, options);
    } catch (const std::exception& e) {
        ctx.say(fmt::format("  Failed to create job - {}", e.what()));
        doc["job_name"] = nullptr;
        doc["error"] = e.what();
        if (ctx.common.json) ctx.emit(doc);
        return exit_failure;
    }
    TrackedJob job;
    job.provider = created.provider_name;
    job.job_name = created.job_name;
    job.source = original->source;
    job.batch_index = original->batch_index;
    job.created_at = ctx.backend.clock().utc_now();
    job.labels = original->labels;
    job.labels["resubmit_of"] = original_name;
    job.request_keys = keys;
    doc["job_name"] = job.job_name;
    try {
        const auto warning = track_new_job(ctx.tracker, job, force);
        if (!warning.empty()) ctx.say("  Warning: " + warning);
    } catch (const std::exception& e) {
        ctx.say(fmt::format("  Created job {}, but it could not be recorded in {}: {}", job.job_name,
                            ctx.common.tracking_file.string(), e.what()));
        doc["error"] = e.what();
        if (ctx.common.json) ctx.emit(doc);
        return exit_failure;
    }
    ctx.say(fmt::format("  Created job {} (request keys: {})", job.job_name, fmt::join(keys, ", ")));
    if (ctx.common.json) ctx.emit(doc);
    return exit_success;
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

    ctx.say(fmt::format("Loaded {} prompt(s) from {} source(s) in {}", prompts.prompt_count(), prompts.sources.size(),
                        *file_path));
    std::size_t total_batches = 0, skipped = 0, created_count = 0, refused = 0, failed = 0;
    bool tracking_broken = false;
    nlohmann::ordered_json jobs = nlohmann::ordered_json::array();
    for (std::size_t s = 0; s < prompts.sources.size() && !tracking_broken; ++s) {
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
            CreatedBatchJob created;
            try {
                CreateOptions options;
                options.display_name = display_name(prefix, batch.source, batch.index);
                created = ctx.backend.service().create_batch_job_on(ctx.backend.target_provider(), batch.payload(), options);
            } catch (const std::exception& e) {
                ctx.say(fmt::format("  Batch {}: Failed to create job - {}", batch.index, e.what()));
                ++failed;
                finish("failed", "", e.what());
                continue;
            }
            TrackedJob job;
            job.provider = created.provider_name;
            job.job_name = created.job_name;
            job.source = batch.source;
            job.batch_index = batch.index;
            job.created_at = ctx.backend.clock().utc_now();
            job.labels = batch.labels;
            job.request_keys = batch.keys();
            try {
                const auto warning = track_new_job(ctx.tracker, job, force);
                ctx.say(fmt::format("  Batch {}: Created job {}", batch.index, job.job_name));
                if (!warning.empty()) ctx.say(fmt::format("  Batch {}: Warning - {}", batch.index, warning));
            } catch (const std::exception& e) {
                ctx.say(fmt::format("  Batch {}: Created job {}, but it could not be recorded in {}: {}", batch.index,
                                    job.job_name, ctx.common.tracking_file.string(), e.what()));
                ctx.say("  No further batches are created; record or cancel that job by hand.");
                ++created_count;
                ++failed;
                finish("untracked", job.job_name, e.what());
                tracking_broken = true;
                break;
            }
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
    if (created_count > 0 && !tracking_broken)
        ctx.say(fmt::format("Next: 'llmbatch wait{0}' to follow the jobs, then 'llmbatch fetch --check-all-pending{0}' "
                            "to save their results.",
                            ctx.same_files()));
    if (ctx.common.json)
        ctx.emit({{"command", "create"},
                  {"jobs", jobs},
                  {"summary",
                   {{"total_sources", prompts.sources.size()},
                    {"total_batches", total_batches},
                    {"skipped", skipped},
                    {"created", created_count},
                    {"refused", refused},
                    {"failed", failed}}}});
    return failed > 0 || refused > 0 ? exit_failure : exit_success;
}

template <class B>
int fetch(Context<B>& ctx) {
    FetchSelection selection;
    selection.job_names = ctx.args.values("--job-names");
    selection.all_pending = ctx.args.flag("--check-all-pending");
    if (const auto hours = ctx.args.value("--refetch-hours"))
        selection.refetch_hours = positive_number("--refetch-hours", *hours, "hours");
    ctx.configure();
    bool spoke = false;
    const LineSink sink = [&](std::string_view line) {
        spoke = true;
        ctx.say(line);
    };
    FetchReport report;
    try {
        report = fetch_tracked_jobs(ctx.backend.service(), ctx.tracker, ctx.store, selection, ctx.backend.clock(), sink);
    } catch (const UsageError&) {
        throw;
    } catch (const InvalidArgument& e) {
        if (!spoke) throw UsageError(e.what());  // a bad selection: nothing was changed
        throw;
    }
    bool trouble = report.summary.failed > 0;
    nlohmann::ordered_json jobs = nlohmann::ordered_json::array();
    for (const auto& r : report.jobs) {
        if (!r.error.empty()) trouble = true;
        jobs.push_back({{"job_name", r.job_name},
                        {"source", r.source},
                        {"batch_index", r.batch_index},
                        {"state", r.state},
                        {"status", to_string(r.status)},
                        {"refetched", r.refetched},
                        {"saved", r.saved},
                        {"failed_requests", r.failed_requests},
                        {"saved_to", r.saved_to.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.saved_to)},
                        {"error", r.error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.error)}});
    }
    if (ctx.common.json) {
        nlohmann::ordered_json summary{{"checked", report.summary.checked},
                                       {"completed", report.summary.completed},
                                       {"failed", report.summary.failed},
                                       {"still_pending", report.summary.still_pending}};
        if (report.summary.refetch_requested) summary["refetched"] = report.summary.refetched;
        ctx.emit({{"command", "fetch"}, {"summary", summary}, {"jobs", jobs}});
    }
    return trouble ? exit_failure : exit_success;
}

template <class B>
int list(Context<B>& ctx) {
    std::optional<TrackedStatus> status;
    if (const auto word = ctx.args.value("--status")) {
        status = parse_tracked_status(*word);
        if (!status)
            throw UsageError(fmt::format("--status takes pending, completed, failed or cancelled (got '{}')", *word));
    }
    const bool show_errors = ctx.args.flag("--show-errors");
    auto jobs = ctx.tracker.jobs();
    if (status) std::erase_if(jobs, [&](const TrackedJob& j) { return j.status != *status; });
    if (ctx.common.json) {
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const auto& j : jobs) list.push_back(job_json(j));
        ctx.emit({{"command", "list"}, {"total", jobs.size()}, {"jobs", list}});
        return exit_success;
    }
    if (jobs.empty()) {
        ctx.say(status ? fmt::format("No {} jobs in {}", to_string(*status), ctx.common.tracking_file.string())
                       : fmt::format("No jobs in {}", ctx.common.tracking_file.string()));
        return exit_success;
    }
    std::size_t name_w = 8, source_w = 6;
    for (const auto& j : jobs) {
        name_w = std::max(name_w, j.job_name.size());
        source_w = std::max(source_w, j.source.size());
    }
    auto row = [&](std::string_view name, std::string_view st, std::string_view source, std::string_view batch) {
        return fmt::format("{:<{}}  {:<9}  {:<{}}  {}", name, name_w, st, source, source_w, batch);
    };
    ctx.say(frame('=', 80));
    ctx.say(row("Job Name", "Status", "Source", "Batch"));
    ctx.say(frame('=', 80));
    std::size_t failed = 0;
    for (const auto& j : jobs) {
        ctx.say(row(j.job_name, to_string(j.status), j.source, std::to_string(j.batch_index)));
        if (j.status == TrackedStatus::failed) {
            ++failed;
            if (show_errors)
                ctx.say(fmt::format("  Error: {}", j.error_message.empty() ? std::string("(no message)") : j.error_message));
        }
    }
    ctx.say(frame('=', 80));
    ctx.say(fmt::format("Total: {} job(s)", jobs.size()));
    if (failed > 0 && !show_errors)
        ctx.say(fmt::format("Note: {} job(s) have failed. Use --show-errors to see error details.", failed));
    return exit_success;
}

template <class B>
int cancel(Context<B>& ctx) {
    const bool by_names = ctx.args.has("--job-names");
    const bool all = ctx.args.flag("--cancel-all-pending");
    if (!by_names && !all) throw UsageError("Must specify either --job-names or --cancel-all-pending");
    if (by_names && all) throw UsageError("Specify either --job-names or --cancel-all-pending, not both");
    const auto jobs = by_names ? ctx.named_jobs() : ctx.tracker.pending();
    ctx.configure();
    nlohmann::ordered_json records = nlohmann::ordered_json::array();
    std::size_t cancelled = 0, failed = 0, skipped = 0;
    if (jobs.empty()) ctx.say("No pending jobs to cancel");
    else ctx.say(fmt::format("Cancelling {} job(s)...", jobs.size()));
    for (const auto& job : jobs) {
        ctx.say("");
        ctx.say(fmt::format("Job {}", ::llmbatch::detail::describe(job)));
        nlohmann::ordered_json record{{"job_name", job.job_name}, {"source", job.source}, {"batch_index", job.batch_index}};
        if (job.status != TrackedStatus::pending) {
            ctx.say(fmt::format("  Skipped: Job status is '{}', not 'pending'", to_string(job.status)));
            ++skipped;
            record["outcome"] = "skipped";
            record["error"] = nullptr;
            records.push_back(record);
            continue;
        }
        try {
            ctx.backend.service().cancel_batch_job(job.provider, job.job_name);
        } catch (const std::exception& e) {
            ctx.say(fmt::format("  Failed to cancel: {} (still pending)", e.what()));
            ++failed;
            record["outcome"] = "failed";
            record["error"] = e.what();
            records.push_back(record);
            continue;
        }
        ctx.tracker.mark_cancelled(job.job_name, "Cancelled by user.");
        ctx.say("  Cancelled");
        ++cancelled;
        record["outcome"] = "cancelled";
        record["error"] = nullptr;
        records.push_back(record);
    }
    ctx.say("");
    ctx.say(frame('=', 60));
    ctx.say("Summary:");
    ctx.say(fmt::format("  Cancelled: {}", cancelled));
    ctx.say(fmt::format("  Failed to cancel: {}", failed));
    ctx.say(fmt::format("  Skipped (not pending): {}", skipped));
    ctx.say(frame('=', 60));
    if (ctx.common.json)
        ctx.emit({{"command", "cancel"},
                  {"jobs", records},
                  {"summary", {{"cancelled", cancelled}, {"failed", failed}, {"skipped", skipped}}}});
    return failed > 0 ? exit_failure : exit_success;
}

[[nodiscard]] inline std::vector<TrackedJob> failed_jobs(const JobTracker& tracker) {
    auto jobs = tracker.jobs();
    std::erase_if(jobs, [](const TrackedJob& j) { return j.status != TrackedStatus::failed; });
    return jobs;
}

template <class B>
int refresh_errors(Context<B>& ctx) {
    const auto jobs = ctx.args.has("--job-names") ? ctx.named_jobs() : failed_jobs(ctx.tracker);
    ctx.configure();
    nlohmann::ordered_json records = nlohmann::ordered_json::array();
    std::size_t updated = 0, reset = 0, skipped = 0;
    bool trouble = false;
    if (jobs.empty()) ctx.say("No failed jobs to refresh");
    else ctx.say(fmt::format("Refreshing {} job(s)...", jobs.size()));
    for (const auto& job : jobs) {
        ctx.say("");
        ctx.say(fmt::format("Job {}", ::llmbatch::detail::describe(job)));
        nlohmann::ordered_json record{{"job_name", job.job_name}, {"source", job.source}, {"batch_index", job.batch_index}};
        auto done = [&](std::string_view outcome, const std::string& state, const std::string& message) {
            record["outcome"] = outcome;
            record["state"] = state.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(state);
            record["error"] = message.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(message);
            records.push_back(record);
        };
        if (job.status != TrackedStatus::failed) {
            ctx.say(fmt::format("  Skipped: Job status is '{}', not 'failed'", to_string(job.status)));
            ++skipped;
            done("skipped", "", "");
            continue;
        }
        BatchJob status;
        try {
            status = ctx.backend.service().get_batch_job_status(job.provider, job.job_name);
        } catch (const std::exception& e) {
            ctx.say(fmt::format("  Error checking job: {}", e.what()));
            ++skipped;
            trouble = true;
            done("error", "", e.what());
            continue;
        }
        const std::string state(to_string(status.state));
        if (status.state == JobState::succeeded && !status.error) {
            ctx.say("  Job actually succeeded! Resetting to pending...");
            ctx.tracker.reset_to_pending(job.job_name);
            ++reset;
            done("reset", state, "");
        } else if (!status.done) {
            ctx.say(fmt::format("  Job is still {}! Resetting to pending...", state));
            ctx.tracker.reset_to_pending(job.job_name);
            ++reset;
            done("reset", state, "");
        } else if (status.error && !status.error->message.empty()) {
            ctx.say(fmt::format("  Updated error: {}", status.error->message));
            ctx.tracker.mark_failed(job.job_name, status.error->message);
            ++updated;
            done("updated", state, status.error->message);
        } else {
            ctx.say(fmt::format("  No error details available (job state: {})", state));
            ++skipped;
            done("skipped", state, "");
        }
    }
    ctx.say("");
    ctx.say(frame('=', 60));
    ctx.say("Summary:");
    ctx.say(fmt::format("  Updated with errors: {}", updated));
    ctx.say(fmt::format("  Actually succeeded (reset to pending): {}", reset));
    ctx.say(fmt::format("  Skipped: {}", skipped));
    ctx.say(frame('=', 60));
    if (reset > 0)
        ctx.say(fmt::format("Run 'llmbatch fetch --check-all-pending{}' to save their results.", ctx.same_files()));
    if (ctx.common.json)
        ctx.emit({{"command", "refresh-errors"},
                  {"jobs", records},
                  {"summary", {{"updated", updated}, {"reset_to_pending", reset}, {"skipped", skipped}}}});
    return trouble ? exit_failure : exit_success;
}

template <class B>
int wait(Context<B>& ctx) {
    using namespace std::chrono;
    PollPolicy policy;
    policy.initial_interval = seconds(5);
    policy.max_interval = seconds(60);
    if (const auto v = ctx.args.value("--poll-interval")) {
        policy.initial_interval = milliseconds(static_cast<std::int64_t>(positive_number("--poll-interval", *v, "seconds") * 1000));
        policy.max_interval = policy.initial_interval;
        policy.multiplier = 1.0;
        policy.jitter = 0.0;
    }
    std::optional<milliseconds> timeout;
    if (const auto v = ctx.args.value("--timeout"))
        timeout = milliseconds(static_cast<std::int64_t>(positive_number("--timeout", *v, "seconds") * 1000));
    const auto jobs = ctx.args.has("--job-names") ? ctx.named_jobs() : ctx.tracker.pending();
    ctx.configure();
    auto& clock = ctx.backend.clock();
    const auto start = clock.now();
    const bool tty = ctx.run.out_is_terminal && !ctx.common.json;

    if (jobs.empty()) ctx.say("No pending jobs to wait for");
    else ctx.say(fmt::format("Waiting for {} job(s)...", jobs.size()));
    nlohmann::ordered_json records = nlohmann::ordered_json::array();
    std::size_t succeeded = 0, unsuccessful = 0;
    std::size_t line_width = 0;
    for (const auto& job : jobs) {
        std::string last_line;
        auto progress = [&](const BatchJob& status) {
            const auto done_count = status.counts.succeeded + status.counts.failed;
            const std::string line = fmt::format("{}: {} {}/{}", job.job_name, status.state, done_count, status.counts.total);
            if (line == last_line) return WaitControl::keep_waiting;
            last_line = line;
            if (tty) {
                ctx.out << '\r' << line << std::string(line_width > line.size() ? line_width - line.size() : 0, ' ');
                ctx.out.flush();
                line_width = line.size();
            } else {
                ctx.say(line);
            }
            return WaitControl::keep_waiting;
        };
        if (timeout) {
            const auto left = *timeout - duration_cast<milliseconds>(clock.now() - start);
            policy.deadline = std::max(left, milliseconds(0));
        }
        BatchJob final_status;
        try {
            final_status = ctx.backend.service().wait_for_job(job.provider, job.job_name, clock, policy, progress);
        } catch (...) {
            if (tty && line_width > 0) ctx.out << '\n';
            throw;
        }
        if (tty) {
            ctx.out << '\n';
            line_width = 0;
        }
        if (final_status.state == JobState::succeeded && !final_status.error) ++succeeded;
        else ++unsuccessful;
        records.push_back({{"job_name", job.job_name},
                           {"state", std::string(to_string(final_status.state))},
                           {"succeeded_requests", final_status.counts.succeeded},
                           {"failed_requests", final_status.counts.failed},
                           {"total_requests", final_status.counts.total},
                           {"error", final_status.error ? nlohmann::ordered_json(final_status.error->message)
                                                        : nlohmann::ordered_json(nullptr)}});
    }
    if (!jobs.empty()) {
        ctx.say("");
        ctx.say(fmt::format("All {} job(s) finished: {} succeeded, {} did not.", jobs.size(), succeeded, unsuccessful));
        ctx.say(fmt::format("Run 'llmbatch fetch --check-all-pending{}' to save the results.", ctx.same_files()));
    }
    if (ctx.common.json) ctx.emit({{"command", "wait"}, {"jobs", records}});
    return unsuccessful > 0 ? exit_failure : exit_success;
}

}  // namespace detail

/// Runs one `llmbatch` command line (`args` without the program name) on `backend`, printing to
/// `out` and `err`, and returns the exit code: 0 success, 1 when a job failed or an error
/// occurred, 2 for bad usage or input. With `--json`, `out` receives exactly one JSON document
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
        detail::ParsedArgs parsed;
        std::size_t i = 0;
        // Common options may come before the command; --help there is the tool's help.
        while (i < args.size() && args[i].size() > 1 && args[i][0] == '-') {
            if (args[i] == "--help" || args[i] == "-h") {
                detail::print_tool_help(out, backend.description());
                return exit_success;
            }
            if (args[i].rfind("--", 0) != 0) throw UsageError(fmt::format("unknown option '{}'", args[i]));
            i = detail::parse_options(args, i, nullptr, parsed, true);
        }
        if (i >= args.size()) throw UsageError("no command given (create, fetch, list, cancel, refresh-errors or wait)");
        if (args[i] == "help") {
            detail::print_tool_help(out, backend.description());
            return exit_success;
        }
        const auto* command = detail::find_command(args[i]);
        if (!command)
            throw UsageError(fmt::format("unknown command '{}' (expected create, fetch, list, cancel, refresh-errors or wait)",
                                         args[i]));
        command_name = std::string(command->name);
        for (std::size_t k = i + 1; k < args.size(); ++k)
            if (args[k] == "--help" || args[k] == "-h") {
                detail::print_command_help(out, *command);
                return exit_success;
            }
        (void)detail::parse_options(args, i + 1, command, parsed, false);

        detail::CommonOptions common;
        if (auto v = parsed.value("--tracking-file")) common.tracking_file = *v;
        if (auto v = parsed.value("--state-file")) common.state_file = *v;
        if (auto v = parsed.value("--output-dir")) common.output_dir = *v;
        if (auto v = parsed.value("--base-url")) common.base_url = *v;
        if (auto v = parsed.value("--provider")) common.provider = checked_provider(*v);
        common.json = parsed.flag("--json");
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
        if (command->name == "create") return detail::create(*ctx);
        if (command->name == "fetch") return detail::fetch(*ctx);
        if (command->name == "list") return detail::list(*ctx);
        if (command->name == "cancel") return detail::cancel(*ctx);
        if (command->name == "refresh-errors") return detail::refresh_errors(*ctx);
        return detail::wait(*ctx);
    } catch (const UsageError& e) {
        return fail(e.what(), exit_usage);
    } catch (const std::exception& e) {
        return fail(e.what(), exit_failure);
    }
}

}  // namespace llmbatch::cli
