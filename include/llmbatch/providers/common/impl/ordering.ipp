#pragma once
/// @file providers/common/impl/ordering.ipp
/// The definitions of `llmbatch/providers/common/ordering.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
#include "llmbatch/providers/common/ordering.hpp"

namespace llmbatch {

LLMBATCH_DECL std::optional<std::vector<std::size_t>> plan_order(const std::vector<std::string_view>& item_keys,
                                                                 const std::vector<std::string>& request_keys,
                                                                 std::size_t expected) {
    const std::size_t count = std::max(request_keys.empty() ? expected : request_keys.size(), item_keys.size());
    ResultOrder order(request_keys, count);
    std::vector<std::size_t> out;
    out.reserve(item_keys.size());
    bool by_key = !item_keys.empty();
    for (const auto key : item_keys) {
        const auto idx = key.empty() ? std::nullopt : order.index_of(key);
        if (!idx || !order.mark(*idx)) {
            by_key = false;
            break;
        }
        out.push_back(*idx);
    }
    if (by_key) return out;
    const bool some = std::any_of(item_keys.begin(), item_keys.end(), [](std::string_view k) { return !k.empty(); });
    const bool all = std::all_of(item_keys.begin(), item_keys.end(), [](std::string_view k) { return !k.empty(); });
    if (some && !all) return std::nullopt;
    out.clear();
    for (std::size_t i = 0; i < item_keys.size(); ++i) out.push_back(i);
    return out;
}

}  // namespace llmbatch
