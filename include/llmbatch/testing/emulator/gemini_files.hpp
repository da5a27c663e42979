#pragma once
/// @file testing/emulator/gemini_files.hpp
/// The Gemini Files API on a `FileStore`: the resumable upload (`POST /upload/{version}/files`
/// with `X-Goog-Upload-Command: start`, then chunks to the returned `x-goog-upload-url`), get,
/// list and delete of `files/{id}`, and the reading of a batch input file, whose JSONL lines
/// `{"key": ..., "request": GenerateContentRequest}` are checked like inlined requests.
///
/// **Example** (the upload, as the official SDKs do it):
/// ```text
/// POST /upload/v1beta/files   X-Goog-Upload-Protocol: resumable, X-Goog-Upload-Command: start,
///                             X-Goog-Upload-Header-Content-Length: 202  -> x-goog-upload-url: U
/// POST U                      X-Goog-Upload-Command: upload, finalize, X-Goog-Upload-Offset: 0
///                             -> x-goog-upload-status: final, {"file": {...}}
/// ```

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/file_store.hpp"
#include "llmbatch/testing/emulator/gemini_schema.hpp"
#include "llmbatch/testing/emulator/gemini_wire.hpp"

namespace llmbatch::testing::detail {

inline constexpr FieldSpec file_fields[] = {
    {"name", FieldKind::string},        {"displayName", FieldKind::string},   {"mimeType", FieldKind::string},
    {"sizeBytes", FieldKind::int64},    {"createTime", FieldKind::string},    {"updateTime", FieldKind::string},
    {"expirationTime", FieldKind::string}, {"sha256Hash", FieldKind::string}, {"uri", FieldKind::string},
    {"downloadUri", FieldKind::string}, {"state", FieldKind::string},         {"source", FieldKind::string},
    {"error", FieldKind::object},       {"videoMetadata", FieldKind::object},
};
inline constexpr MessageSpec file_spec{"File", file_fields};
inline constexpr FieldSpec create_file_request_fields[] = {{"file", FieldKind::message, &file_spec}};
inline constexpr MessageSpec create_file_request_spec{"CreateFileRequest", create_file_request_fields};

inline constexpr FieldSpec input_line_fields[] = {
    {"key", FieldKind::string},
    {"request", FieldKind::message, &generate_content_request_spec},
    {"metadata", FieldKind::object},
};
inline constexpr MessageSpec input_line_spec{"InputLine", input_line_fields};

/// `scheme://host[:port]` of `url`.
[[nodiscard]] inline std::string url_origin(std::string_view url) {
    const auto scheme = url.find("://");
    const auto slash = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
    return std::string(url.substr(0, slash));
}

/// The `upload_id` of a request to an upload URL (`/upload/...?upload_id=`); empty for any other.
[[nodiscard]] inline std::string upload_id(const HttpRequest& request) {
    if (url_path(request.url).rfind("/upload/", 0) != 0) return {};
    return query_param(url_query(request.url), "upload_id").value_or("");
}

/// The comma-separated words of an `X-Goog-Upload-Command` header, trimmed and lowercased.
[[nodiscard]] inline std::vector<std::string> upload_commands(const HttpRequest& request) {
    std::vector<std::string> words;
    const std::string text = request.headers.get("X-Goog-Upload-Command").value_or("");
    std::size_t at = 0;
    while (at <= text.size()) {
        auto comma = text.find(',', at);
        if (comma == std::string::npos) comma = text.size();
        std::string word = text.substr(at, comma - at);
        word.erase(0, word.find_first_not_of(" \t"));
        word.erase(word.find_last_not_of(" \t") + 1);
        for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!word.empty()) words.push_back(std::move(word));
        at = comma + 1;
    }
    return words;
}

[[nodiscard]] inline std::uint64_t header_number(const HttpRequest& request, const char* name) {
    const auto text = request.headers.get(name);
    if (!text || !is_integer_text(*text) || (*text)[0] == '-' || text->size() > 18)
        throw invalid_argument(fmt::format("The header {} must be a non-negative number.", name));
    return std::stoull(*text);
}

