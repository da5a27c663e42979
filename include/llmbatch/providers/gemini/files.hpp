#pragma once
/// @file providers/gemini/files.hpp
/// `GeminiFiles`: the Gemini Files API over a provider's session: resumable upload from a file
/// path or from a generator of bytes (8 MiB chunks, never the whole file in memory), get,
/// delete, and download to a sink.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/detail/time.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/progress.hpp"
#include "llmbatch/retry.hpp"
#include "llmbatch/detail/config.hpp"

namespace llmbatch {

namespace detail {

/// The id part of `files/{id}` (or of a bare id), checked so it cannot alter a URL path.
[[nodiscard]] LLMBATCH_DECL std::string gemini_file_id(std::string_view file);

/// Reads a Gemini File object.
[[nodiscard]] LLMBATCH_DECL FileInfo gemini_file_info(const nlohmann::json& file);

}  // namespace detail

/// The Gemini Files API over `Session` (a `ProviderSession` with `GeminiWire`).
template <class Session>
class GeminiFiles {
public:
    /// `base_url` without a trailing slash; `api_version` such as `v1beta`.
    GeminiFiles(Session& session, std::string base_url, std::string api_version, std::size_t chunk_bytes)
        : session_(session), base_(std::move(base_url)), version_(std::move(api_version)),
          chunk_(std::max<std::size_t>(chunk_bytes, 1)) {}

    /// Uploads `size` bytes produced by `fill(char* out, std::size_t n)` (called with the next `n`
    /// bytes to write, in order) with the resumable protocol: start, then chunks with offsets,
    /// the last one finalizing.
    /// @throws ProviderError when the service answers without an upload URL or ends early.
    template <class Fill>
    FileInfo upload(std::uint64_t size, std::string_view mime_type, std::string_view display_name, Fill&& fill) {
        const std::string what = fmt::format("upload file '{}'", display_name);
        HttpRequest start{"POST", fmt::format("{}/upload/{}/files", base_, version_), {}, {}};
        start.headers.set("X-Goog-Upload-Protocol", "resumable");
        start.headers.set("X-Goog-Upload-Command", "start");
        start.headers.set("X-Goog-Upload-Header-Content-Length", std::to_string(size));
        start.headers.set("X-Goog-Upload-Header-Content-Type", std::string(mime_type));
        start.headers.set("Content-Type", "application/json");
        start.body = nlohmann::json({{"file",
                                      {{"displayName", display_name},
                                       {"mimeType", mime_type},
                                       {"sizeBytes", std::to_string(size)}}}})
                         .dump();
        const HttpResponse started = session_.exchange(std::move(start), what, Idempotency::not_idempotent);
        const auto url = started.headers.get("x-goog-upload-url");
        if (!url || url->empty()) throw Session::bad_reply(what, "no x-goog-upload-url header in the reply");

        std::string buffer;
        std::uint64_t offset = 0;
        auto meter = session_.meter(TransferProgress::Direction::upload, what, size);
        for (;;) {
            const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_, size - offset));
            buffer.resize(n);
            if (n) fill(buffer.data(), n);
            const bool last = offset + n == size;
            HttpRequest chunk{"POST", *url, {}, std::move(buffer)};
            chunk.headers.set("X-Goog-Upload-Command", last ? "upload, finalize" : "upload");
            chunk.headers.set("X-Goog-Upload-Offset", std::to_string(offset));
            chunk.headers.set("Content-Type", std::string(mime_type));
            // Resending a chunk at the same offset is safe: the service takes bytes by offset.
            HttpResponse reply = session_.exchange(std::move(chunk), what);
            buffer = std::string();
            offset += n;
            meter.add(n);
            const auto status = reply.headers.get("x-goog-upload-status").value_or("");
            if (last) {
                if (status != "final" && !status.empty())
                    throw Session::bad_reply(what, fmt::format("upload status '{}' after the last chunk", status));
                const auto body = nlohmann::json::parse(reply.body, nullptr, false);
                const auto* file = body.is_discarded() ? nullptr : detail::find(body, "file");
                if (!file || !file->is_object()) throw Session::bad_reply(what, "the final reply holds no file");
                meter.finish();
                return detail::gemini_file_info(*file);
            }
            if (status != "active" && !status.empty())
                throw Session::bad_reply(what, fmt::format("the service ended the upload early (status '{}')", status));
        }
    }

    /// Uploads the file at `path`, read chunk by chunk.
    /// @throws InvalidArgument when the file cannot be read.
    FileInfo upload_file(const std::filesystem::path& path, std::string_view mime_type, std::string_view display_name) {
        std::error_code ec;
        const auto size = std::filesystem::file_size(path, ec);
        std::ifstream in(path, std::ios::binary);
        if (ec || !in) throw InvalidArgument(fmt::format("cannot read '{}' for upload", path.string()));
        return upload(size, mime_type, display_name, [&](char* out, std::size_t n) {
            if (!in.read(out, static_cast<std::streamsize>(n)))
                throw InvalidArgument(fmt::format("'{}' changed while it was being uploaded", path.string()));
        });
    }

    /// The file's metadata (`GET files/{id}`).
    FileInfo get(std::string_view file) {
        const auto id = detail::gemini_file_id(file);
        return detail::gemini_file_info(
            session_.call("GET", fmt::format("{}/{}/files/{}", base_, version_, id), {}, "get file files/" + id));
    }

    /// Deletes the file (`DELETE files/{id}`).
    void remove(std::string_view file) {
        const auto id = detail::gemini_file_id(file);
        (void)session_.call("DELETE", fmt::format("{}/{}/files/{}", base_, version_, id), {}, "delete file files/" + id);
    }

    /// Streams the file's bytes (`GET /download/{version}/files/{id}:download?alt=media`) to
    /// `on_chunk(std::string_view)`.
    template <class OnChunk>
    void download(std::string_view file, std::string_view what, OnChunk&& on_chunk) {
        const auto id = detail::gemini_file_id(file);
        HttpRequest request{"GET", fmt::format("{}/download/{}/files/{}:download?alt=media", base_, version_, id), {}, {}};
        (void)session_.download(std::move(request), what, std::forward<OnChunk>(on_chunk));
    }

private:
    Session& session_;
    std::string base_;
    std::string version_;
    std::size_t chunk_;
};

}  // namespace llmbatch

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/providers/gemini/impl/files.ipp"
#endif
