#pragma once
/// @file emulator_backend.hpp
/// `EmulatorBackend`: the built-in Gemini, OpenAI, Mistral and Anthropic emulators as the `llmbatch`
/// tool's providers, offline and without a key, their jobs kept in one state file (one section per
/// provider) so a job created by one process is fetched by a later one.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "llmbatch/clock.hpp"
#include "llmbatch/providers/anthropic.hpp"
#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/providers/mistral.hpp"
#include "llmbatch/providers/openai.hpp"
#include "llmbatch/service.hpp"
#include "llmbatch/testing/anthropic_emulator.hpp"
#include "llmbatch/testing/gemini_emulator.hpp"
#include "llmbatch/testing/mistral_emulator.hpp"
#include "llmbatch/testing/openai_emulator.hpp"
#include "llmbatch/testing/persistent_emulator.hpp"

#include "backend.hpp"

namespace llmbatch::cli {

using testing::EmulatorStateFile;
using testing::PersistentEmulatorTransport;

/// Where an `EmulatorBackend` keeps the emulators' jobs.
enum class EmulatorPersistence {
    in_memory,   ///< in the emulator objects only (tests)
    state_file,  ///< in the emulator state file, one section per provider
};

/// One provider's emulator in an `EmulatorBackend`, with its section of the state file.
template <class Emulator>
struct EmulatorSlot {
    Emulator emulator;
    std::shared_ptr<EmulatorStateFile> file = std::make_shared<EmulatorStateFile>();

    /// Loads this provider's section of the state file at `path` (none: memory only).
    void open(const std::filesystem::path& path, std::string_view provider) {
        file->path = path;
        file->section = std::string(provider);
        const bool saved = transport().open();
        // A new state: the emulator names jobs after a sequence number that starts at 1, so a
        // fresh emulator would hand out the names of jobs an earlier state file (moved away, or
        // another --emulator-state) already gave, which the tracking file may still hold.
        // Starting the sequence at a random point keeps the names apart.
        if (!path.empty() && !saved && emulator.job_count() == 0) {
            std::random_device random;
            const std::uint64_t start = ((static_cast<std::uint64_t>(random()) << 20) ^ random()) % (1ULL << 40);
            emulator.set_next_job_number(start + 1);
        }
    }
    [[nodiscard]] PersistentEmulatorTransport<Emulator> transport() const { return {emulator, file}; }
};

/// The built-in emulators as the providers: offline, no key, deterministic answers. With
/// `EmulatorPersistence::state_file`, each command starts from the state file (another process's
/// jobs included) and every provider call saves it, so `create` in one process and `fetch` in a
/// later one work together. Copies of the emulators given here share their state, so a test can
/// keep them and inject failures.
template <Clock C>
class EmulatorBackend {
public:
    using GeminiEmulator = testing::BasicGeminiEmulator<C>;
    using OpenAIEmulator = testing::BasicOpenAIEmulator<C>;
    using MistralEmulator = testing::BasicMistralEmulator<C>;
    using AnthropicEmulator = testing::BasicAnthropicEmulator<C>;
    using Gemini = GeminiProvider<PersistentEmulatorTransport<GeminiEmulator>, C>;
    using OpenAI = OpenAIProvider<PersistentEmulatorTransport<OpenAIEmulator>, C>;
    using Mistral = MistralProvider<PersistentEmulatorTransport<MistralEmulator>, C>;
    using Anthropic = AnthropicProvider<PersistentEmulatorTransport<AnthropicEmulator>, C>;
    using Service = LLMService<Gemini, OpenAI, Mistral, Anthropic>;

    EmulatorBackend(GeminiEmulator gemini, OpenAIEmulator openai, MistralEmulator mistral, AnthropicEmulator anthropic,
                    EmulatorPersistence persistence = EmulatorPersistence::in_memory)
        : gemini_{std::move(gemini)}, openai_{std::move(openai)}, mistral_{std::move(mistral)},
          anthropic_{std::move(anthropic)}, clock_(gemini_.emulator.clock()), persistence_(persistence) {}

