#pragma once
/// @file providers/gemini/results.hpp
/// Reading Gemini batch jobs and their results: `parse_gemini_operation` (an Operation into a
/// `BatchJob`) and `GeminiResultReader`, which turns inlined responses or a streamed responses
/// file into `RequestOutcome`s in a sink, joined on each request's key.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/fast_json.hpp"
#include "llmbatch/detail/json_scan.hpp"
#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/detail/time.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/json_filter.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/providers/common/jsonl.hpp"
#include "llmbatch/providers/common/ordering.hpp"
#include "llmbatch/providers/common/result_reader.hpp"
#include "llmbatch/providers/gemini/wire.hpp"
#include "llmbatch/detail/config.hpp"

namespace llmbatch {

namespace detail {

[[nodiscard]] LLMBATCH_DECL ProviderError gemini_bad_reply(std::string_view what, std::string_view why);

/// The display name a job created with `client_token` carries: `"<display> [<token>]"` (Gemini
/// batches have no metadata of their own).
[[nodiscard]] LLMBATCH_DECL std::string gemini_tagged_display_name(std::string display, std::string_view client_token);

/// The client token at the end of a display name written by `gemini_tagged_display_name`, or "".
[[nodiscard]] LLMBATCH_DECL std::string gemini_client_token(std::string_view display);

/// An Operation read from a reply's text, its inline results left as text.
struct GeminiOperationText {
    /// The Operation without its inline results (their arrays, under `response` and under
    /// `metadata.output`, are left empty and never built); discarded when the text is not JSON.
    nlohmann::json op;
    /// The results of the copy under `response`, else of the one under `metadata.output`.
    InlineResultsText results;
};

/// Splits a reply holding an Operation into the Operation and the text of its inline results,
/// which stays in `body` (shared, not copied). The results are only checked to be well nested
/// here; each is parsed when read.
[[nodiscard]] LLMBATCH_DECL GeminiOperationText split_gemini_operation(std::shared_ptr<const std::string> body);

/// Translates an Operation (from create, get or list) into a `BatchJob`; `raw` keeps it whole
/// (moved in, not copied, when given an rvalue).
/// @throws ProviderError when a counter or the state has the wrong type.
[[nodiscard]] LLMBATCH_DECL BatchJob parse_gemini_operation(nlohmann::json op);

}  // namespace detail

/// Turns Gemini result items into outcomes in a sink, each placed by its key.
class GeminiResultReader {
public:
    GeminiResultReader(std::string job_name, const FetchOptions& options, bool default_json, std::int64_t total,
                       JobState state, const OutcomeSink& sink, Redactor redactor = {})
        : keys_(options.request_keys), forced_(options.filter_json), default_json_(default_json),
          join_("gemini", std::move(job_name), options, total, state, sink, std::move(redactor)) {}

    /// Reads an `inlinedResponses` holder: by key when every item has a distinct one, else by
    /// position. The items of a non-const holder are moved out of it instead of copied.
    /// @throws ProviderError when only some items carry a key.
    template <class J>
    void read_inline(J& holder) {
        constexpr bool consume = !std::is_const_v<J>;
        J* list = nullptr;
        if (auto it = holder.find("inlinedResponses"); it != holder.end()) list = &*it;
        if (!list || !list->is_array()) return;
        std::vector<std::string_view> keys;
        keys.reserve(list->size());
        for (const auto& item : *list) {
            const Json* key = detail::find_path(item, {"metadata", "key"});
            keys.push_back(key && key->is_string() ? std::string_view(key->get_ref<const std::string&>()) : std::string_view{});
        }
        const auto plan = inline_order(keys);
        for (std::size_t i = 0; i < list->size(); ++i) {
            Json item;
            if constexpr (consume) item = std::move((*list)[i]);
            else item = (*list)[i];
            emit_inline(std::move(item), plan[i], std::string(keys[i]));
        }
    }

    /// Reads inline results kept as text (`BatchJob::inline_results`), one result parsed at a
    /// time, in the order `read_inline` would give them.
    /// @throws ProviderError when the text is not an array of JSON values, or only some items
    ///         carry a key.
    LLMBATCH_DECL void read_inline_text(std::string_view array);

