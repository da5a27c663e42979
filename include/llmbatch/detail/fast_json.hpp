#pragma once
/// @file detail/fast_json.hpp
/// `parse_json`: `nlohmann::json::parse(text, nullptr, false)` (a discarded value for text that is
/// not JSON), faster when simdjson is there.
///
/// With `LLMBATCH_HAVE_SIMDJSON` defined to 1 (meson defines it, and links simdjson, when
/// Debian's `libsimdjson-dev` is found; a project of its own defines it and links `simdjson`),
/// the text is parsed by simdjson and the value built from its document; without it, or for
/// any text simdjson refuses (not JSON, nested deeper than 1,024 levels, a number beyond 64-bit
/// integers or doubles, a negative zero), by nlohmann's parser. Both give the same value: the
/// same types (a non-negative integer is unsigned, as nlohmann reads it), the same strings, and
/// for a repeated key the last value.
///
/// Meant for the many small documents of a results download (one line each), for answers and
/// for replies: the simdjson parser's buffers are kept per thread and grow to the largest text,
/// so a text over `fast_json_cached_bytes` is parsed by nlohmann instead (a parser of its own
/// would cost more in fresh memory than it saves, and hold several times the text).

#include <cstddef>
#include <span>
#include <string_view>

#include <nlohmann/json.hpp>

#include "llmbatch/detail/config.hpp"

namespace llmbatch::detail {

/// Texts up to this size reuse one simdjson parser per thread.
inline constexpr std::size_t fast_json_cached_bytes = 16 * 1024 * 1024;

/// A path of object keys from a document's root.
using KeyPath = std::span<const std::string_view>;

/// Whether `parse_json` uses simdjson.
inline constexpr bool fast_json_uses_simdjson =
#if defined(LLMBATCH_HAVE_SIMDJSON) && LLMBATCH_HAVE_SIMDJSON
    true;
#else
    false;
#endif

/// `text` parsed as `nlohmann::json::parse(text, nullptr, false)` parses it (see the file comment).
[[nodiscard]] LLMBATCH_DECL nlohmann::json parse_json(std::string_view text);

}  // namespace llmbatch::detail

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/detail/impl/fast_json.ipp"
#endif
