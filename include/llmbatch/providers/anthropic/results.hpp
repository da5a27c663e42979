#pragma once
/// @file providers/anthropic/results.hpp
/// `AnthropicResultsReader`: the reader of a Message Batch's results stream (JSON Lines, fed in
/// any chunks, `\r\n` tolerated). Every line is `{"custom_id", "result": R}` with R one of
///
/// - `{"type": "succeeded", "message": <Message>}`: the text of the message's `text` blocks
///   (through `filter_json` when JSON is wanted, else the value is the Message), usage from
///   `message.usage` (`input_tokens`, `output_tokens`, cache reads as `cached`);
/// - `{"type": "errored", "error": {"type": "error", "error": {"type", "message"}}}`: an
///   `ErrorStatus` with the inner type as status;
/// - `{"type": "canceled"}` → status `CANCELLED`; `{"type": "expired"}` → status `EXPIRED`.
///
/// Results are joined on `custom_id` into input order (`ResultJoin`); the custom ids are those
/// `detail::anthropic_custom_id` derived from the request keys, and each outcome carries the key
/// the request was submitted under.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/fast_json.hpp"
#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/json_filter.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/providers/anthropic/wire.hpp"
#include "llmbatch/providers/common/jsonl.hpp"
#include "llmbatch/providers/common/result_reader.hpp"
#include "llmbatch/results.hpp"

namespace llmbatch {

/// The text of a Message: its `text` blocks joined; nothing when it has none.
[[nodiscard]] inline std::optional<std::string> anthropic_message_text(const Json& message) {
    const auto* content = detail::find(message, "content");
    if (!content || !content->is_array()) return std::nullopt;
    std::optional<std::string> text;
    for (const auto& block : *content)
        if (detail::get_string(block, "type") == "text")
            if (const auto* t = detail::find(block, "text"); t && t->is_string()) text = text.value_or("") + t->get<std::string>();
    return text;
}

/// The token usage of a Message (`usage.input_tokens`, `output_tokens`, `cache_read_input_tokens`).
[[nodiscard]] inline std::optional<TokenUsage> anthropic_usage(const Json& message) {
    const auto* u = detail::find(message, "usage");
    if (!u || !u->is_object()) return std::nullopt;
    TokenUsage usage;
    usage.input = detail::get_int64(*u, "input_tokens").value_or(0);
    usage.output = detail::get_int64(*u, "output_tokens").value_or(0);
    usage.cached = detail::get_int64(*u, "cache_read_input_tokens").value_or(0);
    usage.total = usage.input + usage.output;
    return usage;
}

/// The custom ids a job's requests were submitted under, from the keys a fetch was given (in
/// input order; empty: the keys are the indices, which are their own custom ids).
[[nodiscard]] inline std::vector<std::string> anthropic_custom_ids(const std::vector<std::string>& request_keys) {
    std::vector<std::string> ids;
    ids.reserve(request_keys.size());
    for (std::size_t i = 0; i < request_keys.size(); ++i) ids.push_back(detail::anthropic_custom_id(request_keys[i], i));
    return ids;
}

/// Turns result lines into outcomes in a sink, each placed by its `custom_id`.
class AnthropicResultsReader {
public:
    /// `redactor` removes the API key from every error a result line carries.
    AnthropicResultsReader(std::string job, const FetchOptions& options, bool json_wanted, std::int64_t total,
                           JobState state, const OutcomeSink& sink, Redactor redactor = {})
        : json_wanted_(json_wanted), keys_(options.request_keys), ids_options_(with_ids(options)),
          join_("anthropic", std::move(job), ids_options_, total, state, sink, std::move(redactor)) {}

    /// Reads the next piece of the stream.
    void feed(std::string_view chunk) {
        lines_.feed(chunk, [this](std::string_view line, std::size_t number) { read_line(line, number); });
    }

    /// The end of the stream: reads its last line, then hands an outcome to every request without one.
    void finish() {
        lines_.finish([this](std::string_view line, std::size_t number) { read_line(line, number); });
        join_.finish();
    }

private:
    static FetchOptions with_ids(const FetchOptions& options) {
        FetchOptions o = options;
        o.request_keys = anthropic_custom_ids(options.request_keys);
        return o;
    }

    void read_line(std::string_view text, std::size_t number) {
        Json line = detail::parse_json(text);
        if (line.is_discarded() || !line.is_object())
            throw join_.bad_reply(fmt::format("line {} is not a JSON object", number));
        const std::string id = detail::get_string(line, "custom_id");
        const std::size_t index = join_.claim(id, number);
        RequestOutcome out;
        out.index = index;
        out.key = index < keys_.size() ? keys_[index] : id;
        fill(out, line);
        join_.emit(std::move(out));
    }

    void fill(RequestOutcome& out, Json& line) const {
        auto result = line.find("result");
        if (result == line.end() || !result->is_object()) {
            out.error = ErrorStatus{0, "MALFORMED_RESULT", "the line has no result object", nullptr};
            return;
        }
        const std::string type = detail::get_string(*result, "type");
        if (type == "canceled") {
            out.error = ErrorStatus{0, "CANCELLED", "the batch was canceled before this request was processed", nullptr};
        } else if (type == "expired") {
            out.error = ErrorStatus{0, "EXPIRED", "the batch expired before this request was processed", nullptr};
        } else if (type == "errored") {
            const Json& wrapper = detail::member(*result, "error");
            auto status = detail::anthropic_body_error(0, wrapper);
            if (!status) status = detail::anthropic_body_error(0, Json{{"error", wrapper}});
            if (!status) status = ErrorStatus{0, "ERROR", "the request errored without an error object", wrapper};
            status->code = detail::anthropic_error_http_status(status->status);
            out.error = std::move(status);
        } else if (type == "succeeded") {
            auto message = result->find("message");
            if (message == result->end() || !message->is_object()) {
                out.error = ErrorStatus{0, "MALFORMED_RESULT", "the succeeded result has no message", nullptr};
                return;
            }
            out.usage = anthropic_usage(*message);
            out.model = detail::get_string(*message, "model");
            if (!json_wanted_) {
                out.value = std::move(*message);
                return;
            }
            const auto text = anthropic_message_text(*message);
            const std::string stop = detail::get_string(*message, "stop_reason");
            out.raw = std::move(*message);
            if (!text) {
                out.error = ErrorStatus{0, "EMPTY_RESPONSE",
                                        "the message has no text (stop_reason " + (stop.empty() ? "none" : stop) + ")",
                                        nullptr};
                return;
            }
            try {
                out.value = filter_json(*text);
            } catch (const JsonExtractionError& e) {
                out.error = ErrorStatus{0, "INVALID_JSON", e.what(), nullptr};
            }
        } else {
            out.error = ErrorStatus{0, "MALFORMED_RESULT",
                                    fmt::format("unknown result type '{}'", detail::excerpt(type, 40)), nullptr};
        }
    }

    bool json_wanted_;
    std::vector<std::string> keys_;
    FetchOptions ids_options_;
    ResultJoin join_;
    JsonlSplitter lines_;
};

}  // namespace llmbatch