/// `POST /upload/{version}/files` with `X-Goog-Upload-Command: start`: opens an upload session.
[[nodiscard]] inline HttpResponse start_upload(const HttpRequest& request, FileStore& store, SysTime now) {
    std::string protocol = request.headers.get("X-Goog-Upload-Protocol").value_or("");
    if (protocol != "resumable")
        throw invalid_argument("Only resumable uploads (X-Goog-Upload-Protocol: resumable) are supported.");
    const auto commands = upload_commands(request);
    if (commands != std::vector<std::string>{"start"})
        throw invalid_argument("A resumable upload starts with X-Goog-Upload-Command: start.");
    const std::uint64_t size = header_number(request, "X-Goog-Upload-Header-Content-Length");
    std::string display_name;
    std::string mime = request.headers.get("X-Goog-Upload-Header-Content-Type").value_or("");
    if (!request.body.empty()) {
        const Json body = parse_body(request.body);
        check_message(body, create_file_request_spec, "");
        if (const Json* file = find_field(body, "file")) {
            if (const Json* d = find_field(*file, "displayName")) display_name = d->get<std::string>();
            if (const Json* m = find_field(*file, "mimeType"); m && mime.empty()) mime = m->get<std::string>();
            if (const Json* s = find_field(*file, "sizeBytes"); s && static_cast<std::uint64_t>(to_int64(*s, "file.size_bytes")) != size)
                throw invalid_argument("file.size_bytes does not match X-Goog-Upload-Header-Content-Length.",
                                       "file.size_bytes");
        }
    }
    if (mime.empty()) mime = "application/octet-stream";
    const UploadSession session = store.start_upload(std::move(display_name), std::move(mime), size, now);
    HttpResponse response;
    response.status = 200;
    const std::string path = url_path(request.url);
    response.headers.set("x-goog-upload-url",
                         fmt::format("{}{}?upload_id={}&upload_protocol=resumable", url_origin(request.url), path, session.id));
    response.headers.set("x-goog-upload-status", "active");
    response.headers.set("x-goog-upload-chunk-granularity", "8388608");
    response.headers.set("Content-Type", "text/plain; charset=utf-8");
    return response;
}

/// `POST <upload url>`: a chunk (`upload`), the last one (`upload, finalize`), `finalize` alone
/// or `query`. Answers `x-goog-upload-status: active` until the final chunk, then `final` and
/// `{"file": File}`. A wrong offset or size answers 400, an unknown session 404.
[[nodiscard]] inline HttpResponse upload_chunk(const HttpRequest& request, const std::string& upload_id, FileStore& store,
                                               SysTime now, const std::string& api_base) {
    const UploadSession* session = store.session(upload_id);
    if (!session) throw not_found("No such upload session.");
    const auto commands = upload_commands(request);
    const auto has = [&](std::string_view w) { return std::find(commands.begin(), commands.end(), w) != commands.end(); };
    HttpResponse response;
    response.status = 200;
    response.headers.set("Content-Type", "text/plain; charset=utf-8");
    if (has("query")) {
        response.headers.set("x-goog-upload-status", "active");
        response.headers.set("x-goog-upload-size-received", std::to_string(session->received));
        return response;
    }
    const bool finalize = has("finalize");
    if (!has("upload") && !finalize)
        throw invalid_argument("X-Goog-Upload-Command must be upload, finalize, 'upload, finalize' or query.");
    if (!has("upload") && !request.body.empty()) throw invalid_argument("A finalize without upload carries no bytes.");
    const std::uint64_t offset = request.headers.contains("X-Goog-Upload-Offset")
                                     ? header_number(request, "X-Goog-Upload-Offset")
                                     : session->received;
    std::optional<StoredFile> file;
    try {
        file = store.upload(upload_id, offset, request.body, finalize, now);
    } catch (const FileStoreError& e) {
        throw invalid_argument(e.what());
    }
    if (!file) {
        response.headers.set("x-goog-upload-status", "active");
        return response;
    }
    response = ok_response(Json{{"file", file_json(*file, api_base)}});
    response.headers.set("x-goog-upload-status", "final");
    return response;
}

