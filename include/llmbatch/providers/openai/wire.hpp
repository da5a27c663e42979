#pragma once
/// @file providers/openai/wire.hpp
/// The OpenAI API's wire vocabulary: `OpenAIWire` (authentication, error bodies, retry rules) for
/// the shared `ProviderSession`, and the readers of its objects (Batch, FileObject, unix times,
/// ids safe to put in a URL path).

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/providers/common/chat_completions.hpp"
#include "llmbatch/providers/common/openai_lines.hpp"
#include "llmbatch/retry.hpp"
#include "llmbatch/transport/streaming.hpp"

namespace llmbatch {

namespace detail {

/// A unix-seconds member as a time point; nothing when absent, null, not a number, not positive
/// or later than a time point holds (about the year 2262).
[[nodiscard]] inline std::optional<std::chrono::system_clock::time_point> unix_time(const Json& j, std::string_view key) {
    const auto* v = find(j, key);
    if (!v || !v->is_number()) return std::nullopt;
    const auto s = as_int64(*v);
    constexpr auto latest =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::duration::max()).count();
    if (!s || *s <= 0 || *s > latest) return std::nullopt;
    return std::chrono::system_clock::time_point(std::chrono::seconds(*s));
}

/// A string member, empty when absent, null or not a string ("" and null both mean absent).
[[nodiscard]] inline std::string optional_id(const Json& j, std::string_view key) { return get_string(j, key); }

/// `id` checked so it cannot alter a URL path: letters, digits, `-`, `_`, `.`; 1 to 200 characters.
/// @throws InvalidArgument naming `what` otherwise.
[[nodiscard]] inline std::string path_safe_id(std::string_view id, std::string_view what) {
    if (!is_path_safe_id(id, 200)) throw InvalidArgument(fmt::format("'{}' is not {}", excerpt(id, 80), what));
    return std::string(id);
}

/// Maps an OpenAI Batch `status` to `JobState`.
[[nodiscard]] inline JobState openai_state(std::string_view s) {
    if (s == "validating") return JobState::pending;
    if (s == "in_progress" || s == "finalizing") return JobState::running;
    if (s == "completed") return JobState::succeeded;
    if (s == "failed") return JobState::failed;
    if (s == "expired") return JobState::expired;
    if (s == "cancelling") return JobState::cancelling;
    if (s == "cancelled") return JobState::cancelled;
    return JobState::unspecified;
}

/// Reads an OpenAI (or Mistral) FileObject.
[[nodiscard]] inline FileInfo openai_file_info(const Json& file) {
    FileInfo info;
    info.name = get_string(file, "id");
    info.display_name = get_string(file, "filename");
    info.size_bytes = get_int64(file, "bytes").value_or(0);
    info.state = get_string(file, "status");
    info.create_time = unix_time(file, "created_at");
    info.expire_time = unix_time(file, "expires_at");
    info.raw = file;
    return info;
}

[[nodiscard]] inline ProviderError openai_bad_reply(std::string_view what, std::string_view why) {
    return ProviderError(fmt::format("openai: {}: unexpected reply: {}", what, why),
                         ProviderErrorInfo{"openai", 0, {}, std::string(why), false});
}

/// Translates an OpenAI Batch object into a `BatchJob` (`raw` keeps it whole).
/// @throws ProviderError when it is not an object, or a counter is not an integer.
[[nodiscard]] inline BatchJob parse_openai_batch(Json batch) {
    if (!batch.is_object()) throw openai_bad_reply("read batch job", "the reply is not a JSON object");
    BatchJob job;
    job.provider = "openai";
    job.name = get_string(batch, "id");
    job.model = get_string(batch, "model");
    job.raw_state = get_string(batch, "status");
    job.state = openai_state(job.raw_state);
    job.done = is_terminal(job.state);
    const auto& md = member(batch, "metadata");
    job.display_name = get_string(md, "llmbatch_display_name");
    if (auto token = get_string(md, "llmbatch_client_token"); client_token_valid(token))
        job.client_token = std::move(token);
    if (const auto* counts = find(batch, "request_counts"); counts && counts->is_object()) {
        auto counter = [&](std::string_view key) {
            auto v = get_int64(*counts, key);
            if (!v) throw openai_bad_reply("read batch job " + job.name, fmt::format("request_counts.{} is not an integer", key));
            return *v;
        };
        job.counts.total = counter("total");
        job.counts.succeeded = counter("completed");
        job.counts.failed = counter("failed");
        if (!job.done) job.counts.pending = std::max<std::int64_t>(job.counts.total - job.counts.succeeded - job.counts.failed, 0);
    }
    if (const auto* errors = find_path(batch, {"errors", "data"}); errors && errors->is_array() && !errors->empty()) {
        ErrorStatus err;
        err.status = get_string((*errors)[0], "code");
        for (const auto& e : *errors) {
            std::string one = get_string(e, "code");
            if (const auto* line = find(e, "line"); line && line->is_number()) one += fmt::format(" at line {}", line->dump());
            if (auto m = get_string(e, "message"); !m.empty()) one += (one.empty() ? "" : ": ") + m;
            err.message += (err.message.empty() ? "" : "; ") + one;
        }
        err.details = *errors;
        job.error = std::move(err);
    }
    job.usage = chat_usage(batch);
    job.create_time = unix_time(batch, "created_at");
    job.expire_time = unix_time(batch, "expires_at");
    for (std::string_view key : {"completed_at", "failed_at", "expired_at", "cancelled_at"})
        if (auto t = unix_time(batch, key)) job.end_time = t;
    for (std::string_view key : {"created_at", "in_progress_at", "finalizing_at", "cancelling_at", "completed_at",
                                 "failed_at", "expired_at", "cancelled_at"})
        if (auto t = unix_time(batch, key); t && (!job.update_time || *t > *job.update_time)) job.update_time = t;
    job.input_file = get_string(batch, "input_file_id");
    std::string output = optional_id(batch, "output_file_id");
    if (output.empty()) output = optional_id(batch, "error_file_id");
    if (!output.empty()) {
        job.results_location = ResultsLocation::file;
        job.results_ref = std::move(output);
    }
    job.raw = std::move(batch);
    return job;
}

}  // namespace detail

