#pragma once
/// @file providers/openai/files.hpp
/// `OpenAIFiles`: the OpenAI-style Files API over a provider's session (OpenAI, and Mistral,
/// which has the same `/files` routes): multipart upload (`POST /files`: `file`, `purpose`, then
/// any extra fields), OpenAI's Uploads API for large files (`POST /uploads`, one
/// `POST /uploads/{id}/parts` per part, `POST /uploads/{id}/complete`), get, delete, and download
/// of `/files/{id}/content` to a sink.
///
/// Memory: a file up to the part size goes in one request whose body is built whole; a larger
/// one goes part by part (with the Uploads API), so at most one part is held at a time.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/progress.hpp"
#include "llmbatch/providers/common/multipart.hpp"
#include "llmbatch/providers/openai/wire.hpp"
#include "llmbatch/retry.hpp"

namespace llmbatch {

/// How an `OpenAIFiles` uploads.
struct OpenAIFilesOptions {
    /// The `purpose` field of every upload.
    std::string purpose = "batch";
    /// Text fields sent after `purpose` (e.g. Mistral's `visibility`).
    std::vector<std::pair<std::string, std::string>> extra_fields{};
    /// Files larger than this go through the Uploads API in parts of this size (when
    /// `use_uploads_api`), else in one request.
    std::size_t part_bytes = 8 * 1024 * 1024;
    bool use_uploads_api = true;
};

/// The OpenAI-style Files API over `Session` (a `ProviderSession`). `api_base` is the URL the
/// routes hang from, without a trailing slash (`https://api.openai.com/v1`).
template <class Session>
class OpenAIFiles {
public:
    /// OpenAI refuses parts over 64 MB.
    static constexpr std::size_t max_part_bytes = 64 * 1000 * 1000;

    OpenAIFiles(Session& session, std::string api_base, OpenAIFilesOptions options)
        : session_(session), base_(std::move(api_base)), options_(std::move(options)) {
        options_.part_bytes = std::clamp<std::size_t>(options_.part_bytes, 1, max_part_bytes);
    }

    /// Uploads `size` bytes produced by `fill(char* out, std::size_t n)` (called with the next `n`
    /// bytes, in order) as `filename` of MIME type `mime_type`.
    /// @throws ProviderError when a reply lacks the file (or part) it should hold.
    FileInfo upload(std::uint64_t size, std::string_view mime_type, std::string_view filename,
                    const MultipartForm::Fill& fill) {
        if (size > options_.part_bytes && options_.use_uploads_api) return upload_in_parts(size, mime_type, filename, fill);
        const std::string what = fmt::format("upload file '{}'", filename);
        MultipartForm form(MultipartForm::boundary_for(next_seed()));
        form.add_file("file", filename, size, fill);
        form.add_field("purpose", options_.purpose);
        for (const auto& [k, v] : options_.extra_fields) form.add_field(k, v);
        HttpRequest request{"POST", base_ + "/files", {}, form.to_string()};
        request.headers.set("Content-Type", form.content_type());
        const HttpResponse reply = session_.upload(std::move(request), what, Idempotency::not_idempotent);
        return file_of(reply.body, what);
    }

    /// Uploads the file at `path`, read piece by piece.
    /// @throws InvalidArgument when the file cannot be read.
    FileInfo upload_file(const std::filesystem::path& path, std::string_view mime_type, std::string_view filename) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(path, ec);
        auto in = std::make_shared<std::ifstream>(path, std::ios::binary);
        if (ec || !*in) throw InvalidArgument(fmt::format("cannot read '{}' for upload", path.string()));
        const std::string name = filename.empty() ? path.filename().string() : std::string(filename);
        return upload(size, mime_type, name, [in, path](char* out, std::size_t n) {
            if (!in->read(out, static_cast<std::streamsize>(n)))
                throw InvalidArgument(fmt::format("'{}' changed while it was being uploaded", path.string()));
        });
    }

