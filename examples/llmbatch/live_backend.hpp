#pragma once
/// @file live_backend.hpp
/// `LiveBackend`: the providers' APIs through libcurl as the `llmbatch` tool's providers (only with
/// `LLMBATCH_HAVE_CURL`).

#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "llmbatch/clock.hpp"
#include "llmbatch/providers/anthropic.hpp"
#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/providers/mistral.hpp"
#include "llmbatch/providers/openai.hpp"
#include "llmbatch/service.hpp"

#include "backend.hpp"

#if LLMBATCH_HAVE_CURL
#include "llmbatch/transport/curl.hpp"

namespace llmbatch::cli {

/// The providers' APIs through libcurl, on the system clock. Keys come from `GEMINI_API_KEY`,
/// `OPENAI_API_KEY`, `MISTRAL_API_KEY` and `ANTHROPIC_API_KEY`; a provider without a key is unavailable. `--base-url`
/// points the target provider elsewhere (e.g. an `emulator_server`, which accepts a placeholder
/// key when none is set).
class LiveBackend {
public:
    using Gemini = GeminiProvider<CurlTransport, SystemClock>;
    using OpenAI = OpenAIProvider<CurlTransport, SystemClock>;
    using Mistral = MistralProvider<CurlTransport, SystemClock>;
    using Anthropic = AnthropicProvider<CurlTransport, SystemClock>;
    using Service = LLMService<Gemini, OpenAI, Mistral, Anthropic>;

    /// The provider `create` uses when no `--provider` is given: the first with a key, else Gemini.
    [[nodiscard]] static std::string default_provider() {
        for (auto name : provider_names)
            if (const char* key = std::getenv(key_variable(name).c_str()); key && *key) return std::string(name);
        return "gemini";
    }

    /// @throws UsageError for emulator faults (a live API injects none).
    void configure(const BackendSettings& settings) {
        if (settings.emulator_faults.any())
            throw UsageError("the --emulator-fail-* and --emulator-http-errors options need the built-in emulators "
                             "(add --emulator, or unset the API keys)");
        target_ = settings.provider.empty() ? default_provider() : checked_provider(settings.provider);
        GeminiConfig gemini;
        OpenAIConfig openai;
        MistralConfig mistral;
        AnthropicConfig anthropic;
        aim(gemini, "gemini", settings);
        aim(openai, "openai", settings);
        aim(mistral, "mistral", settings);
        aim(anthropic, "anthropic", settings);
        service_.emplace(Gemini(std::move(gemini), CurlTransport{}, clock_),
                         OpenAI(std::move(openai), CurlTransport{}, clock_),
                         Mistral(std::move(mistral), CurlTransport{}, clock_),
                         Anthropic(std::move(anthropic), CurlTransport{}, clock_));
    }

    [[nodiscard]] Service& service() {
        if (!service_) throw std::logic_error("LiveBackend::service() called before configure().");
        return *service_;
    }
    [[nodiscard]] SystemClock& clock() noexcept { return clock_; }
    [[nodiscard]] const std::string& target_provider() const noexcept { return target_; }
    [[nodiscard]] std::string description() const {
        return describe_api(target_, target_url_);
    }

private:
    /// Applies the settings to one provider's config (the config's key, when empty, is read from
    /// the environment by the provider itself).
    template <class Config>
    void aim(Config& config, std::string_view name, const BackendSettings& settings) {
        apply_generation_settings(config, settings, name, target_);
        if (name != target_) return;
        if (!settings.base_url.empty()) {
            config.base_url = settings.base_url;
            const char* key = std::getenv(key_variable(name).c_str());
            if (!(key && *key)) config.api_key = "emulator-key";
        }
        target_url_ = config.base_url;
    }

    std::string target_ = "gemini";
    std::string target_url_;
    SystemClock clock_;
    std::optional<Service> service_;
};
}  // namespace llmbatch::cli
#endif