    /// The Gemini emulator given, and OpenAI, Mistral and Anthropic emulators with their default
    /// options on its clock.
    explicit EmulatorBackend(GeminiEmulator gemini, EmulatorPersistence persistence = EmulatorPersistence::in_memory)
        : EmulatorBackend(gemini, OpenAIEmulator(gemini.clock()), MistralEmulator(gemini.clock()),
                          AnthropicEmulator(gemini.clock()), persistence) {}

    /// Loads the state file (when persistent) and builds the service for one command.
    /// @throws UsageError for an unreadable system prompt file or an unknown provider;
    ///         InvalidArgument for an unusable state file (which is left as it was).
    void configure(const BackendSettings& settings) {
        target_ = settings.provider.empty() ? std::string("gemini") : checked_provider(settings.provider);
        const auto path = persistence_ == EmulatorPersistence::state_file ? settings.emulator_state
                                                                           : std::filesystem::path{};
        gemini_.open(path, "gemini");
        openai_.open(path, "openai");
        mistral_.open(path, "mistral");
        anthropic_.open(path, "anthropic");
        state_ = settings.emulator_state;
        GeminiConfig gemini;
        OpenAIConfig openai;
        MistralConfig mistral;
        AnthropicConfig anthropic;
        gemini.api_key = openai.api_key = mistral.api_key = anthropic.api_key = "emulator-key";
        apply_generation_settings(gemini, settings, "gemini", target_);
        apply_generation_settings(openai, settings, "openai", target_);
        apply_generation_settings(mistral, settings, "mistral", target_);
        apply_generation_settings(anthropic, settings, "anthropic", target_);
        inject(settings.emulator_faults);
        service_.emplace(Gemini(std::move(gemini), gemini_.transport(), clock_),
                         OpenAI(std::move(openai), openai_.transport(), clock_),
                         Mistral(std::move(mistral), mistral_.transport(), clock_),
                         Anthropic(std::move(anthropic), anthropic_.transport(), clock_));
    }

    /// The service (after `configure`).
    [[nodiscard]] Service& service() {
        if (!service_) throw std::logic_error("EmulatorBackend::service() called before configure().");
        return *service_;
    }
    [[nodiscard]] C& clock() noexcept { return clock_; }
    [[nodiscard]] const std::string& target_provider() const noexcept { return target_; }
    /// The emulators (copies share their state).
    [[nodiscard]] GeminiEmulator& emulator() noexcept { return gemini_.emulator; }
    [[nodiscard]] OpenAIEmulator& openai_emulator() noexcept { return openai_.emulator; }
    [[nodiscard]] MistralEmulator& mistral_emulator() noexcept { return mistral_.emulator; }
    [[nodiscard]] AnthropicEmulator& anthropic_emulator() noexcept { return anthropic_.emulator; }

    [[nodiscard]] std::string description() const {
        if (persistence_ == EmulatorPersistence::in_memory)
            return "the built-in Gemini, OpenAI, Mistral and Anthropic emulators (in memory)";
        return fmt::format("the built-in Gemini, OpenAI, Mistral and Anthropic emulators (state in {})",
                           state_.empty() ? std::string("<tracking-file>.emulator.json") : state_.string());
    }

private:
    /// Hands `faults` to the emulator of the provider jobs go to.
    void inject(const EmulatorFaults& faults) {
        if (!faults.any()) return;
        const auto apply = [&](auto& emulator) {
            for (const std::size_t i : faults.failed_requests) emulator.inject_next_job_request_error(i);
            if (faults.http_errors > 0) emulator.inject_http_errors(faults.http_errors, faults.http_status, {}, {});
            if (faults.fail_job) emulator.fail_next_job();
        };
        if (target_ == "openai") apply(openai_.emulator);
        else if (target_ == "mistral") apply(mistral_.emulator);
        else if (target_ == "anthropic") apply(anthropic_.emulator);
        else apply(gemini_.emulator);
    }

    EmulatorSlot<GeminiEmulator> gemini_;
    EmulatorSlot<OpenAIEmulator> openai_;
    EmulatorSlot<MistralEmulator> mistral_;
    EmulatorSlot<AnthropicEmulator> anthropic_;
    C clock_;
    EmulatorPersistence persistence_;
    std::filesystem::path state_{};
    std::string target_ = "gemini";
    std::optional<Service> service_;
};

}  // namespace llmbatch::cli
