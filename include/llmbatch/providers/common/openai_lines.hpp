#pragma once
/// @file providers/common/openai_lines.hpp
/// `OpenAILinesReader`: the reader of OpenAI-shaped batch result lines, shared by the OpenAI
/// provider (output and error files) and the Mistral provider (output and error files, inline
/// `outputs`). Every line is
/// `{"id", "custom_id", "response": {"status_code", "request_id", "body"} | null, "error": {"code", "message"} | null}`.
///
/// Lines are fed in any chunks (a `JsonlSplitter` cuts them), joined on `custom_id` into input
/// order, and handed to a sink as `RequestOutcome`s; `finish()` gives every request without a
/// line its `MISSING_RESULT` / `CANCELLED` / `EXPIRED` outcome.
///
/// - A `response` with `status_code` >= 400 is a failed request even when `error` is null:
///   `ErrorStatus{status_code, body.error.code (else type), body.error.message, body}`.
/// - An `error` line: `batch_expired` → status `EXPIRED`, `batch_cancelled` → `CANCELLED`, other
///   codes (`request_timeout`, ...) kept as the status; the code word is kept in `details.code`.
/// - Usage from `body.usage`; with JSON wanted, the answer text (`chat_answer_text`) through
///   `filter_json`: no text → `EMPTY_RESPONSE`, no JSON → `INVALID_JSON`. Without JSON wanted
///   the value is the response body.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/fast_json.hpp"
#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/json_filter.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/providers/common/chat_completions.hpp"
#include "llmbatch/providers/common/jsonl.hpp"
#include "llmbatch/providers/common/result_reader.hpp"

namespace llmbatch {

namespace detail {

/// The `ErrorStatus` of a failed response body with HTTP status `http_status`: OpenAI's
/// `{"error": {message, type, param, code}}`, or Mistral's `{"message", "type", "code"}`,
/// `{"detail": "...", "error_type": ...}` or validation errors `{"detail": [{loc, msg, type}]}`.
[[nodiscard]] inline ErrorStatus openai_body_error(int http_status, const Json& body) {
    ErrorStatus status;
    status.code = http_status;
    const Json* err = find(body, "error");
    const Json& e = err && err->is_object() ? *err : body;
    if (const auto* code = find(e, "code"); code && code->is_string()) status.status = code->get<std::string>();
    if (status.status.empty()) status.status = get_string(e, "type");
    if (status.status.empty()) status.status = get_string(e, "error_type");
    const auto* m = find(e, "message");
    const auto* d = find(e, "detail");
    if (m && m->is_string()) {
        status.message = m->get<std::string>();
    } else if (m && !m->is_null()) {
        status.message = excerpt(m->dump(), 500);
    } else if (d && d->is_string()) {
        status.message = d->get<std::string>();
    } else if (d && d->is_array()) {  // validation errors: [{loc, msg, type}]
        for (const auto& item : *d) {
            std::string one = get_string(item, "msg");
            if (const auto* loc = find(item, "loc"); loc && loc->is_array() && !loc->empty()) {
                std::string path;
                for (const auto& part : *loc) path += (path.empty() ? "" : ".") + (part.is_string() ? part.get<std::string>() : part.dump());
                one = path + ": " + one;
            }
            status.message += (status.message.empty() ? "" : "; ") + one;
        }
        status.message = excerpt(status.message, 500);
    } else if (d && !d->is_null()) {
        status.message = excerpt(d->dump(), 500);
    } else if (err && err->is_string()) {
        status.message = err->get<std::string>();
    }
    status.details = body;
    return status;
}

/// The `ErrorStatus` of a line's `error` member (`{code, message}`).
[[nodiscard]] inline ErrorStatus openai_line_error(const Json& error) {
    ErrorStatus status;
    const std::string code = get_string(error, "code");
    if (code == "batch_expired") status.status = "EXPIRED";
    else if (code == "batch_cancelled") status.status = "CANCELLED";
    else status.status = code.empty() ? std::string("ERROR") : code;
    status.message = get_string(error, "message");
    status.details = error;
    return status;
}

}  // namespace detail

/// Turns OpenAI-shaped result lines into outcomes in a sink, each placed by its `custom_id`.
class OpenAILinesReader {
public:
    /// `provider` and `job` name the fetch in messages; `json_wanted` is already resolved
    /// (the fetch's option, else what the job recorded, else the provider's default); `total` is
    /// the job's request count (0 when unknown); `state` is how the job ended; `redactor` is
    /// applied to every per-request error.
    OpenAILinesReader(std::string_view provider, std::string job, const FetchOptions& options, bool json_wanted,
                      std::int64_t total, JobState state, const OutcomeSink& sink, Redactor redactor = {})
        : json_wanted_(json_wanted), join_(provider, std::move(job), options, total, state, sink, std::move(redactor)) {}

