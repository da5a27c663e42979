#pragma once
/// @file testing/emulator/gemini_schema.hpp
/// What the Gemini emulator checks of a request before it answers: field names (camelCase or
/// snake_case, as the API's JSON parser accepts), value types, required fields, and the Google
/// error it answers with (`ApiError`, rendered by `error_response`). The messages follow the
/// real API's wording, e.g. `Invalid JSON payload received. Unknown name "x": Cannot find field.`
///
/// **Example**:
/// ```cpp
/// using namespace llmbatch::testing::detail;
/// try {
///     check_message(parse_body(body), batch_request_spec, "");
/// } catch (const ApiError& e) {
///     HttpResponse answer = error_response(e);  // 400 INVALID_ARGUMENT
/// }
/// ```

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/fake_transport.hpp"

namespace llmbatch::testing::detail {

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
    std::string rendered;  ///< a pre-rendered body, used as is when set
};

[[nodiscard]] inline HttpResponse error_response(const ApiError& e) {
    if (!e.rendered.empty()) {
        HttpResponse r{e.http_status, HttpHeaders{{"Content-Type", "application/json; charset=UTF-8"}}, e.rendered};
        if (e.retry_after) r.headers.set("Retry-After", *e.retry_after);
        return r;
    }
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


}  // namespace llmbatch::testing::detail
