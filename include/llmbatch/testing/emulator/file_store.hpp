#pragma once
/// @file testing/emulator/file_store.hpp
/// `FileStore`: the files an emulator holds (uploaded inputs, stored outputs) and its resumable
/// upload sessions. Bytes live in memory, or in a directory when one is given, so a very large
/// file need not sit in the emulator's memory. Ids are deterministic (`IdSequence`).
///
/// An upload starts with a declared size and MIME type; chunks must arrive at the offset
/// already received; finalizing checks the size and turns the session into a file.
///
/// **Example**:
/// ```cpp
/// FileStore store;
/// UploadSession s = store.start_upload("input", "application/jsonl", 10, now);
/// (void)store.upload(s.id, 0, "01234", false, now);
/// std::optional<StoredFile> file = store.upload(s.id, 5, "56789", true, now);  // file->size == 10
/// ```

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/ids.hpp"
#include "llmbatch/testing/emulator/response.hpp"

namespace llmbatch::testing {

/// One stored file.
struct StoredFile {
    std::string id;  ///< without any provider prefix (`files/`)
    std::string display_name;
    std::string mime_type;
    std::uint64_t size = 0;
    detail::SysTime create_time;
    detail::SysTime expire_time;
    std::string source = "UPLOADED";  ///< how it came: `UPLOADED` or `GENERATED`
    std::string state = "ACTIVE";     ///< `PROCESSING`, `ACTIVE` or `FAILED`
    std::string purpose;              ///< what it is for (`batch`, `batch_output`...); empty when the API has none

    [[nodiscard]] Json to_json() const {
        Json j{{"id", id},
               {"state", state},
               {"displayName", display_name},
               {"mimeType", mime_type},
               {"size", size},
               {"createTime", detail::format_timestamp(create_time)},
               {"expireTime", detail::format_timestamp(expire_time)},
               {"source", source}};
        if (!purpose.empty()) j["purpose"] = purpose;
        return j;
    }
    [[nodiscard]] static StoredFile from_json(const Json& j) {
        return StoredFile{j.at("id").get<std::string>(),
                          j.value("displayName", std::string{}),
                          j.value("mimeType", std::string{}),
                          j.at("size").get<std::uint64_t>(),
                          detail::parse_timestamp(j.at("createTime").get<std::string>()),
                          detail::parse_timestamp(j.at("expireTime").get<std::string>()),
                          j.value("source", std::string("UPLOADED")),
                          j.value("state", std::string("ACTIVE")),
                          j.value("purpose", std::string{})};
    }
};

/// A resumable upload in progress.
struct UploadSession {
    std::string id;
    std::string display_name;
    std::string mime_type;
    std::uint64_t declared_size = 0;
    std::uint64_t received = 0;
    detail::SysTime create_time;
};

/// A file store operation that cannot be done; `kind` says why.
class FileStoreError : public std::runtime_error {
public:
    enum class Kind { unknown_file, unknown_session, wrong_offset, wrong_size, io };
    FileStoreError(Kind k, const std::string& what) : std::runtime_error(what), kind(k) {}
    Kind kind;
};

/// Settings of a `FileStore`.
struct FileStoreOptions {
    std::filesystem::path directory;                             ///< empty: bytes stay in memory
    detail::Nanos lifetime = std::chrono::hours(48);             ///< a file expires this long after creation
    std::string seed = "emulator/file";                          ///< ids derive from it and a counter
    std::size_t id_length = 12;
    std::string id_prefix;                                       ///< put before every id (`file-`)
    std::string id_alphabet{detail::lower_alnum};                ///< the characters of an id
    bool uuid_ids = false;                                       ///< ids look like UUIDs (32 hex digits, dashed)
};

namespace detail {

inline constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

[[nodiscard]] inline std::string base64_encode(std::string_view in) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < in.size(); i += 3) {
        std::uint32_t n = static_cast<unsigned char>(in[i]) << 16;
        if (i + 1 < in.size()) n |= static_cast<unsigned char>(in[i + 1]) << 8;
        if (i + 2 < in.size()) n |= static_cast<unsigned char>(in[i + 2]);
        out += base64_alphabet[(n >> 18) & 63];
        out += base64_alphabet[(n >> 12) & 63];
        out += i + 1 < in.size() ? base64_alphabet[(n >> 6) & 63] : '=';
        out += i + 2 < in.size() ? base64_alphabet[n & 63] : '=';
    }
    return out;
}

