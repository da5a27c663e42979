#pragma once
/// @file providers/common/impl/credentials.ipp
/// The definitions of `llmbatch/providers/common/credentials.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <algorithm>
#include <cstddef>
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

LLMBATCH_DECL std::string Redactor::operator()(std::string text) const {
    if (secret_.size() < 4) return text;
    auto pos = text.find(secret_);
    if (pos == std::string::npos) return text;
    char* const d = text.data();
    if (mark.size() <= secret_.size()) {  // the text shrinks: fill it from the front
        char* write = d + pos;
        std::size_t read = pos;
        for (; pos != std::string::npos; pos = text.find(secret_, read)) {
            write = std::copy(d + read, d + pos, write);
            write = std::copy(mark.begin(), mark.end(), write);
            read = pos + secret_.size();
        }
        write = std::copy(d + read, d + text.size(), write);
        text.resize(static_cast<std::size_t>(write - d));
        return text;
    }
    // The text grows: find every occurrence, then fill it from the back.
    std::vector<std::size_t> found;
    for (; pos != std::string::npos; pos = text.find(secret_, pos + secret_.size())) found.push_back(pos);
    std::size_t read_end = text.size();
    text.resize(text.size() + found.size() * (mark.size() - secret_.size()));
    char* const g = text.data();  // the resize may have moved it
    char* write_end = g + text.size();
    for (auto it = found.rbegin(); it != found.rend(); ++it) {
        write_end = std::copy_backward(g + *it + secret_.size(), g + read_end, write_end);
        write_end = std::copy_backward(mark.begin(), mark.end(), write_end);
        read_end = *it;
    }
    return text;
}

}  // namespace llmbatch
