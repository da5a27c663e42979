#pragma once
/// @file providers/common/ordering.hpp
/// Putting results back in input order by the key each request was submitted under, whatever
/// order the service answers in, and finding the requests it returned nothing for.
///
/// Keys are the requests' indices (`"0"`, `"1"`, ...) unless the caller submitted its own keys,
/// in which case it passes them (in input order) and they are looked up. Memory: one bit per
/// position that results reached (not per expected request), plus the caller's keys when given.

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
#include "llmbatch/detail/config.hpp"

namespace llmbatch {

/// Maps result keys to input positions and remembers which positions have a result.
class ResultOrder {
public:
    /// `request_keys`: the submitted keys in input order, or empty when keys are indices.
    /// `expected`: how many requests the job holds (0 when unknown); with keys given, their count.
    ResultOrder(const std::vector<std::string>& request_keys, std::size_t expected)
        : expected_(request_keys.empty() ? expected : request_keys.size()) {
        by_key_.reserve(request_keys.size());
        for (std::size_t i = 0; i < request_keys.size(); ++i) by_key_.emplace(request_keys[i], i);
        custom_ = !request_keys.empty();
    }

    /// The input position of a result carrying `key`, or nothing when the key names no request.
    [[nodiscard]] std::optional<std::size_t> index_of(std::string_view key) const {
        if (custom_) {
            const auto it = by_key_.find(std::string(key));
            if (it == by_key_.end()) return std::nullopt;
            return it->second;
        }
        return decimal_index(key, expected_);
    }

    /// Records a result at `index`; false when that position already had one.
    bool mark(std::size_t index) {
        if (index >= seen_.size()) seen_.resize(index + 1, false);
        if (seen_[index]) return false;
        seen_[index] = true;
        return true;
    }

    /// The number of positions: the expected count, or more when results named more.
    [[nodiscard]] std::size_t size() const noexcept { return std::max(expected_, seen_.size()); }

    /// The key of position `index` as submitted.
    [[nodiscard]] std::string key_of(std::size_t index) const {
        if (custom_)
            for (const auto& [k, i] : by_key_)
                if (i == index) return k;
        return std::to_string(index);
    }

    /// Calls `f(index)` for every position without a result, ascending.
    template <class F>
    void for_each_missing(F&& f) const {
        for (std::size_t i = 0; i < size(); ++i)
            if (i >= seen_.size() || !seen_[i]) f(i);
    }

    /// `key` as a canonical decimal index below `bound` (any bound when 0), else nothing.
    [[nodiscard]] static std::optional<std::size_t> decimal_index(std::string_view key, std::size_t bound) {
        std::size_t idx = 0;
        const auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), idx);
        if (key.empty() || ec != std::errc{} || ptr != key.data() + key.size() || (key.size() > 1 && key[0] == '0'))
            return std::nullopt;
        if (bound != 0 && idx >= bound) return std::nullopt;
        return idx;
    }

private:
    std::size_t expected_;
    bool custom_ = false;
    std::unordered_map<std::string, std::size_t> by_key_;
    std::vector<bool> seen_;
};

/// How a whole list of results (all in memory, e.g. inlined in a job) maps to input positions:
/// by key when every item carries a distinct key naming a request, else by position (the
/// documented order) when no item carries one.
/// @returns the input position of each item, or nothing when only some items carry a key (no
///          safe order exists).
[[nodiscard]] LLMBATCH_DECL std::optional<std::vector<std::size_t>> plan_order(
    const std::vector<std::string_view>& item_keys, const std::vector<std::string>& request_keys, std::size_t expected);

}  // namespace llmbatch

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/providers/common/impl/ordering.ipp"
#endif