    /// The file's metadata (`GET /files/{id}`).
    FileInfo get(std::string_view file) {
        const auto id = detail::path_safe_id(file, "a file id");
        return detail::openai_file_info(session_.call("GET", base_ + "/files/" + id, {}, "get file " + id));
    }

    /// Deletes the file (`DELETE /files/{id}`).
    void remove(std::string_view file) {
        const auto id = detail::path_safe_id(file, "a file id");
        (void)session_.call("DELETE", base_ + "/files/" + id, {}, "delete file " + id);
    }

    /// Deletes the file; true when it was deleted, false when it was already gone (404).
    bool remove_if_present(std::string_view file) {
        try {
            remove(file);
            return true;
        } catch (const NotFoundError&) {
            return false;
        }
    }

    /// Streams the file's bytes (`GET /files/{id}/content`) to `on_chunk(std::string_view)`.
    template <class OnChunk>
    void download(std::string_view file, std::string_view what, OnChunk&& on_chunk) {
        const auto id = detail::path_safe_id(file, "a file id");
        HttpRequest request{"GET", base_ + "/files/" + id + "/content", {}, {}};
        request.headers.set("Accept", "application/binary");
        (void)session_.download(std::move(request), what, std::forward<OnChunk>(on_chunk));
    }

private:
    /// The Uploads API: create, one multipart `data` part per `part_bytes`, complete.
    FileInfo upload_in_parts(std::uint64_t size, std::string_view mime_type, std::string_view filename,
                             const MultipartForm::Fill& fill) {
        const std::string what = fmt::format("upload file '{}'", filename);
        const Json created = session_.call("POST", base_ + "/uploads",
                                           Json{{"bytes", size},
                                                {"filename", filename},
                                                {"mime_type", mime_type},
                                                {"purpose", options_.purpose}}
                                               .dump(),
                                           what, Idempotency::not_idempotent);
        const std::string upload_id = detail::path_safe_id(detail::get_string(created, "id"), "an upload id");
        Json part_ids = Json::array();
        std::string buffer;
        auto meter = session_.meter(TransferProgress::Direction::upload, what, size);
        for (std::uint64_t offset = 0; offset < size;) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(options_.part_bytes, size - offset));
            buffer.resize(n);
            fill(buffer.data(), n);
            MultipartForm form(MultipartForm::boundary_for(next_seed()));
            std::size_t taken = 0;  // the form asks for the part's bytes in pieces, in order
            form.add_file("data", filename, n, [&buffer, &taken](char* out, std::size_t k) {
                std::copy_n(buffer.data() + taken, k, out);
                taken += k;
            });
            HttpRequest request{"POST", base_ + "/uploads/" + upload_id + "/parts", {}, form.to_string()};
            request.headers.set("Content-Type", form.content_type());
            // A repeated part is harmless: only the part ids listed at completion make the file.
            const HttpResponse reply = session_.exchange(std::move(request), what);
            const Json part = Json::parse(reply.body, nullptr, false);
            const std::string part_id = part.is_discarded() ? std::string() : detail::get_string(part, "id");
            if (part_id.empty()) throw Session::bad_reply(what, "a part reply holds no part id");
            part_ids.push_back(part_id);
            offset += n;
            meter.add(n);
        }
        const Json done = session_.call("POST", base_ + "/uploads/" + upload_id + "/complete",
                                        Json{{"part_ids", std::move(part_ids)}}.dump(), what);
        const auto* file = detail::find(done, "file");
        if (!file || !file->is_object()) throw Session::bad_reply(what, "the completed upload holds no file");
        meter.finish();
        return detail::openai_file_info(*file);
    }

    [[nodiscard]] static FileInfo file_of(const std::string& body, std::string_view what) {
        const Json parsed = Json::parse(body, nullptr, false);
        if (parsed.is_discarded() || detail::get_string(parsed, "id").empty())
            throw Session::bad_reply(what, "the reply holds no file id");
        return detail::openai_file_info(parsed);
    }

    std::uint64_t next_seed() { return seed_++; }

    Session& session_;
    std::string base_;
    OpenAIFilesOptions options_;
    std::uint64_t seed_ = 0;
};

}  // namespace llmbatch
