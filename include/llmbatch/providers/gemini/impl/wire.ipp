#pragma once
/// @file providers/gemini/impl/wire.ipp
/// The definitions of `llmbatch/providers/gemini/wire.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <chrono>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <nlohmann/json.hpp>
#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/retry.hpp"
#include "llmbatch/providers/gemini/wire.hpp"

namespace llmbatch {

namespace detail {

LLMBATCH_DECL std::optional<std::chrono::milliseconds> parse_proto_duration(std::string_view s) {
    if (s.size() < 2 || s.back() != 's') return std::nullopt;
    s.remove_suffix(1);
    double seconds = 0;
    std::size_t i = 0;
    bool digits = false;
    for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, digits = true) seconds = seconds * 10 + (s[i] - '0');
    if (i < s.size() && s[i] == '.') {
        double scale = 0.1;
        for (++i; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i, scale /= 10, digits = true) seconds += (s[i] - '0') * scale;
    }
    if (!digits || i != s.size()) return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(seconds * 1000)));
}

LLMBATCH_DECL JobState gemini_state(std::string_view raw) {
    for (std::string_view prefix : {"BATCH_STATE_", "JOB_STATE_"})
        if (raw.substr(0, prefix.size()) == prefix) {
            raw.remove_prefix(prefix.size());
            break;
        }
    if (raw == "PENDING" || raw == "QUEUED") return JobState::pending;
    if (raw == "RUNNING") return JobState::running;
    if (raw == "CANCELLING") return JobState::cancelling;
    if (raw == "SUCCEEDED") return JobState::succeeded;
    if (raw == "FAILED") return JobState::failed;
    if (raw == "CANCELLED") return JobState::cancelled;
    if (raw == "EXPIRED") return JobState::expired;
    return JobState::unspecified;
}

LLMBATCH_DECL ErrorStatus google_status(const nlohmann::json& j) {
    ErrorStatus s;
    s.code = static_cast<int>(as_int64(j.value("code", nlohmann::json(0))).value_or(0));
    s.status = get_string(j, "status");
    s.message = get_string(j, "message");
    if (const auto* d = find(j, "details")) s.details = *d;
    return s;
}

LLMBATCH_DECL std::optional<std::string> gemini_response_text(const nlohmann::json& response) {
    const auto* candidates = find(response, "candidates");
    if (!candidates || !candidates->is_array() || candidates->empty()) return std::nullopt;
    const auto* parts = find_path((*candidates)[0], {"content", "parts"});
    if (!parts || !parts->is_array()) return std::nullopt;
    std::optional<std::string> text;
    for (const auto& part : *parts) {
        if (get_bool(part, "thought")) continue;
        if (const auto* t = find(part, "text"); t && t->is_string()) text = text.value_or("") + t->get<std::string>();
    }
    return text;
}

LLMBATCH_DECL std::string gemini_no_text_reason(const nlohmann::json& response) {
    if (const auto* c = find(response, "candidates"); c && c->is_array() && !c->empty())
        if (auto r = get_string((*c)[0], "finishReason"); !r.empty()) return "finishReason " + r;
    if (const auto* f = find(response, "promptFeedback"))
        if (auto r = get_string(*f, "blockReason"); !r.empty()) return "blockReason " + r;
    return "no candidates";
}

LLMBATCH_DECL std::optional<TokenUsage> gemini_usage(const nlohmann::json& response) {
    const auto* u = find(response, "usageMetadata");
    if (!u || !u->is_object()) return std::nullopt;
    auto count = [&](std::string_view key) { return get_int64(*u, key).value_or(0); };
    TokenUsage usage;
    usage.input = count("promptTokenCount");
    usage.output = count("candidatesTokenCount");
    usage.thinking = count("thoughtsTokenCount");
    usage.cached = count("cachedContentTokenCount");
    usage.total = count("totalTokenCount");
    return usage;
}

LLMBATCH_DECL std::optional<std::chrono::milliseconds> google_retry_info_delay(const HttpResponse& response) {
    const auto body = nlohmann::json::parse(response.body, nullptr, false);
    if (body.is_discarded()) return std::nullopt;
    const auto* details = find_path(body, {"error", "details"});
    if (!details || !details->is_array()) return std::nullopt;
    for (const auto& d : *details)
        if (get_string(d, "@type") == "type.googleapis.com/google.rpc.RetryInfo")
            if (auto delay = parse_proto_duration(get_string(d, "retryDelay"))) return delay;
    return std::nullopt;
}

}  // namespace detail

}  // namespace llmbatch
