#pragma once
/// @file testing/emulator/form_files.hpp
/// The `/v1/files` routes shared by the OpenAI and Mistral emulators, on a `FileStore`: the
/// multipart upload (`file` and `purpose` parts, OpenAI's `expires_after[anchor]` and
/// `expires_after[seconds]` too), the file's bytes streamed from the store (`GET /v1/files/{id}/content`)
/// and the delete answer `{"id", "object": "file", "deleted": true}`. Each emulator renders the
/// file object in its own shape.
///
/// **Example**:
/// ```cpp
/// StoredFile f = detail::upload_form_file(request, files, now, detail::FormUploadRules{});
/// EmulatedResponse r = detail::file_content_response(self, f);  // produced in pieces under self->mutex
/// ```

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/chat_wire.hpp"
#include "llmbatch/testing/emulator/file_store.hpp"
#include "llmbatch/testing/emulator/multipart.hpp"
#include "llmbatch/testing/emulator/response.hpp"

namespace llmbatch::testing::detail {

/// What an upload may carry.
struct FormUploadRules {
    std::vector<std::string> purposes;  ///< the accepted `purpose` values; empty: any
    bool expires_after = false;         ///< accept `expires_after[anchor]` / `expires_after[seconds]`
    std::int64_t default_lifetime_s = 30LL * 24 * 3600;  ///< a file's life when none is asked
};

/// Parses the form of a `POST /v1/files` and stores its `file` part.
/// @throws WireError 400 (`invalid_request_error`) for a bad form, a missing part, an unknown purpose
///         or an `expires_after` out of range (3600..2592000 s).
[[nodiscard]] inline StoredFile upload_form_file(const HttpRequest& request, FileStore& files, SysTime now,
                                                 const FormUploadRules& rules) {
    std::vector<FormPart> parts;
    try {
        parts = parse_multipart(request.headers.get("Content-Type").value_or(""), request.body);
    } catch (const MultipartError& e) {
        throw WireError(400, "invalid_request_error", e.what());
    }
    const FormPart* file = find_part(parts, "file");
    if (!file || !file->filename)
        throw WireError(400, "invalid_request_error", "Missing required parameter: 'file'.", nullptr, "file");
    const FormPart* purpose = find_part(parts, "purpose");
    if (!purpose)
        throw WireError(400, "invalid_request_error", "Missing required parameter: 'purpose'.", nullptr, "purpose");
    const std::string purpose_text(purpose->content);
    if (!rules.purposes.empty() &&
        std::find(rules.purposes.begin(), rules.purposes.end(), purpose_text) == rules.purposes.end())
        throw WireError(400, "invalid_request_error",
                        fmt::format("'{}' is not one of the accepted purposes.", purpose_text), nullptr, "purpose");
    std::int64_t lifetime = rules.default_lifetime_s;
    if (const FormPart* seconds = find_part(parts, "expires_after[seconds]")) {
        const FormPart* anchor = find_part(parts, "expires_after[anchor]");
        const std::string text(seconds->content);
        if (!rules.expires_after || !anchor || anchor->content != "created_at" || text.empty() ||
            text.find_first_not_of("0123456789") != std::string::npos || text.size() > 9 ||
            std::stoll(text) < 3600 || std::stoll(text) > 2592000)
            throw WireError(400, "invalid_request_error",
                            "expires_after needs anchor 'created_at' and seconds between 3600 and 2592000.", nullptr,
                            "expires_after");
        lifetime = std::stoll(text);
    }
    std::string mime = file->content_type.empty() ? "application/octet-stream" : file->content_type;
    StoredFile stored = files.add(*file->filename, std::move(mime), file->content, now);
    StoredFile* held = files.find_mutable(stored.id);
    held->purpose = purpose_text;
    held->expire_time = now + std::chrono::seconds(lifetime);
    return *held;
}

/// The bytes of `file`, produced from the store in pieces (each read under `self->mutex`); the
/// body ends early if the file is deleted meanwhile.
template <class Service>
[[nodiscard]] EmulatedResponse file_content_response(const std::shared_ptr<Service>& self, const StoredFile& file) {
    EmulatedResponse r;
    r.head.status = 200;
    r.head.headers.set("Content-Type", "application/octet-stream");
    r.producer = [self, id = file.id, size = file.size](const BodyWriter& write) {
        for (std::uint64_t at = 0; at < size;) {
            std::string piece;
            {
                std::lock_guard lock(self->mutex);
                if (!self->files.find(id)) return;
                piece = self->files.read_at(id, at, default_chunk_size);
            }
            if (piece.empty()) return;
            at += piece.size();
            write(piece);
        }
    };
    return r;
}

/// The answer to `DELETE /v1/files/{id}`.
[[nodiscard]] inline Json file_deleted_json(const std::string& id) {
    return Json{{"id", id}, {"object", "file"}, {"deleted", true}};
}

/// The ids of a finished job's result files; empty when the file has no line.
struct ResultFiles {
    std::string output;
    std::string error;
};

/// Writes the result files of a finished job whose first `kept` requests ran (in `items`): the
/// successes into the output file, the HTTP errors into the error file, followed by a
/// `never_ran_code` line for each request from `kept` on. Lines list requests in order, or
/// reversed. `line_id(i)` names the line of request `i`; `dress(file, is_output)` sets the new
/// file's metadata (purpose, expiry). Files are named `<base>_output.jsonl` / `<base>_error.jsonl`
/// and created at `at`.
template <class LineId, class Dress>
ResultFiles write_result_files(FileStore& files, const std::vector<ChatItem>& items, std::size_t kept, bool reversed,
                               std::string_view never_ran_code, std::string_view never_ran_message, SysTime at,
                               const std::string& base, const LineId& line_id, const Dress& dress) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < kept && i < items.size(); ++i) order.push_back(i);
    if (reversed) std::reverse(order.begin(), order.end());
    const auto write_file = [&](bool successes) -> std::string {
        std::size_t count = successes ? 0 : items.size() - order.size();
        for (auto i : order) count += items[i].ok() == successes ? 1 : 0;
        if (count == 0) return {};
        const auto produce = [&](const BodyWriter& write) {
            for (auto i : order)
                if (items[i].ok() == successes)
                    write(result_line(line_id(i), items[i].custom_id, items[i].status_code, items[i].request_id,
                                      items[i].body).dump() + "\n");
            if (successes) return;
            for (std::size_t i = order.size(); i < items.size(); ++i)
                write(failed_line(line_id(i), items[i].custom_id, never_ran_code, never_ran_message).dump() + "\n");
        };
        const StoredFile f = files.add_produced(fmt::format("{}_{}.jsonl", base, successes ? "output" : "error"),
                                                "application/jsonl", produce, at);
        dress(*files.find_mutable(f.id), successes);
        return f.id;
    };
    ResultFiles out;
    out.output = write_file(true);
    out.error = write_file(false);
    return out;
}

/// The number of lines of file `id` (a last line without `\n` counts).
[[nodiscard]] inline std::size_t count_lines(const FileStore& files, std::string_view id) {
    std::size_t n = 0;
    files.for_each_line(id, [&](std::string_view, std::size_t) { ++n; });
    return n;
}

}  // namespace llmbatch::testing::detail
