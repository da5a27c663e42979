#pragma once
/// @file testing/faulty_files.hpp
/// `FaultyFiles`: while it lives, every file operation of `detail/file_io.hpp` on this thread goes
/// through it. It records each one (what, on which path) and can make one chosen operation fail
/// as a full disk (`ENOSPC`), a failing disk (`EIO`), a short write (part of the bytes land,
/// then the disk is full) or a kill of the process: a `SimulatedKill` is thrown, a type outside
/// the `std::exception` hierarchy so no handler of the library or the tool swallows it, and from
/// then on the files are left exactly as a killed process leaves them (no clean-up of temporary
/// files, no further writes; descriptors and locks are released, as the kernel does).
///
/// Operations are counted per fault: the n-th operation a fault can hit is the one that fails
/// (see `FaultyFiles::can_hit`). Running a scenario with n = 1, 2, ... until the fault no longer
/// fires tries every point where it can happen.
///
/// **Example**:
/// ```cpp
/// llmbatch::testing::FaultyFiles files;                 // installed for this thread
/// files.fail_at(3, llmbatch::testing::FileFault::enospc);    // open, write, fsync
/// CHECK_THROWS_AS(llmbatch::detail::atomic_write_file(path, "x"), llmbatch::FileError);  // its fsync
/// CHECK(files.fired());
/// ```

#include <cerrno>
#include <cstddef>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>

#include "llmbatch/detail/file_ops.hpp"

namespace llmbatch::testing {

/// A file operation, named after its system call.
enum class FileOp { open, read, write, fsync, close, fchmod, stat, rename, unlink, flock };

[[nodiscard]] constexpr std::string_view to_string(FileOp op) noexcept {
    switch (op) {
        case FileOp::open: return "open";
        case FileOp::read: return "read";
        case FileOp::write: return "write";
        case FileOp::fsync: return "fsync";
        case FileOp::close: return "close";
        case FileOp::fchmod: return "fchmod";
        case FileOp::stat: return "stat";
        case FileOp::rename: return "rename";
        case FileOp::unlink: return "unlink";
        case FileOp::flock: return "flock";
    }
    return "open";
}

/// How the chosen operation fails.
enum class FileFault {
    enospc,       ///< fails with `ENOSPC`, nothing done
    eio,          ///< fails with `EIO`, nothing done
    short_write,  ///< a write puts half its bytes on disk, the next write to that file fails with `ENOSPC`
    kill,         ///< the process dies there (a write first puts half its bytes on disk)
};

[[nodiscard]] constexpr std::string_view to_string(FileFault fault) noexcept {
    switch (fault) {
        case FileFault::enospc: return "ENOSPC";
        case FileFault::eio: return "EIO";
        case FileFault::short_write: return "short write";
        case FileFault::kill: return "kill";
    }
    return "ENOSPC";
}

/// One recorded operation: its kind and the path it was about (for descriptor operations, the
/// path the descriptor was opened with; for `rename`, the source, and `to` the target).
struct FileOpRecord {
    FileOp op = FileOp::open;
    std::string path{};
    std::string to{};
};

/// Thrown where `FileFault::kill` strikes. Deliberately not a `std::exception`.
struct SimulatedKill {
    FileOpRecord at{};  ///< the operation that never completed
};

/// Records and fails file operations on this thread from construction to destruction (see the
/// file comment). Not copyable or movable; construct it in the scope it should cover.
class FaultyFiles final : public ::llmbatch::detail::FileOps {
public:
    FaultyFiles() : scope_(*this) {}

    /// Makes the `n`-th operation (1-based, counted from construction) that `fault` can hit fail
    /// with it. One fault at a time: a later call replaces an earlier one that has not fired.
    void fail_at(std::size_t n, FileFault fault) { armed_ = Armed{n, fault}; }

    /// True when `fault` can strike `op`. ENOSPC: a creating `open`, `write`, `fsync`, `rename`.
    /// EIO: all but `stat` and `flock`. Short write: `write`. Kill: all but `close` and `unlink`,
    /// which also run in destructors, where nothing may throw (an unlock is never struck either).
    [[nodiscard]] static constexpr bool can_hit(FileFault fault, FileOp op) noexcept {
        switch (fault) {
            case FileFault::enospc:
                return op == FileOp::open || op == FileOp::write || op == FileOp::fsync || op == FileOp::rename;
            case FileFault::eio: return op != FileOp::stat && op != FileOp::flock;
            case FileFault::short_write: return op == FileOp::write;
            case FileFault::kill: return op != FileOp::close && op != FileOp::unlink;
        }
        return false;
    }

    /// True once the armed fault has struck.
    [[nodiscard]] bool fired() const noexcept { return fired_; }
    /// True once a `FileFault::kill` has struck (every later operation is refused with `EIO`).
    [[nodiscard]] bool killed() const noexcept { return dead_; }
    /// Every operation attempted before the kill, in order (the struck one included).
    [[nodiscard]] const std::vector<FileOpRecord>& operations() const noexcept { return records_; }
    /// The number of operations so far that `fault` could have struck.
    [[nodiscard]] std::size_t count(FileFault fault) const noexcept { return hits_[index(fault)]; }