    /// Reads the next piece of a responses file (`{"key": ..., "response"|"error": ...}` lines).
    void feed(std::string_view chunk) {
        lines_.feed(chunk, [this](std::string_view line, std::size_t number) { read_line(line, number); });
    }
    /// The end of a responses file.
    void finish_stream() {
        lines_.finish([this](std::string_view line, std::size_t number) { read_line(line, number); });
    }

    /// Hands an outcome to every request that had none: `MISSING_RESULT`, or `CANCELLED` /
    /// `EXPIRED` when the job ended early.
    void finish() { join_.finish(); }

private:
    /// The input position of each inline item, by its key (empty when it has none).
    /// @throws ProviderError when only some items carry a key.
    [[nodiscard]] std::vector<std::size_t> inline_order(const std::vector<std::string_view>& keys) const {
        auto plan = plan_order(keys, keys_, join_.order().size());
        if (!plan) throw inline_bad_reply("cannot restore the input order: only some results carry a key");
        return std::move(*plan);
    }
    /// The error for inline results that are not what the API documents.
    [[nodiscard]] ProviderError inline_bad_reply(std::string_view why) const {
        return detail::gemini_bad_reply("fetch results of " + join_.job(), why);
    }
    /// Hands inline item `item`, placed at input position `index`, to the sink as an outcome.
    void emit_inline(Json item, std::size_t index, std::string key) {
        (void)join_.order().mark(index);
        join_.emit(outcome_of(std::move(item), index, std::move(key)));
    }

    void read_line(std::string_view line, std::size_t number) {
        Json parsed = detail::parse_json(line);
        if (parsed.is_discarded() || !parsed.is_object())
            throw join_.bad_reply(fmt::format("line {} is not a JSON object", number));
        const std::string key = detail::get_string(parsed, "key");
        const std::size_t index = join_.claim(key, number);
        join_.emit(outcome_of(std::move(parsed), index, key));
    }

    /// One result item (`{"response": ...}` or `{"error": ...}`) as an outcome; the response is
    /// moved, never copied.
    [[nodiscard]] RequestOutcome outcome_of(Json item, std::size_t index, std::string key) const {
        RequestOutcome out;
        out.index = index;
        out.key = key.empty() ? join_.order().key_of(index) : std::move(key);
        bool json_wanted = default_json_;
        if (forced_) {
            json_wanted = *forced_;
        } else if (const auto* md = detail::find(item, "metadata")) {
            const auto recorded = detail::get_string(*md, "filter_json");
            if (recorded == "true") json_wanted = true;
            if (recorded == "false") json_wanted = false;
        }
        if (const auto* err = detail::find(item, "error"); err && err->is_object()) {
            out.error = detail::google_status(*err);
            return out;
        }
        auto response = item.find("response");
        if (response == item.end() || !response->is_object()) {
            out.error = ErrorStatus{0, "MALFORMED_RESULT", "the result holds neither a response nor an error", nullptr};
            return out;
        }
        out.usage = detail::gemini_usage(*response);
        out.model = detail::get_string(*response, "modelVersion");
        if (!json_wanted) {
            out.value = std::move(*response);
            return out;
        }
        const auto text = detail::gemini_response_text(*response);
        out.raw = std::move(*response);
        if (!text) {
            out.error = ErrorStatus{0, "EMPTY_RESPONSE",
                                    "the response has no text (" + detail::gemini_no_text_reason(out.raw) + ")", nullptr};
            return out;
        }
        try {
            out.value = filter_json(*text);
        } catch (const JsonExtractionError& e) {
            out.error = ErrorStatus{0, "INVALID_JSON", e.what(), nullptr};
        }
        return out;
    }

    const std::vector<std::string>& keys_;
    std::optional<bool> forced_;
    bool default_json_;
    ResultJoin join_;
    JsonlSplitter lines_;
};

}  // namespace llmbatch

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/providers/gemini/impl/results.ipp"
#endif
