#pragma once
/// @file testing/emulator/openai_wire.hpp
/// The OpenAI emulator's settings (`OpenAIEmulatorOptions`), the job it keeps (`OpenAIJob`), the
/// checks of a batch input file (`validate_input_lines`) and the wire objects it answers with: the
/// Batch (`batch_json`, phases mapped to `validating`, `in_progress`, `finalizing`, `completed`,
/// `failed`, `cancelling`, `cancelled`, `expired`) and the FileObject (`openai_file_json`).
///
/// **Example**:
/// ```cpp
/// Json batch = detail::batch_json(job, detail::openai_snapshot(job, now), now, options.partial_results);
/// ```

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/chat_wire.hpp"
#include "llmbatch/testing/emulator/file_store.hpp"
#include "llmbatch/testing/emulator/ids.hpp"
#include "llmbatch/testing/emulator/lifecycle.hpp"
#include "llmbatch/testing/emulator/response.hpp"

namespace llmbatch::testing {

/// Settings of a `BasicOpenAIEmulator`. The phase lengths have the names of
/// `GeminiEmulatorOptions`' (pending is `validating`, running is `in_progress`), so contract
/// harnesses are written alike.
struct OpenAIEmulatorOptions {
    std::chrono::steady_clock::duration pending_for = std::chrono::seconds(20);      ///< `validating` phase
    std::chrono::steady_clock::duration running_for = std::chrono::seconds(40);      ///< `in_progress`: requests run
    std::chrono::steady_clock::duration finalizing_for = std::chrono::seconds(10);   ///< `finalizing` phase
    std::chrono::steady_clock::duration cancelling_for = std::chrono::seconds(30);   ///< `cancelling` phase
    std::chrono::steady_clock::duration expire_after = std::chrono::hours(24);       ///< the completion window
    std::string required_api_key;     ///< empty: any non-empty bearer key is accepted
    int default_page_size = 20;       ///< list page size when `limit` is absent (1..100)
    std::size_t max_tasks = 50000;    ///< more requests in an input file: `too_many_tasks`
    bool partial_results = true;      ///< cancelled/expired jobs keep the lines of their finished requests
    std::size_t chunk_size = default_chunk_size;  ///< chunk size of the streaming `send`
    std::filesystem::path file_directory;         ///< where files live; empty: in memory
};

namespace detail {

inline constexpr std::string_view openai_alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
inline constexpr std::string_view openai_endpoints[] = {
    "/v1/responses",      "/v1/chat/completions",   "/v1/embeddings",     "/v1/completions",
    "/v1/moderations",    "/v1/images/generations", "/v1/images/edits",   "/v1/videos"};

/// One batch job: its requests' outcomes (or its validation errors) and its `Lifecycle`.
struct OpenAIJob {
    std::uint64_t sequence = 0;
    std::string name;  ///< the batch id, `batch_...`
    std::string endpoint;
    std::string input_file_id;
    std::string completion_window = "24h";
    Json metadata = nullptr;
    std::string model;
    std::optional<std::int64_t> output_expires_after;  ///< seconds, for the output and error files
    Lifecycle life;
    bool out_of_order = false;
    std::vector<ChatItem> items;
    Json validation_errors = nullptr;  ///< `[{code, line, message, param}]` when the input was refused
    bool settled = false;              ///< the output and error files exist
    std::string output_file_id;
    std::string error_file_id;

