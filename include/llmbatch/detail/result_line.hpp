#pragma once
/// @file detail/result_line.hpp
/// The result line format shared by the result stores (`ResultStore` in result_store.hpp, and
/// the database stores): which sources name a results file, the text of one request's line (a
/// store that writes it writes exactly what the JSON Lines files hold), and reading the lines of
/// a results file back.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/fast_json.hpp"
#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/detail/spill_file.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/tracked_job.hpp"

namespace llmbatch {

/// A results file holds a line that is not a JSON object with a string `"job"`. The file is left
/// as it was.
class ResultFileError : public Error {
public:
    ResultFileError(std::string message, std::filesystem::path path, std::size_t line)
        : Error(std::move(message)), path_(std::move(path)), line_(line) {}

    /// The results file.
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
    /// The offending line, counted from 1.
    [[nodiscard]] std::size_t line() const noexcept { return line_; }

private:
    std::filesystem::path path_;
    std::size_t line_;
};

}  // namespace llmbatch

namespace llmbatch::detail {

/// Refuses a source that cannot name a results file: empty, absolute, with an empty, `.` or `..`
/// part, or holding a NUL character.
/// @throws InvalidArgument saying why.
inline void check_result_source(const std::string& source) {
    auto refuse = [&](std::string_view why) {
        throw InvalidArgument(fmt::format("Source '{}' cannot name a results file: {}.", source, why));
    };
    if (source.empty()) refuse("it is empty");
    if (source.front() == '/') refuse("it is an absolute path; give a path relative to the output directory");
    if (source.find('\0') != std::string::npos) refuse("it contains a NUL character");
    std::size_t start = 0;
    for (;;) {
        const auto end = source.find('/', start);
        const std::string_view part(source.data() + start, (end == std::string::npos ? source.size() : end) - start);
        if (part.empty()) refuse("it has an empty path part");
        if (part == "." || part == "..") refuse(fmt::format("it has a '{}' path part", part));
        if (end == std::string::npos) break;
        start = end + 1;
    }
}

/// True when the value of `outcome` nests deeper than `max_json_depth`: copying, converting or
/// writing it would recurse once per level.
[[nodiscard]] inline bool is_too_deep(const RequestOutcome& outcome) {
    return outcome.ok() && nests_deeper_than(*outcome.value);
}

/// `outcome` as the error it is saved as when its value is too deep.
[[nodiscard]] inline RequestOutcome too_deep(const RequestOutcome& outcome) {
    RequestOutcome refused;
    refused.index = outcome.index;
    refused.key = outcome.key;
    refused.usage = outcome.usage;
    refused.model = outcome.model;
    refused.error =
        ErrorStatus{0, "INVALID_JSON", fmt::format("the answer nests deeper than {} levels", max_json_depth), nullptr};
    return refused;
}

/// `text` as a result line writes a string (UTF-8, invalid bytes replaced).
[[nodiscard]] inline std::string result_json_string(const std::string& text) {
    return nlohmann::ordered_json(text).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

/// How every line of `job_name` starts: `{"job":"<name>",`.
[[nodiscard]] inline std::string result_line_prefix(const std::string& job_name) {
    return "{\"job\":" + result_json_string(job_name) + ",";
}

/// The line saved for `outcome` of `job` (ending with a newline):
/// @code
/// {"job": ..., "provider": ..., "source": ..., "batch_index": ..., "request_index": ...,
///  "request_key": ..., "model": ..., "labels": {...}, "status": "ok"|"error", "value": ..., "error": ...,
///  "usage": {...}}
/// @endcode
/// `model` (the model that answered) and `usage` (its tokens) only when the provider named them.
[[nodiscard]] inline std::string result_line(const std::string& source, const TrackedJob& job,
                                             const std::string& provider, const RequestOutcome& outcome) {
    using Ordered = nlohmann::ordered_json;
    if (is_too_deep(outcome)) return result_line(source, job, provider, too_deep(outcome));
    Ordered line;
    line["job"] = job.job_name;
    line["provider"] = provider;
    line["source"] = source;
    line["batch_index"] = job.batch_index;
    line["request_index"] = outcome.index;
    // The caller's key for the request (tracked with the job) wins over the provider's own key,
    // which only says where the request sat in the job.
    std::string key = outcome.key;
    if (outcome.index < job.request_keys.size()) key = job.request_keys[outcome.index];
    line["request_key"] = key;
    if (!outcome.model.empty()) line["model"] = outcome.model;
    line["labels"] = Ordered::object();
    for (const auto& [k, v] : job.labels) line["labels"][k] = v;
    if (outcome.ok()) {
        line["status"] = "ok";
        line["value"] = Ordered(*outcome.value);
        line["error"] = nullptr;
    } else {
        const ErrorStatus err = outcome.error.value_or(
            ErrorStatus{0, "", "The provider reported neither a value nor an error for this request.", nullptr});
        line["status"] = "error";
        line["value"] = nullptr;
        Ordered e;
        e["code"] = err.code;
        e["status"] = err.status;
        e["message"] = err.message;
        if (!err.details.is_null())
            e["details"] = nests_deeper_than(err.details) ? Ordered("(nested too deeply to be saved)")
                                                          : Ordered(err.details);
        line["error"] = std::move(e);
    }
    if (outcome.usage)
        line["usage"] = {{"input", outcome.usage->input},   {"output", outcome.usage->output},
                         {"thinking", outcome.usage->thinking}, {"cached", outcome.usage->cached},
                         {"total", outcome.usage->total}};
    return line.dump(-1, ' ', false, Ordered::error_handler_t::replace) + '\n';
}

// ----- reading results files -----

/// Calls `f(text, number, unterminated)` for every line of `file` (without its newline), reading
/// it in pieces; `unterminated` is true for a last line with no newline. Nothing when there is
/// no file. @throws FileError when it cannot be read.
template <class F>
void for_each_raw_line(const std::filesystem::path& file, F&& f) {
    std::string partial;
    std::size_t number = 0;
    read_file_chunks(file, [&](std::string_view chunk) {
        while (!chunk.empty()) {
            const auto nl = chunk.find('\n');
            if (nl == std::string_view::npos) {
                partial.append(chunk);
                return;
            }
            ++number;
            if (partial.empty()) {
                f(chunk.substr(0, nl), number, false);
            } else {
                partial.append(chunk.substr(0, nl));
                f(std::string_view(partial), number, false);
                partial.clear();
            }
            chunk.remove_prefix(nl + 1);
        }
    });
    if (!partial.empty()) f(std::string_view(partial), number + 1, true);
}

[[nodiscard]] inline bool is_blank_line(std::string_view text) {
    return text.find_first_not_of(" \t\r") == std::string_view::npos;
}

/// A last line (with no newline) cut short by an interrupted append: it starts as a result line
/// and is not JSON.
[[nodiscard]] inline bool is_torn_line(std::string_view text) {
    constexpr std::string_view start = "{\"job\":";
    return text.substr(0, start.size()) == start && Json::parse(text, nullptr, false).is_discarded();
}

/// Parses line `number` of `file`.
/// @throws ResultFileError when it is not a JSON object with a string "job".
[[nodiscard]] inline Json parse_result_line(const std::filesystem::path& file, std::string_view text, std::size_t number) {
    Json line = parse_json(text);
    if (line.is_discarded()) try {
        line = Json::parse(text);  // throws, with the parser's message
    } catch (const Json::exception& e) {  // also numbers out of range, such as 1e999
        throw ResultFileError(fmt::format("Results file '{}', line {}, is not valid JSON ({}). The file was left "
                                          "unchanged; fix or move it.",
                                          file.string(), number, e.what()),
                              file, number);
    }
    if (!line.is_object() || !line.contains("job") || !line.at("job").is_string())
        throw ResultFileError(fmt::format("Results file '{}', line {}, is not a result line (a JSON object with a "
                                          "string \"job\"). The file was left unchanged; fix or move it.",
                                          file.string(), number),
                              file, number);
    // A store writes a value up to max_json_depth levels deep two levels down (error.details).
    if (nests_deeper_than(line, max_json_depth + 2))
        throw ResultFileError(fmt::format("Results file '{}', line {}, nests deeper than {} levels. The file was "
                                          "left unchanged; fix or move it.",
                                          file.string(), number, max_json_depth + 2),
                              file, number);
    return line;
}

/// The `job` of line `number` of `file` (empty for a blank line): read straight from the
/// `{"job":"...",` start a store writes, else from a full parse.
/// @throws ResultFileError for a line that is not a result line.
[[nodiscard]] inline std::string result_line_job(const std::filesystem::path& file, std::string_view text,
                                                 std::size_t number) {
    if (is_blank_line(text)) return {};
    constexpr std::string_view start = "{\"job\":\"";
    // A line a store wrote: its start and its closing brace are enough (a full parse of every
    // line would dominate the save of a large file).
    if (text.substr(0, start.size()) == start && text.back() == '}') {
        const auto end = text.find('"', start.size());
        if (end != std::string_view::npos && text.substr(start.size(), end - start.size()).find('\\') == std::string_view::npos)
            return std::string(text.substr(start.size(), end - start.size()));
    }
    return parse_result_line(file, text, number).at("job").get<std::string>();
}

/// Calls `f(parsed, number)` for every non-blank line of `file` (none when it does not exist).
/// @throws ResultFileError for a line that is not a result line.
template <class F>
void for_each_result_line(const std::filesystem::path& file, F&& f) {
    for_each_raw_line(file, [&](std::string_view text, std::size_t number, bool) {
        if (is_blank_line(text)) return;
        f(parse_result_line(file, text, number), number);
    });
}

}  // namespace llmbatch::detail