/// @throws std::invalid_argument on a character outside the alphabet.
[[nodiscard]] inline std::string base64_decode(std::string_view in) {
    std::string out;
    std::uint32_t n = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=') break;
        const auto pos = base64_alphabet.find(c);
        if (pos == std::string_view::npos) throw std::invalid_argument("invalid base64 text");
        n = (n << 6) | static_cast<std::uint32_t>(pos);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((n >> bits) & 0xff);
        }
    }
    return out;
}

}  // namespace detail

/// Files and upload sessions (see the file comment). Not thread-safe: the emulator locks.
class FileStore {
public:
    explicit FileStore(FileStoreOptions options = {}) : options_(std::move(options)), ids_(options_.seed) {
        if (!options_.directory.empty()) std::filesystem::create_directories(options_.directory);
    }

    [[nodiscard]] const FileStoreOptions& options() const noexcept { return options_; }

    /// Opens an upload session for `declared_size` bytes.
    UploadSession start_upload(std::string display_name, std::string mime_type, std::uint64_t declared_size,
                               detail::SysTime now) {
        UploadSession s{"", std::move(display_name), std::move(mime_type), declared_size, 0, now};
        s.id = ids_.next(40, detail::url_safe_alphabet);
        if (options_.directory.empty()) session_bytes_[s.id];
        else write_disk(session_path(s.id), {}, false);
        sessions_[s.id] = s;
        return s;
    }

    /// The session `id`, or null.
    [[nodiscard]] const UploadSession* session(const std::string& id) const {
        const auto it = sessions_.find(id);
        return it == sessions_.end() ? nullptr : &it->second;
    }

    /// Appends `bytes` at `offset` to session `id`; with `finalize`, turns it into a file.
    /// @throws FileStoreError `unknown_session`, `wrong_offset` (offset is not the size received),
    ///         `wrong_size` (more than declared, or finalized short of it).
    std::optional<StoredFile> upload(const std::string& id, std::uint64_t offset, std::string_view bytes, bool finalize,
                                     detail::SysTime now) {
        const auto it = sessions_.find(id);
        if (it == sessions_.end()) throw FileStoreError(FileStoreError::Kind::unknown_session, "No such upload session.");
        UploadSession& s = it->second;
        if (offset != s.received)
            throw FileStoreError(FileStoreError::Kind::wrong_offset,
                                 fmt::format("Invalid upload offset {}: {} bytes were received so far.", offset, s.received));
        if (s.received + bytes.size() > s.declared_size)
            throw FileStoreError(FileStoreError::Kind::wrong_size,
                                 fmt::format("The upload exceeds its declared size of {} bytes.", s.declared_size));
        if (finalize && s.received + bytes.size() != s.declared_size)
            throw FileStoreError(FileStoreError::Kind::wrong_size,
                                 fmt::format("The upload has {} bytes, not its declared {}.", s.received + bytes.size(),
                                             s.declared_size));
        if (options_.directory.empty()) session_bytes_[id].append(bytes);
        else write_disk(session_path(id), bytes, true);
        s.received += bytes.size();
        if (!finalize) return std::nullopt;
        StoredFile file = make_file(s.display_name, s.mime_type, s.declared_size, now);
        if (options_.directory.empty()) {
            bytes_[file.id] = std::move(session_bytes_[id]);
            session_bytes_.erase(id);
        } else {
            std::filesystem::rename(session_path(id), file_path(file.id));
        }
        sessions_.erase(it);
        files_.push_back(file);
        return file;
    }

    /// Stores `bytes` as a new file at once.
    StoredFile add(std::string display_name, std::string mime_type, std::string_view bytes, detail::SysTime now,
                   std::string source = "UPLOADED") {
        StoredFile file = make_file(std::move(display_name), std::move(mime_type), bytes.size(), now);
        file.source = std::move(source);
        if (options_.directory.empty()) bytes_[file.id] = std::string(bytes);
        else write_disk(file_path(file.id), bytes, false);
        files_.push_back(file);
        return file;
    }

    /// Stores a new file whose bytes `produce` writes piece by piece (straight to disk when the
    /// store has a directory, so a large file never sits whole in memory).
    StoredFile add_produced(std::string display_name, std::string mime_type, const BodyProducer& produce,
                            detail::SysTime now, std::string source = "GENERATED") {
        StoredFile file = make_file(std::move(display_name), std::move(mime_type), 0, now);
        file.source = std::move(source);
        if (options_.directory.empty()) {
            std::string& bytes = bytes_[file.id];
            produce([&](std::string_view piece) { bytes.append(piece); });
            file.size = bytes.size();
        } else {
            write_disk(file_path(file.id), {}, false);
            std::ofstream out(file_path(file.id), std::ios::binary | std::ios::app);
            produce([&](std::string_view piece) {
                out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
                file.size += piece.size();
            });
            if (!out) throw FileStoreError(FileStoreError::Kind::io, fmt::format("Cannot write the file '{}'.", file.id));
        }
        files_.push_back(file);
        return file;
    }

