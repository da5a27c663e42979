#pragma once
/// @file request.hpp
/// What goes into a batch job: `BatchRequest` (a key, the user's text, per-request settings that
/// override the job's, and provider-specific JSON), and the user's document's convenience, the
/// `BatchPayload` (a sequence of prompt sequences), which converts to requests.
///
/// **Example**:
/// ```cpp
/// std::vector<llmbatch::BatchRequest> requests = llmbatch::to_requests({{"Classify: physics"}, {"Classify: French"}});
/// requests[1].key = "french";
/// requests[1].settings.max_output_tokens = 64;
/// requests[1].provider_options = {{"generationConfig", {{"topK", 4}}}};  // merged into Gemini's request
/// ```

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

namespace llmbatch {

using Json = nlohmann::json;

/// The prompts of one request; they are joined with `\n` into one user message.
using PromptSequence = std::vector<std::string>;

/// A sequence of prompt sequences: one element per request of the batch job.
/// `{{"prompt1"}, {"prompt2", "context"}}` makes a job of two requests.
using BatchPayload = std::vector<PromptSequence>;

/// Throws `InvalidArgument` when the payload is empty or holds an empty prompt sequence,
/// naming the offending index.
inline void validate_payload(const BatchPayload& payload) {
    if (payload.empty()) throw InvalidArgument("batch_payload must not be empty.");
    for (std::size_t i = 0; i < payload.size(); ++i)
        if (payload[i].empty())
            throw InvalidArgument(fmt::format(
                "Each prompt sequence in batch_payload must not be empty (request {} is empty).", i));
}

/// Joins the prompts of one request with `\n`, as the user message the model receives.
[[nodiscard]] inline std::string join_prompts(const PromptSequence& prompts) {
    std::string out;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        if (i) out += '\n';
        out += prompts[i];
    }
    return out;
}

/// The payload restricted to `indices` (in the order given); used to resubmit failed requests.
[[nodiscard]] inline BatchPayload select_requests(const BatchPayload& payload, const std::vector<std::size_t>& indices) {
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

/// A system prompt given as literal text or as a file to read. Nothing is guessed from the
/// string's shape: say which one you mean.
class SystemPrompt {
public:
    /// The prompt is `text` itself.
    [[nodiscard]] static SystemPrompt from_text(std::string text) { return SystemPrompt(std::move(text)); }

    /// The prompt is the content of the file at `path`, read now.
    /// @throws InvalidArgument naming the path when it cannot be read.
    [[nodiscard]] static SystemPrompt from_file(const std::filesystem::path& path) {
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

    [[nodiscard]] const std::string& text() const noexcept { return text_; }

private:
    explicit SystemPrompt(std::string text) : text_(std::move(text)) {}
    std::string text_;
};

/// Settings of one request that override the job's (the provider's configuration); unset
/// fields keep the job's.
struct RequestSettings {
    std::optional<SystemPrompt> system_prompt{};
    std::optional<int> max_output_tokens{};
    std::optional<double> temperature{};
    /// A JSON schema the answer must follow (structured output), for providers that support it;
    /// null: none.
    Json json_schema = nullptr;
};

/// One request of a batch job. (Not an aggregate: a braced list of prompts means a
/// `BatchPayload`, never a request.)
struct BatchRequest {
    BatchRequest() = default;
    /// A request whose user message has `parts`, under `key` (empty: its index).
    explicit BatchRequest(std::vector<std::string> parts, std::string key = {})
        : key(std::move(key)), parts(std::move(parts)) {}

    /// The request's key, unique within the job; results carry it back. Empty: its index.
    std::string key{};
    /// The user message, as text parts (joined with `\n` by providers that take one text).
    std::vector<std::string> parts{};
    /// Overrides of the job's settings for this request.
    RequestSettings settings{};
    /// A JSON object merged (RFC 7386 merge patch) into the request the provider builds, for
    /// anything the neutral fields do not name; null or `{}`: nothing.
    Json provider_options = nullptr;

    /// A request of one prompt sequence (its prompts are its parts).
    [[nodiscard]] static BatchRequest from_prompts(PromptSequence prompts, std::string key = {}) {
        return BatchRequest(std::move(prompts), std::move(key));
    }
};

/// The requests of a payload: request `i` has key `"i"` and the prompts of element `i` as parts.
/// @throws InvalidArgument as `validate_payload` does.
[[nodiscard]] inline std::vector<BatchRequest> to_requests(const BatchPayload& payload) {
    validate_payload(payload);
    std::vector<BatchRequest> out;
    out.reserve(payload.size());
    for (std::size_t i = 0; i < payload.size(); ++i) out.push_back(BatchRequest::from_prompts(payload[i], std::to_string(i)));
    return out;
}

/// The key request `index` is submitted under: its own, else its index.
[[nodiscard]] inline std::string request_key(const BatchRequest& request, std::size_t index) {
    return request.key.empty() ? std::to_string(index) : request.key;
}

/// What a provider accepts as a request key.
struct KeyRules {
    std::size_t max_length = 0;  ///< 0: no limit
    /// True for a character allowed in a key; null: any character.
    bool (*allowed)(char c) = nullptr;
    std::string_view described{};  ///< the rule in words, for messages
};

/// Checks requests before anything is sent: at least one, each with non-empty text, keys (as
/// submitted: `request_key`) unique and within `rules`, `provider_options` an object or null.
/// @throws InvalidArgument naming the first offending request.
inline void validate_requests(const std::vector<BatchRequest>& requests, std::string_view provider,
                              const KeyRules& rules = {}) {
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
