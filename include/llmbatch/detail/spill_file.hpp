#pragma once
/// @file detail/spill_file.hpp
/// Streaming file helpers for results of any size: `SpillFile` (lines taken in arrival order,
/// given back in index order, from an unnamed temporary file) and `read_file_chunks` (a file's
/// bytes in bounded pieces). Memory stays bounded by a buffer plus 16 bytes per line.

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "llmbatch/detail/file_io.hpp"

namespace llmbatch::detail {

/// Lines keyed by an index, kept in a temporary file with no name (nothing is left behind,
/// whatever happens to the process) in the directory of `near`.
class SpillFile {
public:
    static constexpr std::size_t buffer_bytes = 1 << 20;

    explicit SpillFile(const std::filesystem::path& near) : dir_(file_io_impl::directory_of(near)) {
        using namespace file_io_impl;
        ensure_parent_directory(near);
        int fd = ::open(dir_.c_str(), O_RDWR | O_TMPFILE | O_CLOEXEC, 0600);
        if (fd < 0) {  // file systems without O_TMPFILE: a named file, unlinked at once
            const auto name = temporary_name(near);
            fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
            if (fd < 0) fail("create a temporary file for", near, errno);
            ::unlink(name.c_str());
        }
        fd_ = Fd(fd);
    }

    /// Keeps `line` as the line of `index` (replacing an earlier one).
    void put(std::size_t index, std::string_view line) {
        if (line.size() > UINT32_MAX) file_io_impl::fail("write a line of over 4 GiB to", dir_, EFBIG);
        if (index >= entries_.size()) entries_.resize(index + 1);
        auto& e = entries_[index];
        if (!e.present) ++count_;
        e = Entry{written_ + buffer_.size(), static_cast<std::uint32_t>(line.size()), true};
        buffer_.append(line);
        if (buffer_.size() >= buffer_bytes) flush();
    }

    /// How many indices have a line.
    [[nodiscard]] std::size_t count() const noexcept { return count_; }

    /// Calls `on_chunk(std::string_view)` with every line in index order; lines that follow each
    /// other in the file come in one piece.
    template <class OnChunk>
    void for_each_in_order(OnChunk&& on_chunk) {
        for_each_run([&](std::string_view run, std::size_t, std::size_t) { on_chunk(run); });
    }

    /// Calls `on_line(std::size_t index, std::string_view line)` with every line in index order.
    template <class OnLine>
    void for_each_line_in_order(OnLine&& on_line) {
        for_each_run([&](std::string_view run, std::size_t first, std::size_t last) {
            const std::uint64_t base = entries_[first].offset;
            for (std::size_t i = first; i < last; ++i) {
                const auto& e = entries_[i];
                if (e.present) on_line(i, run.substr(static_cast<std::size_t>(e.offset - base), e.length));
            }
        });
    }

private:
    struct Entry {
        std::uint64_t offset = 0;
        std::uint32_t length = 0;
        bool present = false;
    };

    /// Calls `on_run(bytes, first, last)` with the lines of the entries `[first, last)` (those
    /// present), read back in pieces of about `buffer_bytes` that are contiguous in the file.
    template <class OnRun>
    void for_each_run(OnRun&& on_run) {
        flush();
        std::string chunk;
        std::uint64_t start = 0, end = 0;
        std::size_t first = 0;
        auto emit = [&](std::size_t last) {
            if (end == start) return;
            chunk.resize(static_cast<std::size_t>(end - start));
            std::size_t got = 0;
            while (got < chunk.size()) {
                const ::ssize_t n = ::pread(fd_.get(), chunk.data() + got, chunk.size() - got,
                                            static_cast<::off_t>(start + got));
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) file_io_impl::fail("read back a temporary file in", dir_, n < 0 ? errno : EIO);
                got += static_cast<std::size_t>(n);
            }
            on_run(std::string_view(chunk), first, last);
        };
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            const auto& e = entries_[i];
            if (!e.present) continue;
            if (e.offset != end || end - start >= buffer_bytes) {
                emit(i);
                start = e.offset;
                first = i;
            }
            end = e.offset + e.length;
        }
        emit(entries_.size());
    }

    void flush() {
        if (buffer_.empty()) return;
        if (const int err = file_io_impl::write_all(fd_.get(), buffer_)) file_io_impl::fail("write a temporary file in", dir_, err);
        written_ += buffer_.size();
        buffer_.clear();
    }

    std::filesystem::path dir_;
    file_io_impl::Fd fd_;
    std::vector<Entry> entries_;
    std::string buffer_;
    std::uint64_t written_ = 0;
    std::size_t count_ = 0;
};

/// Calls `on_chunk(std::string_view)` with the bytes of `path`, `chunk_bytes` at a time.
/// @returns false when there is no such file.
/// @throws FileError when it exists but cannot be read.
template <class OnChunk>
bool read_file_chunks(const std::filesystem::path& path, OnChunk&& on_chunk, std::size_t chunk_bytes = 1 << 20) {
    using namespace file_io_impl;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return false;
        fail("read", path, errno);
    }
    Fd file(fd);
    std::string buffer(std::max<std::size_t>(chunk_bytes, 1), '\0');
    for (;;) {
        const ::ssize_t n = ::read(fd, buffer.data(), buffer.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("read", path, errno);
        }
        if (n == 0) return true;
        on_chunk(std::string_view(buffer.data(), static_cast<std::size_t>(n)));
    }
}

}  // namespace llmbatch::detail