/// The OpenAI API's authentication, error bodies and retry rules, for `ProviderSession`.
/// Organization and project headers are added by the provider (they are not secrets).
struct OpenAIWire {
    static constexpr std::string_view name = "openai";

    /// `Authorization: Bearer <key>`.
    static void authenticate(HttpHeaders& headers, const std::string& api_key) {
        headers.set("Authorization", "Bearer " + api_key);
    }

    /// `{"error": {message, type, param, code}}`: status = code, else type; else the body's first
    /// 200 bytes as the message.
    [[nodiscard]] static ErrorStatus read_error(const HttpResponse& failed) {
        const auto parsed = Json::parse(failed.body, nullptr, false);
        if (!parsed.is_discarded() && parsed.is_object()) {
            ErrorStatus status = detail::openai_body_error(failed.status, parsed);
            status.details = nullptr;
            if (!status.message.empty() || !status.status.empty()) return status;
        }
        ErrorStatus status;
        status.code = failed.status;
        status.message = detail::excerpt(failed.body, 200);
        return status;
    }

    /// 429 is a quota error (the permanent `insufficient_quota` too: it is not retried).
    [[nodiscard]] static bool is_quota(int http_status, const ErrorStatus&) { return http_status == 429; }

    /// True for a 429 that no wait cures: `insufficient_quota` (billing), in `error.code` or `error.type`.
    [[nodiscard]] static bool permanent_quota(const HttpResponse& r) {
        if (r.status != 429) return false;
        const auto parsed = Json::parse(r.body, nullptr, false);
        if (parsed.is_discarded()) return false;
        const auto& err = detail::member(parsed, "error");
        return detail::get_string(err, "code") == "insufficient_quota" || detail::get_string(err, "type") == "insufficient_quota";
    }

    /// 408, 409, 429 (but not `insufficient_quota`) and 5xx, as the official SDKs retry, unless the
    /// server says otherwise with `x-should-retry: true|false`; the delay from `retry-after-ms`,
    /// else `Retry-After`.
    static constexpr RetryRules retry_rules{
        [](const HttpResponse& r) {
            if (const auto should = r.headers.get("x-should-retry")) {
                if (*should == "true") return true;
                if (*should == "false") return false;
            }
            if (r.status == 429) return !permanent_quota(r);
            return r.status == 408 || r.status == 409 || (r.status >= 500 && r.status <= 599);
        },
        &server_retry_delay};
};

/// A transport that adds the `OpenAI-Organization` and `OpenAI-Project` headers (when not empty)
/// to every request before handing it to `inner`; streaming when `inner` streams.
template <class Transport>
struct OpenAIHeaderTransport {
    Transport inner;
    std::string organization;
    std::string project;

    HttpResponse send(const HttpRequest& request) { return inner.send(with_headers(request)); }

    HttpResponse send(const HttpRequest& request, BodySink sink)
        requires StreamingHttpTransport<Transport>
    {
        return inner.send(with_headers(request), std::move(sink));
    }

private:
    [[nodiscard]] HttpRequest with_headers(const HttpRequest& request) const {
        HttpRequest r = request;
        if (!organization.empty()) r.headers.set("OpenAI-Organization", organization);
        if (!project.empty()) r.headers.set("OpenAI-Project", project);
        return r;
    }
};

}  // namespace llmbatch
