#pragma once
/// @file testing/emulator/mistral_wire.hpp
/// The Mistral emulator's settings (`MistralEmulatorOptions`), the job it keeps (`MistralJob`)
/// and the wire objects it answers with: the BatchJob (`mistral_job_json`, phases mapped to
/// `QUEUED`, `RUNNING`, `SUCCESS`, `FAILED`, `TIMEOUT_EXCEEDED`, `CANCELLATION_REQUESTED`,
/// `CANCELLED`), the file object (`mistral_file_json`) and the error body
/// `{"object": "error", "message", "type", "param", "code"}`.
///
/// **Example**:
/// ```cpp
/// Json job = detail::mistral_job_json(job, detail::mistral_snapshot(job, now), false, true);
/// ```

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/chat_wire.hpp"
#include "llmbatch/testing/emulator/file_store.hpp"
#include "llmbatch/testing/emulator/ids.hpp"
#include "llmbatch/testing/emulator/lifecycle.hpp"
#include "llmbatch/testing/emulator/response.hpp"

namespace llmbatch::testing {

/// Settings of a `BasicMistralEmulator` (phase lengths named like `GeminiEmulatorOptions`').
struct MistralEmulatorOptions {
    std::chrono::steady_clock::duration pending_for = std::chrono::seconds(20);    ///< `QUEUED` phase
    std::chrono::steady_clock::duration running_for = std::chrono::seconds(40);    ///< `RUNNING` phase
    std::chrono::steady_clock::duration cancelling_for = std::chrono::seconds(5);  ///< `CANCELLATION_REQUESTED`
    std::string required_api_key;  ///< empty: any non-empty bearer key is accepted
    bool partial_results = true;   ///< cancelled/timed-out jobs keep the lines of their finished requests
    std::size_t chunk_size = default_chunk_size;  ///< chunk size of the streaming `send`
    std::filesystem::path file_directory;         ///< where files live; empty: in memory
};

namespace detail {

inline constexpr std::string_view mistral_endpoints[] = {
    "/v1/chat/completions", "/v1/embeddings",  "/v1/fim/completions",      "/v1/moderations",
    "/v1/chat/moderations", "/v1/ocr",         "/v1/classifications",      "/v1/chat/classifications",
    "/v1/conversations",    "/v1/audio/transcriptions"};

/// A Mistral-style id: 32 hex digits in the 8-4-4-4-12 groups of a UUID, derived from `seed`.
[[nodiscard]] inline std::string uuid_for(std::string_view seed) {
    std::string hex = derived_token(seed, 32, "0123456789abcdef");
    hex[12] = '4';
    for (const std::size_t at : {std::size_t{20}, std::size_t{16}, std::size_t{12}, std::size_t{8}}) hex.insert(at, 1, '-');
    return hex;
}

/// One batch job of the Mistral emulator.
struct MistralJob {
    std::uint64_t sequence = 0;
    std::string name;  ///< the job id (UUID-like)
    std::vector<std::string> input_files;
    bool inline_input = false;
    std::string endpoint;
    std::string model;
    std::string agent_id;
    Json metadata = nullptr;
    Lifecycle life;
    bool out_of_order = false;
    std::vector<ChatItem> items;
    Json errors = Json::array();  ///< `[{message, count}]`
    bool settled = false;
    std::string output_file;
    std::string error_file;

