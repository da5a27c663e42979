#pragma once
/// @file detail/file_io.hpp
/// Crash-safe file primitives (POSIX): `atomic_write_file` replaces a file so that readers and
/// crashes only ever see the old or the new content, `read_file_if_exists` reads one, and
/// `FileLock` serialises read-modify-write transactions between threads and processes. Every
/// system call on a file goes through `file_ops()` (see `detail/file_ops.hpp`), so tests can
/// record them and make chosen ones fail.
///
/// Example: a transaction that no other process can interleave with, and that never leaves the
/// file half-written.
/// @code
/// llmbatch::detail::FileLock lock(path);                       // blocks until ours
/// std::string text = llmbatch::detail::read_file_if_exists(path).value_or("");
/// text += "one more line\n";
/// llmbatch::detail::atomic_write_file(path, text);              // all or nothing
/// @endcode

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "llmbatch/detail/file_ops.hpp"
#include "llmbatch/error.hpp"

namespace llmbatch {

/// A file could not be read, written, renamed, synced or locked. The message names the path and
/// the system's reason (`strerror(errno)`).
class FileError : public Error {
public:
    FileError(std::string message, std::filesystem::path path)
        : Error(std::move(message)), path_(std::move(path)) {}

    /// The file the operation was about.
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

}  // namespace llmbatch

namespace llmbatch::detail {

namespace file_io_impl {

/// Throws `FileError` "cannot <what> '<path>': <strerror(err)>".
[[noreturn]] inline void fail(std::string_view what, const std::filesystem::path& path, int err) {
    throw FileError(fmt::format("cannot {} '{}': {}", what, path.string(), std::strerror(err)), path);
}

/// Closes a descriptor on scope exit unless released.
class Fd {
public:
    explicit Fd(int fd = -1) noexcept : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) {
            (void)close_now();
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }
    ~Fd() {
        if (fd_ >= 0) file_ops().close(fd_);
    }
    [[nodiscard]] int get() const noexcept { return fd_; }
    /// Closes now and reports `close`'s errno (0 on success).
    [[nodiscard]] int close_now() noexcept {
        const int fd = std::exchange(fd_, -1);
        if (fd < 0) return 0;
        return file_ops().close(fd) == 0 ? 0 : errno;
    }

private:
    int fd_;
};

/// The prefix every temporary file of `target` starts with: `.<name>.tmp.`.
[[nodiscard]] inline std::string temporary_prefix(const std::filesystem::path& target) {
    // fmt rather than `"." + name + ...`: GCC 12 at -O3 reports a false -Wrestrict overlap
    // for the concatenation of temporaries.
    return fmt::format(".{}.tmp.", target.filename().string());
}

/// The suffix every temporary file ends with. No results file (`.jsonl`) or lock file (`.lock`)
/// ends so, so no source name can produce a file that looks like a temporary.
inline constexpr std::string_view temporary_suffix = ".llmbatch-tmp";

/// A name no other writer (thread or process) picks:
/// `.<name>.tmp.<pid>.<counter>.<16 hex digits>.llmbatch-tmp`.
[[nodiscard]] inline std::filesystem::path temporary_name(const std::filesystem::path& target) {
    static std::atomic<std::uint64_t> counter{0};
    thread_local std::mt19937_64 rng{[] {
        std::random_device rd;
        return (static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^ static_cast<std::uint64_t>(::getpid());
    }()};
    const auto name = fmt::format("{}{}.{}.{:016x}{}", temporary_prefix(target), ::getpid(),
                                  counter.fetch_add(1, std::memory_order_relaxed), rng(), temporary_suffix);
    return target.parent_path() / name;
}

/// True when `name` is exactly a name `temporary_name(target)` gives, and nothing else.
[[nodiscard]] inline bool is_temporary_name(std::string_view name, const std::filesystem::path& target) {
    const auto prefix = temporary_prefix(target);
    if (name.size() <= prefix.size() + temporary_suffix.size() || name.substr(0, prefix.size()) != prefix ||
        name.substr(name.size() - temporary_suffix.size()) != temporary_suffix)
        return false;
    name = name.substr(prefix.size(), name.size() - prefix.size() - temporary_suffix.size());
    auto digits = [&](std::size_t max, bool hex) {  // a run of 1..max digits, then consumed
        std::size_t n = 0;
        while (n < name.size() && n < max &&
               ((name[n] >= '0' && name[n] <= '9') || (hex && name[n] >= 'a' && name[n] <= 'f')))
            ++n;
        name.remove_prefix(n);
        return n;
    };
    auto dot = [&] {
        if (name.empty() || name.front() != '.') return false;
        name.remove_prefix(1);
        return true;
    };
    return digits(20, false) > 0 && dot() && digits(20, false) > 0 && dot() && digits(16, true) == 16 && name.empty();
}

/// The directory holding `target` (`.` for a bare file name).
[[nodiscard]] inline std::filesystem::path directory_of(const std::filesystem::path& target) {
    auto dir = target.parent_path();
    return dir.empty() ? std::filesystem::path(".") : dir;
}

/// Creates the directory holding `target` when it is missing.
inline void ensure_parent_directory(const std::filesystem::path& target) {
    const auto dir = target.parent_path();
    if (dir.empty()) return;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) fail("create the directory", dir, ec.value());
}

/// Writes all of `content` to `fd`, retrying short writes and interrupted calls; 0 or errno.
[[nodiscard]] inline int write_all(int fd, std::string_view content) {
    const char* p = content.data();
    std::size_t left = content.size();
    while (left > 0) {
        const ::ssize_t n = file_ops().write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    return 0;
}

/// `fsync` on the directory, so a completed rename survives a power loss. File systems that
/// cannot sync a directory (`EINVAL`) are accepted as they are.
[[nodiscard]] inline int sync_directory(const std::filesystem::path& dir) {
    const int fd = file_ops().open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd < 0) return errno;
    Fd guard(fd);
    if (file_ops().fsync(fd) != 0 && errno != EINVAL && errno != EROFS) return errno;
    return guard.close_now();
}

}  // namespace file_io_impl

/// A new content for `path`, written piece by piece and put in place atomically by `commit`.
///
/// Writes a temporary file in the same directory (`.<name>.tmp.<pid>.<counter>.<random>.llmbatch-tmp`);
/// `commit` `fsync`s it, renames it over `path` and `fsync`s the directory. Readers and a crash
/// at any moment see either the complete old content or the complete new content, never a mix.
/// Destroyed without `commit`, it removes the temporary file and `path` is unchanged. A missing
/// parent directory is created. An existing file's permission bits are kept; a new file gets
/// 0666 less the umask, as `open` gives. A symbolic link at `path` is replaced, not followed.
///
/// Errors: throws `FileError` naming the path and the system's reason; the temporary file is
/// removed and `path` is unchanged, except when only the final directory `fsync` fails (the new
/// content is then in place but may not survive a power loss).
class AtomicFile {
public:
    explicit AtomicFile(std::filesystem::path path) : path_(std::move(path)) {
        using namespace file_io_impl;
        if (path_.filename().empty())
            throw FileError(fmt::format("cannot write '{}': it names no file", path_.string()), path_);
        ensure_parent_directory(path_);
        ::mode_t mode = 0666;  // less the umask, as for any new file
        bool keep_mode = false;
        struct ::stat st {};
        if (file_ops().stat(path_.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
            mode = st.st_mode & 07777;
            keep_mode = true;
        }
        int fd = -1;
        for (int attempt = 0; attempt < 16 && fd < 0; ++attempt) {
            tmp_ = temporary_name(path_);
            fd = file_ops().open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, keep_mode ? 0600 : mode);
            if (fd < 0 && errno != EEXIST) fail("create a temporary file for", path_, errno);
        }
        if (fd < 0) fail("create a temporary file for", path_, EEXIST);
        fd_ = Fd(fd);
        if (keep_mode && file_ops().fchmod(fd, mode) != 0) abandon("set the permissions of the new content of", errno);
    }
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;
    ~AtomicFile() {
        if (!committed_) {
            (void)fd_.close_now();
            file_ops().unlink(tmp_.c_str());
        }
    }

