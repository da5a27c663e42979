#pragma once
/// @file cli/backends.hpp
/// Where the `llmbatch` tool's providers come from: `EmulatorBackend` (the built-in Gemini, OpenAI,
/// Mistral and Anthropic emulators, each with its state in a file so a job created by one process is fetched
/// by a later one) or, with libcurl (`LLMBATCH_HAVE_CURL`), `LiveBackend` (the providers' APIs).
/// Either gives one `LLMService` over the four providers, so every command works on jobs of any
/// of them; `create` sends its jobs to `target_provider()` (`--provider`, else the backend's
/// default: the first provider with a key when live, Gemini on the emulators).

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/clock.hpp"
#include "llmbatch/detail/file_io.hpp"
#include "llmbatch/detail/header_check.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/providers/anthropic.hpp"
#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/providers/mistral.hpp"
#include "llmbatch/providers/openai.hpp"
#include "llmbatch/service.hpp"
#include "llmbatch/testing/anthropic_emulator.hpp"
#include "llmbatch/testing/gemini_emulator.hpp"
#include "llmbatch/testing/mistral_emulator.hpp"
#include "llmbatch/testing/openai_emulator.hpp"
#if LLMBATCH_HAVE_CURL
#include "llmbatch/transport/curl.hpp"
#endif

namespace llmbatch::cli {

/// Exit codes of `run`.
inline constexpr int exit_success = 0;  ///< everything worked
inline constexpr int exit_failure = 1;  ///< a job failed or an error occurred
inline constexpr int exit_usage = 2;    ///< bad usage or bad input; nothing was changed

/// Bad usage or bad input (exit code 2): an unknown option, a missing value, an unreadable
/// prompts file, an unknown job name.
class UsageError : public InvalidArgument {
public:
    using InvalidArgument::InvalidArgument;
};

/// The providers the tool knows, in the order `create` tries them.
inline constexpr std::string_view provider_names[] = {"gemini", "openai", "mistral", "anthropic"};

/// `name` checked to be one of `provider_names`.
/// @throws UsageError listing the known names.
[[nodiscard]] inline std::string checked_provider(std::string_view name) {
    for (auto known : provider_names)
        if (known == name) return std::string(name);
    throw UsageError(fmt::format("unknown provider '{}' (expected gemini, openai, mistral or anthropic)", name));
}

/// The environment variable holding `provider`'s API key, e.g. `OPENAI_API_KEY`.
[[nodiscard]] inline std::string key_variable(std::string_view provider) {
    std::string upper;
    for (char c : provider) upper += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    return upper + "_API_KEY";
}

/// What a backend is told before a subcommand talks to the provider.
struct BackendSettings {
    std::filesystem::path tracking_file{};
    /// Where the Gemini emulator keeps its jobs: `--emulator-state`, else
    /// `<tracking-file>.emulator.json`; the others' files sit beside it (see `emulator_state_for`).
    std::filesystem::path emulator_state{};
    /// `--provider`: where `create` sends jobs and `--base-url` points (empty: the default).
    std::string provider{};
    /// `--base-url`: another endpoint for that provider (empty: the provider's default).
    std::string base_url{};
    /// `create --system-prompt FILE`.
    std::optional<std::filesystem::path> system_prompt{};
    /// `create --model NAME` for the target provider (empty: its default).
    std::string model{};
};

/// Requirements on a backend object `b`:
/// 1. `b.configure(settings)` prepares the service for one command (it may read files and throw);
/// 2. `b.service()` gives an `LLMService` (or anything with its batch calls by provider name);
/// 3. `b.clock()` gives the `Clock` every time and wait of the tool goes through;
/// 4. `b.description()` says in words which providers the tool talks to (never a key);
/// 5. `b.target_provider()` names the provider `create` uses (after `configure`).
template <class B>
concept Backend = requires(B& b, const BackendSettings& settings) {
    b.configure(settings);
    b.service();
    requires Clock<std::remove_cvref_t<decltype(b.clock())>>;
    { b.description() } -> std::convertible_to<std::string>;
    { b.target_provider() } -> std::convertible_to<std::string>;
};

/// Sets the model and system prompt of a provider's `config` from the command's settings; the
/// model only when `provider` is the one jobs go to.
/// @throws UsageError for an unreadable system prompt file.
template <class Config>
void apply_generation_settings(Config& config, const BackendSettings& settings, std::string_view provider,
                               std::string_view target) {
    config.generation.filter_json = true;
    if (!settings.model.empty() && provider == target) config.generation.model = settings.model;
    if (settings.system_prompt) {
        try {
            config.generation.system_prompt = SystemPrompt::from_file(*settings.system_prompt);
        } catch (const InvalidArgument& e) {
            throw UsageError(e.what());
        }
    }
}

// ---- emulators ----------------------------------------------------------------------------------

/// The file an emulator's state is kept in (shared with its transport).
struct EmulatorStateFile {
    std::filesystem::path path{};          ///< empty: the state lives in memory only
    std::optional<std::string> known{};    ///< the text last read from or written to `path`
};

/// The state file of `provider`'s emulator: `gemini_state` itself for Gemini, and beside it
/// (`x.emulator.json` gives `x.emulator.openai.json`) for the others.
[[nodiscard]] inline std::filesystem::path emulator_state_for(const std::filesystem::path& gemini_state,
                                                              std::string_view provider) {
    if (provider == "gemini") return gemini_state;
    std::filesystem::path p = gemini_state;
    const auto ext = p.extension().string();
    p.replace_extension();
    p += fmt::format(".{}{}", provider, ext.empty() ? ".json" : ext);
    return p;
}

/// An `HttpTransport` that answers with an emulator whose state lives in a file: every call is a
/// transaction under the file's lock (`<path>.lock`) that first takes in changes another process
/// wrote, then answers, then saves the new state atomically. Copies share the emulator and the
/// file. Without a file it is the emulator itself.
/// Requirements: `Emulator` has `send`, `to_json()` and `restore(json)`.
/// Errors: a state file that cannot be read, understood or written is a `TransportError`
/// (nothing is answered then), so a fetch keeps its jobs pending.
template <class Emulator>
class PersistentEmulatorTransport {
public:
    PersistentEmulatorTransport(Emulator emulator, std::shared_ptr<EmulatorStateFile> file)
        : emulator_(std::move(emulator)), file_(std::move(file)) {}

