#pragma once
/// @file impl/model.ipp
/// The definitions of `llmbatch/model.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include "llmbatch/error.hpp"
#include "llmbatch/request.hpp"
#include "llmbatch/results.hpp"
#include "llmbatch/model.hpp"

namespace llmbatch {

LLMBATCH_DECL bool client_token_valid(std::string_view token) noexcept {
    if (token.empty() || token.size() > 64) return false;
    for (const char c : token)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    return true;
}

LLMBATCH_DECL void check_client_token(const CreateOptions& options) {
    if (!options.client_token.empty() && !client_token_valid(options.client_token))
        throw InvalidArgument(fmt::format("The client token ({} bytes) is not 1 to 64 characters of [A-Za-z0-9_-].",
                                          options.client_token.size()));
}

LLMBATCH_DECL RequestOutcome missing_outcome(std::size_t index, std::string key, JobState state) {
    RequestOutcome missing;
    missing.index = index;
    missing.key = std::move(key);
    if (state == JobState::cancelled)
        missing.error = ErrorStatus{0, "CANCELLED", "the job was cancelled before this request finished", nullptr};
    else if (state == JobState::expired)
        missing.error = ErrorStatus{0, "EXPIRED", "the job expired before this request finished", nullptr};
    else
        missing.error = ErrorStatus{0, "MISSING_RESULT", "the service returned no result for this request", nullptr};
    return missing;
}

}  // namespace llmbatch
