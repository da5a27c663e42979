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

namespace llmbatch::detail {

/// `j[key]` when `j` is an object holding `key`, else `nullptr`.
[[nodiscard]] inline const nlohmann::json* find(const nlohmann::json& j, std::string_view key) {
    if (!j.is_object()) return nullptr;
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

/// `j[key]` when present, else a shared empty object: lets readers chain without copying.
[[nodiscard]] inline const nlohmann::json& member(const nlohmann::json& j, std::string_view key) {
    static const nlohmann::json empty = nlohmann::json::object();
    const auto* v = find(j, key);
    return v ? *v : empty;
}

/// A string member, or `fallback` when absent or not a string.
[[nodiscard]] inline std::string get_string(const nlohmann::json& j, std::string_view key, std::string fallback = {}) {
    const auto* v = find(j, key);
    return v && v->is_string() ? v->get<std::string>() : fallback;
}

/// A boolean member, or `fallback` when absent (proto3 JSON omits `false`).
[[nodiscard]] inline bool get_bool(const nlohmann::json& j, std::string_view key, bool fallback = false) {
    const auto* v = find(j, key);
    return v && v->is_boolean() ? v->get<bool>() : fallback;
}

/// Reads an integer written as a JSON number or as a decimal string (proto3 JSON writes int64
/// as strings); `nullopt` when it is neither.
[[nodiscard]] inline std::optional<std::int64_t> as_int64(const nlohmann::json& v) {
    if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
        return static_cast<std::int64_t>(u);
    }
    if (v.is_number_integer()) return v.get<std::int64_t>();
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (d >= -9.2e18 && d <= 9.2e18 && static_cast<double>(static_cast<std::int64_t>(d)) == d)
            return static_cast<std::int64_t>(d);
        return std::nullopt;
    }
    if (v.is_string()) {
        const auto& s = v.get_ref<const std::string&>();
        std::int64_t out = 0;
        auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        if (ec == std::errc{} && ptr == s.data() + s.size() && !s.empty()) return out;
    }
    return std::nullopt;
}

/// An integer member (number or decimal string), 0 when absent (proto3 JSON omits zeros).
/// `nullopt` when present but malformed.
[[nodiscard]] inline std::optional<std::int64_t> get_int64(const nlohmann::json& j, std::string_view key) {
    const auto* v = find(j, key);
    if (!v || v->is_null()) return 0;
    return as_int64(*v);
}

/// Follows a path of object keys; `nullptr` when any step is missing.
[[nodiscard]] inline const nlohmann::json* find_path(const nlohmann::json& j, std::initializer_list<std::string_view> path) {
    const nlohmann::json* cur = &j;
    for (auto key : path) {
        cur = find(*cur, key);
        if (!cur) return nullptr;
    }
    return cur;
}

/// The longest prefix of `text` of at most `max` bytes that does not end inside a UTF-8
/// character (a cut never leaves a partial multi-byte sequence behind).
[[nodiscard]] inline std::string_view utf8_prefix(std::string_view text, std::size_t max) noexcept {
    if (text.size() <= max) return text;
    std::size_t cut = max;
    // Back off over continuation bytes (10xxxxxx) to the start of the character cut in two.
    for (int i = 0; i < 3 && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80; ++i) --cut;
    if ((static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) cut = max;  // not UTF-8 anyway
    return text.substr(0, cut);
}

/// Shortens text for an error message, marking the cut; never cuts a UTF-8 character in two.
[[nodiscard]] inline std::string excerpt(std::string_view text, std::size_t max = 200) {
    if (text.size() <= max) return std::string(text);
    return std::string(utf8_prefix(text, max)) + "...";
}

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
