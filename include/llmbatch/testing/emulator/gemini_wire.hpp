#pragma once
/// @file testing/emulator/gemini_wire.hpp
/// The Gemini emulator's settings (`GeminiEmulatorOptions`) and wire shapes: deterministic
/// answers (`default_answer`), the GenerateContentResponse, the job record it keeps
/// (`GeminiJob`), the Operation it answers with, the lines of a responses file and the File
/// resource. Provider-neutral timing comes from
/// `Lifecycle`; this header only maps it to `BATCH_STATE_*` and `batchStats`.
///
/// **Example**:
/// ```cpp
/// using namespace llmbatch::testing;
/// Json op = detail::operation_json(job, detail::snapshot(job, now), true, false);
/// ```

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/file_store.hpp"
#include "llmbatch/testing/emulator/gemini_schema.hpp"
#include "llmbatch/testing/emulator/ids.hpp"
#include "llmbatch/testing/emulator/lifecycle.hpp"
#include "llmbatch/testing/emulator/response.hpp"

namespace llmbatch::testing {

/// Settings of a `BasicGeminiEmulator`.
struct GeminiEmulatorOptions {
    std::chrono::steady_clock::duration pending_for = std::chrono::seconds(20);  ///< PENDING phase length
    std::chrono::steady_clock::duration running_for = std::chrono::seconds(40);  ///< RUNNING phase length
    std::chrono::steady_clock::duration expire_after = std::chrono::hours(48);   ///< unfinished longer: EXPIRED
    std::string api_version = "v1beta";  ///< first path segment of every endpoint
    std::string required_api_key;        ///< empty: any non-empty `x-goog-api-key` is accepted
    int default_page_size = 50;          ///< list page size when `pageSize` is absent (at most 1000)
    std::chrono::steady_clock::duration finalizing_for{0};  ///< still RUNNING after the last request
    std::chrono::steady_clock::duration cancelling_for{0};  ///< a cancellation takes this long
    bool inline_file_output = false;     ///< inline-input jobs answer with a responses file too
    bool partial_results = false;        ///< cancelled/expired jobs show their completed requests
    std::size_t chunk_size = default_chunk_size;  ///< chunk size of the streaming `send`
    std::filesystem::path file_directory;  ///< where uploaded files live; empty: in memory
};

namespace detail {

inline constexpr std::string_view batch_type = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch";
inline constexpr std::string_view batch_output_type =
    "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput";

/// `batches/` followed by 36 lowercase alphanumerics, derived from `seed`.
[[nodiscard]] inline std::string batch_name_for(std::string_view seed) {
    return "batches/" + derived_token(seed, 36, lower_alnum);
}

/// A 23-character response id in the URL-safe base64 alphabet, derived from `seed`.
[[nodiscard]] inline std::string response_id_for(std::string_view seed) {
    return derived_token(seed, 23, url_safe_alphabet);
}

/// Every `contents[].parts[].text` of a GenerateContentRequest, joined with `\n`.
[[nodiscard]] inline std::string user_text(const Json& request) {
    std::string out;
    bool first = true;
    if (const Json* contents = find_field(request, "contents"); contents && contents->is_array()) {
        for (const auto& content : *contents) {
            const Json* parts = find_field(content, "parts");
            if (!parts || !parts->is_array()) continue;
            for (const auto& part : *parts) {
                const Json* text = find_field(part, "text");
                if (!text || !text->is_string()) continue;
                if (!first) out += '\n';
                out += text->get<std::string>();
                first = false;
            }
        }
    }
    return out;
}

/// The category of `text`: the first category one of whose keywords starts a word of the text
/// (case-insensitive), else `General`.
[[nodiscard]] inline std::string_view categorise(std::string_view text) {
    struct Category {
        std::string_view name;
        std::initializer_list<std::string_view> keywords;
    };
    static const Category categories[] = {
        {"Humanities", {"geography", "history", "religious", "humanities"}},
        {"Languages", {"french", "spanish", "german", "welsh", "language"}},
        {"STEM", {"math", "physics", "chemistry", "biology", "science", "computer"}},
        {"Arts", {"art", "music", "drama"}},
    };
    std::string lower(text);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto starts_word = [&](std::string_view keyword) {
        for (auto pos = lower.find(keyword); pos != std::string::npos; pos = lower.find(keyword, pos + 1))
            if (pos == 0 || !std::isalpha(static_cast<unsigned char>(lower[pos - 1]))) return true;
        return false;
    };
    for (const auto& category : categories)
        for (auto keyword : category.keywords)
            if (starts_word(keyword)) return category.name;
    return "General";
}

/// A confidence in 50..99 from a stable hash of `text`.
[[nodiscard]] constexpr int confidence_for(std::string_view text) noexcept {
    return 50 + static_cast<int>(fnv1a64(text) % 50);
}

/// The default answer to a GenerateContentRequest (see `BasicGeminiEmulator::default_answer`).
[[nodiscard]] inline std::string default_answer(const Json& request) {
    const std::string text = user_text(request);
    const std::string_view category = categorise(text);
    const int confidence = confidence_for(text);
    bool json_mime = false;
    if (const Json* config = find_field(request, "generationConfig"))
        if (const Json* mime = find_field(*config, "responseMimeType"))
            json_mime = mime->is_string() && mime->get<std::string>() == "application/json";
    if (json_mime) return fmt::format(R"({{"category":"{}","confidence":{}}})", category, confidence);
    return fmt::format("Here is the categorisation:\n```json\n{{\"category\": \"{}\", \"confidence\": {}}}\n```\n"
                       "Let me know if you need more.",
                       category, confidence);
}

/// A rough token count: one token per four bytes, at least one.
[[nodiscard]] constexpr int estimate_tokens(std::string_view text) noexcept {
    return static_cast<int>(std::max<std::size_t>(1, (text.size() + 3) / 4));
}

/// The GenerateContentResponse carrying `answer`.
[[nodiscard]] inline Json generate_content_response(const Json& request, const std::string& answer,
                                                    std::string_view model_id, std::string response_id) {
    const int prompt_tokens = estimate_tokens(user_text(request));
    const int answer_tokens = estimate_tokens(answer);
    return Json{
        {"candidates", Json::array({{{"content", {{"parts", Json::array({{{"text", answer}}})}, {"role", "model"}}},
                                     {"finishReason", "STOP"},
                                     {"index", 0}}})},
        {"usageMetadata",
         {{"promptTokenCount", prompt_tokens},
          {"candidatesTokenCount", answer_tokens},
          {"totalTokenCount", prompt_tokens + answer_tokens},
          {"promptTokensDetails", Json::array({{{"modality", "TEXT"}, {"tokenCount", prompt_tokens}}})}}},
        {"modelVersion", model_id},
        {"responseId", std::move(response_id)},
    };
}

// ---------------------------------------------------------------------------------------------
// Job records
// ---------------------------------------------------------------------------------------------

/// The outcome of one request of a job, fixed when the job is created.
struct GeminiItem {
    std::optional<std::string> key;  ///< the input line's `key` (file input)
    Json metadata = nullptr;         ///< the inlined request's metadata, null when it had none
    Json response = nullptr;         ///< GenerateContentResponse, null when the request failed
    std::optional<JobError> error;
    bool omitted = false;            ///< missing from the job's results