    /// The file `id` for changing its metadata (expiry, purpose), or null.
    [[nodiscard]] StoredFile* find_mutable(std::string_view id) {
        const auto it = std::find_if(files_.begin(), files_.end(), [&](const auto& f) { return f.id == id; });
        return it == files_.end() ? nullptr : &*it;
    }

    /// The file `id`, or null.
    [[nodiscard]] const StoredFile* find(std::string_view id) const {
        const auto it = std::find_if(files_.begin(), files_.end(), [&](const auto& f) { return f.id == id; });
        return it == files_.end() ? nullptr : &*it;
    }

    /// Every file, oldest first.
    [[nodiscard]] const std::vector<StoredFile>& list() const noexcept { return files_; }

    /// Deletes file `id`; false when there is none.
    bool remove(std::string_view id) {
        const auto it = std::find_if(files_.begin(), files_.end(), [&](const auto& f) { return f.id == id; });
        if (it == files_.end()) return false;
        if (options_.directory.empty()) bytes_.erase(it->id);
        else std::filesystem::remove(file_path(it->id));
        files_.erase(it);
        return true;
    }

    /// Deletes the files expired at `now` and the upload sessions older than a file's lifetime.
    void remove_expired(detail::SysTime now) {
        std::vector<std::string> gone;
        for (const auto& f : files_)
            if (f.expire_time <= now) gone.push_back(f.id);
        for (const auto& id : gone) remove(id);
        for (auto it = sessions_.begin(); it != sessions_.end();) {
            if (it->second.create_time + options_.lifetime > now) {
                ++it;
                continue;
            }
            if (options_.directory.empty()) session_bytes_.erase(it->first);
            else std::filesystem::remove(session_path(it->first));
            it = sessions_.erase(it);
        }
    }

