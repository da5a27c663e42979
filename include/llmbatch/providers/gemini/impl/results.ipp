#pragma once
/// @file providers/gemini/impl/results.ipp
/// The definitions of `llmbatch/providers/gemini/results.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
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
#include "llmbatch/providers/gemini/results.hpp"

namespace llmbatch {

namespace detail {

LLMBATCH_DECL ProviderError gemini_bad_reply(std::string_view what, std::string_view why) {
    return ProviderError(fmt::format("gemini: {}: unexpected reply: {}", what, why),
                         ProviderErrorInfo{"gemini", 0, {}, std::string(why), false});
}

LLMBATCH_DECL std::string gemini_tagged_display_name(std::string display, std::string_view client_token) {
    if (client_token.empty()) return display;
    return fmt::format("{} [{}]", display, client_token);
}

LLMBATCH_DECL std::string gemini_client_token(std::string_view display) {
    if (display.size() < 3 || display.back() != ']') return {};
    const auto open = display.rfind(" [");
    if (open == std::string_view::npos) return {};
    const auto token = display.substr(open + 2, display.size() - open - 3);
    return client_token_valid(token) ? std::string(token) : std::string();
}

LLMBATCH_DECL GeminiOperationText split_gemini_operation(std::shared_ptr<const std::string> body) {
    static constexpr std::array<std::string_view, 3> in_response = {"response", "inlinedResponses", "inlinedResponses"};
    static constexpr std::array<std::string_view, 4> in_metadata = {"metadata", "output", "inlinedResponses",
                                                                    "inlinedResponses"};
    static constexpr std::array<KeyPath, 2> paths = {KeyPath(in_response), KeyPath(in_metadata)};
    const std::string_view text = *body;
    // The results' arrays (the copy under `response` first), left out of the Operation.
    std::vector<std::string_view> arrays;
    for (const auto& found : json_values_at(text, paths))
        if (found && found->front() == '[') arrays.push_back(*found);
    GeminiOperationText out;
    if (arrays.empty()) {
        out.op = parse_json(text);
        return out;
    }
    const std::string_view results = arrays.front();
    std::sort(arrays.begin(), arrays.end(), [](std::string_view a, std::string_view b) { return a.data() < b.data(); });
    std::string rest;
    const char* from = text.data();
    for (const auto array : arrays) {
        rest.append(from, array.data());
        rest += "[]";
        from = array.data() + array.size();
    }
    rest.append(from, text.data() + text.size());
    out.op = parse_json(rest);
    out.results = {std::move(body), results};
    return out;
}

LLMBATCH_DECL BatchJob parse_gemini_operation(nlohmann::json op) {
    if (!op.is_object()) throw gemini_bad_reply("read batch job", "the reply is not a JSON object");
    BatchJob job;
    job.provider = "gemini";
    job.name = get_string(op, "name");
    const auto& md = member(op, "metadata");
    if (job.name.empty()) job.name = get_string(md, "name");
    job.display_name = get_string(md, "displayName");
    job.client_token = gemini_client_token(job.display_name);
    job.model = get_string(md, "model");
    if (const auto* st = find(md, "state"); st && !st->is_string())
        throw gemini_bad_reply("read batch job " + job.name, "'state' is not a string");
    job.raw_state = get_string(md, "state");
    job.state = gemini_state(job.raw_state);
    if (const auto* stats = find(md, "batchStats")) {
        auto counter = [&](std::string_view key) {
            auto v = get_int64(*stats, key);
            if (!v) throw gemini_bad_reply("read batch job " + job.name, fmt::format("batchStats.{} is not an integer", key));
            return *v;
        };
        job.counts.total = counter("requestCount");
        job.counts.succeeded = counter("successfulRequestCount");
        job.counts.failed = counter("failedRequestCount");
        job.counts.pending = counter("pendingRequestCount");
    }
    auto time = [&](std::string_view key) -> std::optional<BatchJob::TimePoint> {
        auto s = get_string(md, key);
        return s.empty() ? std::nullopt : parse_rfc3339(s);
    };
    job.create_time = time("createTime");
    job.update_time = time("updateTime");
    job.end_time = time("endTime");
    // The API expires a job still unfinished 48 hours after its creation.
    if (job.create_time) job.expire_time = *job.create_time + std::chrono::hours(48);
    if (const auto* err = find(op, "error"); err && err->is_object()) job.error = google_status(*err);
    job.done = get_bool(op, "done") || is_terminal(job.state);
    if (job.done && job.state == JobState::unspecified) job.state = job.error ? JobState::failed : JobState::succeeded;
    job.input_file = get_string(member(md, "inputConfig"), "fileName");
    std::string file = get_string(member(op, "response"), "responsesFile");
    if (file.empty()) file = get_string(member(md, "output"), "responsesFile");
    if (find_path(op, {"response", "inlinedResponses"}) || find_path(md, {"output", "inlinedResponses"})) {
        job.results_location = ResultsLocation::inline_;
    } else if (!file.empty()) {
        job.results_location = ResultsLocation::file;
        job.results_ref = std::move(file);
    }
    job.raw = std::move(op);
    return job;
}

}  // namespace detail

LLMBATCH_DECL void GeminiResultReader::read_inline_text(std::string_view array) {
    static constexpr std::array<std::string_view, 2> key_at = {"metadata", "key"};
    static constexpr std::array<detail::KeyPath, 1> key_path = {detail::KeyPath(key_at)};
    std::vector<std::string_view> items;
    std::vector<std::string_view> keys;
    std::deque<std::string> unescaped;  // keys written with escapes, decoded
    const bool whole = detail::for_each_json_element(array, [&](std::string_view item) {
        items.push_back(item);
        std::string_view key;
        if (const auto found = detail::json_values_at(item, key_path).front(); found && found->front() == '"') {
            if (found->find('\\') == std::string_view::npos) key = found->substr(1, found->size() - 2);
            else if (auto decoded = detail::json_string_of(*found)) key = unescaped.emplace_back(std::move(*decoded));
        }
        keys.push_back(key);
    });
    if (!whole) throw inline_bad_reply("the inline results are not a JSON array");
    const auto plan = inline_order(keys);
    for (std::size_t i = 0; i < items.size(); ++i) {
        Json item = detail::parse_json(items[i]);
        if (item.is_discarded()) throw inline_bad_reply(fmt::format("inline result {} is not JSON", i + 1));
        // The reply's text was redacted as a whole: a key written with escapes is found decoded.
        if (items[i].find("\\u") != std::string_view::npos) join_.redactor().redact_strings(item);
        emit_inline(std::move(item), plan[i], std::string(keys[i]));
    }
}

}  // namespace llmbatch