    [[nodiscard]] Json to_json() const {
        Json j = {{"sequence", sequence}, {"name", name}, {"inputFiles", input_files}, {"inlineInput", inline_input},
                  {"endpoint", endpoint}, {"model", model}, {"agentId", agent_id}, {"metadata", metadata},
                  {"outOfOrder", out_of_order}, {"items", Json::array()}, {"errors", errors}, {"settled", settled},
                  {"outputFile", output_file}, {"errorFile", error_file}};
        life.write_to(j);
        for (const auto& item : items) j["items"].push_back(item.to_json());
        return j;
    }
    [[nodiscard]] static MistralJob from_json(const Json& j) {
        MistralJob job;
        job.sequence = j.at("sequence").get<std::uint64_t>();
        job.name = j.at("name").get<std::string>();
        job.input_files = j.at("inputFiles").get<std::vector<std::string>>();
        job.inline_input = j.value("inlineInput", false);
        job.endpoint = j.at("endpoint").get<std::string>();
        job.model = j.value("model", std::string{});
        job.agent_id = j.value("agentId", std::string{});
        job.metadata = j.value("metadata", Json(nullptr));
        job.out_of_order = j.value("outOfOrder", false);
        for (const auto& item : j.at("items")) job.items.push_back(ChatItem::from_json(item));
        job.errors = j.value("errors", Json::array());
        job.settled = j.value("settled", false);
        job.output_file = j.value("outputFile", std::string{});
        job.error_file = j.value("errorFile", std::string{});
        job.life = Lifecycle::read_from(j, job.items.size());
        return job;
    }
};

[[nodiscard]] constexpr std::string_view mistral_status(JobPhase phase) noexcept {
    switch (phase) {
        case JobPhase::pending: return "QUEUED";
        case JobPhase::running:
        case JobPhase::finalizing: return "RUNNING";
        case JobPhase::cancelling: return "CANCELLATION_REQUESTED";
        case JobPhase::succeeded: return "SUCCESS";
        case JobPhase::failed: return "FAILED";
        case JobPhase::cancelled: return "CANCELLED";
        case JobPhase::expired: return "TIMEOUT_EXCEEDED";
    }
    return "QUEUED";
}

[[nodiscard]] inline JobSnapshot mistral_snapshot(const MistralJob& job, SysTime now) {
    return job.life.at(now, [&](std::size_t k) {
        return static_cast<std::size_t>(std::count_if(job.items.begin(), job.items.begin() + static_cast<std::ptrdiff_t>(k),
                                                      [](const ChatItem& i) { return !i.ok(); }));
    });
}

/// The id of the result line of request `index`.
[[nodiscard]] inline std::string mistral_line_id(const std::string& job, std::size_t index) {
    return "batch-" + derived_token(fmt::format("{}#{}", job, index), 32, "0123456789abcdef");
}

/// The BatchJob of `job` as seen in `snap`; `outputs` holds the result lines (successes first)
/// when `with_outputs` and the job has settled.
[[nodiscard]] inline Json mistral_job_json(const MistralJob& job, const JobSnapshot& snap, bool with_outputs, bool partial) {
    const auto at = [](SysTime t) { return Json(unix_seconds(t)); };
    const bool ended = is_final(snap.phase);
    const bool stopped = snap.phase == JobPhase::cancelled || snap.phase == JobPhase::expired;
    const std::size_t kept = ended && stopped && !partial ? 0 : snap.completed;
    std::size_t succeeded = 0;
    for (std::size_t i = 0; i < kept && i < job.items.size(); ++i) succeeded += job.items[i].ok() ? 1 : 0;
    const SysTime run_start = job.life.create_time + job.life.timing.pending_for;
    const bool started = snap.phase != JobPhase::pending && (!snap.end_time || *snap.end_time > run_start);
    Json j = {{"id", job.name},
              {"object", "batch"},
              {"input_files", job.input_files},
              {"metadata", job.metadata.is_null() ? Json::object() : job.metadata},
              {"endpoint", job.endpoint},
              {"model", job.model.empty() ? Json(nullptr) : Json(job.model)},
              {"agent_id", job.agent_id.empty() ? Json(nullptr) : Json(job.agent_id)},
              {"output_file", job.settled && !job.output_file.empty() ? Json(job.output_file) : Json(nullptr)},
              {"error_file", job.settled && !job.error_file.empty() ? Json(job.error_file) : Json(nullptr)},
              {"errors", job.errors},
              {"status", mistral_status(snap.phase)},
              {"created_at", at(job.life.create_time)},
              {"total_requests", job.items.size()},
              {"completed_requests", kept},
              {"succeeded_requests", succeeded},
              {"failed_requests", kept - succeeded},
              {"started_at", started ? at(run_start) : Json(nullptr)},
              {"completed_at", ended ? at(*snap.end_time) : Json(nullptr)}};
    if (snap.phase == JobPhase::failed && snap.error) j["errors"].push_back({{"message", snap.error->message}, {"count", 1}});
    if (with_outputs && job.settled) {
        Json outputs = Json::array();
        for (std::size_t i = 0; i < kept && i < job.items.size(); ++i) {
            const ChatItem& item = job.items[job.out_of_order ? kept - 1 - i : i];
            const std::size_t index = job.out_of_order ? kept - 1 - i : i;
            outputs.push_back(result_line(mistral_line_id(job.name, index), item.custom_id, item.status_code, {}, item.body));
        }
        j["outputs"] = std::move(outputs);
    }
    return j;
}

/// The file object of `file`: `sample_type` `batch_request` for an uploaded batch input,
/// `batch_result` / `batch_error` for a job's result files (source `mistral`).
[[nodiscard]] inline Json mistral_file_json(const StoredFile& file, std::optional<std::size_t> num_lines) {
    std::string sample_type = file.purpose == "batch" ? "batch_request" : "instruct";
    if (file.source == "mistral")
        sample_type = file.display_name.find("_error") != std::string::npos ? "batch_error" : "batch_result";
    return Json{{"id", file.id},
                {"object", "file"},
                {"bytes", file.size},
                {"created_at", unix_seconds(file.create_time)},
                {"filename", file.display_name},
                {"purpose", file.purpose},
                {"sample_type", sample_type},
                {"num_lines", num_lines ? Json(*num_lines) : Json(nullptr)},
                {"mimetype", file.mime_type},
                {"source", file.source},
                {"signature", nullptr}};
}

/// The Mistral error body of `e`.
[[nodiscard]] inline HttpResponse mistral_error_response(const WireError& e) {
    Json body = e.http_status == 401 && e.rendered.empty()
                    ? Json{{"message", e.message}, {"request_id", derived_token(e.message, 32, "0123456789abcdef")}}
                    : Json{{"object", "error"}, {"message", e.message}, {"type", e.type}, {"param", e.param}, {"code", e.code}};
    HttpResponse r{e.http_status, HttpHeaders{{"Content-Type", "application/json"}}, e.rendered.empty() ? body.dump() : e.rendered};
    if (e.retry_after) r.headers.set("Retry-After", *e.retry_after);
    return r;
}

/// A request-body validation error as Mistral's API answers it (the SDK's `HTTPValidationError`):
/// 422 `{"detail": [{"type", "loc": ["body", field], "msg", "input"}]}`.
[[nodiscard]] inline WireError unprocessable(std::string_view field, std::string_view type, std::string msg,
                                             const Json& input = nullptr) {
    WireError e(422, std::string(type), msg);
    Json item = {{"type", type}, {"loc", Json::array({"body"})}, {"msg", std::move(msg)}, {"input", input}};
    if (!field.empty()) item["loc"].push_back(field);
    e.rendered = Json{{"detail", Json::array({std::move(item)})}}.dump();
    return e;
}

/// Every value of parameter `name` in a query string (a repeated parameter, form/explode style).
[[nodiscard]] inline std::vector<std::string> query_values(std::string_view query, std::string_view name) {
    std::vector<std::string> out;
    while (!query.empty()) {
        const auto amp = query.find('&');
        const auto pair = query.substr(0, amp);
        const auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) out.emplace_back(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return out;
}

}  // namespace detail
}  // namespace llmbatch::testing
