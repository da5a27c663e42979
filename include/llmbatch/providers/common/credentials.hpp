#pragma once
/// @file providers/common/credentials.hpp
/// API keys: where a provider finds its key (`resolve_api_key`), and how it keeps the key out of
/// every text that leaves it (`Redactor`).
///
/// **Example**:
/// ```cpp
/// const std::string key = llmbatch::resolve_api_key(config.api_key, "OPENAI_API_KEY");
/// llmbatch::Redactor redactor(key);
/// throw ProviderError(redactor(server_message), ...);   // "... [REDACTED] ..."
/// ```

#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "llmbatch/model.hpp"
#include "llmbatch/detail/config.hpp"

namespace llmbatch {

/// The key a provider uses: `configured` when not empty, else the environment variable
/// `env_var` (empty when that is unset too).
[[nodiscard]] LLMBATCH_DECL std::string resolve_api_key(std::string configured, const char* env_var);

/// Replaces every occurrence of a secret (an API key) in text that came back from a server or a
/// transport with `[REDACTED]`. Secrets shorter than 4 characters are not searched for (they
/// would match ordinary text); an empty secret redacts nothing.
class Redactor {
public:
    static constexpr std::string_view mark = "[REDACTED]";

    Redactor() = default;
    explicit Redactor(std::string secret) : secret_(std::move(secret)) {}

    /// `text` with every occurrence of the secret replaced, in place and in one pass whatever the
    /// number of occurrences (a whole reply may hold many).
    [[nodiscard]] LLMBATCH_DECL std::string operator()(std::string text) const;

    /// Redacts every string (values and object keys) of `json` in place, walking it without
    /// recursion.
    void redact_strings(nlohmann::json& json) const {
        if (secret_.size() < 4) return;
        std::vector<nlohmann::json*> todo{&json};
        while (!todo.empty()) {
            nlohmann::json* node = todo.back();
            todo.pop_back();
            if (node->is_string()) {
                auto& text = node->get_ref<std::string&>();
                if (text.find(secret_) != std::string::npos) text = (*this)(std::move(text));
            } else if (node->is_object()) {
                // Keys holding the secret are renamed (rare: the object is rebuilt only then).
                std::vector<std::string> leaking;
                for (const auto& item : node->items())
                    if (item.key().find(secret_) != std::string::npos) leaking.push_back(item.key());
                for (const auto& key : leaking) {
                    nlohmann::json value = std::move((*node)[key]);
                    node->erase(key);
                    (*node)[(*this)(key)] = std::move(value);
                }
                for (auto& child : *node) todo.push_back(&child);
            } else if (node->is_array()) {
                for (auto& child : *node) todo.push_back(&child);
            }
        }
    }

    /// Redacts an error's message, status and details in place.
    void redact_error(ErrorStatus& error) const {
        error.message = (*this)(std::move(error.message));
        error.status = (*this)(std::move(error.status));
        redact_strings(error.details);
    }

    /// Redacts the error of `job` and every string of its raw object, in place.
    void redact_job(BatchJob& job) const {
        if (job.error) redact_error(*job.error);
        redact_strings(job.raw);
    }

    [[nodiscard]] const std::string& secret() const noexcept { return secret_; }

private:
    std::string secret_;
};

}  // namespace llmbatch

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/providers/common/impl/credentials.ipp"
#endif
