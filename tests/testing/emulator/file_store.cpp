#include "llmbatch/testing/emulator/file_store.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "llmbatch/testing/manual_clock.hpp"

namespace tests_testing_emulator_file_store {

using namespace std::chrono_literals;
using llmbatch::Json;
using llmbatch::testing::FileStore;
using llmbatch::testing::FileStoreError;
using llmbatch::testing::FileStoreOptions;
using llmbatch::testing::ManualClock;

namespace {

const auto now = ManualClock::default_utc_start();

FileStoreError::Kind error_kind(const std::function<void()>& f) {
    try {
        f();
    } catch (const FileStoreError& e) {
        return e.kind;
    }
    FAIL("no FileStoreError");
    return FileStoreError::Kind::io;
}

/// Uploads, reads back, lists and deletes through `store`.
void exercise(FileStore& store) {
    const auto s = store.start_upload("input", "application/jsonl", 10, now);
    CHECK(store.session(s.id)->declared_size == 10);
    CHECK_FALSE(store.upload(s.id, 0, "0123", false, now));
    CHECK(error_kind([&] { (void)store.upload(s.id, 3, "x", false, now); }) == FileStoreError::Kind::wrong_offset);
    CHECK(error_kind([&] { (void)store.upload(s.id, 4, "45", true, now); }) == FileStoreError::Kind::wrong_size);
    CHECK(error_kind([&] { (void)store.upload(s.id, 4, "4567890", false, now); }) == FileStoreError::Kind::wrong_size);
    CHECK(store.session(s.id)->received == 4);  // failed chunks leave nothing
    const auto file = store.upload(s.id, 4, "456789", true, now);
    REQUIRE(file);
    CHECK(file->size == 10);
    CHECK(file->mime_type == "application/jsonl");
    CHECK(file->display_name == "input");
    CHECK(file->expire_time == now + 48h);
    CHECK(file->id.size() == 12);
    CHECK(store.session(s.id) == nullptr);
    CHECK(error_kind([&] { (void)store.upload(s.id, 10, "", true, now); }) == FileStoreError::Kind::unknown_session);

    CHECK(store.read_all(file->id) == "0123456789");
    CHECK(store.read_at(file->id, 8, 5) == "89");
    CHECK(store.read_at(file->id, 12, 5).empty());
    std::vector<std::string> pieces;
    store.read(file->id, [&](std::string_view p) { pieces.emplace_back(p); }, 4);
    CHECK(pieces == std::vector<std::string>{"0123", "4567", "89"});

    const auto lines = store.add("lines", "text/plain", "a\r\nbb\n\nccc\n", now + 1s);
    std::vector<std::string> seen;
    store.for_each_line(lines.id, [&](std::string_view text, std::size_t n) { seen.push_back(fmt::format("{}:{}", n, text)); });
    CHECK(seen == std::vector<std::string>{"1:a", "2:bb", "3:", "4:ccc"});

    CHECK(store.list().size() == 2);
    CHECK(store.find(file->id)->size == 10);
    CHECK(store.remove(file->id));
    CHECK_FALSE(store.remove(file->id));
    CHECK(error_kind([&] { (void)store.read_all(file->id); }) == FileStoreError::Kind::unknown_file);
    store.remove_expired(now + 48h + 1s);
    CHECK(store.list().empty());
}

}  // namespace

TEST_SUITE("testing") {

TEST_CASE("FileStore: resumable upload in chunks, read, list, delete, expiry (in memory)") {
    FileStore store;
    exercise(store);
}

TEST_CASE("FileStore: the same on disk, bytes kept out of memory") {
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("llmbatch-file-store-{}", std::chrono::steady_clock::now().time_since_epoch().count());
    std::filesystem::remove_all(dir);
    {
        FileStoreOptions options;
        options.directory = dir;
        FileStore store(options);
        exercise(store);
        const auto kept = store.add("big", "application/jsonl", "line\n", now);
        CHECK(std::filesystem::file_size(dir / kept.id) == 5);
        const Json saved = store.to_json();
        CHECK_FALSE(saved["files"][0].contains("bytes"));
        FileStore again(options);
        again.restore(saved);
        CHECK(again.read_all(kept.id) == "line\n");
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("FileStore: ids are deterministic; the state round-trips with sessions and bytes") {
    FileStore a;
    FileStore b;
    const auto fa = a.add("x", "text/plain", std::string("\0\xff binary", 9), now);
    CHECK(b.add("y", "text/plain", "", now).id == fa.id);
    const auto s = a.start_upload("part", "text/plain", 6, now);
    (void)a.upload(s.id, 0, "abc", false, now);

    FileStore restored;
    restored.restore(Json::parse(a.to_json().dump()));
    CHECK(restored.read_all(fa.id) == std::string("\0\xff binary", 9));
    const auto done = restored.upload(s.id, 3, "def", true, now);
    REQUIRE(done);
    CHECK(restored.read_all(done->id) == "abcdef");
    CHECK(done->id != fa.id);
    CHECK(llmbatch::testing::detail::base64_decode(llmbatch::testing::detail::base64_encode("hello!?")) == "hello!?");
}

}

}  // namespace tests_testing_emulator_file_store
