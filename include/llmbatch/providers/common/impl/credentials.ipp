#pragma once
/// @file providers/common/impl/credentials.ipp
/// The definitions of `llmbatch/providers/common/credentials.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <nlohmann/json.hpp>
#include "llmbatch/model.hpp"
#include "llmbatch/providers/common/credentials.hpp"

namespace llmbatch {

LLMBATCH_DECL std::string resolve_api_key(std::string configured, const char* env_var) {
    if (configured.empty() && env_var != nullptr)
        if (const char* env = std::getenv(env_var)) configured = env;
    return configured;
}

}  // namespace llmbatch
