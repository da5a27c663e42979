#pragma once
/// @file providers/common/multipart.hpp
/// `multipart/form-data` bodies for file uploads, and `LineSource`, which produces a JSONL file
/// line by line with its size known before the first byte is sent.
///
/// A `MultipartForm` holds its parts in order: at most one file part
/// (`Content-Disposition: form-data; name="file"; filename="..."` and
/// `Content-Type: application/octet-stream`) whose bytes come from a producer, then text fields
/// without a content type. Its `size()` is known up front and `read(out, n)` writes the body
/// piece by piece, so only the caller's buffer is ever held. The boundary is deterministic
/// (derived from a seed), so tests can compare bodies byte for byte. A delimiter needs a CRLF
/// before it, so a JSONL body written by a JSON serialiser (which escapes CR and LF in strings)
/// can never contain one; arbitrary file content is not scanned for it.
///
/// **Example**:
/// ```cpp
/// llmbatch::LineSource lines(requests.size(), [&](std::size_t i) { return line_of(i).dump(); });
/// llmbatch::MultipartForm form(llmbatch::MultipartForm::boundary_for(1));
/// form.add_file("file", "input.jsonl", lines.size(), [&](char* out, std::size_t n) { lines.read(out, n); });
/// form.add_field("purpose", "batch");
/// std::string body = form.to_string();  // or read it in pieces of form.size()
/// ```

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/error.hpp"

namespace llmbatch {

/// Produces `count` JSONL lines (`line(i)` is line `i` without its newline) as one byte stream,
/// read in pieces; each line is made when it is reached, never the whole file at once. The
/// size is found by making every line once before reading.
class LineSource {
public:
    using LineFn = std::function<std::string(std::size_t)>;

    LineSource(std::size_t count, LineFn line) : count_(count), line_(std::move(line)) {
        for (std::size_t i = 0; i < count_; ++i) size_ += line_(i).size() + 1;
    }

    /// The bytes of the whole file (every line and its `\n`).
    [[nodiscard]] std::uint64_t size() const noexcept { return size_; }

    /// Writes the next `n` bytes to `out`.
    /// @throws InvalidArgument when asked for more than the file holds.
    void read(char* out, std::size_t n) {
        while (n > 0) {
            if (pos_ == pending_.size()) {
                if (next_ == count_) throw InvalidArgument("LineSource: read past the end of the lines");
                pending_ = line_(next_++);
                pending_ += '\n';
                pos_ = 0;
            }
            const auto take = std::min(n, pending_.size() - pos_);
            std::copy_n(pending_.data() + pos_, take, out);
            pos_ += take;
            out += take;
            n -= take;
        }
    }

    /// Starts again from the first line (to resend).
    void rewind() {
        next_ = 0;
        pending_.clear();
        pos_ = 0;
    }

private:
    std::size_t count_;
    LineFn line_;
    std::uint64_t size_ = 0;
    std::size_t next_ = 0;
    std::string pending_;
    std::size_t pos_ = 0;
};

/// A `multipart/form-data` body (see the file comment).
class MultipartForm {
public:
    /// Writes the next `n` bytes of a file part to `out`.
    using Fill = std::function<void(char* out, std::size_t n)>;

    /// `----llmbatch-` and 16 hex digits derived from `seed` (no CR, LF or quote: safe unquoted).
    [[nodiscard]] static std::string boundary_for(std::uint64_t seed) {
        std::uint64_t x = seed + 0x9E3779B97F4A7C15ULL;  // splitmix64
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
        x ^= x >> 31;
        return fmt::format("----llmbatch-{:016x}", x);
    }

    explicit MultipartForm(std::string boundary) : boundary_(std::move(boundary)) {}

    /// The `Content-Type` header value of the body.
    [[nodiscard]] std::string content_type() const { return "multipart/form-data; boundary=" + boundary_; }

    /// Appends a file part of `size` bytes produced by `fill`, in `Content-Type: application/octet-stream`.
    MultipartForm& add_file(std::string_view name, std::string_view filename, std::uint64_t size, Fill fill) {
        parts_.push_back(Part{fmt::format("--{}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\n"
                                          "Content-Type: application/octet-stream\r\n\r\n",
                                          boundary_, quoted(name), quoted(filename)),
                              size, std::move(fill)});
        return *this;
    }

    /// Appends a text field (no content type).
    MultipartForm& add_field(std::string_view name, std::string_view value) {
        parts_.push_back(Part{fmt::format("--{}\r\nContent-Disposition: form-data; name=\"{}\"\r\n\r\n{}", boundary_,
                                          quoted(name), value),
                              0, {}});
        return *this;
    }

    /// The body's total size in bytes.
    [[nodiscard]] std::uint64_t size() const {
        std::uint64_t n = closing().size();
        for (const auto& p : parts_) n += p.head.size() + p.size + 2;  // the part's CRLF before the next delimiter
        return n;
    }

    /// Calls `write(std::string_view)` with the body's pieces in order; file bytes come in pieces
    /// of at most `piece_bytes`.
    template <class Write>
    void write(Write&& write, std::size_t piece_bytes = 1 << 20) const {
        std::string buffer;
        for (const auto& p : parts_) {
            write(std::string_view(p.head));
            for (std::uint64_t done = 0; done < p.size;) {
                const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(piece_bytes, p.size - done));
                buffer.resize(n);
                p.fill(buffer.data(), n);
                write(std::string_view(buffer));
                done += n;
            }
            write(std::string_view("\r\n"));
        }
        write(std::string_view(closing()));
    }

    /// The whole body as one string (its size is reserved first).
    [[nodiscard]] std::string to_string() const {
        std::string out;
        out.reserve(static_cast<std::size_t>(size()));
        write([&](std::string_view piece) { out.append(piece); });
        return out;
    }

private:
    struct Part {
        std::string head;
        std::uint64_t size;
        Fill fill;
    };

    [[nodiscard]] std::string closing() const { return "--" + boundary_ + "--\r\n"; }

    /// A name or filename with `"`, CR and LF escaped as browsers do (`%22`, `%0D`, `%0A`).
    [[nodiscard]] static std::string quoted(std::string_view s) {
        std::string out;
        for (char c : s) {
            if (c == '"') out += "%22";
            else if (c == '\r') out += "%0D";
            else if (c == '\n') out += "%0A";
            else out += c;
        }
        return out;
    }

    std::string boundary_;
    std::vector<Part> parts_;
};

}  // namespace llmbatch
