#pragma once
/// @file testing/emulator/anthropic_wire.hpp
/// The Anthropic emulator's settings (`AnthropicEmulatorOptions`), the batch it keeps
/// (`AnthropicJob`) and the wire objects it answers with: the MessageBatch
/// (`anthropic_batch_json`: phases mapped to `in_progress`, `canceling`, `ended`; counts hidden
/// until the end), a result line (`anthropic_result_line`), a Message (`anthropic_message_json`)
/// and the error body `{"type": "error", "error": {"type", "message"}, "request_id"}`.
///
/// **Example**:
/// ```cpp
/// Json batch = detail::anthropic_batch_json(job, detail::anthropic_snapshot(job, now), now, "https://api.anthropic.com", options);
/// ```

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/chat_wire.hpp"
#include "llmbatch/testing/emulator/ids.hpp"
#include "llmbatch/testing/emulator/lifecycle.hpp"
#include "llmbatch/testing/emulator/response.hpp"

namespace llmbatch::testing {

/// Settings of a `BasicAnthropicEmulator` (phase lengths named like the other emulators').
struct AnthropicEmulatorOptions {
    std::chrono::steady_clock::duration pending_for = std::chrono::seconds(20);    ///< before requests start
    std::chrono::steady_clock::duration running_for = std::chrono::seconds(40);    ///< requests complete at an even pace
    std::chrono::steady_clock::duration cancelling_for = std::chrono::seconds(5);  ///< `canceling` phase
    std::chrono::steady_clock::duration expire_after = std::chrono::hours(24);     ///< unfinished requests expire then
    /// Results are archived this long after creation (`archived_at`, no `results_url`); empty: never.
    std::optional<std::chrono::steady_clock::duration> archive_after{};
    std::string required_api_key;   ///< empty: any non-empty key is accepted
    bool require_version = true;    ///< refuse requests without `anthropic-version`
    bool partial_results = true;    ///< canceled/expired batches keep the results of finished requests
    std::size_t chunk_size = default_chunk_size;  ///< chunk size of the streaming `send`
};

namespace detail {

/// One Message Batch of the Anthropic emulator. Each item's `body` is the Message (status 200)
/// or the error object `{type, message}` (status >= 400).
struct AnthropicJob {
    std::uint64_t sequence = 0;
    std::string name;  ///< `msgbatch_...`
    Lifecycle life;
    bool out_of_order = false;
    std::vector<ChatItem> items;

