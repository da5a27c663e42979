#pragma once
/// @file testing/emulator/multipart.hpp
/// A `multipart/form-data` reader (RFC 7578) for the emulators whose file uploads are forms
/// (OpenAI and Mistral `POST /v1/files`, OpenAI `POST /v1/uploads/{id}/parts`). It finds the
/// boundary in the `Content-Type` header and splits the body into named parts; a part's bytes are
/// views into the body (no copy, whatever their size).
///
/// **Example**:
/// ```cpp
/// std::vector<FormPart> parts = parse_multipart(request.headers.get("Content-Type").value_or(""), request.body);
/// const FormPart* file = find_part(parts, "file");  // file->filename, file->content
/// ```

#include <cctype>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/http.hpp"

namespace llmbatch::testing {

/// One part of a form.
struct FormPart {
    std::string name;                     ///< the `name` of its `Content-Disposition`
    std::optional<std::string> filename;  ///< its `filename`, for a file part
    std::string content_type;             ///< its `Content-Type`, empty when it has none
    std::string_view content;             ///< its bytes, a view into the parsed body
};

/// A body that is not a well-formed `multipart/form-data` form.
class MultipartError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

namespace detail {

/// The value of parameter `name` in a header value such as `form-data; name="file"` (quotes
/// removed, `\"` unescaped); nullopt when absent.
[[nodiscard]] inline std::optional<std::string> header_parameter(std::string_view value, std::string_view name) {
    std::size_t at = value.find(';');
    while (at != std::string_view::npos) {
        ++at;
        while (at < value.size() && (value[at] == ' ' || value[at] == '\t')) ++at;
        const auto eq = value.find('=', at);
        if (eq == std::string_view::npos) return std::nullopt;
        std::string_view key = value.substr(at, eq - at);
        while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
        std::size_t end = eq + 1;
        std::string text;
        if (end < value.size() && value[end] == '"') {
            for (++end; end < value.size() && value[end] != '"'; ++end) {
                if (value[end] == '\\' && end + 1 < value.size()) ++end;
                text += value[end];
            }
            end = value.find(';', end);
        } else {
            const auto semi = value.find(';', end);
            text = std::string(value.substr(end, semi == std::string_view::npos ? std::string_view::npos : semi - end));
            while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.pop_back();
            end = semi;
        }
        if (llmbatch::detail::iequals(key, name)) return text;
        at = end;
    }
    return std::nullopt;
}

}  // namespace detail

/// The parts of `body`, a form whose `Content-Type` header is `content_type`.
/// @throws MultipartError when the header is not `multipart/form-data` with a boundary, or the
///         body is not a well-formed form (a missing closing boundary included).
[[nodiscard]] inline std::vector<FormPart> parse_multipart(std::string_view content_type, std::string_view body) {
    const auto semi = content_type.find(';');
    std::string_view media = content_type.substr(0, semi);
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    if (!llmbatch::detail::iequals(media, "multipart/form-data"))
        throw MultipartError(fmt::format("Expected a multipart/form-data body, got Content-Type '{}'.", content_type));
    const auto boundary = detail::header_parameter(content_type, "boundary");
    if (!boundary || boundary->empty()) throw MultipartError("The multipart/form-data Content-Type has no boundary.");
    const std::string delimiter = "--" + *boundary;

    std::vector<FormPart> parts;
    std::size_t at = body.find(delimiter);
    if (at == std::string_view::npos) throw MultipartError("The form has no boundary line.");
    while (true) {
        at += delimiter.size();
        if (body.substr(at, 2) == "--") return parts;  // the closing delimiter
        if (body.substr(at, 2) != "\r\n") throw MultipartError("A boundary line does not end with CRLF.");
        at += 2;
        FormPart part;
        bool disposition = false;
        while (true) {  // the part's headers, up to an empty line
            const auto eol = body.find("\r\n", at);
            if (eol == std::string_view::npos) throw MultipartError("A part's headers do not end.");
            const std::string_view line = body.substr(at, eol - at);
            at = eol + 2;
            if (line.empty()) break;
            const auto colon = line.find(':');
            if (colon == std::string_view::npos) throw MultipartError(fmt::format("Bad part header '{}'.", line));
            const std::string_view name = line.substr(0, colon);
            std::string_view value = line.substr(colon + 1);
            while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
            if (llmbatch::detail::iequals(name, "Content-Disposition")) {
                disposition = true;
                part.name = detail::header_parameter(value, "name").value_or("");
                part.filename = detail::header_parameter(value, "filename");
            } else if (llmbatch::detail::iequals(name, "Content-Type")) {
                part.content_type = std::string(value);
            }
        }
        if (!disposition || part.name.empty()) throw MultipartError("A part has no Content-Disposition name.");
        const auto next = body.find("\r\n" + delimiter, at);
        if (next == std::string_view::npos) throw MultipartError("The form's closing boundary is missing.");
        part.content = body.substr(at, next - at);
        parts.push_back(std::move(part));
        at = next + 2;
    }
}

/// The first part called `name`, or null.
[[nodiscard]] inline const FormPart* find_part(const std::vector<FormPart>& parts, std::string_view name) {
    for (const auto& p : parts)
        if (p.name == name) return &p;
    return nullptr;
}

/// A form as a client sends it: `fields` as text parts, then `file` (when given) under `file_field`.
/// Returns the body; `content_type` receives the header value with the boundary.
[[nodiscard]] inline std::string build_multipart(const std::vector<std::pair<std::string, std::string>>& fields,
                                                 std::string_view file_field, std::string_view filename,
                                                 std::string_view file_bytes, std::string& content_type,
                                                 std::string_view boundary = "llmbatch-form-boundary-7d1f3a") {
    std::string body;
    const auto open = [&] { body += fmt::format("--{}\r\n", boundary); };
    if (!file_field.empty()) {
        open();
        body += fmt::format("Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n", file_field, filename);
        body += "Content-Type: application/octet-stream\r\n\r\n";
        body.append(file_bytes);
        body += "\r\n";
    }
    for (const auto& [name, value] : fields) {
        open();
        body += fmt::format("Content-Disposition: form-data; name=\"{}\"\r\n\r\n{}\r\n", name, value);
    }
    body += fmt::format("--{}--\r\n", boundary);
    content_type = fmt::format("multipart/form-data; boundary={}", boundary);
    return body;
}

}  // namespace llmbatch::testing
