// Shared pieces of the fuzz targets: the contract (llmbatch's typed errors are expected outcomes,
// anything else escaping is a bug the fuzzer reports) and a private scratch directory.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <system_error>

#include "llmbatch/error.hpp"

namespace llmbatch_fuzz {

/// Runs `f`; an `llmbatch::Error` (any typed error of the library) is an expected outcome.
/// Anything else propagates, and libFuzzer reports the uncaught exception with the input.
template <class F>
void expect_typed_errors(F&& f) {
    try {
        f();
    } catch (const llmbatch::Error&) {
    }
}

/// The fuzz input as text.
[[nodiscard]] inline std::string_view as_text(const std::uint8_t* data, std::size_t size) noexcept {
    return {reinterpret_cast<const char*>(data), size};
}

/// A fresh directory for one input (on tmpfs when there is one: the library syncs every file it
/// commits), removed with its content when done. Per input, not per process: libFuzzer ends a
/// timed run without running static destructors.
class ScratchDir {
public:
    ScratchDir() {
        std::filesystem::path base = std::filesystem::temp_directory_path();
        if (::access("/dev/shm", W_OK) == 0) base = "/dev/shm";
        std::string pattern = (base / "llmbatch-fuzz-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            std::perror("mkdtemp");
            std::abort();
        }
        path_ = pattern;
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }

    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

    /// Writes `bytes` to `name` in the directory and returns its path.
    [[nodiscard]] std::filesystem::path write(const std::string& name, std::string_view bytes) const {
        const auto file = path_ / name;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out.flush()) {
            std::perror(file.c_str());
            std::abort();
        }
        return file;
    }

private:
    std::filesystem::path path_;
};

}  // namespace llmbatch_fuzz