    [[nodiscard]] Json to_json() const {
        Json j = {{"sequence", sequence}, {"name", name}, {"outOfOrder", out_of_order}, {"items", Json::array()}};
        life.write_to(j);
        for (const auto& item : items) j["items"].push_back(item.to_json());
        return j;
    }
    [[nodiscard]] static AnthropicJob from_json(const Json& j) {
        AnthropicJob job;
        job.sequence = j.at("sequence").get<std::uint64_t>();
        job.name = j.at("name").get<std::string>();
        job.out_of_order = j.value("outOfOrder", false);
        for (const auto& item : j.at("items")) job.items.push_back(ChatItem::from_json(item));
        job.life = Lifecycle::read_from(j, job.items.size());
        return job;
    }
};

[[nodiscard]] constexpr std::string_view anthropic_processing_status(JobPhase phase) noexcept {
    if (phase == JobPhase::cancelling) return "canceling";
    if (is_final(phase)) return "ended";
    return "in_progress";
}

[[nodiscard]] inline JobSnapshot anthropic_snapshot(const AnthropicJob& job, SysTime now) {
    return job.life.at(now, [&](std::size_t k) {
        return static_cast<std::size_t>(std::count_if(job.items.begin(), job.items.begin() + static_cast<std::ptrdiff_t>(k),
                                                      [](const ChatItem& i) { return !i.ok(); }));
    });
}

/// How many requests (the first ones) have a result in an ended batch: all that completed, or
/// none of a canceled/expired one without partial results.
[[nodiscard]] inline std::size_t anthropic_kept(const JobSnapshot& snap, bool partial) {
    const bool stopped = snap.phase == JobPhase::cancelled || snap.phase == JobPhase::expired;
    return stopped && !partial ? 0 : snap.completed;
}

/// When the batch's results are archived (nothing: not yet, or never).
[[nodiscard]] inline std::optional<SysTime> anthropic_archived_at(const AnthropicJob& job, const JobSnapshot& snap,
                                                                  SysTime now, const AnthropicEmulatorOptions& o) {
    if (!o.archive_after || !is_final(snap.phase)) return std::nullopt;
    const SysTime at = job.life.create_time + std::chrono::duration_cast<Nanos>(*o.archive_after);
    if (now < at) return std::nullopt;
    return at;
}

/// The MessageBatch of `job` as seen in `snap`; `origin` (`scheme://host[:port]`) prefixes `results_url`.
[[nodiscard]] inline Json anthropic_batch_json(const AnthropicJob& job, const JobSnapshot& snap, SysTime now,
                                               const std::string& origin, const AnthropicEmulatorOptions& o) {
    const bool ended = is_final(snap.phase);
    Json counts = {{"processing", 0}, {"succeeded", 0}, {"errored", 0}, {"canceled", 0}, {"expired", 0}};
    if (!ended) {
        counts["processing"] = snap.total;
    } else {
        const std::size_t kept = anthropic_kept(snap, o.partial_results);
        const auto failed = static_cast<std::size_t>(std::count_if(
            job.items.begin(), job.items.begin() + static_cast<std::ptrdiff_t>(kept), [](const ChatItem& i) { return !i.ok(); }));
        counts["succeeded"] = kept - failed;
        counts["errored"] = failed;
        (snap.phase == JobPhase::expired ? counts["expired"] : counts["canceled"]) = snap.total - kept;
    }
    const auto stamp = [](std::optional<SysTime> t) { return t ? Json(format_timestamp(*t)) : Json(nullptr); };
    std::optional<SysTime> cancel_at;
    if (job.life.end && job.life.end->requested) cancel_at = job.life.end->requested;
    const auto archived = anthropic_archived_at(job, snap, now, o);
    return Json{{"id", job.name},
                {"type", "message_batch"},
                {"processing_status", anthropic_processing_status(snap.phase)},
                {"request_counts", std::move(counts)},
                {"ended_at", stamp(snap.end_time)},
                {"created_at", format_timestamp(job.life.create_time)},
                {"expires_at", format_timestamp(job.life.create_time + job.life.timing.expire_after)},
                {"archived_at", stamp(archived)},
                {"cancel_initiated_at", stamp(cancel_at)},
                {"results_url", ended && !archived ? Json(fmt::format("{}/v1/messages/batches/{}/results", origin, job.name))
                                                   : Json(nullptr)}};
}

/// The result line of item `index` of an ended batch (`kept`: how many first items have a result).
[[nodiscard]] inline Json anthropic_result_line(const AnthropicJob& job, const JobSnapshot& snap, std::size_t kept,
                                                std::size_t index) {
    const ChatItem& item = job.items[index];
    Json result;
    if (index >= kept) result = {{"type", snap.phase == JobPhase::expired ? "expired" : "canceled"}};
    else if (item.ok()) result = {{"type", "succeeded"}, {"message", item.body}};
    else result = {{"type", "errored"}, {"error", {{"type", "error"}, {"error", item.body}, {"request_id", item.request_id}}}};
    return Json{{"custom_id", item.custom_id}, {"result", std::move(result)}};
}

/// A Message carrying `answer`, with `usage` estimated from the texts.
[[nodiscard]] inline Json anthropic_message_json(const Json& params, const std::string& answer, std::string id) {
    return Json{{"id", std::move(id)},
                {"type", "message"},
                {"role", "assistant"},
                {"model", params.value("model", std::string{})},
                {"content", Json::array({{{"type", "text"}, {"text", answer}}})},
                {"stop_reason", "end_turn"},
                {"stop_sequence", nullptr},
                {"usage", {{"input_tokens", estimate_tokens(chat_user_text(params))}, {"output_tokens", estimate_tokens(answer)}}}};
}

/// An error answer `{"type": "error", "error": {"type", "message"}, "request_id"}` (or the
/// pre-rendered body), with `retry-after` when set.
[[nodiscard]] inline HttpResponse anthropic_error_response(const WireError& e) {
    const Json body = {{"type", "error"},
                       {"error", {{"type", e.type}, {"message", e.message}}},
                       {"request_id", "req_" + derived_token(e.message, 24, lower_alnum)}};
    HttpResponse r{e.http_status, HttpHeaders{{"Content-Type", "application/json"}}, e.rendered.empty() ? body.dump() : e.rendered};
    if (e.retry_after) r.headers.set("retry-after", *e.retry_after);
    return r;
}

/// The usual error type of an HTTP status.
[[nodiscard]] inline std::string anthropic_error_type(int http_status) {
    switch (http_status) {
        case 400: return "invalid_request_error";
        case 401: return "authentication_error";
        case 402: return "billing_error";
        case 403: return "permission_error";
        case 404: return "not_found_error";
        case 409: return "conflict_error";
        case 413: return "request_too_large";
        case 429: return "rate_limit_error";
        case 504: return "timeout_error";
        case 529: return "overloaded_error";
        default: return http_status >= 500 ? "api_error" : "invalid_request_error";
    }
}

}  // namespace detail

}  // namespace llmbatch::testing
