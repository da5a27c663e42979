#pragma once
/// @file detail/impl/json_scan.ipp
/// The definitions of `llmbatch/detail/json_scan.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "llmbatch/detail/fast_json.hpp"
#include "llmbatch/detail/json_scan.hpp"

namespace llmbatch::detail {

namespace json_scan_impl {

inline constexpr std::size_t npos = std::string_view::npos;

/// One past the closing quote of the string whose opening quote is at `pos`, or npos.
inline std::size_t string_end(std::string_view text, std::size_t pos) noexcept {
    const char* data = text.data();
    for (std::size_t from = pos + 1; from < text.size();) {
        const void* hit = std::memchr(data + from, '"', text.size() - from);
        if (hit == nullptr) return npos;
        const auto quote = static_cast<std::size_t>(static_cast<const char*>(hit) - data);
        std::size_t slashes = 0;  // an odd run of backslashes before it escapes it
        while (quote - slashes > pos + 1 && data[quote - slashes - 1] == '\\') ++slashes;
        if (slashes % 2 == 0) return quote + 1;
        from = quote + 1;
    }
    return npos;
}

inline bool ends_scalar(char c) noexcept {
    return c == ',' || c == '}' || c == ']' || c == ':' || c == '"' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// Whether the key literal `literal` (quotes included) is `key`.
inline bool key_is(std::string_view literal, std::string_view key) {
    const std::string_view inner = literal.substr(1, literal.size() - 2);
    if (inner.find('\\') == npos) return inner == key;
    const auto decoded = json_string_of(literal);
    return decoded && *decoded == key;
}

/// The search of `json_values_at`.
struct Finder {
    std::string_view text;
    std::span<const KeyPath> paths;
    std::vector<std::optional<std::string_view>>& found;

    /// The end of the value at `pos` (not a space), looking inside it for the paths `active`,
    /// whose first `depth` keys led to it.
    std::size_t value(std::size_t pos, std::size_t depth, const std::vector<std::size_t>& active) {
        if (active.empty() || text[pos] != '{') return json_value_end(text, pos);
        std::size_t at = json_skip_space(text, pos + 1);
        if (at < text.size() && text[at] == '}') return at + 1;
        while (at < text.size() && text[at] == '"') {
            const std::size_t key_end = string_end(text, at);
            if (key_end == npos) return npos;
            const std::string_view key = text.substr(at, key_end - at);
            std::size_t start = json_skip_space(text, key_end);
            if (start >= text.size() || text[start] != ':') return npos;
            start = json_skip_space(text, start + 1);
            if (start >= text.size()) return npos;
            std::vector<std::size_t> ending;  // the paths this key completes
            std::vector<std::size_t> deeper;  // the paths that go on inside its value
            for (const std::size_t p : active) {
                if (!key_is(key, paths[p][depth])) continue;
                found[p].reset();  // a repeated key: only the last one's value counts
                (paths[p].size() == depth + 1 ? ending : deeper).push_back(p);
            }
            const std::size_t end = value(start, depth + 1, deeper);
            if (end == npos) return npos;
            for (const std::size_t p : ending) found[p] = text.substr(start, end - start);
            at = json_skip_space(text, end);
            if (at < text.size() && text[at] == ',') {
                at = json_skip_space(text, at + 1);
                continue;
            }
            return at < text.size() && text[at] == '}' ? at + 1 : npos;
        }
        return npos;
    }
};

}  // namespace json_scan_impl

LLMBATCH_DECL std::size_t json_skip_space(std::string_view text, std::size_t pos) noexcept {
    if (pos == 0 && text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;  // a byte order mark opening the text
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' || text[pos] == '\r' || text[pos] == '\t')) ++pos;
    return pos;
}

LLMBATCH_DECL std::size_t json_value_end(std::string_view text, std::size_t pos) noexcept {
    using json_scan_impl::npos;
    pos = json_skip_space(text, pos);
    if (pos >= text.size()) return npos;
    const char first = text[pos];
    if (first == '"') return json_scan_impl::string_end(text, pos);
    if (first == '{' || first == '[') {
        char closers[256];  // the brackets to close, innermost last; deeper nesting spills over
        std::string spilled;
        std::size_t depth = 0;
        for (std::size_t at = pos; at < text.size(); ++at) {
            const char c = text[at];
            if (c == '"') {
                at = json_scan_impl::string_end(text, at);
                if (at == npos) return npos;
                --at;
            } else if (c == '{' || c == '[') {
                const char closer = c == '{' ? '}' : ']';
                if (depth < sizeof closers) closers[depth] = closer;
                else spilled.push_back(closer);
                ++depth;
            } else if (c == '}' || c == ']') {
                if (depth == 0) return npos;
                --depth;
                const char expected = depth < sizeof closers ? closers[depth] : spilled.back();
                if (depth >= sizeof closers) spilled.pop_back();
                if (c != expected) return npos;
                if (depth == 0) return at + 1;
            }
        }
        return npos;
    }
    if (first == '}' || first == ']' || first == ',' || first == ':') return npos;
    std::size_t end = pos;
    while (end < text.size() && !json_scan_impl::ends_scalar(text[end])) ++end;
    return end;
}

LLMBATCH_DECL std::vector<std::optional<std::string_view>> json_values_at(std::string_view text,
                                                                          std::span<const KeyPath> paths) {
    std::vector<std::optional<std::string_view>> found(paths.size());
    const std::size_t start = json_skip_space(text, 0);
    if (start >= text.size()) return found;
    std::vector<std::size_t> active;
    for (std::size_t p = 0; p < paths.size(); ++p)
        if (!paths[p].empty()) active.push_back(p);
    json_scan_impl::Finder finder{text, paths, found};
    const std::size_t end = finder.value(start, 0, active);
    if (end == json_scan_impl::npos || json_skip_space(text, end) != text.size()) return decltype(found)(paths.size());
    for (std::size_t p = 0; p < paths.size(); ++p)
        if (paths[p].empty()) found[p] = text.substr(start, end - start);
    return found;
}

LLMBATCH_DECL std::optional<std::string> json_string_of(std::string_view literal) {
    if (literal.size() < 2 || literal.front() != '"') return std::nullopt;
    nlohmann::json value = parse_json(literal);
    if (!value.is_string()) return std::nullopt;
    return std::move(value.get_ref<std::string&>());
}

}  // namespace llmbatch::detail
