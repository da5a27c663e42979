#pragma once
/// @file testing/gemini_emulator.hpp
/// `BasicGeminiEmulator`: an in-memory Gemini Developer API batch service that answers
/// `HttpRequest`s in the real wire format, so a Gemini client runs offline and deterministically.
///
/// It models `HttpTransport` itself: hand it to a provider in place of a real transport.
/// Copies share one state (a provider, a test and a tool can hold copies of one emulator).
/// Time comes from the clock policy `C` (a `ManualClock` by default); the emulator never sleeps.
///
/// Endpoints (under `/{api_version}/`, `v1beta` by default; every call needs `x-goog-api-key`):
///
/// | method + path                               | answer                                             |
/// |---------------------------------------------|----------------------------------------------------|
/// | `POST models/{model}:batchGenerateContent`  | the new Operation (`BATCH_STATE_PENDING`)          |
/// | `GET batches/{id}`                          | the Operation, state derived from the clock        |
/// | `GET batches?pageSize=&pageToken=`          | `{"operations":[...],"nextPageToken":...}`, newest first, no inlined responses; `{}` when empty |
/// | `POST batches/{id}:cancel`                  | `{}`; the job ends `BATCH_STATE_CANCELLED` (error code 1) |
/// | `DELETE batches/{id}`                       | `{}`; the job is forgotten                         |
/// | `POST models/{model}:generateContent`       | a GenerateContentResponse for the one request      |
///
/// Anything else answers 404 `NOT_FOUND`. A missing key answers 403 `PERMISSION_DENIED`; a key other
/// than `GeminiEmulatorOptions::required_api_key` (when set) answers 400 `INVALID_ARGUMENT`.
/// Bodies are checked like the real API: unknown fields (camelCase or snake_case accepted), wrong
/// value types, missing `contents`, an empty request list and unparseable JSON answer 400
/// `INVALID_ARGUMENT`; file input (`inputConfig.fileName`) is not supported.
///
/// Lifecycle of a job created at time t0 (durations from `GeminiEmulatorOptions`):
/// `PENDING` until t0 + pending_for, then `RUNNING` until t0 + pending_for + running_for (requests
/// complete one after another at an even pace, so the counters move), then `SUCCEEDED` with every
/// answer inlined. A job that would still be unfinished at t0 + expire_after ends `EXPIRED` then.
///
/// Answers are deterministic. The default responder reads the request's user text (every
/// `contents[].parts[].text`, joined with `\n`), picks a category by keyword and a confidence from a
/// stable hash of the text, and answers with bare JSON when `generationConfig.responseMimeType` is
/// `application/json`, else with prose around a fenced JSON block (see `default_answer`).
///
/// Injections (each affects jobs created afterwards unless it names a job):
/// - `inject_request_error(index, code, message, status)`: that request of later jobs fails;
/// - `omit_results_for(index)`: that request's item is missing from later jobs' results;
/// - `set_out_of_order(true)`: later jobs list their items in reverse order;
/// - `set_echo_metadata(false)`: later jobs' items carry no `metadata`;
/// - `fail_next_job(code, message)`: the next job ends `BATCH_STATE_FAILED` instead of succeeding;
/// - `fail_job(name, code, message)`, `expire_job(name)`: that job ends at once;
/// - `inject_http_errors(count, ...)`: the next `count` calls, to any endpoint, get a Google error
///   (429 `RESOURCE_EXHAUSTED` by default, optionally with `Retry-After`).
///
/// The whole state (jobs, answers, pending injections) round-trips through `to_json` and
/// `restore`/`from_json`, so a tool can keep its jobs across processes.
///
/// **Example**:
/// ```cpp
/// using namespace llmbatch::testing;
/// ManualClock clock;
/// GeminiEmulator gemini(clock);
/// HttpRequest create{"POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:batchGenerateContent",
///                    {{"x-goog-api-key", "k"}}, R"({"batch":{"inputConfig":{"requests":{"requests":[
///                      {"request":{"contents":[{"parts":[{"text":"Classify: physics"}]}]},"metadata":{"key":"0"}}]}}}})"};
/// auto name = Json::parse(gemini.send(create).body)["name"];
/// clock.advance(std::chrono::minutes(2));  // now BATCH_STATE_SUCCEEDED
/// ```

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/clock.hpp"
#include "llmbatch/concepts.hpp"
#include "llmbatch/detail/time.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/fake_transport.hpp"
#include "llmbatch/testing/manual_clock.hpp"

