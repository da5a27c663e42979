#pragma once
/// @file service_types.hpp
/// The vocabulary of `LLMService` (service.hpp): what a create returns (`CreatedBatchJob`), how
/// a provider fared in a call (`ProviderStatus`, `ProviderReporter`), what `health_check`
/// reports (`ProviderHealth`).
///
/// Example:
/// @code
/// auto [provider_name, job_name] = service.create_batch_job(payload);   // CreatedBatchJob
/// for (const auto& [provider, available] : service.health_check()) { ... }  // ProviderHealth
/// @endcode

#include <array>
#include <cstddef>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "llmbatch/concepts.hpp"
#include "llmbatch/model.hpp"

namespace llmbatch {

/// What `LLMService::create_batch_job` returns: where the job lives, what it is called, and the
/// files uploaded for it (to delete once the job is done).
/// Supports structured bindings of the first two, as the user's document's tuple:
/// `auto [provider_name, job_name] = service.create_batch_job(...)`.
struct CreatedBatchJob {
    std::string provider_name{};
    std::string job_name{};
    std::vector<std::string> input_files{};

    friend bool operator==(const CreatedBatchJob&, const CreatedBatchJob&) = default;

    template <std::size_t I>
    [[nodiscard]] const std::string& get() const noexcept {
        static_assert(I < 2, "CreatedBatchJob binds as (provider_name, job_name)");
        if constexpr (I == 0) return provider_name;
        else return job_name;
    }
};

/// How a provider fared in one facade call, for the optional reporter.
enum class ProviderStatus { success, quota, failure, unsupported };

[[nodiscard]] constexpr std::string_view to_string(ProviderStatus s) noexcept {
    switch (s) {
        case ProviderStatus::success: return "success";
        case ProviderStatus::quota: return "quota";
        case ProviderStatus::failure: return "failure";
        case ProviderStatus::unsupported: break;
    }
    return "unsupported";
}

/// Called after each provider attempt: provider name, outcome, and the error when there was one.
using ProviderReporter = std::function<void(std::string_view provider, ProviderStatus status, const std::exception* error)>;

/// One line of `LLMService::health_check`: a provider and whether it can take calls (binds as
/// `auto [provider, available]`, the document's `(name, bool)` pair).
struct ProviderHealth {
    std::string provider{};
    bool available = false;

    friend bool operator==(const ProviderHealth&, const ProviderHealth&) = default;
};

namespace detail {
/// False when two of `Ps` share a name; true when some have none (that is reported on its own).
template <class... Ps>
[[nodiscard]] consteval bool provider_names_unique() {
    if constexpr ((has_name<Ps> && ...)) {
        constexpr std::array<std::string_view, sizeof...(Ps)> names{Ps::name...};
        for (std::size_t i = 0; i < names.size(); ++i)
            for (std::size_t j = i + 1; j < names.size(); ++j)
                if (names[i] == names[j]) return false;
    }
    return true;
}
template <class P, class... Ps>
inline constexpr bool is_one_of = (std::is_same_v<P, Ps> || ...);
}  // namespace detail

}  // namespace llmbatch

template <>
struct std::tuple_size<llmbatch::CreatedBatchJob> : std::integral_constant<std::size_t, 2> {};
template <std::size_t I>
struct std::tuple_element<I, llmbatch::CreatedBatchJob> {
    using type = const std::string;
};