    int open(const char* path, int flags, ::mode_t mode) override {
        if (const auto refused = strike(FileOp::open, path, {}, (flags & O_CREAT) != 0)) return *refused;
        const int fd = ::llmbatch::detail::FileOps::open(path, flags, mode);
        if (fd >= 0) open_[fd] = path;
        return fd;
    }
    ::ssize_t read(int fd, void* buffer, std::size_t size) override {
        if (const auto refused = strike(FileOp::read, path_of(fd))) return *refused;
        return ::llmbatch::detail::FileOps::read(fd, buffer, size);
    }
    ::ssize_t write(int fd, const void* data, std::size_t size) override {
        if (!dead_ && full_.erase(fd) != 0) return refuse(ENOSPC);  // the rest of a short write
        switch (decide(FileOp::write, path_of(fd), {}, true)) {
            case Strike::none: return ::llmbatch::detail::FileOps::write(fd, data, size);
            case Strike::refused: return -1;
            case Strike::half: {
                full_.insert(fd);
                return ::llmbatch::detail::FileOps::write(fd, data, size / 2);
            }
            case Strike::kill: {
                (void)::llmbatch::detail::FileOps::write(fd, data, size / 2);
                throw SimulatedKill{records_.back()};
            }
        }
        return -1;
    }
    int fsync(int fd) override {
        if (const auto refused = strike(FileOp::fsync, path_of(fd))) return *refused;
        return ::llmbatch::detail::FileOps::fsync(fd);
    }
    int close(int fd) override {
        // The descriptor is released even when close reports an error, and by a dead process.
        std::string path = path_of(fd);
        open_.erase(fd);
        full_.erase(fd);
        const int result = ::llmbatch::detail::FileOps::close(fd);
        if (dead_) return result;
        if (const auto refused = strike(FileOp::close, std::move(path))) return *refused;
        return result;
    }
    int fchmod(int fd, ::mode_t mode) override {
        if (const auto refused = strike(FileOp::fchmod, path_of(fd))) return *refused;
        return ::llmbatch::detail::FileOps::fchmod(fd, mode);
    }
    int stat(const char* path, struct ::stat* out) override {
        if (const auto refused = strike(FileOp::stat, path)) return *refused;
        return ::llmbatch::detail::FileOps::stat(path, out);
    }
    int rename(const char* from, const char* to) override {
        if (const auto refused = strike(FileOp::rename, from, to)) return *refused;
        return ::llmbatch::detail::FileOps::rename(from, to);
    }
    int unlink(const char* path) override {
        if (const auto refused = strike(FileOp::unlink, path)) return *refused;
        return ::llmbatch::detail::FileOps::unlink(path);
    }
    int flock(int fd, int operation) override {
        // Unlocking changes no file, and the kernel releases a dead process's locks.
        if (operation == LOCK_UN) return ::llmbatch::detail::FileOps::flock(fd, operation);
        if (const auto refused = strike(FileOp::flock, path_of(fd))) return *refused;
        return ::llmbatch::detail::FileOps::flock(fd, operation);
    }

private:
    struct Armed {
        std::size_t n;
        FileFault fault;
    };
    /// The fate of one operation.
    enum class Strike { none, refused, half, kill };

    static constexpr FileFault all_faults[] = {FileFault::enospc, FileFault::eio, FileFault::short_write,
                                               FileFault::kill};
    [[nodiscard]] static constexpr std::size_t index(FileFault fault) noexcept {
        return static_cast<std::size_t>(fault);
    }

    [[nodiscard]] std::string path_of(int fd) const {
        const auto it = open_.find(fd);
        return it == open_.end() ? std::string() : it->second;
    }

    [[nodiscard]] static int refuse(int err) noexcept {
        errno = err;
        return -1;
    }

    /// Records the operation and decides its fate (`errno` set when refused). `creates` is false
    /// for an `open` that creates nothing, which no full disk refuses.
    Strike decide(FileOp op, std::string path, std::string to, bool creates) {
        if (dead_) {
            errno = EIO;
            return Strike::refused;
        }
        records_.push_back({op, std::move(path), std::move(to)});
        bool struck = false;
        for (const auto fault : all_faults) {
            if (!can_hit(fault, op) || (fault == FileFault::enospc && !creates)) continue;
            const auto seen = ++hits_[index(fault)];
            struck = struck || (armed_ && !fired_ && armed_->fault == fault && armed_->n == seen);
        }
        if (!struck) return Strike::none;
        fired_ = true;
        switch (armed_->fault) {
            case FileFault::enospc: errno = ENOSPC; return Strike::refused;
            case FileFault::eio: errno = EIO; return Strike::refused;
            case FileFault::short_write: return Strike::half;
            case FileFault::kill: dead_ = true; return Strike::kill;
        }
        return Strike::none;
    }

    /// For every operation but `write`: `nullopt` to go ahead, else the value to return (`errno`
    /// set). Throws `SimulatedKill` where the kill strikes.
    std::optional<int> strike(FileOp op, std::string path, std::string to = {}, bool creates = true) {
        const auto fate = decide(op, std::move(path), std::move(to), op != FileOp::open || creates);
        if (fate == Strike::none) return std::nullopt;
        if (fate == Strike::kill) throw SimulatedKill{records_.back()};
        return -1;
    }

    ::llmbatch::detail::ScopedFileOps scope_;
    std::optional<Armed> armed_{};
    bool fired_ = false;
    bool dead_ = false;
    std::size_t hits_[std::size(all_faults)] = {};
    std::vector<FileOpRecord> records_{};
    std::map<int, std::string> open_{};  ///< open descriptors and their paths
    std::set<int> full_{};               ///< descriptors whose next write fails (after a short write)
};

}  // namespace llmbatch::testing
