#pragma once
/// @file detail/json_util.hpp
/// Tolerant readers for provider JSON: int64 counters sent as strings, omitted defaults,
/// optional nested members.

#include <charconv>
#include <cstdint>
#include <climits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include "llmbatch/detail/config.hpp"

namespace llmbatch::detail {

/// `j[key]` when `j` is an object holding `key`, else `nullptr`.
[[nodiscard]] LLMBATCH_DECL const nlohmann::json* find(const nlohmann::json& j, std::string_view key);

/// `j[key]` when present, else a shared empty object: lets readers chain without copying.
[[nodiscard]] LLMBATCH_DECL const nlohmann::json& member(const nlohmann::json& j, std::string_view key);

/// A string member, or `fallback` when absent or not a string.
[[nodiscard]] LLMBATCH_DECL std::string get_string(const nlohmann::json& j, std::string_view key, std::string fallback = {});

/// A boolean member, or `fallback` when absent (proto3 JSON omits `false`).
[[nodiscard]] LLMBATCH_DECL bool get_bool(const nlohmann::json& j, std::string_view key, bool fallback = false);

/// Reads an integer written as a JSON number or as a decimal string (proto3 JSON writes int64
/// as strings); `nullopt` when it is neither.
[[nodiscard]] LLMBATCH_DECL std::optional<std::int64_t> as_int64(const nlohmann::json& v);

/// An integer member (number or decimal string), 0 when absent (proto3 JSON omits zeros).
/// `nullopt` when present but malformed.
[[nodiscard]] LLMBATCH_DECL std::optional<std::int64_t> get_int64(const nlohmann::json& j, std::string_view key);

/// Follows a path of object keys; `nullptr` when any step is missing.
[[nodiscard]] LLMBATCH_DECL const nlohmann::json* find_path(const nlohmann::json& j, std::initializer_list<std::string_view> path);

/// The longest prefix of `text` of at most `max` bytes that does not end inside a UTF-8
/// character (a cut never leaves a partial multi-byte sequence behind).
[[nodiscard]] LLMBATCH_DECL std::string_view utf8_prefix(std::string_view text, std::size_t max) noexcept;

/// Shortens text for an error message, marking the cut; never cuts a UTF-8 character in two.
[[nodiscard]] LLMBATCH_DECL std::string excerpt(std::string_view text, std::size_t max = 200);

/// The deepest nesting of JSON this library copies, converts or writes. Those operations recurse
/// once per level, so deeper input (from a model or a server) is refused rather than handled.
inline constexpr std::size_t max_json_depth = 512;

/// True when `j` (a `nlohmann::json` or `nlohmann::ordered_json`) nests arrays and objects more
/// than `limit` levels deep. Walks `j` without recursion, so any depth is safe to check.
template <class BasicJson>
[[nodiscard]] bool nests_deeper_than(const BasicJson& j, std::size_t limit = max_json_depth) {
    if (!j.is_structured()) return false;
    std::vector<std::pair<const BasicJson*, std::size_t>> todo{{&j, 1}};
    while (!todo.empty()) {
        const auto [node, depth] = todo.back();
        todo.pop_back();
        if (depth > limit) return true;
        for (const auto& child : *node)
            if (child.is_structured()) todo.emplace_back(&child, depth + 1);
    }
    return false;
}

}  // namespace llmbatch::detail

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/detail/impl/json_util.ipp"
#endif
