#pragma once
/// @file detail/json_scan.hpp
/// Finding values in JSON text without parsing it: where one value ends, the text of the
/// values at paths of object keys, the text of each element of an array. Only strings and
/// brackets are read, each byte once, and nothing is built or copied: for cutting a large
/// document into the pieces that are then parsed one by one, such as a job object's inline
/// results into one result each. Scalars are not checked; the pieces are, when parsed.

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "llmbatch/detail/config.hpp"
#include "llmbatch/detail/fast_json.hpp"

namespace llmbatch::detail {

/// One past the end of the JSON value that starts at `pos` (whitespace before it skipped), or
/// `std::string_view::npos` when the text ends first or is not well nested (a bracket closed
/// by the other kind, a string left open, no value at all).
[[nodiscard]] LLMBATCH_DECL std::size_t json_value_end(std::string_view text, std::size_t pos = 0) noexcept;

/// The first non-whitespace position at or after `pos` (the text's size when there is none); at
/// position 0, past a UTF-8 byte order mark too (as nlohmann reads one).
[[nodiscard]] LLMBATCH_DECL std::size_t json_skip_space(std::string_view text, std::size_t pos) noexcept;

/// The text of the value at each of `paths` (object keys from the root; for a repeated key, the
/// last), found in one pass: nothing where a path is absent, and nothing at all when the text
/// is not one well-nested value.
[[nodiscard]] LLMBATCH_DECL std::vector<std::optional<std::string_view>> json_values_at(
    std::string_view text, std::span<const KeyPath> paths);

/// The string a JSON string literal (its quotes included) holds, or nothing when it is not one.
[[nodiscard]] LLMBATCH_DECL std::optional<std::string> json_string_of(std::string_view literal);

/// Calls `f(std::string_view element)` with the text of each element of the array `array`, in
/// order. False when `array` is not one well-nested array (the elements before the fault have
/// been handed over).
template <class F>
bool for_each_json_element(std::string_view array, F&& f) {
    std::size_t pos = json_skip_space(array, 0);
    if (pos >= array.size() || array[pos] != '[') return false;
    pos = json_skip_space(array, pos + 1);
    if (pos < array.size() && array[pos] == ']') return json_skip_space(array, pos + 1) == array.size();
    while (pos < array.size()) {
        const std::size_t end = json_value_end(array, pos);
        if (end == std::string_view::npos) return false;
        f(array.substr(pos, end - pos));
        pos = json_skip_space(array, end);
        if (pos < array.size() && array[pos] == ',') {
            pos = json_skip_space(array, pos + 1);
            continue;
        }
        return pos < array.size() && array[pos] == ']' && json_skip_space(array, pos + 1) == array.size();
    }
    return false;
}

}  // namespace llmbatch::detail

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/detail/impl/json_scan.ipp"
#endif