    HttpResponse send(const HttpRequest& request) {
        if (!file_ || file_->path.empty()) return emulator_.send(request);
        try {
            ::llmbatch::detail::FileLock lock(file_->path);
            sync(emulator_, *file_);
            HttpResponse response = emulator_.send(request);
            save(emulator_, *file_);
            return response;
        } catch (const FileError& e) {
            throw TransportError(fmt::format("The emulator state could not be used: {}", e.what()), false);
        } catch (const InvalidArgument& e) {
            throw TransportError(e.what(), false);
        }
    }

    /// Takes in the file's state when it differs from what this process last read or wrote.
    /// Requirement: the caller holds the file's lock.
    /// @throws InvalidArgument naming the file when it is not an emulator state.
    static void sync(Emulator& emulator, EmulatorStateFile& file) {
        const auto text = ::llmbatch::detail::read_file_if_exists(file.path);
        if (!text || text == file.known) return;
        try {
            emulator.restore(Json::parse(*text));
        } catch (const std::exception& e) {
            throw InvalidArgument(fmt::format("Emulator state file '{}' cannot be used ({}); it was left unchanged. "
                                              "Move it away to start with no jobs.",
                                              file.path.string(), e.what()));
        }
        file.known = *text;
    }

    /// Writes the emulator's state when it changed. Requirement: the caller holds the file's lock.
    static void save(const Emulator& emulator, EmulatorStateFile& file) {
        std::string text = emulator.to_json().dump(2) + "\n";
        if (text == file.known) return;
        ::llmbatch::detail::atomic_write_file(file.path, text);
        file.known = std::move(text);
    }

private:
    Emulator emulator_;
    std::shared_ptr<EmulatorStateFile> file_;
};

/// Where an `EmulatorBackend` keeps the emulators' jobs.
enum class EmulatorPersistence {
    in_memory,   ///< in the emulator objects only (tests)
    state_file,  ///< in the emulator state files (see `emulator_state_for`)
};

/// One provider's emulator in an `EmulatorBackend`, with its state file.
template <class Emulator>
struct EmulatorSlot {
    Emulator emulator;
    std::shared_ptr<EmulatorStateFile> file = std::make_shared<EmulatorStateFile>();

    /// Loads the state file at `path` (none: memory only).
    void open(const std::filesystem::path& path) {
        file->known.reset();
        file->path = path;
        if (path.empty()) return;
        ::llmbatch::detail::FileLock lock(file->path);
        PersistentEmulatorTransport<Emulator>::sync(emulator, *file);
        // A new state file: the emulator names jobs after a sequence number that starts at 1, so
        // a fresh emulator would hand out the names of jobs an earlier state file (moved away, or
        // another --emulator-state) already gave, which the tracking file may still hold.
        // Starting the sequence at a random point keeps the names apart.
        if (!file->known && emulator.job_count() == 0) {
            std::random_device random;
            const std::uint64_t start = ((static_cast<std::uint64_t>(random()) << 20) ^ random()) % (1ULL << 40);
            emulator.set_next_job_number(start + 1);
        }
    }
    [[nodiscard]] PersistentEmulatorTransport<Emulator> transport() const { return {emulator, file}; }
};

/// The built-in emulators as the providers: offline, no key, deterministic answers. With
/// `EmulatorPersistence::state_file`, each command starts from the state files (another process's
/// jobs included) and every provider call saves them, so `create` in one process and `fetch` in a
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

    /// Loads the state files (when persistent) and builds the service for one command.
    /// @throws UsageError for an unreadable system prompt file or an unknown provider;
    ///         InvalidArgument for an unusable state file (which is left as it was).
    void configure(const BackendSettings& settings) {
        target_ = settings.provider.empty() ? std::string("gemini") : checked_provider(settings.provider);
        const bool files = persistence_ == EmulatorPersistence::state_file;
        gemini_.open(files ? emulator_state_for(settings.emulator_state, "gemini") : std::filesystem::path{});
        openai_.open(files ? emulator_state_for(settings.emulator_state, "openai") : std::filesystem::path{});
        mistral_.open(files ? emulator_state_for(settings.emulator_state, "mistral") : std::filesystem::path{});
        anthropic_.open(files ? emulator_state_for(settings.emulator_state, "anthropic") : std::filesystem::path{});
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
        return fmt::format("the built-in Gemini, OpenAI, Mistral and Anthropic emulators (state in {} and beside it)",
                           state_.empty() ? std::string("<tracking-file>.emulator.json") : state_.string());
    }

private:
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

/// "the <provider> API at <base_url>", the URL without user information, query string or
/// fragment: any of them may carry a key.
[[nodiscard]] inline std::string describe_api(std::string_view provider, std::string_view base_url) {
    return fmt::format("the {} API at {}", provider, llmbatch::detail::url_for_messages(base_url));
}

#if LLMBATCH_HAVE_CURL
// ---- live APIs ----------------------------------------------------------------------------------

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

    void configure(const BackendSettings& settings) {
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
#endif

}  // namespace llmbatch::cli
