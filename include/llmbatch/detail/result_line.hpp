#pragma once
/// @file detail/result_line.hpp
/// The result line format shared by the result stores (`ResultStore` in result_store.hpp, and
/// the database stores): which sources name a results file, the text of one request's line (a
/// store that writes it writes exactly what the JSON Lines files hold), and reading the lines of
/// a results file back.

#include <algorithm>
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

/// Appends `text` as a result line writes a string (a compact nlohmann dump: UTF-8, invalid bytes
/// replaced): copied as it is between quotes when it is printable ASCII without `"` or `\` (most
/// of what models write), else through nlohmann.
inline void append_result_json_string(std::string& out, std::string_view text) {
    bool plain = true;
    for (std::size_t at = 0; plain && at < text.size(); at += 64) {  // blocks, so the test vectorises
        const std::size_t end = std::min(text.size(), at + 64);
        bool special = false;
        for (std::size_t i = at; i < end; ++i) {
            const auto c = static_cast<unsigned char>(text[i]);
            special |= (c < 0x20) | (c >= 0x7F) | (c == '"') | (c == '\\');
        }
        plain = !special;
    }
    if (!plain) {
        out += nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        return;
    }
    out += '"';
    out += text;
    out += '"';
}

/// Appends `value` as `nlohmann::ordered_json(value).dump(-1, ' ', false, replace)` writes it
/// (keys in the order they iterate), without converting it first.
inline void append_result_json(std::string& out, const nlohmann::json& value) {
    switch (value.type()) {
        case nlohmann::json::value_t::object: {
            out += '{';
            bool first = true;
            for (const auto& [key, item] : value.get_ref<const nlohmann::json::object_t&>()) {
                if (!std::exchange(first, false)) out += ',';
                append_result_json_string(out, key);
                out += ':';
                append_result_json(out, item);
            }
            out += '}';
            return;
        }
        case nlohmann::json::value_t::array: {
            out += '[';
            bool first = true;
            for (const auto& item : value.get_ref<const nlohmann::json::array_t&>()) {
                if (!std::exchange(first, false)) out += ',';
                append_result_json(out, item);
            }
            out += ']';
            return;
        }
        case nlohmann::json::value_t::string: append_result_json_string(out, value.get_ref<const std::string&>()); return;
        default: out += value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); return;
    }
}

/// How every line of `job_name` starts: `{"job":"<name>",` (as `result_line` writes it).
[[nodiscard]] inline std::string result_line_prefix(const std::string& job_name) {
    std::string prefix = "{\"job\":";
    append_result_json_string(prefix, job_name);
    prefix += ',';
    return prefix;
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
    if (is_too_deep(outcome)) return result_line(source, job, provider, too_deep(outcome));
    // Written straight into the text, in the order above (the value is most of the line).
    std::string line;
    line.reserve(256);
    auto field = [&](std::string_view name) {
        line += line.empty() ? "{\"" : ",\"";
        line += name;
        line += "\":";
    };
    field("job");
    append_result_json_string(line, job.job_name);
    field("provider");
    append_result_json_string(line, provider);
    field("source");
    append_result_json_string(line, source);
    field("batch_index");
    line += fmt::format_int(job.batch_index).str();
    field("request_index");
    line += fmt::format_int(outcome.index).str();
    // The caller's key for the request (tracked with the job) wins over the provider's own key,
    // which only says where the request sat in the job.
    field("request_key");
    append_result_json_string(line, outcome.index < job.request_keys.size() ? job.request_keys[outcome.index] : outcome.key);
    if (!outcome.model.empty()) {
        field("model");
        append_result_json_string(line, outcome.model);
    }
    field("labels");
    line += '{';
    bool first = true;
    for (const auto& [k, v] : job.labels) {
        if (!std::exchange(first, false)) line += ',';
        append_result_json_string(line, k);
        line += ':';
        append_result_json_string(line, v);
    }
    line += '}';
    if (outcome.ok()) {
        field("status");
        line += "\"ok\"";
        field("value");
        append_result_json(line, *outcome.value);
        field("error");
        line += "null";
    } else {
        using Ordered = nlohmann::ordered_json;
        const ErrorStatus err = outcome.error.value_or(
            ErrorStatus{0, "", "The provider reported neither a value nor an error for this request.", nullptr});
        field("status");
        line += "\"error\"";
        field("value");
        line += "null";
        Ordered e;
        e["code"] = err.code;
        e["status"] = err.status;
        e["message"] = err.message;
        if (!err.details.is_null())
            e["details"] = nests_deeper_than(err.details) ? Ordered("(nested too deeply to be saved)")
                                                          : Ordered(err.details);
        field("error");
        line += e.dump(-1, ' ', false, Ordered::error_handler_t::replace);
    }
    if (outcome.usage) {
        const auto& u = *outcome.usage;
        field("usage");
        line += fmt::format(R"({{"input":{},"output":{},"thinking":{},"cached":{},"total":{}}})", u.input, u.output,
                            u.thinking, u.cached, u.total);
    }
    line += "}\n";
    return line;
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
