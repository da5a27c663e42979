#pragma once
// A fresh directory for one test, removed with its content at the end of the test.

#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace llmbatch_test {

struct TempDir {
    std::filesystem::path path;

    /// `in_memory` puts the directory on tmpfs when there is one, which keeps tests that commit
    /// many transactions fast (every commit syncs to disk otherwise).
    explicit TempDir(std::string_view prefix = "llmbatch-test", bool in_memory = false) {
        std::filesystem::path base = std::filesystem::temp_directory_path();
        if (in_memory && ::access("/dev/shm", W_OK) == 0) base = "/dev/shm";
        std::string pattern = (base / (std::string(prefix) + "-XXXXXX")).string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

}  // namespace llmbatch_test