    /// Hands the bytes of file `id` to `write`, in pieces of at most `piece` bytes.
    /// @throws FileStoreError `unknown_file`, or `io` when its disk copy cannot be read.
    void read(std::string_view id, const BodyWriter& write, std::size_t piece = default_chunk_size) const {
        if (!find(id)) throw FileStoreError(FileStoreError::Kind::unknown_file, fmt::format("No file '{}'.", id));
        if (options_.directory.empty()) {
            const std::string& all = bytes_.at(std::string(id));
            for (std::size_t at = 0; at < all.size(); at += piece) write(std::string_view(all).substr(at, piece));
            return;
        }
        std::ifstream in(file_path(std::string(id)), std::ios::binary);
        if (!in) throw FileStoreError(FileStoreError::Kind::io, fmt::format("Cannot read the file '{}'.", id));
        std::string buffer(std::max<std::size_t>(1, piece), '\0');
        while (in) {
            in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            if (const auto n = in.gcount(); n > 0) write(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
        }
    }

    /// At most `length` bytes of file `id` from `offset` on (fewer at its end, none past it).
    /// @throws FileStoreError `unknown_file`, or `io` when its disk copy cannot be read.
    [[nodiscard]] std::string read_at(std::string_view id, std::uint64_t offset, std::size_t length) const {
        const StoredFile* file = find(id);
        if (!file) throw FileStoreError(FileStoreError::Kind::unknown_file, fmt::format("No file '{}'.", id));
        if (offset >= file->size) return {};
        if (options_.directory.empty()) return bytes_.at(file->id).substr(static_cast<std::size_t>(offset), length);
        std::ifstream in(file_path(file->id), std::ios::binary);
        if (!in.seekg(static_cast<std::streamoff>(offset)))
            throw FileStoreError(FileStoreError::Kind::io, fmt::format("Cannot read the file '{}'.", id));
        std::string out(static_cast<std::size_t>(std::min<std::uint64_t>(length, file->size - offset)), '\0');
        in.read(out.data(), static_cast<std::streamsize>(out.size()));
        out.resize(static_cast<std::size_t>(std::max<std::streamsize>(0, in.gcount())));
        return out;
    }

    /// The bytes of file `id`, whole.
    [[nodiscard]] std::string read_all(std::string_view id) const {
        std::string out;
        read(id, [&](std::string_view piece) { out.append(piece); });
        return out;
    }

    /// Calls `line(text, number)` for each line of file `id` (1-based numbers; `\r\n` and `\n` end
    /// lines; a final empty line is skipped), reading the file piece by piece.
    void for_each_line(std::string_view id, const std::function<void(std::string_view, std::size_t)>& line) const {
        std::string pending;
        std::size_t number = 0;
        const auto emit = [&](std::string_view text) {
            if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
            line(text, ++number);
        };
        read(id, [&](std::string_view piece) {
            for (auto nl = piece.find('\n'); nl != std::string_view::npos; nl = piece.find('\n')) {
                pending.append(piece.substr(0, nl));
                emit(pending);
                pending.clear();
                piece.remove_prefix(nl + 1);
            }
            pending.append(piece);
        });
        if (!pending.empty()) emit(pending);
    }

    /// The files, sessions and id counter; in-memory bytes are included (base64), on-disk ones stay.
    [[nodiscard]] Json to_json() const {
        Json files = Json::array();
        for (const auto& f : files_) {
            Json j = f.to_json();
            if (options_.directory.empty()) j["bytes"] = detail::base64_encode(bytes_.at(f.id));
            files.push_back(std::move(j));
        }
        Json sessions = Json::array();
        for (const auto& [id, s] : sessions_) {
            Json j = {{"id", id},           {"displayName", s.display_name}, {"mimeType", s.mime_type},
                      {"declaredSize", s.declared_size}, {"received", s.received},
                      {"createTime", detail::format_timestamp(s.create_time)}};
            if (options_.directory.empty()) j["bytes"] = detail::base64_encode(session_bytes_.at(id));
            sessions.push_back(std::move(j));
        }
        return Json{{"nextNumber", ids_.next_number()}, {"files", std::move(files)}, {"uploads", std::move(sessions)}};
    }

    /// Replaces the store's content with what `to_json` wrote (same directory setting).
    /// @throws std::invalid_argument or nlohmann::json::exception when `j` is not such a state.
    void restore(const Json& j) {
        FileStore fresh(options_);
        fresh.ids_.set_next_number(j.at("nextNumber").get<std::uint64_t>());
        for (const auto& f : j.value("files", Json::array())) {
            fresh.files_.push_back(StoredFile::from_json(f));
            if (options_.directory.empty()) fresh.bytes_[fresh.files_.back().id] = detail::base64_decode(f.value("bytes", ""));
        }
        for (const auto& s : j.value("uploads", Json::array())) {
            UploadSession u{s.at("id").get<std::string>(), s.value("displayName", std::string{}),
                            s.value("mimeType", std::string{}), s.at("declaredSize").get<std::uint64_t>(),
                            s.at("received").get<std::uint64_t>(),
                            detail::parse_timestamp(s.at("createTime").get<std::string>())};
            if (options_.directory.empty()) fresh.session_bytes_[u.id] = detail::base64_decode(s.value("bytes", ""));
            fresh.sessions_[u.id] = std::move(u);
        }
        *this = std::move(fresh);
    }

private:
    StoredFile make_file(std::string display_name, std::string mime_type, std::uint64_t size, detail::SysTime now) {
        std::string id;
        do id = next_id();
        while (find(id));
        return StoredFile{std::move(id), std::move(display_name), std::move(mime_type), size, now,
                          now + std::chrono::duration_cast<std::chrono::system_clock::duration>(options_.lifetime),
                          "UPLOADED", "ACTIVE", {}};
    }

    [[nodiscard]] std::string next_id() {
        if (!options_.uuid_ids) return options_.id_prefix + ids_.next(options_.id_length, options_.id_alphabet);
        std::string hex = ids_.next(32, "0123456789abcdef");
        hex[12] = '4';
        for (const std::size_t at : {std::size_t{20}, std::size_t{16}, std::size_t{12}, std::size_t{8}}) hex.insert(at, 1, '-');
        return options_.id_prefix + hex;
    }

    [[nodiscard]] std::filesystem::path file_path(const std::string& id) const { return options_.directory / id; }
    [[nodiscard]] std::filesystem::path session_path(const std::string& id) const {
        return options_.directory / ("upload-" + id);
    }

    static void write_disk(const std::filesystem::path& path, std::string_view bytes, bool append) {
        std::ofstream out(path, std::ios::binary | (append ? std::ios::app : std::ios::trunc));
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out) throw FileStoreError(FileStoreError::Kind::io, fmt::format("Cannot write '{}'.", path.string()));
    }

    FileStoreOptions options_;
    IdSequence ids_;
    std::vector<StoredFile> files_;
    std::map<std::string, std::string> bytes_;
    std::map<std::string, UploadSession> sessions_;
    std::map<std::string, std::string> session_bytes_;
};

}  // namespace llmbatch::testing
