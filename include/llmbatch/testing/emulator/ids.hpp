#pragma once
/// @file testing/emulator/ids.hpp
/// Deterministic identifiers and timestamps shared by the provider emulators: the same seed gives
/// the same id on every platform and in every run, so tests can assert names and a tool can keep
/// its jobs across processes.
///
/// **Example**:
/// ```cpp
/// using namespace llmbatch::testing;
/// std::string id = detail::derived_token("gemini/file/1", 12, detail::lower_alnum);  // always the same
/// std::string when = detail::format_timestamp(ManualClock::default_utc_start());  // 2026-01-01T00:00:00.000000000Z
/// ```

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "llmbatch/detail/time.hpp"

namespace llmbatch::testing::detail {

using SysTime = std::chrono::system_clock::time_point;
using Nanos = std::chrono::nanoseconds;

inline constexpr std::string_view lower_alnum = "0123456789abcdefghijklmnopqrstuvwxyz";
inline constexpr std::string_view url_safe_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// 64-bit FNV-1a: a hash that is the same on every platform and in every run.
[[nodiscard]] constexpr std::uint64_t fnv1a64(std::string_view text) noexcept {
    std::uint64_t h = 14695981039346656037ull;
    for (char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
    }
    return h;
}

/// One step of the SplitMix64 generator.
[[nodiscard]] constexpr std::uint64_t splitmix64(std::uint64_t& state) noexcept {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/// `length` characters of `alphabet` drawn from a generator seeded with `seed`.
[[nodiscard]] inline std::string derived_token(std::string_view seed, std::size_t length, std::string_view alphabet) {
    std::uint64_t state = fnv1a64(seed);
    std::string out;
    out.reserve(length);
    for (std::size_t i = 0; i < length; ++i) out += alphabet[splitmix64(state) % alphabet.size()];
    return out;
}

/// RFC 3339 with exactly nine fractional digits, as Google's APIs write timestamps.
[[nodiscard]] inline std::string format_timestamp(SysTime t) {
    using namespace std::chrono;
    const auto whole = floor<seconds>(t);
    const auto nanos = duration_cast<nanoseconds>(t - whole).count();
    std::string text = llmbatch::detail::format_rfc3339(time_point_cast<system_clock::duration>(whole), false);
    text.pop_back();  // the 'Z'
    return fmt::format("{}.{:09}Z", text, nanos);
}

/// Parses a timestamp written by `format_timestamp` (any RFC 3339 time).
/// @throws std::invalid_argument when `text` is not RFC 3339.
[[nodiscard]] inline SysTime parse_timestamp(const std::string& text) {
    if (auto t = llmbatch::detail::parse_rfc3339(text)) return *t;
    throw std::invalid_argument(fmt::format("'{}' is not an RFC 3339 timestamp", text));
}

/// The current time of clock `c` as a system-clock time point (`c.utc_now()`).
template <class C>
[[nodiscard]] SysTime utc_now_of(C& c) {
    return std::chrono::time_point_cast<std::chrono::system_clock::duration>(
        std::chrono::system_clock::time_point(c.utc_now()));
}

/// Seconds since the Unix epoch of `t`, as a whole number (for providers that write epoch times).
[[nodiscard]] inline std::int64_t unix_seconds(SysTime t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace llmbatch::testing::detail

namespace llmbatch::testing {

/// A numbered source of deterministic ids: id number n of seed S is `derived_token("S/n")`.
/// The counter is part of an emulator's saved state, so ids never repeat across processes.
///
/// **Example**:
/// ```cpp
/// IdSequence files("gemini-emulator/file");
/// std::string a = files.next(12);  // 12 lowercase alphanumerics, the same in every run
/// ```
class IdSequence {
public:
    explicit IdSequence(std::string seed, std::uint64_t next_number = 1)
        : seed_(std::move(seed)), next_(next_number) {}

    /// A fresh id of `length` characters of `alphabet`; moves the counter on.
    [[nodiscard]] std::string next(std::size_t length, std::string_view alphabet = detail::lower_alnum) {
        return detail::derived_token(fmt::format("{}/{}", seed_, next_++), length, alphabet);
    }

    /// The number the next id is derived from.
    [[nodiscard]] std::uint64_t next_number() const noexcept { return next_; }
    /// Sets the number the next id is derived from (a restored state).
    void set_next_number(std::uint64_t number) noexcept { next_ = number; }

private:
    std::string seed_;
    std::uint64_t next_;
};

}  // namespace llmbatch::testing
