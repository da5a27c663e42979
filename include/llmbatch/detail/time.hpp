#pragma once
/// @file detail/time.hpp
/// RFC 3339 timestamps: parsing (up to nanoseconds, `Z` or numeric offsets) and formatting.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include "llmbatch/detail/config.hpp"

namespace llmbatch::detail {

using SysTime = std::chrono::system_clock::time_point;

namespace time_impl {
[[nodiscard]] LLMBATCH_DECL bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out);
}  // namespace time_impl

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`; `nullopt` when malformed.
[[nodiscard]] LLMBATCH_DECL std::optional<SysTime> parse_rfc3339(std::string_view s);

/// Formats as `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z` (fraction only when non-zero, trailing zeros kept
/// to nine digits as Google's APIs do).
[[nodiscard]] LLMBATCH_DECL std::string format_rfc3339(SysTime t, bool with_fraction = true);

}  // namespace llmbatch::detail

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/detail/impl/time.ipp"
#endif