namespace llmbatch::testing {

/// Settings of a `BasicGeminiEmulator`.
struct GeminiEmulatorOptions {
    std::chrono::steady_clock::duration pending_for = std::chrono::seconds(20);  ///< PENDING phase length
    std::chrono::steady_clock::duration running_for = std::chrono::seconds(40);  ///< RUNNING phase length
    std::chrono::steady_clock::duration expire_after = std::chrono::hours(48);   ///< unfinished longer: EXPIRED
    std::string api_version = "v1beta";  ///< first path segment of every endpoint
    std::string required_api_key;        ///< empty: any non-empty `x-goog-api-key` is accepted
    int default_page_size = 50;          ///< list page size when `pageSize` is absent (at most 1000)
};

namespace detail {

using SysTime = std::chrono::system_clock::time_point;
using Nanos = std::chrono::nanoseconds;

inline constexpr std::string_view batch_type = "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch";
inline constexpr std::string_view batch_output_type =
    "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput";
inline constexpr std::string_view state_format = "llmbatch.gemini-emulator";
inline constexpr int state_version = 1;
inline constexpr int max_page_size = 1000;

// ---------------------------------------------------------------------------------------------
// Hashing, identifiers, times
// ---------------------------------------------------------------------------------------------

/// 64-bit FNV-1a: a hash that is the same on every platform and in every run.
[[nodiscard]] constexpr std::uint64_t fnv1a64(std::string_view text) noexcept {
    std::uint64_t h = 14695981039346656037ull;
    for (char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    return h;
}

/// One step of the SplitMix64 generator.
[[nodiscard]] constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/// `length` characters of `alphabet` drawn from a generator seeded with `seed`.
[[nodiscard]] inline std::string derived_token(std::string_view seed, std::size_t length, std::string_view alphabet) {
    std::uint64_t state = fnv1a64(seed);
    std::string out;
    out.reserve(length);
    for (std::size_t i = 0; i < length; ++i) out += alphabet[splitmix64(state) % alphabet.size()];
    return out;
}

/// `batches/` followed by 36 lowercase alphanumerics, derived from `seed`.
[[nodiscard]] inline std::string batch_name_for(std::string_view seed) {
    return "batches/" + derived_token(seed, 36, "0123456789abcdefghijklmnopqrstuvwxyz");
}

/// A 23-character response id in the URL-safe base64 alphabet, derived from `seed`.
[[nodiscard]] inline std::string response_id_for(std::string_view seed) {
    return derived_token(seed, 23, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
}

/// RFC 3339 with exactly nine fractional digits, as Google's APIs write timestamps.
[[nodiscard]] inline std::string format_timestamp(SysTime t) {
    using namespace std::chrono;
    const auto whole = floor<seconds>(t);
    const auto nanos = duration_cast<nanoseconds>(t - whole).count();
    std::string text = llmbatch::detail::format_rfc3339(time_point_cast<system_clock::duration>(whole), false);
    text.pop_back();  // the 'Z'
    return fmt::format("{}.{:09}Z", text, nanos);
}

/// Parses a timestamp written by `format_timestamp` (any RFC 3339 time).
/// @throws std::invalid_argument when `text` is not RFC 3339.
[[nodiscard]] inline SysTime parse_timestamp(const std::string& text) {
    if (auto t = llmbatch::detail::parse_rfc3339(text)) return *t;
    throw std::invalid_argument(fmt::format("'{}' is not an RFC 3339 timestamp", text));
}

// ---------------------------------------------------------------------------------------------
// Field names: the API reads camelCase and snake_case, writes camelCase, and quotes snake_case
// paths in its messages.
// ---------------------------------------------------------------------------------------------

[[nodiscard]] inline std::string snake_to_camel(std::string_view name) {
    std::string out;
    bool upper = false;
    for (char c : name) {
        if (c == '_' && !out.empty()) {
            upper = true;
            continue;
        }
        out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
        upper = false;
    }
    return out;
}

[[nodiscard]] inline std::string camel_to_snake(std::string_view name) {
    std::string out;
    for (char c : name) {
        if (std::isupper(static_cast<unsigned char>(c))) {
            out += '_';
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        } else {
            out += c;
        }
    }
    return out;
}

/// The member `camel_name` of object `object`, spelled in camelCase or snake_case; null when absent.
[[nodiscard]] inline const Json* find_field(const Json& object, std::string_view camel_name) {
    if (!object.is_object()) return nullptr;
    if (auto it = object.find(std::string(camel_name)); it != object.end() && !it->is_null()) return &*it;
    if (auto it = object.find(camel_to_snake(camel_name)); it != object.end() && !it->is_null()) return &*it;
    return nullptr;
}

// ---------------------------------------------------------------------------------------------
// API errors
// ---------------------------------------------------------------------------------------------

/// A Google API error on its way to becoming an HTTP response.
struct ApiError : std::runtime_error {
    ApiError(int http, std::string status_word, std::string text, Json error_details = nullptr,
             std::optional<std::string> retry = std::nullopt)
        : std::runtime_error(text), http_status(http), status(std::move(status_word)), message(std::move(text)),
          details(std::move(error_details)), retry_after(std::move(retry)) {}

    int http_status;
    std::string status;
    std::string message;
    Json details;
    std::optional<std::string> retry_after;
};

[[nodiscard]] inline HttpResponse error_response(const ApiError& e) {
    Json error = {{"code", e.http_status}, {"message", e.message}, {"status", e.status}};
    if (!e.details.is_null()) error["details"] = e.details;
    HttpHeaders headers{{"Content-Type", "application/json; charset=UTF-8"}};
    if (e.retry_after) headers.set("Retry-After", *e.retry_after);
    return json_response(e.http_status, Json{{"error", std::move(error)}}, std::move(headers));
}

[[nodiscard]] inline ApiError invalid_argument(std::string message, const std::string& field = {}) {
    Json details = nullptr;
    if (!field.empty())
        details = Json::array({{{"@type", "type.googleapis.com/google.rpc.BadRequest"},
                                {"fieldViolations", Json::array({{{"field", field}, {"description", message}}})}}});
    return ApiError(400, "INVALID_ARGUMENT", std::move(message), std::move(details));
}

[[nodiscard]] inline ApiError not_found(std::string message = "Requested entity was not found.") {
    return ApiError(404, "NOT_FOUND", std::move(message));
}

// ---------------------------------------------------------------------------------------------
// Request validation: a small description of the messages a client sends
// ---------------------------------------------------------------------------------------------

enum class FieldKind { string, floating, int32, int64, boolean, message, repeated_message, repeated_string, object, any };

struct MessageSpec;

/// One field of a protobuf message: its camelCase name, its kind and, for message kinds, its type.
struct FieldSpec {
    std::string_view name;
    FieldKind kind;
    const MessageSpec* message = nullptr;
};

/// A protobuf message as far as validation needs it: its name and its fields.
struct MessageSpec {
    std::string_view type_name;
    std::span<const FieldSpec> fields;
};

inline constexpr FieldSpec part_fields[] = {
    {"text", FieldKind::string},          {"inlineData", FieldKind::object},     {"fileData", FieldKind::object},
    {"functionCall", FieldKind::object},  {"functionResponse", FieldKind::object},
    {"executableCode", FieldKind::object}, {"codeExecutionResult", FieldKind::object},
    {"thought", FieldKind::boolean},      {"thoughtSignature", FieldKind::string},
    {"videoMetadata", FieldKind::object}, {"partMetadata", FieldKind::object},   {"mediaResolution", FieldKind::any},
};
inline constexpr MessageSpec part_spec{"Part", part_fields};

inline constexpr FieldSpec content_fields[] = {
    {"parts", FieldKind::repeated_message, &part_spec},
    {"role", FieldKind::string},
};
inline constexpr MessageSpec content_spec{"Content", content_fields};

inline constexpr FieldSpec thinking_config_fields[] = {
    {"includeThoughts", FieldKind::boolean},
    {"thinkingBudget", FieldKind::int32},
    {"thinkingLevel", FieldKind::string},
};
inline constexpr MessageSpec thinking_config_spec{"ThinkingConfig", thinking_config_fields};

inline constexpr FieldSpec generation_config_fields[] = {
    {"candidateCount", FieldKind::int32},
    {"stopSequences", FieldKind::repeated_string},
    {"maxOutputTokens", FieldKind::int32},
    {"temperature", FieldKind::floating},
    {"topP", FieldKind::floating},
    {"topK", FieldKind::int32},
    {"seed", FieldKind::int32},
    {"presencePenalty", FieldKind::floating},
    {"frequencyPenalty", FieldKind::floating},
    {"responseLogprobs", FieldKind::boolean},
    {"logprobs", FieldKind::int32},
    {"enableEnhancedCivicAnswers", FieldKind::boolean},
    {"responseMimeType", FieldKind::string},
    {"responseSchema", FieldKind::object},
    {"responseJsonSchema", FieldKind::any},
    {"responseModalities", FieldKind::repeated_string},
    {"speechConfig", FieldKind::object},
    {"imageConfig", FieldKind::object},
    {"mediaResolution", FieldKind::string},
    {"thinkingConfig", FieldKind::message, &thinking_config_spec},
};
inline constexpr MessageSpec generation_config_spec{"GenerationConfig", generation_config_fields};

inline constexpr FieldSpec generate_content_request_fields[] = {
    {"model", FieldKind::string},
    {"contents", FieldKind::repeated_message, &content_spec},
    {"systemInstruction", FieldKind::message, &content_spec},
    {"tools", FieldKind::any},
    {"toolConfig", FieldKind::object},
    {"safetySettings", FieldKind::any},
    {"cachedContent", FieldKind::string},
    {"generationConfig", FieldKind::message, &generation_config_spec},
};
inline constexpr MessageSpec generate_content_request_spec{"GenerateContentRequest", generate_content_request_fields};

inline constexpr FieldSpec inlined_request_fields[] = {
    {"request", FieldKind::message, &generate_content_request_spec},
    {"metadata", FieldKind::object},
};
inline constexpr MessageSpec inlined_request_spec{"InlinedRequest", inlined_request_fields};

inline constexpr FieldSpec inlined_requests_fields[] = {
    {"requests", FieldKind::repeated_message, &inlined_request_spec},
};
inline constexpr MessageSpec inlined_requests_spec{"InlinedRequests", inlined_requests_fields};

inline constexpr FieldSpec input_config_fields[] = {
    {"fileName", FieldKind::string},
    {"requests", FieldKind::message, &inlined_requests_spec},
};
inline constexpr MessageSpec input_config_spec{"InputConfig", input_config_fields};

inline constexpr FieldSpec batch_fields[] = {
    {"model", FieldKind::string},        {"name", FieldKind::string},       {"displayName", FieldKind::string},
    {"inputConfig", FieldKind::message, &input_config_spec},                {"output", FieldKind::object},
    {"createTime", FieldKind::string},   {"endTime", FieldKind::string},    {"updateTime", FieldKind::string},
    {"batchStats", FieldKind::object},   {"state", FieldKind::string},      {"priority", FieldKind::int64},
    {"webhookConfig", FieldKind::object},
};
inline constexpr MessageSpec batch_spec{"GenerateContentBatch", batch_fields};

inline constexpr FieldSpec batch_request_fields[] = {
    {"batch", FieldKind::message, &batch_spec},
};
inline constexpr MessageSpec batch_request_spec{"BatchGenerateContentRequest", batch_request_fields};

[[nodiscard]] inline bool is_integer_text(const std::string& s) {
    std::size_t i = (!s.empty() && s[0] == '-') ? 1 : 0;
    if (i == s.size()) return false;
    return std::all_of(s.begin() + static_cast<std::ptrdiff_t>(i), s.end(),
                       [](char c) { return c >= '0' && c <= '9'; });
}

[[nodiscard]] inline bool is_integral_value(const Json& v) {
    if (v.is_number_integer()) return true;
    if (v.is_number_float()) {
        const double d = v.get<double>();
        return std::isfinite(d) && d == std::floor(d);
    }
    return v.is_string() && is_integer_text(v.get<std::string>());
}

/// The value of an int64 field (a JSON number or a decimal string, already checked by `check_field`).
/// @throws ApiError 400 when it does not fit in 64 bits.
[[nodiscard]] inline std::int64_t to_int64(const Json& value, const std::string& path) {
    std::int64_t out = 0;
    if (value.is_string()) {
        const std::string text = value.get<std::string>();
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
        if (ec != std::errc{} || end != text.data() + text.size())
            throw invalid_argument(fmt::format("Invalid value at '{}' (TYPE_INT64), {}", path, value.dump()), path);
        return out;
    }
    if (value.is_number_unsigned() && value.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        throw invalid_argument(fmt::format("Invalid value at '{}' (TYPE_INT64), {}", path, value.dump()), path);
    if (value.is_number_float()) {
        const double d = value.get<double>();
        if (!(d >= -9.2e18 && d <= 9.2e18))
            throw invalid_argument(fmt::format("Invalid value at '{}' (TYPE_INT64), {}", path, value.dump()), path);
        return static_cast<std::int64_t>(d);
    }
    return value.get<std::int64_t>();
}

[[nodiscard]] inline std::string_view kind_type_name(FieldKind kind) {
    switch (kind) {
        case FieldKind::string:
        case FieldKind::repeated_string: return "TYPE_STRING";
        case FieldKind::floating: return "TYPE_FLOAT";
        case FieldKind::int32: return "TYPE_INT32";
        case FieldKind::int64: return "TYPE_INT64";
        case FieldKind::boolean: return "TYPE_BOOL";
        case FieldKind::object: return "type.googleapis.com/google.protobuf.Struct";
        case FieldKind::message:
        case FieldKind::repeated_message:
        case FieldKind::any: break;
    }
    return "TYPE_MESSAGE";
}

[[nodiscard]] inline std::string join_path(const std::string& path, std::string_view field) {
    return path.empty() ? std::string(field) : path + "." + std::string(field);
}

[[nodiscard]] inline ApiError invalid_value(const std::string& path, std::string_view type, const Json& value) {
    return invalid_argument(fmt::format("Invalid value at '{}' ({}), {}", path, type, value.dump()), path);
}

inline void check_message(const Json& value, const MessageSpec& spec, const std::string& path);

/// Checks one field's value against its kind. Null is every field's default and always accepted.
inline void check_field(const Json& value, const FieldSpec& field, const std::string& path) {
    if (value.is_null()) return;
    const auto message_type = [&] {
        return fmt::format("type.googleapis.com/google.ai.generativelanguage.v1beta.{}", field.message->type_name);
    };
    switch (field.kind) {
        case FieldKind::string:
            if (!value.is_string()) throw invalid_value(path, kind_type_name(field.kind), value);
            return;
        case FieldKind::floating:
            if (!value.is_number() && !value.is_string()) throw invalid_value(path, kind_type_name(field.kind), value);
            return;
        case FieldKind::int32:
        case FieldKind::int64:
            if (!is_integral_value(value)) throw invalid_value(path, kind_type_name(field.kind), value);
            return;
        case FieldKind::boolean:
            if (!value.is_boolean()) throw invalid_value(path, kind_type_name(field.kind), value);
            return;
        case FieldKind::object:
            if (!value.is_object()) throw invalid_value(path, kind_type_name(field.kind), value);
            return;
        case FieldKind::message:
            if (!value.is_object()) throw invalid_value(path, message_type(), value);
            check_message(value, *field.message, path);
            return;
        case FieldKind::repeated_message:
            if (!value.is_array()) throw invalid_value(path, message_type(), value);
            for (std::size_t i = 0; i < value.size(); ++i) {
                const std::string item_path = fmt::format("{}[{}]", path, i);
                if (!value[i].is_object()) throw invalid_value(item_path, message_type(), value[i]);
                check_message(value[i], *field.message, item_path);
            }
            return;
        case FieldKind::repeated_string:
            if (!value.is_array()) throw invalid_value(path, kind_type_name(field.kind), value);
            for (std::size_t i = 0; i < value.size(); ++i)
                if (!value[i].is_string())
                    throw invalid_value(fmt::format("{}[{}]", path, i), kind_type_name(field.kind), value[i]);
            return;
        case FieldKind::any: return;
    }
}

/// Checks every member of `value` against `spec`, the way the API's JSON parser does: unknown
/// names and wrongly typed values are rejected. `path` is the snake_case path of `value`.
/// @throws ApiError 400 `INVALID_ARGUMENT` on the first problem.
inline void check_message(const Json& value, const MessageSpec& spec, const std::string& path) {
    for (const auto& [key, member] : value.items()) {
        const std::string camel = snake_to_camel(key);
        const auto field = std::find_if(spec.fields.begin(), spec.fields.end(),
                                        [&](const FieldSpec& f) { return f.name == camel; });
        if (field == spec.fields.end()) {
            const std::string where = path.empty() ? std::string{} : fmt::format(" at '{}'", path);
            throw invalid_argument(
                fmt::format("Invalid JSON payload received. Unknown name \"{}\"{}: Cannot find field.", key, where),
                path);
        }
        check_field(member, *field, join_path(path, camel_to_snake(field->name)));
    }
}

/// Parses a request body as a JSON object.
/// @throws ApiError 400 when the body is not a JSON object.
[[nodiscard]] inline Json parse_body(const std::string& body) {
    Json parsed = Json::parse(body, nullptr, false);
    if (parsed.is_discarded())
        throw invalid_argument("Invalid JSON payload received. Unexpected token in the request body.");
    if (!parsed.is_object())
        throw invalid_argument(fmt::format("Invalid JSON payload received. Expected an object, got {}.",
                                           parsed.type_name()));
    return parsed;
}

/// Checks what the JSON schema cannot: `contents` present and no content without parts.
/// `path` is the snake_case path of the request (empty for a top-level generateContent body).
inline void check_generate_content_request(const Json& request, const std::string& path) {
    const std::string prefix = path.empty() ? "GenerateContentRequest" : "BatchGenerateContentRequest." + path;
    const Json* contents = find_field(request, "contents");
    if (!contents || contents->empty())
        throw invalid_argument(fmt::format("* {}.contents: contents is not specified", prefix),
                               join_path(path, "contents"));
    for (std::size_t i = 0; i < contents->size(); ++i) {
        const Json* parts = find_field((*contents)[i], "parts");
        if (!parts || parts->empty())
            throw invalid_argument(fmt::format("* {}.contents[{}].parts: contents.parts must not be empty.", prefix, i),
                                   fmt::format("{}[{}].parts", join_path(path, "contents"), i));
    }
}

// ---------------------------------------------------------------------------------------------
// Deterministic answers
// ---------------------------------------------------------------------------------------------

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
// Job records (plain data, each with to_json/from_json for the state file)
// ---------------------------------------------------------------------------------------------

enum class EmulatedState { pending, running, succeeded, failed, cancelled, expired };

[[nodiscard]] constexpr std::string_view wire_name(EmulatedState s) noexcept {
    switch (s) {
        case EmulatedState::pending: return "BATCH_STATE_PENDING";
        case EmulatedState::running: return "BATCH_STATE_RUNNING";
        case EmulatedState::succeeded: return "BATCH_STATE_SUCCEEDED";
        case EmulatedState::failed: return "BATCH_STATE_FAILED";
        case EmulatedState::cancelled: return "BATCH_STATE_CANCELLED";
        case EmulatedState::expired: return "BATCH_STATE_EXPIRED";
    }
    return "BATCH_STATE_UNSPECIFIED";
}

[[nodiscard]] inline EmulatedState state_from_wire_name(std::string_view name) {
    for (auto s : {EmulatedState::pending, EmulatedState::running, EmulatedState::succeeded, EmulatedState::failed,
                   EmulatedState::cancelled, EmulatedState::expired})
        if (wire_name(s) == name) return s;
    throw std::invalid_argument(fmt::format("unknown batch state '{}'", name));
}

[[nodiscard]] constexpr bool is_terminal(EmulatedState s) noexcept {
    return s != EmulatedState::pending && s != EmulatedState::running;
}

/// A google.rpc.Status: `status` is written only when non-empty.
struct EmulatedStatus {
    int code = 0;
    std::string message;
    std::string status;

    [[nodiscard]] Json to_json() const {
        Json j = {{"code", code}, {"message", message}};
        if (!status.empty()) j["status"] = status;
        return j;
    }
    [[nodiscard]] static EmulatedStatus from_json(const Json& j) {
        return EmulatedStatus{j.at("code").get<int>(), j.at("message").get<std::string>(),
                              j.value("status", std::string{})};
    }
};

/// The outcome of one request of a job, fixed when the job is created.
struct EmulatedItem {
    Json metadata = nullptr;  ///< the request's metadata, null when it had none
    Json response = nullptr;  ///< GenerateContentResponse, null when the request failed
    std::optional<EmulatedStatus> error;
    bool omitted = false;     ///< missing from the job's results

    [[nodiscard]] Json to_json() const {
        Json j = Json::object();
        if (!metadata.is_null()) j["metadata"] = metadata;
        if (!response.is_null()) j["response"] = response;
        if (error) j["error"] = error->to_json();
        if (omitted) j["omitted"] = true;
        return j;
    }
    [[nodiscard]] static EmulatedItem from_json(const Json& j) {
        EmulatedItem item;
        item.metadata = j.value("metadata", Json(nullptr));
        item.response = j.value("response", Json(nullptr));
        if (j.contains("error")) item.error = EmulatedStatus::from_json(j.at("error"));
        item.omitted = j.value("omitted", false);
        return item;
    }
};

/// How a job ended early (cancelled, failed or expired on request).
struct EmulatedEnd {
    EmulatedState state = EmulatedState::cancelled;
    SysTime time;
    std::optional<EmulatedStatus> error;

    [[nodiscard]] Json to_json() const {
        Json j = {{"state", wire_name(state)}, {"time", format_timestamp(time)}};
        if (error) j["error"] = error->to_json();
        return j;
    }
    [[nodiscard]] static EmulatedEnd from_json(const Json& j) {
        EmulatedEnd end;
        end.state = state_from_wire_name(j.at("state").get<std::string>());
        end.time = parse_timestamp(j.at("time").get<std::string>());
        if (j.contains("error")) end.error = EmulatedStatus::from_json(j.at("error"));
        return end;
    }
};

/// One batch job. Its state is not stored but derived from the creation time, the phase lengths
/// (copied from the options at creation) and `end`.
struct EmulatedJob {
    std::uint64_t sequence = 0;  ///< creation number, 1-based; orders the jobs
    std::string name;            ///< `batches/...`
    std::string model;           ///< `models/...`
    std::string display_name;
    std::int64_t priority = 0;
    SysTime create_time;
    Nanos pending_for{};
    Nanos running_for{};
    Nanos expire_after{};
    bool out_of_order = false;
    bool echo_metadata = true;
    std::optional<EmulatedStatus> fail_at_finish;  ///< ends FAILED with this error instead of SUCCEEDED
    std::optional<EmulatedEnd> end;
    std::vector<EmulatedItem> items;

    [[nodiscard]] Json to_json() const {
        Json j = {{"sequence", sequence},
                  {"name", name},
                  {"model", model},
                  {"displayName", display_name},
                  {"priority", priority},
                  {"createTime", format_timestamp(create_time)},
                  {"pendingForNs", pending_for.count()},
                  {"runningForNs", running_for.count()},
                  {"expireAfterNs", expire_after.count()},
                  {"outOfOrder", out_of_order},
                  {"echoMetadata", echo_metadata},
                  {"items", Json::array()}};
        if (fail_at_finish) j["failAtFinish"] = fail_at_finish->to_json();
        if (end) j["end"] = end->to_json();
        for (const auto& item : items) j["items"].push_back(item.to_json());
        return j;
    }
    [[nodiscard]] static EmulatedJob from_json(const Json& j) {
        EmulatedJob job;
        job.sequence = j.at("sequence").get<std::uint64_t>();
        job.name = j.at("name").get<std::string>();
        job.model = j.at("model").get<std::string>();
        job.display_name = j.value("displayName", std::string{});
        job.priority = j.value("priority", std::int64_t{0});
        job.create_time = parse_timestamp(j.at("createTime").get<std::string>());
        job.pending_for = Nanos(j.at("pendingForNs").get<std::int64_t>());
        job.running_for = Nanos(j.at("runningForNs").get<std::int64_t>());
        job.expire_after = Nanos(j.at("expireAfterNs").get<std::int64_t>());
        job.out_of_order = j.value("outOfOrder", false);
        job.echo_metadata = j.value("echoMetadata", true);
        if (j.contains("failAtFinish")) job.fail_at_finish = EmulatedStatus::from_json(j.at("failAtFinish"));
        if (j.contains("end")) job.end = EmulatedEnd::from_json(j.at("end"));
        for (const auto& item : j.at("items")) job.items.push_back(EmulatedItem::from_json(item));
        return job;
    }
};

/// An injected HTTP error, served to the next `remaining` calls.
struct EmulatedHttpError {
    std::size_t remaining = 0;
    int http_status = 429;
    std::string status;
    std::string message;
    std::optional<std::string> retry_after;

    [[nodiscard]] Json to_json() const {
        Json j = {{"remaining", remaining}, {"httpStatus", http_status}, {"status", status}, {"message", message}};
        if (retry_after) j["retryAfter"] = *retry_after;
        return j;
    }
    [[nodiscard]] static EmulatedHttpError from_json(const Json& j) {
        EmulatedHttpError e{j.at("remaining").get<std::size_t>(), j.at("httpStatus").get<int>(),
                            j.at("status").get<std::string>(), j.at("message").get<std::string>(), std::nullopt};
        if (j.contains("retryAfter")) e.retry_after = j.at("retryAfter").get<std::string>();
        return e;
    }
};

/// The injections waiting for jobs created later, and for later calls.
struct EmulatedInjections {
    std::map<std::size_t, EmulatedStatus> request_errors;
    std::set<std::size_t> omitted;
    bool out_of_order = false;
    bool echo_metadata = true;
    std::optional<EmulatedStatus> fail_next_job;
    std::deque<EmulatedHttpError> http_errors;

    [[nodiscard]] Json to_json() const {
        Json j = {{"requestErrors", Json::array()},
                  {"omitResults", omitted},
                  {"outOfOrder", out_of_order},
                  {"echoMetadata", echo_metadata},
                  {"httpErrors", Json::array()}};
        for (const auto& [index, error] : request_errors) {
            Json e = error.to_json();
            e["index"] = index;
            j["requestErrors"].push_back(std::move(e));
        }
        if (fail_next_job) j["failNextJob"] = fail_next_job->to_json();
        for (const auto& e : http_errors) j["httpErrors"].push_back(e.to_json());
        return j;
    }
    [[nodiscard]] static EmulatedInjections from_json(const Json& j) {
        EmulatedInjections in;
        for (const auto& e : j.value("requestErrors", Json::array()))
            in.request_errors[e.at("index").get<std::size_t>()] = EmulatedStatus::from_json(e);
        for (const auto& i : j.value("omitResults", Json::array())) in.omitted.insert(i.get<std::size_t>());
        in.out_of_order = j.value("outOfOrder", false);
        in.echo_metadata = j.value("echoMetadata", true);
        if (j.contains("failNextJob")) in.fail_next_job = EmulatedStatus::from_json(j.at("failNextJob"));
        for (const auto& e : j.value("httpErrors", Json::array())) in.http_errors.push_back(EmulatedHttpError::from_json(e));
        return in;
    }
};

// ---------------------------------------------------------------------------------------------
// Deriving what a job looks like at a given time
// ---------------------------------------------------------------------------------------------

/// A job as seen at one instant.
struct JobSnapshot {
    EmulatedState state = EmulatedState::pending;
    SysTime update_time;
    std::optional<SysTime> end_time;
    std::int64_t succeeded = 0;
    std::int64_t failed = 0;
    std::int64_t pending = 0;
    std::optional<EmulatedStatus> error;
};

/// How many requests (a prefix of the list) have completed `offset` after creation.
[[nodiscard]] inline std::size_t completed_at(const EmulatedJob& job, Nanos offset) {
    const std::size_t n = job.items.size();
    if (offset < job.pending_for) return 0;
    if (offset >= job.pending_for + job.running_for) return n;
    const auto fraction = static_cast<long double>((offset - job.pending_for).count()) /
                          static_cast<long double>(job.running_for.count());
    return std::min(n, static_cast<std::size_t>(std::floor(fraction * static_cast<long double>(n))));
}

/// The instant the `k`-th request (1-based) completes.
[[nodiscard]] inline SysTime completion_time(const EmulatedJob& job, std::size_t k) {
    const auto share = static_cast<long double>(job.running_for.count()) * static_cast<long double>(k) /
                       static_cast<long double>(job.items.size());
    return job.create_time + job.pending_for + Nanos(static_cast<std::int64_t>(std::ceil(share)));
}

/// Fills the counters for `k` completed requests.
inline void count_completed(const EmulatedJob& job, std::size_t k, JobSnapshot& snap) {
    std::int64_t failed = 0;
    for (std::size_t i = 0; i < k; ++i) failed += job.items[i].error ? 1 : 0;
    snap.failed = failed;
    snap.succeeded = static_cast<std::int64_t>(k) - failed;
    snap.pending = static_cast<std::int64_t>(job.items.size() - k);
}

/// The job as seen at `now`. A failed job reports every request as pending: it has no results.
[[nodiscard]] inline JobSnapshot snapshot(const EmulatedJob& job, SysTime now) {
    JobSnapshot snap;
    const auto finish_terminal = [&](EmulatedState state, SysTime at, std::optional<EmulatedStatus> error) {
        snap.state = state;
        snap.update_time = at;
        snap.end_time = at;
        snap.error = std::move(error);
        if (state == EmulatedState::failed)
            count_completed(job, 0, snap);
        else
            count_completed(job, completed_at(job, std::chrono::duration_cast<Nanos>(at - job.create_time)), snap);
        return snap;
    };
    if (job.end) return finish_terminal(job.end->state, job.end->time, job.end->error);

    const Nanos offset = std::max(Nanos::zero(), std::chrono::duration_cast<Nanos>(now - job.create_time));
    const Nanos finish = job.pending_for + job.running_for;
    if (finish <= job.expire_after) {
        if (offset >= finish) {
            if (job.fail_at_finish)
                return finish_terminal(EmulatedState::failed, job.create_time + finish, job.fail_at_finish);
            return finish_terminal(EmulatedState::succeeded, job.create_time + finish, std::nullopt);
        }
    } else if (offset >= job.expire_after) {
        return finish_terminal(EmulatedState::expired, job.create_time + job.expire_after, std::nullopt);
    }
    if (offset < job.pending_for) {
        snap.state = EmulatedState::pending;
        snap.update_time = job.create_time;
        count_completed(job, 0, snap);
        return snap;
    }
    const std::size_t k = completed_at(job, offset);
    snap.state = EmulatedState::running;
    snap.update_time = k == 0 ? job.create_time + job.pending_for : completion_time(job, k);
    count_completed(job, k, snap);
    return snap;
}

/// `inlinedResponses.inlinedResponses[]` of a finished job, honouring the job's injections.
[[nodiscard]] inline Json inlined_responses(const EmulatedJob& job) {
    Json list = Json::array();
    for (const auto& item : job.items) {
        if (item.omitted) continue;
        Json entry = Json::object();
        if (item.error)
            entry["error"] = item.error->to_json();
        else
            entry["response"] = item.response;
        if (job.echo_metadata && !item.metadata.is_null()) entry["metadata"] = item.metadata;
        list.push_back(std::move(entry));
    }
    if (job.out_of_order) std::reverse(list.begin(), list.end());
    Json out = Json::object();
    if (!list.empty()) out["inlinedResponses"] = std::move(list);
    return out;
}

/// The Operation for `job` as seen in `snap`; `with_output` false leaves out the results (as list does).
[[nodiscard]] inline Json operation_json(const EmulatedJob& job, const JobSnapshot& snap, bool with_output) {
    Json stats = {{"requestCount", std::to_string(job.items.size())}};
    if (snap.succeeded) stats["successfulRequestCount"] = std::to_string(snap.succeeded);
    if (snap.failed) stats["failedRequestCount"] = std::to_string(snap.failed);
    if (snap.pending) stats["pendingRequestCount"] = std::to_string(snap.pending);

    Json metadata = {{"@type", batch_type},
                     {"model", job.model},
                     {"name", job.name},
                     {"createTime", format_timestamp(job.create_time)},
                     {"updateTime", format_timestamp(snap.update_time)},
                     {"batchStats", std::move(stats)},
                     {"state", wire_name(snap.state)}};
    if (!job.display_name.empty()) metadata["displayName"] = job.display_name;
    if (job.priority != 0) metadata["priority"] = std::to_string(job.priority);
    if (snap.end_time) metadata["endTime"] = format_timestamp(*snap.end_time);

    Json op = {{"name", job.name}};
    if (is_terminal(snap.state)) op["done"] = true;
    if (snap.error) op["error"] = snap.error->to_json();
    if (snap.state == EmulatedState::succeeded && with_output) {
        Json output = {{"inlinedResponses", inlined_responses(job)}};
        metadata["output"] = output;
        output["@type"] = batch_output_type;
        op["response"] = std::move(output);
    }
    op["metadata"] = std::move(metadata);
    return op;
}

[[nodiscard]] inline HttpResponse ok_response(const Json& body) {
    return json_response(200, body, HttpHeaders{{"Content-Type", "application/json; charset=UTF-8"}});
}

}  // namespace detail

/// An in-memory Gemini Developer API batch service (see the file comment for the endpoints,
/// the job lifecycle and the injections). Models `HttpTransport`; copies share one state.
/// @tparam C the clock the job lifecycle follows; `utc_now()` stamps and ages the jobs.
template <llmbatch::Clock C = ManualClock>
class BasicGeminiEmulator {
public:
    /// Computes the answer text for one GenerateContentRequest.
    using Responder = std::function<std::string(const Json& generate_content_request)>;

    explicit BasicGeminiEmulator(C clock = C{}, GeminiEmulatorOptions options = {})
        : state_(std::make_shared<State>(std::move(clock), std::move(options))) {}

    /// An emulator holding the state saved by `to_json`.
    /// @throws std::invalid_argument when `state` is not a saved emulator state.
    [[nodiscard]] static BasicGeminiEmulator from_json(const Json& state, C clock = C{},
                                                       GeminiEmulatorOptions options = {}) {
        BasicGeminiEmulator emulator(std::move(clock), std::move(options));
        emulator.restore(state);
        return emulator;
    }

    /// The default answer to a GenerateContentRequest. With user text T (every
    /// `contents[].parts[].text`, joined with `\n`), category K (`Humanities`, `Languages`, `STEM`,
    /// `Arts` or `General`, by keyword) and confidence N (50..99, a stable hash of T), it is
    /// `{"category":"K","confidence":N}` when `generationConfig.responseMimeType` is
    /// `application/json`, else the same object in a fenced `json` block between two sentences.
    [[nodiscard]] static std::string default_answer(const Json& generate_content_request) {
        return detail::default_answer(generate_content_request);
    }

    /// Answers one HTTP request as the Gemini API would. A bad request never throws: every problem
    /// becomes a Google error response. Only an exception from a custom responder propagates.
    HttpResponse send(const HttpRequest& request) {
        std::lock_guard lock(state_->mutex);
        state_->requests.push_back(request);
        try {
            take_injected_http_error();
            check_api_key(request);
            return route(request);
        } catch (const detail::ApiError& e) {
            return detail::error_response(e);
        }
    }

    // ---- answers and injections -------------------------------------------------------------

    /// Replaces the default responder; an empty function restores it. Answers are computed when a
    /// job is created (and kept with it), once per request. The responder runs while the emulator
    /// is locked: it must not call the emulator.
    void set_responder(Responder responder) {
        std::lock_guard lock(state_->mutex);
        state_->responder = std::move(responder);
    }

    /// Request `index` of every job created afterwards fails with this error.
    void inject_request_error(std::size_t index, int code, std::string message, std::string status = "") {
        std::lock_guard lock(state_->mutex);
        state_->injections.request_errors[index] = detail::EmulatedStatus{code, std::move(message), std::move(status)};
    }

    /// The next job created ends `BATCH_STATE_FAILED` with this error when it would have succeeded.
    void fail_next_job(int code = 13, std::string message = "Internal error encountered.") {
        std::lock_guard lock(state_->mutex);
        state_->injections.fail_next_job = detail::EmulatedStatus{code, std::move(message), {}};
    }

    /// Ends job `name` now as `BATCH_STATE_FAILED` with this error.
    /// @throws std::invalid_argument for an unknown job; std::logic_error for a finished one.
    void fail_job(const std::string& name, int code, std::string message) {
        end_job(name, detail::EmulatedState::failed, detail::EmulatedStatus{code, std::move(message), {}});
    }

    /// Ends job `name` now as `BATCH_STATE_EXPIRED`.
    /// @throws std::invalid_argument for an unknown job; std::logic_error for a finished one.
    void expire_job(const std::string& name) { end_job(name, detail::EmulatedState::expired, std::nullopt); }

    /// The next `count` calls, to any endpoint, get this Google error (with `Retry-After` when given).
    void inject_http_errors(std::size_t count, int http_status = 429, std::string status = "RESOURCE_EXHAUSTED",
                            std::string message = "Resource has been exhausted (e.g. check quota).",
                            std::optional<std::string> retry_after = std::nullopt) {
        if (count == 0) return;
        std::lock_guard lock(state_->mutex);
        state_->injections.http_errors.push_back(
            detail::EmulatedHttpError{count, http_status, std::move(status), std::move(message), std::move(retry_after)});
    }

    /// Numbers the jobs created afterwards from `number` on; job names derive from these numbers.
    /// A tool that keeps the emulator's jobs in a file can start a fresh file at a random number,
    /// so its job names never repeat those of an older file.
    /// @throws std::invalid_argument when `number` is not above every existing job's number.
    void set_next_job_number(std::uint64_t number) {
        std::lock_guard lock(state_->mutex);
        for (const auto& job : state_->jobs)
            if (number <= job.sequence)
                throw std::invalid_argument(fmt::format(
                    "set_next_job_number({}): job {} already has number {}", number, job.name, job.sequence));
        if (number == 0) throw std::invalid_argument("set_next_job_number(0): job numbers start at 1");
        state_->next_sequence = number;
    }

    /// Jobs created afterwards list their results in reverse order (each still echoes its metadata).
    void set_out_of_order(bool reversed) {
        std::lock_guard lock(state_->mutex);
        state_->injections.out_of_order = reversed;
    }

    /// Whether items of jobs created afterwards carry their request's `metadata` (default true).
    void set_echo_metadata(bool echo) {
        std::lock_guard lock(state_->mutex);
        state_->injections.echo_metadata = echo;
    }

    /// The item of request `index` is missing from the results of jobs created afterwards.
    void omit_results_for(std::size_t index) {
        std::lock_guard lock(state_->mutex);
        state_->injections.omitted.insert(index);
    }

    /// Withdraws every injection that has not been used up (jobs already created keep theirs).
    void clear_injections() {
        std::lock_guard lock(state_->mutex);
        state_->injections = detail::EmulatedInjections{};
    }

    // ---- inspection -------------------------------------------------------------------------

    /// The number of jobs held (deleted jobs are gone).
    [[nodiscard]] std::size_t job_count() const {
        std::lock_guard lock(state_->mutex);
        return state_->jobs.size();
    }

    /// The names of the jobs held, oldest first.
    [[nodiscard]] std::vector<std::string> job_names() const {
        std::lock_guard lock(state_->mutex);
        std::vector<std::string> names;
        for (const auto& job : state_->jobs) names.push_back(job.name);
        return names;
    }

    /// The number of `send` calls so far.
    [[nodiscard]] std::size_t call_count() const {
        std::lock_guard lock(state_->mutex);
        return state_->requests.size();
    }

    /// Every request received so far, in order.
    [[nodiscard]] std::vector<HttpRequest> requests() const {
        std::lock_guard lock(state_->mutex);
        return state_->requests;
    }

    [[nodiscard]] C& clock() noexcept { return state_->clock; }
    [[nodiscard]] const C& clock() const noexcept { return state_->clock; }
    [[nodiscard]] const GeminiEmulatorOptions& options() const noexcept { return state_->options; }

    // ---- persistence ------------------------------------------------------------------------

    /// The jobs (with their answers) and pending injections, as JSON. The clock, the options,
    /// the responder and the request log are not part of it.
    [[nodiscard]] Json to_json() const {
        std::lock_guard lock(state_->mutex);
        Json jobs = Json::array();
        for (const auto& job : state_->jobs) jobs.push_back(job.to_json());
        return Json{{"format", detail::state_format},
                    {"version", detail::state_version},
                    {"nextSequence", state_->next_sequence},
                    {"jobs", std::move(jobs)},
                    {"injections", state_->injections.to_json()}};
    }

    /// Replaces the jobs and injections with those saved by `to_json`.
    /// @throws std::invalid_argument when `saved` is not a saved emulator state (nothing changes).
    void restore(const Json& saved) {
        std::vector<detail::EmulatedJob> jobs;
        detail::EmulatedInjections injections;
        std::uint64_t next_sequence = 1;
        try {
            if (!saved.is_object() || saved.value("format", std::string{}) != detail::state_format)
                throw std::invalid_argument("it is not a Gemini emulator state");
            if (saved.at("version").get<int>() != detail::state_version)
                throw std::invalid_argument(fmt::format("its version {} is not {}", saved.at("version").dump(),
                                                        detail::state_version));
            next_sequence = saved.at("nextSequence").get<std::uint64_t>();
            for (const auto& job : saved.at("jobs")) jobs.push_back(detail::EmulatedJob::from_json(job));
            if (saved.contains("injections"))
                injections = detail::EmulatedInjections::from_json(saved.at("injections"));
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(fmt::format("Cannot restore the Gemini emulator: {}.", e.what()));
        } catch (const nlohmann::json::exception& e) {
            throw std::invalid_argument(fmt::format("Cannot restore the Gemini emulator: {}.", e.what()));
        }
        std::sort(jobs.begin(), jobs.end(), [](const auto& a, const auto& b) { return a.sequence < b.sequence; });
        std::lock_guard lock(state_->mutex);
        state_->jobs = std::move(jobs);
        state_->injections = std::move(injections);
        state_->next_sequence = next_sequence;
    }

private:
    struct State {
        State(C c, GeminiEmulatorOptions o) : clock(std::move(c)), options(std::move(o)) {}
        std::mutex mutex;
        C clock;
        GeminiEmulatorOptions options;
        Responder responder;
        std::vector<detail::EmulatedJob> jobs;  // creation order
        std::uint64_t next_sequence = 1;
        detail::EmulatedInjections injections;
        std::vector<HttpRequest> requests;
    };

    [[nodiscard]] detail::SysTime utc_now() {
        return std::chrono::time_point_cast<std::chrono::system_clock::duration>(
            std::chrono::system_clock::time_point(state_->clock.utc_now()));
    }

    // ---- dispatch ---------------------------------------------------------------------------

    void take_injected_http_error() {
        auto& queue = state_->injections.http_errors;
        if (queue.empty()) return;
        detail::EmulatedHttpError e = queue.front();
        if (--queue.front().remaining == 0) queue.pop_front();
        throw detail::ApiError(e.http_status, e.status, e.message, nullptr, e.retry_after);
    }

    void check_api_key(const HttpRequest& request) const {
        const auto key = request.headers.get("x-goog-api-key");
        if (!key || key->empty())
            throw detail::ApiError(403, "PERMISSION_DENIED",
                                   "Method doesn't allow unregistered callers (callers without established "
                                   "identity). Please use API Key or other form of API consumer identity to call "
                                   "this API.");
        const std::string& required = state_->options.required_api_key;
        if (!required.empty() && *key != required)
            throw detail::ApiError(
                400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                Json::array({{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                              {"reason", "API_KEY_INVALID"},
                              {"domain", "googleapis.com"},
                              {"metadata", {{"service", "generativelanguage.googleapis.com"}}}}}));
    }

    HttpResponse route(const HttpRequest& request) {
        const std::string path = url_path(request.url);
        const std::string prefix = "/" + state_->options.api_version + "/";
        const auto no_method = [&] {
            return detail::not_found(fmt::format("The method {} {} is not found.", request.method, path));
        };
        if (path.rfind(prefix, 0) != 0) throw no_method();
        const std::string_view rest = std::string_view(path).substr(prefix.size());
        const auto& method = request.method;

        if (rest.rfind("models/", 0) == 0) {
            const auto colon = rest.rfind(':');
            if (colon == std::string_view::npos) throw no_method();
            const std::string model(rest.substr(0, colon));
            const std::string_view verb = rest.substr(colon + 1);
            if (model.size() <= 7 || model.find('/', 7) != std::string::npos) throw no_method();
            if (method == "POST" && verb == "batchGenerateContent") return create_batch(request, model);
            if (method == "POST" && verb == "generateContent") return generate_content(request, model);
            throw no_method();
        }
        if (rest == "batches") {
            if (method == "GET") return list_batches(request);
            throw no_method();
        }
        if (rest.rfind("batches/", 0) == 0) {
            std::string_view id = rest.substr(8);
            std::string_view verb;
            if (const auto colon = id.find(':'); colon != std::string_view::npos) {
                verb = id.substr(colon + 1);
                id = id.substr(0, colon);
            }
            if (id.empty() || id.find('/') != std::string_view::npos) throw no_method();
            const std::string name = "batches/" + std::string(id);
            if (verb.empty() && method == "GET") return get_batch(name);
            if (verb.empty() && method == "DELETE") return delete_batch(name);
            if (verb == "cancel" && method == "POST") return cancel_batch(request, name);
            throw no_method();
        }
        throw no_method();
    }

    // ---- endpoints --------------------------------------------------------------------------

    HttpResponse create_batch(const HttpRequest& request, const std::string& model) {
        const Json body = detail::parse_body(request.body);
        detail::check_message(body, detail::batch_request_spec, "");
        const Json* batch = detail::find_field(body, "batch");
        if (!batch) throw detail::invalid_argument("* BatchGenerateContentRequest.batch: batch is required.", "batch");
        const Json* input = detail::find_field(*batch, "inputConfig");
        if (!input)
            throw detail::invalid_argument(
                "* BatchGenerateContentRequest.batch.input_config: input_config is required.", "batch.input_config");
        if (detail::find_field(*input, "fileName"))
            throw detail::invalid_argument("file input is not supported by the emulator",
                                           "batch.input_config.file_name");
        const Json* wrapper = detail::find_field(*input, "requests");
        const Json* list = wrapper ? detail::find_field(*wrapper, "requests") : nullptr;
        if (!list || list->empty())
            throw detail::invalid_argument(
                "* BatchGenerateContentRequest.batch.input_config.requests.requests: requests must not be empty.",
                "batch.input_config.requests.requests");
        for (std::size_t i = 0; i < list->size(); ++i) {
            const std::string path = fmt::format("batch.input_config.requests.requests[{}].request", i);
            const Json* item_request = detail::find_field((*list)[i], "request");
            if (!item_request)
                throw detail::invalid_argument(fmt::format("* BatchGenerateContentRequest.{}: request is required.", path),
                                               path);
            detail::check_generate_content_request(*item_request, path);
        }

        auto& s = *state_;
        detail::EmulatedJob job;
        job.sequence = s.next_sequence++;
        job.name = unique_name(job.sequence);
        job.model = model;
        if (const Json* display = detail::find_field(*batch, "displayName")) job.display_name = display->get<std::string>();
        if (const Json* priority = detail::find_field(*batch, "priority")) job.priority = detail::to_int64(*priority, "batch.priority");
        job.create_time = utc_now();
        job.pending_for = std::chrono::duration_cast<detail::Nanos>(s.options.pending_for);
        job.running_for = std::chrono::duration_cast<detail::Nanos>(s.options.running_for);
        job.expire_after = std::chrono::duration_cast<detail::Nanos>(s.options.expire_after);
        job.out_of_order = s.injections.out_of_order;
        job.echo_metadata = s.injections.echo_metadata;
        job.fail_at_finish = std::exchange(s.injections.fail_next_job, std::nullopt);
        const std::string model_id = model.substr(7);
        for (std::size_t i = 0; i < list->size(); ++i) {
            const Json& inlined = (*list)[i];
            detail::EmulatedItem item;
            if (const Json* metadata = detail::find_field(inlined, "metadata")) item.metadata = *metadata;
            if (auto it = s.injections.request_errors.find(i); it != s.injections.request_errors.end()) {
                item.error = it->second;
            } else {
                const Json& generate_request = *detail::find_field(inlined, "request");
                item.response = detail::generate_content_response(generate_request, answer(generate_request), model_id,
                                                                  detail::response_id_for(fmt::format("{}#{}", job.name, i)));
            }
            item.omitted = s.injections.omitted.count(i) != 0;
            job.items.push_back(std::move(item));
        }
        s.jobs.push_back(std::move(job));
        const auto& created = s.jobs.back();
        return detail::ok_response(detail::operation_json(created, detail::snapshot(created, utc_now()), true));
    }

    HttpResponse get_batch(const std::string& name) {
        const auto& job = find_job(name);
        return detail::ok_response(detail::operation_json(job, detail::snapshot(job, utc_now()), true));
    }

    HttpResponse list_batches(const HttpRequest& request) {
        const std::string query = url_query(request.url);
        int page_size = state_->options.default_page_size;
        if (auto text = query_param(query, "pageSize"); text && !text->empty()) {
            if (!detail::is_integer_text(*text) || text->size() > 9 || (*text)[0] == '-')
                throw detail::invalid_argument(fmt::format("Invalid value at 'page_size' (TYPE_INT32), \"{}\"", *text),
                                               "page_size");
            page_size = std::stoi(*text);
        }
        if (page_size <= 0) page_size = state_->options.default_page_size;
        page_size = std::clamp(page_size, 1, detail::max_page_size);

        std::uint64_t before = std::numeric_limits<std::uint64_t>::max();  // list jobs created before this sequence number
        if (auto token = query_param(query, "pageToken"); token && !token->empty()) {
            const std::string digits = token->substr(1);
            if ((*token)[0] != 'p' || !detail::is_integer_text(digits) || digits[0] == '-' || digits.size() > 19)
                throw detail::invalid_argument("Invalid page token.", "page_token");
            before = std::stoull(digits);
        }

        Json operations = Json::array();
        std::optional<std::uint64_t> last;
        bool more = false;
        const auto now = utc_now();
        for (auto it = state_->jobs.rbegin(); it != state_->jobs.rend(); ++it) {
            if (it->sequence >= before) continue;
            if (operations.size() == static_cast<std::size_t>(page_size)) {
                more = true;
                break;
            }
            operations.push_back(detail::operation_json(*it, detail::snapshot(*it, now), false));
            last = it->sequence;
        }
        Json body = Json::object();
        if (!operations.empty()) body["operations"] = std::move(operations);
        if (more) body["nextPageToken"] = fmt::format("p{}", *last);
        return detail::ok_response(body);
    }

    HttpResponse cancel_batch(const HttpRequest& request, const std::string& name) {
        if (!request.body.empty()) detail::check_message(detail::parse_body(request.body), detail::MessageSpec{"CancelOperationRequest", {}}, "");
        auto& job = find_job(name);
        const auto now = utc_now();
        const auto snap = detail::snapshot(job, now);
        if (detail::is_terminal(snap.state))
            throw detail::ApiError(400, "FAILED_PRECONDITION",
                                   fmt::format("The batch {} has already finished ({}) and cannot be cancelled.", name,
                                               detail::wire_name(snap.state)));
        job.end = detail::EmulatedEnd{detail::EmulatedState::cancelled, now,
                                      detail::EmulatedStatus{1, "The batch was cancelled.", {}}};
        return detail::ok_response(Json::object());
    }

    HttpResponse delete_batch(const std::string& name) {
        auto& jobs = state_->jobs;
        const auto it = std::find_if(jobs.begin(), jobs.end(), [&](const auto& j) { return j.name == name; });
        if (it == jobs.end()) throw detail::not_found();
        jobs.erase(it);
        return detail::ok_response(Json::object());
    }

    HttpResponse generate_content(const HttpRequest& request, const std::string& model) {
        const Json body = detail::parse_body(request.body);
        detail::check_message(body, detail::generate_content_request_spec, "");
        detail::check_generate_content_request(body, "");
        const std::string text = answer(body);
        const std::string id_seed = fmt::format("{}#{}#{}", model, state_->requests.size(), detail::user_text(body));
        return detail::ok_response(
            detail::generate_content_response(body, text, model.substr(7), detail::response_id_for(id_seed)));
    }

    // ---- helpers ----------------------------------------------------------------------------

    [[nodiscard]] std::string answer(const Json& generate_content_request) const {
        return state_->responder ? state_->responder(generate_content_request)
                                 : detail::default_answer(generate_content_request);
    }

    [[nodiscard]] std::string unique_name(std::uint64_t sequence) const {
        for (unsigned salt = 0;; ++salt) {
            std::string name = detail::batch_name_for(fmt::format("gemini-emulator/{}/{}", sequence, salt));
            const bool taken = std::any_of(state_->jobs.begin(), state_->jobs.end(),
                                           [&](const auto& j) { return j.name == name; });
            if (!taken) return name;
        }
    }

    [[nodiscard]] detail::EmulatedJob& find_job(const std::string& name) {
        for (auto& job : state_->jobs)
            if (job.name == name) return job;
        throw detail::not_found();
    }

    void end_job(const std::string& name, detail::EmulatedState state, std::optional<detail::EmulatedStatus> error) {
        std::lock_guard lock(state_->mutex);
        auto it = std::find_if(state_->jobs.begin(), state_->jobs.end(), [&](const auto& j) { return j.name == name; });
        if (it == state_->jobs.end())
            throw std::invalid_argument(fmt::format("The Gemini emulator holds no job named '{}'.", name));
        const auto now = utc_now();
        const auto snap = detail::snapshot(*it, now);
        if (detail::is_terminal(snap.state))
            throw std::logic_error(
                fmt::format("The job '{}' has already finished ({}).", name, detail::wire_name(snap.state)));
        it->end = detail::EmulatedEnd{state, now, std::move(error)};
    }

    std::shared_ptr<State> state_;
};

/// The Gemini emulator driven by a `ManualClock`.
using GeminiEmulator = BasicGeminiEmulator<ManualClock>;

static_assert(llmbatch::HttpTransport<GeminiEmulator>);

}  // namespace llmbatch::testing
