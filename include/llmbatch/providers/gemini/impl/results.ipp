#pragma once
/// @file providers/gemini/impl/results.ipp
/// The definitions of `llmbatch/providers/gemini/results.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include "llmbatch/detail/fast_json.hpp"
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

LLMBATCH_DECL nlohmann::json parse_gemini_operation_text(std::string_view text) {
    bool skipped = false;
    nlohmann::json op = parse_json_without(text, gemini_results_copy, &skipped);
    if (skipped && !find_path(op, {"response", "inlinedResponses"})) return parse_json(text);  // the only copy
    return op;
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

}  // namespace llmbatch
