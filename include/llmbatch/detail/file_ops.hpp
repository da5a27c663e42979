#pragma once
/// @file detail/file_ops.hpp
/// The system calls `detail/file_io.hpp` makes on files, behind a replaceable table: `FileOps`
/// calls POSIX directly, and a `ScopedFileOps` installs another implementation (a subclass) for
/// the current thread until it is destroyed. Tests use it to record every operation and to make
/// chosen ones fail (see `testing/faulty_files.hpp`); without one installed, each call costs a
/// thread-local load and a compare.
///
/// Example: every `open` of this thread fails with `ENOSPC` while `full` lives.
/// @code
/// struct DiskFull : llmbatch::detail::FileOps {
///     int open(const char*, int, ::mode_t) override { errno = ENOSPC; return -1; }
/// };
/// DiskFull disk;
/// llmbatch::detail::ScopedFileOps full(disk);
/// @endcode

#include <cstddef>
#include <cstdio>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

namespace llmbatch::detail {

/// The file system calls of `file_io.hpp`, each with the signature and `errno` convention of its
/// POSIX namesake (which the default implementation calls). A replacement overrides any of them;
/// it may throw from any call but `close`, `unlink` and `flock(fd, LOCK_UN)`, which run in
/// destructors.
class FileOps {
public:
    FileOps() = default;
    FileOps(const FileOps&) = delete;
    FileOps& operator=(const FileOps&) = delete;
    virtual ~FileOps() = default;

    virtual int open(const char* path, int flags, ::mode_t mode) { return ::open(path, flags, mode); }
    virtual ::ssize_t read(int fd, void* buffer, std::size_t size) { return ::read(fd, buffer, size); }
    virtual ::ssize_t write(int fd, const void* data, std::size_t size) { return ::write(fd, data, size); }
    virtual int fsync(int fd) { return ::fsync(fd); }
    virtual int close(int fd) { return ::close(fd); }
    virtual int fchmod(int fd, ::mode_t mode) { return ::fchmod(fd, mode); }
    virtual int stat(const char* path, struct ::stat* out) { return ::stat(path, out); }
    virtual int rename(const char* from, const char* to) { return ::rename(from, to); }
    virtual int unlink(const char* path) { return ::unlink(path); }
    virtual int flock(int fd, int operation) { return ::flock(fd, operation); }
};

namespace file_ops_impl {
/// The implementation installed for this thread, or null for POSIX.
inline thread_local FileOps* installed = nullptr;
/// The POSIX implementation.
inline FileOps posix;
}  // namespace file_ops_impl

/// The file operations in effect on this thread: the innermost `ScopedFileOps`, else POSIX.
[[nodiscard]] inline FileOps& file_ops() noexcept {
    FileOps* ops = file_ops_impl::installed;
    return ops != nullptr ? *ops : file_ops_impl::posix;
}

/// Installs `ops` for the current thread from construction to destruction, then restores the
/// previous one (scopes nest). `ops` must outlive the scope; scopes end in reverse order.
class ScopedFileOps {
public:
    explicit ScopedFileOps(FileOps& ops) noexcept : previous_(file_ops_impl::installed) {
        file_ops_impl::installed = &ops;
    }
    ScopedFileOps(const ScopedFileOps&) = delete;
    ScopedFileOps& operator=(const ScopedFileOps&) = delete;
    ~ScopedFileOps() { file_ops_impl::installed = previous_; }

private:
    FileOps* previous_;
};

}  // namespace llmbatch::detail
