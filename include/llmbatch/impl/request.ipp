#pragma once
/// @file impl/request.ipp
/// The definitions of `llmbatch/request.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include "llmbatch/error.hpp"
#include "llmbatch/request.hpp"

namespace llmbatch {

LLMBATCH_DECL SystemPrompt SystemPrompt::from_file(const std::filesystem::path& path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw InvalidArgument(fmt::format("cannot read system prompt file '{}': it is a directory", path.string()));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InvalidArgument(fmt::format("cannot read system prompt file '{}'", path.string()));
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw InvalidArgument(fmt::format("cannot read system prompt file '{}'", path.string()));
    return SystemPrompt(ss.str());
}

LLMBATCH_DECL void validate_payload(const BatchPayload& payload) {
    if (payload.empty()) throw InvalidArgument("batch_payload must not be empty.");
    for (std::size_t i = 0; i < payload.size(); ++i)
        if (payload[i].empty())
            throw InvalidArgument(fmt::format(
                "Each prompt sequence in batch_payload must not be empty (request {} is empty).", i));
}

LLMBATCH_DECL std::string join_prompts(const PromptSequence& prompts) {
    std::string out;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        if (i) out += '\n';
        out += prompts[i];
    }
    return out;
}

LLMBATCH_DECL BatchPayload select_requests(const BatchPayload& payload, const std::vector<std::size_t>& indices) {
    BatchPayload out;
    out.reserve(indices.size());
    for (auto i : indices) {
        if (i >= payload.size())
            throw InvalidArgument(fmt::format("request index {} is out of range for a payload of {} request(s)", i,
                                              payload.size()));
        out.push_back(payload[i]);
    }
    return out;
}

LLMBATCH_DECL std::vector<BatchRequest> to_requests(const BatchPayload& payload) {
    validate_payload(payload);
    std::vector<BatchRequest> out;
    out.reserve(payload.size());
    for (std::size_t i = 0; i < payload.size(); ++i) out.push_back(BatchRequest::from_prompts(payload[i], std::to_string(i)));
    return out;
}

LLMBATCH_DECL std::string request_key(const BatchRequest& request, std::size_t index) {
    return request.key.empty() ? std::to_string(index) : request.key;
}

LLMBATCH_DECL void validate_requests(const std::vector<BatchRequest>& requests, std::string_view provider,
                                     const KeyRules& rules) {
    if (requests.empty()) throw InvalidArgument("batch_payload must not be empty.");
    std::unordered_set<std::string> seen;
    seen.reserve(requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
        const auto& r = requests[i];
        if (r.parts.empty())
            throw InvalidArgument(fmt::format(
                "Each prompt sequence in batch_payload must not be empty (request {} is empty).", i));
        if (!r.provider_options.is_null() && !r.provider_options.is_object())
            throw InvalidArgument(fmt::format("request {}: provider_options must be a JSON object", i));
        std::string key = request_key(r, i);
        if (rules.max_length && key.size() > rules.max_length)
            throw InvalidArgument(fmt::format("request {}: key '{}' is {} characters long, over {}'s limit of {}{}", i,
                                              key.substr(0, 80), key.size(), provider, rules.max_length,
                                              rules.described.empty() ? "" : fmt::format(" ({})", rules.described)));
        if (rules.allowed)
            for (char c : key)
                if (!rules.allowed(c))
                    throw InvalidArgument(fmt::format("request {}: key '{}' has a character {} does not accept{}", i,
                                                      key.substr(0, 80), provider,
                                                      rules.described.empty() ? "" : fmt::format(" ({})", rules.described)));
        if (!seen.insert(std::move(key)).second)
            throw InvalidArgument(fmt::format("request {}: key '{}' is used by an earlier request; keys must be unique",
                                              i, request_key(r, i).substr(0, 80)));
    }
}

}  // namespace llmbatch