    /// Reads the next piece of a results file.
    void feed(std::string_view chunk) {
        lines_.feed(chunk, [this](std::string_view line, std::size_t number) { read_line(line, number); });
    }

    /// The end of one results file (the next file's lines are numbered from 1 again).
    void finish_stream() {
        lines_.finish([this](std::string_view line, std::size_t number) { read_line(line, number); });
        lines_ = JsonlSplitter();
    }

    /// Reads one line already parsed (e.g. an element of Mistral's inline `outputs`), moved from.
    void read(Json line, std::size_t number) { read_object(std::move(line), number); }

    /// Hands an outcome to every request that had none.
    void finish() { join_.finish(); }
    /// See `ResultJoin::expect_answers`.
    void expect_answers(std::int64_t n) noexcept { join_.expect_answers(n); }

private:
    void read_line(std::string_view line, std::size_t number) {
        Json parsed = detail::parse_json(line);
        if (parsed.is_discarded()) throw join_.bad_reply(fmt::format("line {} is not a JSON object", number));
        read_object(std::move(parsed), number);
    }

    void read_object(Json line, std::size_t number) {
        if (!line.is_object()) throw join_.bad_reply(fmt::format("line {} is not a JSON object", number));
        std::string key = detail::get_string(line, "custom_id");
        const std::size_t index = join_.claim(key, number);
        RequestOutcome out;
        out.index = index;
        out.key = key.empty() ? join_.order().key_of(index) : std::move(key);
        fill(out, line);
        join_.emit(std::move(out));
    }

    void fill(RequestOutcome& out, Json& line) const {
        auto response = line.find("response");
        const bool has_response = response != line.end() && response->is_object();
        if (!has_response) {
            if (const auto* err = detail::find(line, "error"); err && err->is_object())
                out.error = detail::openai_line_error(*err);
            else
                out.error = ErrorStatus{0, "MALFORMED_RESULT", "the result holds neither a response nor an error", nullptr};
            return;
        }
        const int status = static_cast<int>(detail::get_int64(*response, "status_code").value_or(0));
        auto body = response->find("body");
        if (body == response->end()) {
            out.error = ErrorStatus{status, "MALFORMED_RESULT", "the response has no body", nullptr};
            return;
        }
        if (status >= 400) {
            out.error = detail::openai_body_error(status, *body);
            return;
        }
        if (const auto* err = detail::find(line, "error"); err && err->is_object()) {
            out.error = detail::openai_line_error(*err);
            return;
        }
        out.usage = chat_usage(*body);
        out.model = detail::get_string(*body, "model");
        if (!json_wanted_) {
            out.value = std::move(*body);
            return;
        }
        const auto text = chat_answer_text(*body);
        out.raw = std::move(*body);
        if (!text) {
            out.error = ErrorStatus{0, "EMPTY_RESPONSE", "the response has no text (" + chat_no_text_reason(out.raw) + ")",
                                    nullptr};
            return;
        }
        try {
            out.value = filter_json(*text);
        } catch (const JsonExtractionError& e) {
            out.error = ErrorStatus{0, "INVALID_JSON", e.what(), nullptr};
        }
    }

    bool json_wanted_;
    ResultJoin join_;
    JsonlSplitter lines_;
};

}  // namespace llmbatch