    /// Appends `content` to the new file.
    void write(std::string_view content) {
        if (const int err = file_io_impl::write_all(fd_.get(), content)) abandon("write", err);
    }

    /// Puts the new content in place of `path`.
    void commit() {
        using namespace file_io_impl;
        if (file_ops().fsync(fd_.get()) != 0) abandon("flush", errno);
        if (const int err = fd_.close_now()) abandon("write", err);
        if (file_ops().rename(tmp_.c_str(), path_.c_str()) != 0) abandon("replace", errno);
        committed_ = true;
        if (const int err = sync_directory(directory_of(path_))) fail("flush the directory entry of", path_, err);
    }

private:
    [[noreturn]] void abandon(std::string_view what, int err) {
        (void)fd_.close_now();
        file_ops().unlink(tmp_.c_str());
        committed_ = true;  // nothing left to clean
        file_io_impl::fail(what, path_, err);
    }

    std::filesystem::path path_;
    std::filesystem::path tmp_;
    file_io_impl::Fd fd_;
    bool committed_ = false;
};

/// Replaces the content of `path` with `content`, atomically and durably (see `AtomicFile`).
///
/// A process killed in the middle leaves a hidden temporary file behind; writers that hold a
/// `FileLock` on `path` may clear such leftovers with `remove_stale_temporaries`.
inline void atomic_write_file(const std::filesystem::path& path, std::string_view content) {
    AtomicFile file(path);
    file.write(content);
    file.commit();
}

/// The whole content of `path`, or `nullopt` when no such file exists.
/// @throws FileError when the file exists but cannot be read (a directory, no permission, I/O).
[[nodiscard]] inline std::optional<std::string> read_file_if_exists(const std::filesystem::path& path) {
    using namespace file_io_impl;
    const int fd = file_ops().open(path.c_str(), O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) {
        if (errno == ENOENT) return std::nullopt;
        fail("read", path, errno);
    }
    Fd file(fd);
    std::string out;
    char buffer[65536];
    for (;;) {
        const ::ssize_t n = file_ops().read(fd, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("read", path, errno);
        }
        if (n == 0) break;
        out.append(buffer, static_cast<std::size_t>(n));
    }
    return out;
}

/// Removes the temporary files that interrupted `atomic_write_file` calls on `path` left behind.
///
/// Requirement: call it only while holding the `FileLock` of `path`, and only for files that every
/// writer writes under that lock; any temporary file seen then belongs to a writer that died.
/// Only files named exactly as `AtomicFile` names its temporaries are removed (see
/// `file_io_impl::temporary_name`). Best effort: files that cannot be removed are left alone.
inline void remove_stale_temporaries(const std::filesystem::path& path) noexcept {
    std::error_code ec;
    std::filesystem::directory_iterator it(file_io_impl::directory_of(path), ec);
    if (ec) return;
    for (const auto& entry : it) {
        // Only names this library gives its temporaries, and only regular files (not links).
        if (!file_io_impl::is_temporary_name(entry.path().filename().string(), path)) continue;
        std::error_code status_ec;
        if (!std::filesystem::is_regular_file(entry.symlink_status(status_ec)) || status_ec) continue;
        (void)file_ops().unlink(entry.path().c_str());
    }
}

/// An exclusive advisory lock guarding the file `path`, held from construction to destruction.
///
/// The lock is taken with `flock` on the hidden sibling file `.<name>.lock` (created when missing,
/// never removed, so that it stays out of the way of a directory listing), not on `path` itself,
/// since `atomic_write_file` replaces `path` by a new inode.
/// It excludes other processes and also other `FileLock` objects of the same process (each
/// opens its own descriptor), so threads are serialised too. It is advisory: it guards only
/// against writers that take the same lock. Taking a second lock on the same path in the same
/// thread while holding the first deadlocks.
///
/// Errors: throws `FileError` naming the lock file when it cannot be created or locked, or when it
/// is a symbolic link (it is opened with `O_NOFOLLOW`).
///
/// Example:
/// @code
/// {
///     llmbatch::detail::FileLock lock("data/batch_jobs.json");   // waits for other writers
///     // read, change, atomic_write_file ...
/// }                                                              // released here
/// @endcode
class FileLock {
public:
    /// Blocks until the lock on `.<name>.lock` is ours. Creates the parent directory if missing.
    explicit FileLock(const std::filesystem::path& path) : lock_path_(lock_file_of(path)) {
        file_io_impl::ensure_parent_directory(lock_path_);
        // Never through a symbolic link: the lock file is ours, not wherever a link points.
        fd_ = file_ops().open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
        if (fd_ < 0) {
            const int err = errno;
            if (err == ELOOP)
                throw FileError(fmt::format("cannot open the lock file '{}': it is a symbolic link, which is refused",
                                            lock_path_.string()),
                                lock_path_);
            file_io_impl::fail("open the lock file", lock_path_, err);
        }
        while (file_ops().flock(fd_, LOCK_EX) != 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            file_ops().close(fd_);
            fd_ = -1;
            file_io_impl::fail("lock", lock_path_, err);
        }
    }

    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

    FileLock(FileLock&& other) noexcept
        : lock_path_(std::move(other.lock_path_)), fd_(std::exchange(other.fd_, -1)) {}

    FileLock& operator=(FileLock&& other) noexcept {
        if (this != &other) {
            release();
            lock_path_ = std::move(other.lock_path_);
            fd_ = std::exchange(other.fd_, -1);
        }
        return *this;
    }

    ~FileLock() { release(); }

    /// True while this object holds the lock (false once moved from).
    [[nodiscard]] bool owns_lock() const noexcept { return fd_ >= 0; }

    /// The lock file of `path`: `.<name>.lock` beside it.
    [[nodiscard]] static std::filesystem::path lock_file_of(const std::filesystem::path& path) {
        return path.parent_path() / fmt::format(".{}.lock", path.filename().string());
    }

    /// The lock file, `.<name>.lock`.
    [[nodiscard]] const std::filesystem::path& lock_path() const noexcept { return lock_path_; }

private:
    void release() noexcept {
        if (fd_ >= 0) {
            file_ops().flock(fd_, LOCK_UN);
            file_ops().close(fd_);
            fd_ = -1;
        }
    }

    std::filesystem::path lock_path_;
    int fd_ = -1;
};

}  // namespace llmbatch::detail
