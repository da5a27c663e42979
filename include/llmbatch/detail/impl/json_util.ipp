#pragma once
/// @file detail/impl/json_util.ipp
/// The definitions of `llmbatch/detail/json_util.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <charconv>
#include <cstdint>
#include <climits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <nlohmann/json.hpp>
#include "llmbatch/detail/json_util.hpp"

namespace llmbatch::detail {

LLMBATCH_DECL const nlohmann::json* find(const nlohmann::json& j, std::string_view key) {
    if (!j.is_object()) return nullptr;
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

LLMBATCH_DECL const nlohmann::json& member(const nlohmann::json& j, std::string_view key) {
    static const nlohmann::json empty = nlohmann::json::object();
    const auto* v = find(j, key);
    return v ? *v : empty;
}

LLMBATCH_DECL std::string get_string(const nlohmann::json& j, std::string_view key, std::string fallback) {
    const auto* v = find(j, key);
    return v && v->is_string() ? v->get<std::string>() : fallback;
}

LLMBATCH_DECL bool get_bool(const nlohmann::json& j, std::string_view key, bool fallback) {
    const auto* v = find(j, key);
    return v && v->is_boolean() ? v->get<bool>() : fallback;
}

LLMBATCH_DECL std::optional<std::int64_t> as_int64(const nlohmann::json& v) {
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

LLMBATCH_DECL std::optional<std::int64_t> get_int64(const nlohmann::json& j, std::string_view key) {
    const auto* v = find(j, key);
    if (!v || v->is_null()) return 0;
    return as_int64(*v);
}

LLMBATCH_DECL const nlohmann::json* find_path(const nlohmann::json& j, std::initializer_list<std::string_view> path) {
    const nlohmann::json* cur = &j;
    for (auto key : path) {
        cur = find(*cur, key);
        if (!cur) return nullptr;
    }
    return cur;
}

LLMBATCH_DECL std::string_view utf8_prefix(std::string_view text, std::size_t max) noexcept {
    if (text.size() <= max) return text;
    std::size_t cut = max;
    // Back off over continuation bytes (10xxxxxx) to the start of the character cut in two.
    for (int i = 0; i < 3 && cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80; ++i) --cut;
    if ((static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) cut = max;  // not UTF-8 anyway
    return text.substr(0, cut);
}

LLMBATCH_DECL std::string excerpt(std::string_view text, std::size_t max) {
    if (text.size() <= max) return std::string(text);
    return std::string(utf8_prefix(text, max)) + "...";
}

}  // namespace llmbatch::detail