    [[nodiscard]] Json to_json() const {
        Json j = Json::object();
        if (key) j["key"] = *key;
        if (!metadata.is_null()) j["metadata"] = metadata;
        if (!response.is_null()) j["response"] = response;
        if (error) j["error"] = error->to_json();
        if (omitted) j["omitted"] = true;
        return j;
    }
    [[nodiscard]] static GeminiItem from_json(const Json& j) {
        GeminiItem item;
        if (j.contains("key")) item.key = j.at("key").get<std::string>();
        item.metadata = j.value("metadata", Json(nullptr));
        item.response = j.value("response", Json(nullptr));
        if (j.contains("error")) item.error = JobError::from_json(j.at("error"));
        item.omitted = j.value("omitted", false);
        return item;
    }
};

/// One batch job: its requests' outcomes and its `Lifecycle`.
struct GeminiJob {
    std::uint64_t sequence = 0;  ///< creation number, 1-based; orders the jobs
    std::string name;            ///< `batches/...`
    std::string model;           ///< `models/...`
    std::string display_name;
    std::int64_t priority = 0;
    Lifecycle life;
    bool out_of_order = false;
    bool echo_metadata = true;
    std::string input_file;      ///< `files/...` for a file-input job
    bool file_output = false;    ///< results in a responses file instead of inlined
    std::vector<GeminiItem> items;

