// detail/file_io.hpp: atomic replacement, reading, stale temporaries and the advisory lock.
#include "llmbatch/detail/file_io.hpp"

#include <doctest/doctest.h>

#include "../support/temp_dir.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "llmbatch/testing/faulty_files.hpp"

namespace tests_unit_file_io {

namespace fs = std::filesystem;
using llmbatch::FileError;
using llmbatch::detail::atomic_write_file;
using llmbatch::detail::FileLock;
using llmbatch::detail::read_file_if_exists;
using llmbatch::detail::remove_stale_temporaries;

namespace {

/// A fresh directory, removed with its content at the end of the test.
struct TempDir : llmbatch_test::TempDir {
    explicit TempDir(bool in_memory = false) : llmbatch_test::TempDir("llmbatch-file-io", in_memory) {}
};

std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
    return out;
}

void write_plain(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary) << text;
}

/// Tries to take the lock file's lock through a descriptor of our own, without waiting: what
/// another process would get.
bool lock_is_free(const fs::path& lock_file) {
    const int fd = ::open(lock_file.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(fd >= 0);
    const bool free = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    const int err = errno;
    ::close(fd);
    if (!free) CHECK(err == EWOULDBLOCK);
    return free;
}

}  // namespace

TEST_SUITE("unit") {
    TEST_CASE("atomic_write_file creates the file and its missing directories, leaving nothing else") {
        TempDir dir;
        const auto target = dir.path / "a" / "b" / "data.json";
        atomic_write_file(target, "{\"x\": 1}\n");
        CHECK(read_file_if_exists(target) == std::optional<std::string>("{\"x\": 1}\n"));
        CHECK(names_in(target.parent_path()) == std::set<std::string>{"data.json"});
    }

    TEST_CASE("atomic_write_file replaces content exactly, including empty and binary content") {
        TempDir dir;
        const auto target = dir.path / "data";
        write_plain(target, "a much longer old content that must not survive as a tail");
        atomic_write_file(target, "short");
        CHECK(*read_file_if_exists(target) == "short");
        const std::string binary("a\0b\n\xff", 5);
        atomic_write_file(target, binary);
        CHECK(*read_file_if_exists(target) == binary);
        atomic_write_file(target, "");
        CHECK(read_file_if_exists(target) == std::optional<std::string>(""));
        CHECK(names_in(dir.path) == std::set<std::string>{"data"});
    }

    TEST_CASE("atomic_write_file keeps the permission bits of the file it replaces") {
        TempDir dir;
        const auto target = dir.path / "secret";
        write_plain(target, "old");
        REQUIRE(::chmod(target.c_str(), 0640) == 0);
        atomic_write_file(target, "new");
        struct ::stat st {};
        REQUIRE(::stat(target.c_str(), &st) == 0);
        CHECK((st.st_mode & 07777) == 0640);
        CHECK(*read_file_if_exists(target) == "new");
    }

    TEST_CASE("a failed atomic_write_file throws FileError naming the path and the reason, and cleans up") {
        TempDir dir;
        SUBCASE("the target is a directory: the rename fails and the temporary file is removed") {
            const auto target = dir.path / "taken";
            fs::create_directory(target);
            write_plain(target / "inside", "kept");
            try {
                atomic_write_file(target, "content");
                FAIL("expected FileError");
            } catch (const FileError& e) {
                CHECK(e.path() == target);
                CHECK(std::string(e.what()).find(target.string()) != std::string::npos);
                CHECK(std::string(e.what()).find("Is a directory") != std::string::npos);
            }
            CHECK(names_in(dir.path) == std::set<std::string>{"taken"});
            CHECK(*read_file_if_exists(target / "inside") == "kept");
        }
        SUBCASE("the parent is a regular file") {
            write_plain(dir.path / "plain", "x");
            CHECK_THROWS_AS(atomic_write_file(dir.path / "plain" / "child", "content"), FileError);
            CHECK(*read_file_if_exists(dir.path / "plain") == "x");
        }
        SUBCASE("FileError is an llmbatch::Error") {
            write_plain(dir.path / "plain", "x");
            CHECK_THROWS_AS(atomic_write_file(dir.path / "plain" / "child", "content"), llmbatch::Error);
        }
    }

    TEST_CASE("readers racing atomic_write_file only ever see complete contents") {
        TempDir dir(true);
        const auto target = dir.path / "shared";
        std::vector<std::string> versions;
        for (int i = 0; i < 8; ++i) versions.push_back(std::string(20000 + i * 1000, static_cast<char>('a' + i)));
        atomic_write_file(target, versions[0]);
        std::atomic<bool> done{false};
        std::atomic<int> torn{0};
        std::atomic<int> reads{0};
        std::thread reader([&] {
            while (!done.load()) {
                const auto text = read_file_if_exists(target);
                ++reads;
                if (!text || std::find(versions.begin(), versions.end(), *text) == versions.end()) ++torn;
            }
        });
        while (reads.load() == 0) std::this_thread::yield();
        std::vector<std::thread> writers;
        for (int w = 0; w < 2; ++w)
            writers.emplace_back([&, w] {
                for (int i = 0; i < 40; ++i) atomic_write_file(target, versions[static_cast<std::size_t>((i + w) % 8)]);
            });
        for (auto& t : writers) t.join();
        done = true;
        reader.join();
        CHECK(torn.load() == 0);
        CHECK(reads.load() > 0);
        CHECK(names_in(dir.path) == std::set<std::string>{"shared"});
    }

    TEST_CASE("read_file_if_exists tells a missing file from an unreadable one") {
        TempDir dir;
        CHECK_FALSE(read_file_if_exists(dir.path / "missing").has_value());
        CHECK_THROWS_AS((void)read_file_if_exists(dir.path), FileError);
        const std::string big(200000, 'z');
        write_plain(dir.path / "big", big);
        CHECK(*read_file_if_exists(dir.path / "big") == big);
    }

    TEST_CASE("remove_stale_temporaries removes only the leftovers of writes to that file") {
        TempDir dir;
        const auto target = dir.path / "jobs.json";
        write_plain(target, "data");
        write_plain(dir.path / ".jobs.json.tmp.123.0.00000000000000ff.llmbatch-tmp", "half");
        write_plain(dir.path / ".jobs.json.tmp.456.7.abcdef0123456789.llmbatch-tmp", "half");
        write_plain(dir.path / ".other.json.tmp.1.0.00000000000000ff.llmbatch-tmp", "someone else's");
        write_plain(dir.path / ".jobs.json.lock", "");
        remove_stale_temporaries(target);
        CHECK(names_in(dir.path) == std::set<std::string>{"jobs.json", ".other.json.tmp.1.0.00000000000000ff.llmbatch-tmp",
                                                          ".jobs.json.lock"});
    }

    TEST_CASE("remove_stale_temporaries leaves files that only look like temporaries") {
        TempDir dir;
        const auto target = dir.path / "a.md.jsonl";
        write_plain(target, "data");
        // Results files of other sources, and near misses of the temporary pattern.
        const std::set<std::string> others{".a.md.jsonl.tmp.1",
                                           ".a.md.jsonl.tmp.1.jsonl",
                                           ".a.md.jsonl.tmp.1.2.0123456789abcdef.llmbatch-tmp.jsonl",
                                           ".a.md.jsonl.tmp.1.2.0123456789abcde.llmbatch-tmp",
                                           ".a.md.jsonl.tmp.x.2.0123456789abcdef.llmbatch-tmp",
                                           ".a.md.jsonl.tmp.1.2.0123456789abcdef.0.llmbatch-tmp"};
        for (const auto& name : others) write_plain(dir.path / name, "someone else's");
        fs::create_symlink(target, dir.path / ".a.md.jsonl.tmp.1.2.0123456789abcdef.llmbatch-tmp");
        remove_stale_temporaries(target);
        auto expected = others;
        expected.insert("a.md.jsonl");
        expected.insert(".a.md.jsonl.tmp.1.2.0123456789abcdef.llmbatch-tmp");
        CHECK(names_in(dir.path) == expected);
    }

    TEST_CASE("FileLock locks the hidden sibling .<name>.lock, not the data file, and releases it") {
        TempDir dir;
        const auto target = dir.path / "sub" / "jobs.json";
        const auto lock_file = dir.path / "sub" / ".jobs.json.lock";
        {
            FileLock lock(target);
            CHECK(lock.owns_lock());
            CHECK(lock.lock_path() == lock_file);
            CHECK(fs::exists(lock_file));
            CHECK_FALSE(fs::exists(target));
            CHECK_FALSE(lock_is_free(lock_file));
        }
        CHECK(lock_is_free(lock_file));
    }

    TEST_CASE("FileLock refuses a lock file that is a symbolic link, and leaves its target alone") {
        TempDir dir;
        const auto target = dir.path / "jobs.json";
        write_plain(dir.path / "elsewhere", "not a lock");
        fs::create_symlink(dir.path / "elsewhere", dir.path / ".jobs.json.lock");
        try {
            FileLock lock(target);
            FAIL("expected FileError");
        } catch (const FileError& e) {
            CHECK(e.path() == dir.path / ".jobs.json.lock");
            CHECK(std::string(e.what()).find("symbolic link") != std::string::npos);
        }
        fs::create_symlink(dir.path / "missing", dir.path / ".dangling.lock");
        CHECK_THROWS_AS(FileLock(dir.path / "dangling"), FileError);
        CHECK_FALSE(fs::exists(dir.path / "missing"));
    }

    TEST_CASE("FileLock moves: the moved-to object holds the lock, the moved-from one holds nothing") {
        TempDir dir;
        const auto target = dir.path / "f";
        std::optional<FileLock> outer;
        {
            FileLock first(target);
            FileLock second(std::move(first));
            CHECK_FALSE(first.owns_lock());  // NOLINT(bugprone-use-after-move): checking the moved-from state
            CHECK(second.owns_lock());
            outer.emplace(std::move(second));
        }
        CHECK_FALSE(lock_is_free(dir.path / ".f.lock"));
        outer.reset();
        CHECK(lock_is_free(dir.path / ".f.lock"));
    }

    TEST_CASE("FileLock blocks a second locker until the first releases") {
        TempDir dir;
        const auto target = dir.path / "f";
        std::atomic<bool> acquired{false};
        std::optional<FileLock> held(std::in_place, target);
        std::thread other([&] {
            FileLock second(target);
            acquired = true;
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        CHECK_FALSE(acquired.load());
        held.reset();
        other.join();
        CHECK(acquired.load());
    }

    TEST_CASE("FileLock reports a lock file it cannot create") {
        TempDir dir;
        write_plain(dir.path / "plain", "x");
        try {
            FileLock lock(dir.path / "plain" / "f");
            FAIL("expected FileError");
        } catch (const FileError& e) {
            CHECK(std::string(e.what()).find("plain") != std::string::npos);
        }
    }
}

TEST_SUITE("unit") {
    TEST_CASE("atomic_write_file syncs the new file before the rename and the directory after it") {
        using llmbatch::testing::FileOp;
        TempDir dir(true);
        const auto target = dir.path / "sub" / "f.json";
        atomic_write_file(target, "old");
        llmbatch::testing::FaultyFiles files;
        atomic_write_file(target, "new");
        const auto& ops = files.operations();
        const auto rename = std::find_if(ops.begin(), ops.end(), [](const auto& r) { return r.op == FileOp::rename; });
        REQUIRE(rename != ops.end());
        CHECK(rename->to == target.string());
        // The temporary's content is on disk before its name replaces the old one ...
        const auto synced_file = std::find_if(ops.begin(), rename, [&](const auto& r) {
            return r.op == FileOp::fsync && r.path == rename->path;
        });
        CHECK(synced_file != rename);
        // ... and the new name is on disk before the write returns.
        const auto synced_dir = std::find_if(rename, ops.end(), [&](const auto& r) {
            return r.op == FileOp::fsync && r.path == (dir.path / "sub").string();
        });
        CHECK(synced_dir != ops.end());
        CHECK(*read_file_if_exists(target) == "new");
    }
}

}  // namespace tests_unit_file_io
