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
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/error.hpp"
#include "llmbatch/detail/config.hpp"

namespace llmbatch {

using Json = nlohmann::json;

/// The prompts of one request; they are joined with `\n` into one user message.
using PromptSequence = std::vector<std::string>;

/// A sequence of prompt sequences: one element per request of the batch job.
/// `{{"prompt1"}, {"prompt2", "context"}}` makes a job of two requests.
using BatchPayload = std::vector<PromptSequence>;

/// Throws `InvalidArgument` when the payload is empty or holds an empty prompt sequence,
/// naming the offending index.
LLMBATCH_DECL void validate_payload(const BatchPayload& payload);

/// Joins the prompts of one request with `\n`, as the user message the model receives.
[[nodiscard]] LLMBATCH_DECL std::string join_prompts(const PromptSequence& prompts);

/// The payload restricted to `indices` (in the order given); used to resubmit failed requests.
[[nodiscard]] LLMBATCH_DECL BatchPayload select_requests(const BatchPayload& payload, const std::vector<std::size_t>& indices);

/// A system prompt given as literal text or as a file to read. Nothing is guessed from the
/// string's shape: say which one you mean.
class SystemPrompt {
public:
    /// The prompt is `text` itself.
    [[nodiscard]] static SystemPrompt from_text(std::string text) { return SystemPrompt(std::move(text)); }

    /// The prompt is the content of the file at `path`, read now.
    /// @throws InvalidArgument naming the path when it cannot be read.
    [[nodiscard]] LLMBATCH_DECL static SystemPrompt from_file(const std::filesystem::path& path);

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
[[nodiscard]] LLMBATCH_DECL std::vector<BatchRequest> to_requests(const BatchPayload& payload);

/// The key request `index` is submitted under: its own, else its index.
[[nodiscard]] LLMBATCH_DECL std::string request_key(const BatchRequest& request, std::size_t index);

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
LLMBATCH_DECL void validate_requests(const std::vector<BatchRequest>& requests, std::string_view provider,
                                     const KeyRules& rules = {});

}  // namespace llmbatch

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/impl/request.ipp"
#endif