    /// `files/batch-<id>`: the responses file of a file-output job.
    [[nodiscard]] std::string responses_file() const { return "files/batch-" + name.substr(name.find('/') + 1); }

    [[nodiscard]] Json to_json() const {
        Json j = {{"sequence", sequence}, {"name", name},     {"model", model},
                  {"displayName", display_name}, {"priority", priority}, {"outOfOrder", out_of_order},
                  {"echoMetadata", echo_metadata}, {"items", Json::array()}};
        life.write_to(j);
        if (!input_file.empty()) j["inputFile"] = input_file;
        if (file_output) j["fileOutput"] = true;
        for (const auto& item : items) j["items"].push_back(item.to_json());
        return j;
    }
    [[nodiscard]] static GeminiJob from_json(const Json& j) {
        GeminiJob job;
        job.sequence = j.at("sequence").get<std::uint64_t>();
        job.name = j.at("name").get<std::string>();
        job.model = j.at("model").get<std::string>();
        job.display_name = j.value("displayName", std::string{});
        job.priority = j.value("priority", std::int64_t{0});
        job.out_of_order = j.value("outOfOrder", false);
        job.echo_metadata = j.value("echoMetadata", true);
        job.input_file = j.value("inputFile", std::string{});
        job.file_output = j.value("fileOutput", false);
        for (const auto& item : j.at("items")) job.items.push_back(GeminiItem::from_json(item));
        job.life = Lifecycle::read_from(j, job.items.size());
        return job;
    }
};

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

[[nodiscard]] constexpr std::string_view wire_name(JobPhase phase) noexcept {
    switch (phase) {
        case JobPhase::pending: return "BATCH_STATE_PENDING";
        case JobPhase::running:
        case JobPhase::finalizing:
        case JobPhase::cancelling: return "BATCH_STATE_RUNNING";
        case JobPhase::succeeded: return "BATCH_STATE_SUCCEEDED";
        case JobPhase::failed: return "BATCH_STATE_FAILED";
        case JobPhase::cancelled: return "BATCH_STATE_CANCELLED";
        case JobPhase::expired: return "BATCH_STATE_EXPIRED";
    }
    return "BATCH_STATE_UNSPECIFIED";
}

/// The job as seen at `now`.
[[nodiscard]] inline JobSnapshot snapshot(const GeminiJob& job, SysTime now) {
    return job.life.at(now, [&](std::size_t k) {
        return static_cast<std::size_t>(std::count_if(job.items.begin(), job.items.begin() + static_cast<std::ptrdiff_t>(k),
                                                      [](const GeminiItem& i) { return i.error.has_value(); }));
    });
}

/// Whether the job in `snap` has results to show: succeeded, or (with `partial`) cancelled or
/// expired after some requests completed.
[[nodiscard]] inline bool has_results(const JobSnapshot& snap, bool partial) {
    if (snap.phase == JobPhase::succeeded) return true;
    return partial && (snap.phase == JobPhase::cancelled || snap.phase == JobPhase::expired) && snap.completed > 0;
}

/// The indexes of the items shown in the results at `snap`, in the order they are listed.
[[nodiscard]] inline std::vector<std::size_t> result_order(const GeminiJob& job, const JobSnapshot& snap) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < snap.completed && i < job.items.size(); ++i)
        if (!job.items[i].omitted) order.push_back(i);
    if (job.out_of_order) std::reverse(order.begin(), order.end());
    return order;
}

/// One entry of the results: inlined (`metadata` echoed) or a responses-file line (`key` too).
[[nodiscard]] inline Json result_entry(const GeminiJob& job, const GeminiItem& item, bool file_line) {
    Json entry = Json::object();
    if (file_line && job.echo_metadata) {
        if (item.key) entry["key"] = *item.key;
        else if (item.metadata.is_object() && item.metadata.contains("key") && item.metadata["key"].is_string())
            entry["key"] = item.metadata["key"];
    }
    if (item.error) entry["error"] = item.error->to_json();
    else entry["response"] = item.response;
    if (job.echo_metadata && !item.metadata.is_null()) entry["metadata"] = item.metadata;
    return entry;
}