    [[nodiscard]] Json to_json() const {
        Json j = {{"sequence", sequence}, {"name", name},           {"endpoint", endpoint},
                  {"inputFileId", input_file_id}, {"completionWindow", completion_window},
                  {"metadata", metadata}, {"model", model},         {"outOfOrder", out_of_order},
                  {"items", Json::array()}, {"validationErrors", validation_errors}, {"settled", settled},
                  {"outputFileId", output_file_id}, {"errorFileId", error_file_id}};
        if (output_expires_after) j["outputExpiresAfter"] = *output_expires_after;
        life.write_to(j);
        for (const auto& item : items) j["items"].push_back(item.to_json());
        return j;
    }
    [[nodiscard]] static OpenAIJob from_json(const Json& j) {
        OpenAIJob job;
        job.sequence = j.at("sequence").get<std::uint64_t>();
        job.name = j.at("name").get<std::string>();
        job.endpoint = j.at("endpoint").get<std::string>();
        job.input_file_id = j.at("inputFileId").get<std::string>();
        job.completion_window = j.value("completionWindow", std::string("24h"));
        job.metadata = j.value("metadata", Json(nullptr));
        job.model = j.value("model", std::string{});
        job.out_of_order = j.value("outOfOrder", false);
        for (const auto& item : j.at("items")) job.items.push_back(ChatItem::from_json(item));
        job.validation_errors = j.value("validationErrors", Json(nullptr));
        job.settled = j.value("settled", false);
        job.output_file_id = j.value("outputFileId", std::string{});
        job.error_file_id = j.value("errorFileId", std::string{});
        if (j.contains("outputExpiresAfter")) job.output_expires_after = j.at("outputExpiresAfter").get<std::int64_t>();
        job.life = Lifecycle::read_from(j, job.items.size());
        return job;
    }
};

[[nodiscard]] constexpr std::string_view openai_status(JobPhase phase) noexcept {
    switch (phase) {
        case JobPhase::pending: return "validating";
        case JobPhase::running: return "in_progress";
        case JobPhase::finalizing: return "finalizing";
        case JobPhase::cancelling: return "cancelling";
        case JobPhase::succeeded: return "completed";
        case JobPhase::failed: return "failed";
        case JobPhase::cancelled: return "cancelled";
        case JobPhase::expired: return "expired";
    }
    return "validating";
}

/// The job as seen at `now`.
[[nodiscard]] inline JobSnapshot openai_snapshot(const OpenAIJob& job, SysTime now) {
    return job.life.at(now, [&](std::size_t k) {
        return static_cast<std::size_t>(std::count_if(job.items.begin(), job.items.begin() + static_cast<std::ptrdiff_t>(k),
                                                      [](const ChatItem& i) { return !i.ok(); }));
    });
}

/// How many requests of a finished job have their outcome in the files (the others are
/// cancelled or expired): all of a completed job, the finished ones of a cancelled or expired one.
[[nodiscard]] inline std::size_t kept_requests(const JobSnapshot& snap, bool partial) {
    if (snap.phase == JobPhase::cancelled || snap.phase == JobPhase::expired) return partial ? snap.completed : 0;
    return snap.completed;
}

/// The id of the result line of request `index`.
[[nodiscard]] inline std::string batch_request_id(const std::string& job, std::size_t index) {
    return "batch_req_" + derived_token(fmt::format("{}#{}", job, index), 32, lower_alnum);
}

/// The Batch object of `job` as seen in `snap`.
[[nodiscard]] inline Json batch_json(const OpenAIJob& job, const JobSnapshot& snap, SysTime now, bool partial) {
    const auto at = [](SysTime t) { return Json(unix_seconds(t)); };
    const auto& life = job.life;
    const SysTime run_start = life.create_time + life.timing.pending_for;
    const SysTime run_end = run_start + life.timing.running_for;
    const bool refused = !job.validation_errors.is_null();
    const bool ended = is_final(snap.phase);
    const auto reached = [&](SysTime t) {
        if (now < t || !snap.end_time) return now >= t;
        return *snap.end_time > t || (snap.phase == JobPhase::succeeded && *snap.end_time >= t);
    };

    const std::size_t kept = ended ? kept_requests(snap, partial) : snap.completed;
    std::size_t succeeded = 0;
    std::size_t failed = 0;
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    for (std::size_t i = 0; i < kept && i < job.items.size(); ++i) {
        if (!job.items[i].ok()) {
            ++failed;
            continue;
        }
        ++succeeded;
        const auto [in, out] = item_tokens(job.items[i]);
        input_tokens += in;
        output_tokens += out;
    }
    if (ended && snap.phase != JobPhase::succeeded) failed += job.items.size() - kept;

    Json b = {{"id", job.name},
              {"object", "batch"},
              {"endpoint", job.endpoint},
              {"model", job.model.empty() ? Json(nullptr) : Json(job.model)},
              {"errors", refused ? Json{{"object", "list"}, {"data", job.validation_errors}} : Json(nullptr)},
              {"input_file_id", job.input_file_id},
              {"completion_window", job.completion_window},
              {"status", openai_status(snap.phase)},
              {"output_file_id", job.settled && !job.output_file_id.empty() ? Json(job.output_file_id) : Json(nullptr)},
              {"error_file_id", job.settled && !job.error_file_id.empty() ? Json(job.error_file_id) : Json(nullptr)},
              {"created_at", at(life.create_time)},
              {"in_progress_at", !refused && reached(run_start) ? at(run_start) : Json(nullptr)},
              {"expires_at", at(life.create_time + life.timing.expire_after)},
              {"finalizing_at", !refused && reached(run_end) ? at(run_end) : Json(nullptr)},
              {"completed_at", snap.phase == JobPhase::succeeded ? at(*snap.end_time) : Json(nullptr)},
              {"failed_at", snap.phase == JobPhase::failed ? at(*snap.end_time) : Json(nullptr)},
              {"expired_at", snap.phase == JobPhase::expired ? at(*snap.end_time) : Json(nullptr)},
              {"cancelling_at", life.end && life.end->requested && now >= *life.end->requested
                                    ? at(*life.end->requested) : Json(nullptr)},
              {"cancelled_at", snap.phase == JobPhase::cancelled ? at(*snap.end_time) : Json(nullptr)},
              {"request_counts", {{"total", job.items.size()}, {"completed", succeeded}, {"failed", failed}}},
              {"usage", {{"input_tokens", input_tokens},
                         {"input_tokens_details", {{"cached_tokens", 0}}},
                         {"output_tokens", output_tokens},
                         {"output_tokens_details", {{"reasoning_tokens", 0}}},
                         {"total_tokens", input_tokens + output_tokens}}},
              {"metadata", job.metadata}};
    return b;
}

/// The parameters of a `POST /v1/batches` body, checked.
struct BatchCreateParams {
    std::string input_file_id;
    std::string endpoint;
    Json metadata = nullptr;
    std::optional<std::int64_t> output_expires_after;
};

/// Checks a `POST /v1/batches` body: required fields, a known endpoint, `completion_window`
/// `24h`, at most 16 string metadata pairs, `output_expires_after` in range.
/// @throws WireError 400 naming the parameter.
[[nodiscard]] inline BatchCreateParams check_create_body(const Json& body) {
    const auto bad = [](std::string message, const char* param) {
        return WireError(400, "invalid_request_error", std::move(message), nullptr, param);
    };
    for (const char* field : {"input_file_id", "endpoint", "completion_window"})
        if (!body.contains(field) || !body[field].is_string())
            throw WireError(400, "invalid_request_error", fmt::format("Missing required parameter: '{}'.", field),
                            "missing_required_parameter", field);
    const std::string endpoint = body["endpoint"].get<std::string>();
    if (std::find(std::begin(openai_endpoints), std::end(openai_endpoints), endpoint) == std::end(openai_endpoints))
        throw bad(fmt::format("Invalid value: '{}'. Supported values are: '/v1/chat/completions', '/v1/responses', "
                              "'/v1/embeddings', '/v1/completions' and others.", endpoint),
                  "endpoint");
    if (body["completion_window"] != "24h")
        throw bad(fmt::format("Invalid value: '{}'. Supported values are: '24h'.",
                              body["completion_window"].get<std::string>()),
                  "completion_window");
    const Json metadata = body.value("metadata", Json(nullptr));
    if (!metadata.is_null()) {
        if (!metadata.is_object() || metadata.size() > 16)
            throw bad("metadata must be an object of at most 16 pairs.", "metadata");
        for (const auto& [k, v] : metadata.items())
            if (k.size() > 64 || !v.is_string() || v.get<std::string>().size() > 512)
                throw bad("metadata keys must be strings of at most 64 characters and values strings of at most 512.",
                          "metadata");
    }
    std::optional<std::int64_t> output_expiry;
    if (const Json oe = body.value("output_expires_after", Json(nullptr)); !oe.is_null()) {
        if (!oe.is_object() || oe.value("anchor", std::string{}) != "created_at" || !oe.contains("seconds") ||
            !oe["seconds"].is_number_integer() || oe["seconds"].get<std::int64_t>() < 3600 ||
            oe["seconds"].get<std::int64_t>() > 2592000)
            throw bad("output_expires_after needs anchor 'created_at' and seconds between 3600 and 2592000.",
                      "output_expires_after");
        output_expiry = oe["seconds"].get<std::int64_t>();
    }
    return BatchCreateParams{body["input_file_id"].get<std::string>(), endpoint, metadata, output_expiry};
}

/// The FileObject of `file`.
[[nodiscard]] inline Json openai_file_json(const StoredFile& file) {
    return Json{{"id", file.id},
                {"object", "file"},
                {"bytes", file.size},
                {"created_at", unix_seconds(file.create_time)},
                {"filename", file.display_name},
                {"purpose", file.purpose.empty() ? std::string("batch") : file.purpose},
                {"status", "processed"},
                {"expires_at", unix_seconds(file.expire_time)},
                {"status_details", nullptr}};
}

/// One request of an input file, checked.
struct OpenAIInputLine {
    std::string custom_id;
    Json body;
};

/// Reads the JSONL input `lines` of a batch for `endpoint`: the requests, or (in `errors`) every
/// problem as `{code, line, message, param}` (`invalid_json_line`, `missing_required_parameter`,
/// `invalid_method`, `url_mismatch`, `duplicate_custom_id`, `model_mismatch`, `empty_file`,
/// `too_many_tasks`); at most 100 problems are listed.
inline std::vector<OpenAIInputLine> validate_input_lines(const FileStore& files, std::string_view file_id,
                                                         const std::string& endpoint, std::size_t max_tasks,
                                                         Json& errors, std::string& model) {
    std::vector<OpenAIInputLine> lines;
    errors = Json::array();
    std::map<std::string, std::size_t> seen;
    std::size_t count = 0;
    const auto problem = [&](std::string_view code, std::size_t line, std::string message, Json param = nullptr) {
        if (errors.size() < 100)
            errors.push_back({{"code", code}, {"line", line}, {"message", std::move(message)}, {"param", std::move(param)}});
    };
    files.for_each_line(file_id, [&](std::string_view text, std::size_t number) {
        if (text.find_first_not_of(" \t") == std::string_view::npos) return;
        ++count;
        const Json line = Json::parse(text, nullptr, false);
        if (line.is_discarded() || !line.is_object())
            return problem("invalid_json_line", number, "This line is not parseable as valid JSON.");
        for (const char* field : {"custom_id", "method", "url", "body"})
            if (!line.contains(field) || line[field].is_null())
                return problem("missing_required_parameter", number, fmt::format("Missing required parameter: '{}'.", field),
                               field);
        if (!line["custom_id"].is_string())
            return problem("invalid_json_line", number, "custom_id must be a string.", "custom_id");
        const std::string custom_id = line["custom_id"].get<std::string>();
        if (line["method"] != "POST")
            return problem("invalid_method", number, "The method of every request must be POST.", "method");
        if (line["url"] != endpoint)
            return problem("url_mismatch", number,
                           fmt::format("The url '{}' does not match the batch's endpoint '{}'.",
                                       line["url"].is_string() ? line["url"].get<std::string>() : line["url"].dump(), endpoint),
                           "url");
        if (!line["body"].is_object() || !line["body"].contains("model") || !line["body"]["model"].is_string())
            return problem("missing_required_parameter", number, "Missing required parameter: 'body.model'.", "body.model");
        const std::string line_model = line["body"]["model"].get<std::string>();
        if (model.empty()) model = line_model;
        else if (line_model != model)
            return problem("model_mismatch", number,
                           fmt::format("The model '{}' differs from '{}' of the earlier lines: a batch uses one model.",
                                       line_model, model),
                           "body.model");
        if (const auto [it, fresh] = seen.emplace(custom_id, number); !fresh)
            return problem("duplicate_custom_id", number,
                           fmt::format("The custom_id '{}' of line {} is already used on line {}.", custom_id, number,
                                       it->second),
                           "custom_id");
        lines.push_back(OpenAIInputLine{custom_id, line["body"]});
    });
    if (count == 0) problem("empty_file", 0, "The input file is empty.");
    else if (count > max_tasks)
        problem("too_many_tasks", 0, fmt::format("The input file has {} requests; at most {} are allowed.", count, max_tasks));
    for (auto& e : errors)
        if (e["line"] == 0) e["line"] = nullptr;
    return lines;
}

}  // namespace detail
}  // namespace llmbatch::testing
