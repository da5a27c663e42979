#pragma once
/// @file backend.hpp
/// What the `llmbatch` tool needs from where its providers come from: the `Backend` concept, the
/// settings a command gives it, the tool's exit codes and its usage error. The backends are
/// `EmulatorBackend` (emulator_backend.hpp) and, with libcurl, `LiveBackend` (live_backend.hpp).
/// Either gives one `LLMService` over the four providers, so every command works on jobs of any
/// of them; `create` sends its jobs to `target_provider()` (`--provider`, else the backend's
/// default: the first provider with a key when live, Gemini on the emulators).

#include <concepts>
#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/clock.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/detail/header_check.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/progress.hpp"
#include "llmbatch/request.hpp"
#include "llmbatch/retry.hpp"

namespace llmbatch::cli {

/// Exit codes of `run`.
inline constexpr int exit_success = 0;  ///< everything worked
inline constexpr int exit_failure = 1;  ///< a job failed or an error occurred
inline constexpr int exit_usage = 2;    ///< bad usage or bad input; nothing was changed
inline constexpr int exit_refused = 3;  ///< nothing failed, but create refused a batch that has a pending job
inline constexpr int exit_interrupted = 130;  ///< `wait` stopped by Ctrl-C (SIGINT)

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

/// Failures the built-in emulators inject, to try failure handling offline
/// (`--emulator-fail-requests`, `--emulator-fail-job`, `--emulator-http-errors`). They are kept in
/// the emulator state file until used, and the request and job failures hit only the next job.
struct EmulatorFaults {
    std::vector<std::size_t> failed_requests{};  ///< request indexes of the next job created that fail
    bool fail_job = false;                       ///< the next job created fails as a whole
    std::size_t http_errors = 0;                 ///< the next calls that get `http_status`
    int http_status = 503;

    [[nodiscard]] bool any() const noexcept { return !failed_requests.empty() || fail_job || http_errors > 0; }
};

/// What a backend is told before a subcommand talks to the provider.
struct BackendSettings {
    std::filesystem::path tracking_file{};
    /// Where the emulators keep their jobs, one section per provider: `--emulator-state`, else
    /// `<tracking-file>.emulator.json`.
    std::filesystem::path emulator_state{};
    /// `--provider`: where `create` sends jobs and `--base-url` points (empty: the default).
    std::string provider{};
    /// `--base-url`: another endpoint for that provider (empty: the provider's default).
    std::string base_url{};
    /// `create --system-prompt FILE`.
    std::optional<std::filesystem::path> system_prompt{};
    /// `create --model NAME` for the target provider (empty: its default).
    std::string model{};
    /// Told before every retry of a provider call (the tool says it on stderr).
    std::function<void(const RetryNotice&)> on_retry{};
    /// Told how long uploads and results downloads progress (the tool shows it on stderr).
    std::function<void(const TransferProgress&)> on_transfer{};
    /// Failures the emulators inject (a live backend refuses any).
    EmulatorFaults emulator_faults{};
};

/// A retry as the tool says it on stderr, e.g.
/// `openai: GET https://api.openai.com/v1/batches/b failed (HTTP 503); retrying in 1.2 s (attempt 2 of 5)`.
[[nodiscard]] inline std::string retry_line(const RetryNotice& n) {
    return fmt::format("{}: {} {} failed ({}); retrying in {:.1f} s (attempt {} of {})", n.provider, n.method, n.url,
                       n.reason, static_cast<double>(n.wait.count()) / 1000.0, n.attempt + 1, n.max_attempts);
}

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

/// Sets the model, system prompt and retry notices of a provider's `config` from the command's
/// settings; the model only when `provider` is the one jobs go to.
/// @throws UsageError for an unreadable system prompt file.
template <class Config>
void apply_generation_settings(Config& config, const BackendSettings& settings, std::string_view provider,
                               std::string_view target) {
    config.generation.filter_json = true;
    config.retry.on_retry = settings.on_retry;
    config.on_transfer = settings.on_transfer;
    if (!settings.model.empty() && provider == target) config.generation.model = settings.model;
    if (settings.system_prompt) {
        try {
            config.generation.system_prompt = SystemPrompt::from_file(*settings.system_prompt);
        } catch (const InvalidArgument& e) {
            throw UsageError(e.what());
        }
    }
}

/// "the <provider> API at <base_url>", the URL without user information, query string or
/// fragment: any of them may carry a key.
[[nodiscard]] inline std::string describe_api(std::string_view provider, std::string_view base_url) {
    return fmt::format("the {} API at {}", provider, llmbatch::detail::url_for_messages(base_url));
}

}  // namespace llmbatch::cli