/// The Operation for `job` as seen in `snap`; `with_output` false leaves out the results (as
/// list does); `partial` shows the completed requests of a cancelled or expired job.
[[nodiscard]] inline Json operation_json(const GeminiJob& job, const JobSnapshot& snap, bool with_output, bool partial) {
    Json stats = {{"requestCount", std::to_string(job.items.size())}};
    if (snap.succeeded) stats["successfulRequestCount"] = std::to_string(snap.succeeded);
    if (snap.failed) stats["failedRequestCount"] = std::to_string(snap.failed);
    if (const auto left = snap.pending + snap.cancelled + snap.expired) stats["pendingRequestCount"] = std::to_string(left);

    Json metadata = {{"@type", batch_type},
                     {"model", job.model},
                     {"name", job.name},
                     {"createTime", format_timestamp(job.life.create_time)},
                     {"updateTime", format_timestamp(snap.update_time)},
                     {"batchStats", std::move(stats)},
                     {"state", wire_name(snap.phase)}};
    if (!job.display_name.empty()) metadata["displayName"] = job.display_name;
    if (job.priority != 0) metadata["priority"] = std::to_string(job.priority);
    if (!job.input_file.empty()) metadata["inputConfig"] = {{"fileName", job.input_file}};
    if (snap.end_time) metadata["endTime"] = format_timestamp(*snap.end_time);

    Json op = {{"name", job.name}};
    if (is_final(snap.phase)) op["done"] = true;
    if (snap.error) op["error"] = snap.error->to_json();
    if (with_output && has_results(snap, partial)) {
        Json output = Json::object();
        if (job.file_output) {
            output["responsesFile"] = job.responses_file();
        } else {
            Json list = Json::array();
            for (auto i : result_order(job, snap)) list.push_back(result_entry(job, job.items[i], false));
            Json inlined = Json::object();
            if (!list.empty()) inlined["inlinedResponses"] = std::move(list);
            output["inlinedResponses"] = std::move(inlined);
        }
        metadata["output"] = output;
        output["@type"] = batch_output_type;
        op["response"] = std::move(output);
    }
    op["metadata"] = std::move(metadata);
    return op;
}

/// The File resource for `file` (`uri` under `base`, e.g. `https://host/v1beta`).
[[nodiscard]] inline Json file_json(const StoredFile& file, const std::string& base) {
    Json j = {{"name", "files/" + file.id},
              {"mimeType", file.mime_type},
              {"sizeBytes", std::to_string(file.size)},
              {"createTime", format_timestamp(file.create_time)},
              {"updateTime", format_timestamp(file.create_time)},
              {"expirationTime", format_timestamp(file.expire_time)},
              {"uri", fmt::format("{}/files/{}", base, file.id)},
              {"state", file.state},
              {"source", file.source}};
    if (!file.display_name.empty()) j["displayName"] = file.display_name;
    return j;
}

/// Google's usual status word and message for an HTTP error status.
[[nodiscard]] inline std::pair<std::string, std::string> google_error_for(int http_status) {
    switch (http_status) {
        case 400: return {"INVALID_ARGUMENT", "Request contains an invalid argument."};
        case 403: return {"PERMISSION_DENIED", "The caller does not have permission."};
        case 404: return {"NOT_FOUND", "Requested entity was not found."};
        case 429: return {"RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."};
        case 500: return {"INTERNAL", "Internal error encountered."};
        case 503: return {"UNAVAILABLE", "The service is currently unavailable."};
        case 504: return {"DEADLINE_EXCEEDED", "The request timed out."};
        default: return {"UNKNOWN", "Unknown error."};
    }
}

[[nodiscard]] inline HttpResponse ok_response(const Json& body) {
    return json_response(200, body, HttpHeaders{{"Content-Type", "application/json; charset=UTF-8"}});
}

}  // namespace detail
}  // namespace llmbatch::testing