/// The answer for a file that does not exist (or that the caller may not see), as the API gives it.
[[nodiscard]] inline ApiError file_not_found(std::string_view id) {
    return ApiError(403, "PERMISSION_DENIED",
                    fmt::format("You do not have permission to access the File {} or it may not exist.", id));
}

/// Checks a file id of a `files/{id}` path.
inline void check_file_id(std::string_view id) {
    if (id.empty() || id.size() > 40)
        throw invalid_argument("File ID (name excluding 'files/') cannot be more than 40 characters.", "name");
}

/// `GET /{version}/files?pageSize=&pageToken=`: newest first, `{"files":[...],"nextPageToken":...}`.
[[nodiscard]] inline HttpResponse list_files(const HttpRequest& request, const FileStore& store, const std::string& api_base) {
    const std::string query = url_query(request.url);
    std::size_t page_size = 10;
    if (auto text = query_param(query, "pageSize"); text && !text->empty()) {
        if (!is_integer_text(*text) || text->size() > 9 || (*text)[0] == '-')
            throw invalid_argument(fmt::format("Invalid value at 'page_size' (TYPE_INT32), \"{}\"", *text), "page_size");
        page_size = std::clamp<std::size_t>(std::stoul(*text), 1, 100);
        if (*text == "0") page_size = 10;
    }
    std::size_t skip = 0;
    if (auto token = query_param(query, "pageToken"); token && !token->empty()) {
        const std::string digits = token->substr(1);
        if ((*token)[0] != 'f' || !is_integer_text(digits) || digits[0] == '-' || digits.size() > 9)
            throw invalid_argument("Invalid page token.", "page_token");
        skip = std::stoul(digits);
    }
    const auto& files = store.list();
    Json list = Json::array();
    std::size_t index = skip;
    for (; index < files.size() && list.size() < page_size; ++index)
        list.push_back(file_json(files[files.size() - 1 - index], api_base));
    Json body = Json::object();
    if (!list.empty()) body["files"] = std::move(list);
    if (index < files.size()) body["nextPageToken"] = fmt::format("f{}", index);
    return ok_response(body);
}

/// One request of a batch input file.
struct InputLine {
    std::string key;
    Json request;
    Json metadata = nullptr;
};

/// Reads and checks the JSONL input file `id`; every bad line is reported, as the API does:
/// 400 `INVALID_ARGUMENT` with `Error on line N: ...` (one line per problem, at most ten).
[[nodiscard]] inline std::vector<InputLine> read_input_file(const FileStore& store, std::string_view id) {
    std::vector<InputLine> lines;
    std::vector<std::string> problems;
    store.for_each_line(id, [&](std::string_view text, std::size_t number) {
        if (text.find_first_not_of(" \t") == std::string_view::npos) return;
        const auto problem = [&](const std::string& what) {
            if (problems.size() < 10) problems.push_back(fmt::format("Error on line {}: {}", number, what));
        };
        Json line = Json::parse(text, nullptr, false);
        if (line.is_discarded() || !line.is_object()) return problem("invalid JSON, expected an object");
        try {
            check_message(line, input_line_spec, "");
            const Json* request = find_field(line, "request");
            if (!request) return problem("request is required");
            check_generate_content_request(*request, "request");
            const Json* key = find_field(line, "key");
            const Json* metadata = find_field(line, "metadata");
            lines.push_back(InputLine{key ? key->get<std::string>() : std::string{}, *request,
                                      metadata ? *metadata : Json(nullptr)});
        } catch (const ApiError& e) {
            problem(e.message);
        }
    });
    if (!problems.empty()) {
        std::string message = problems.front();
        for (std::size_t i = 1; i < problems.size(); ++i) message += "\n" + problems[i];
        throw invalid_argument(std::move(message), "batch.input_config.file_name");
    }
    if (lines.empty()) throw invalid_argument("The input file has no requests.", "batch.input_config.file_name");
    return lines;
}

}  // namespace llmbatch::testing::detail
