// llmbatch: the batch command-line tool (create / fetch / list / cancel / refresh-errors / wait).
// The whole tool lives in cli.hpp and commands/; this file only picks the providers and the terminal:
// - no API key (GEMINI_API_KEY, OPENAI_API_KEY, MISTRAL_API_KEY, ANTHROPIC_API_KEY) or --emulator: the built-in
//   emulators, with the jobs of every provider kept in <tracking-file>.emulator.json so later runs see
//   them, on the system clock, with short phases (pending 2 s, running 5 s, finalizing 1 s,
//   cancelling 2 s) so jobs finish within seconds;
// - a key set, or --base-url given: the providers' APIs (or that endpoint) through libcurl.
#include "cli.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

/// Set by Ctrl-C: `wait` stops at its next check and says how to resume.
volatile std::sig_atomic_t interrupted = 0;

extern "C" void on_interrupt(int) { interrupted = 1; }

/// Emulator phases for people trying the tool: jobs finish within seconds.
template <class Options>
Options quick(Options options) {
    options.pending_for = std::chrono::seconds(2);
    options.running_for = std::chrono::seconds(5);
    if constexpr (requires { options.finalizing_for; }) options.finalizing_for = std::chrono::seconds(1);
    if constexpr (requires { options.cancelling_for; }) options.cancelling_for = std::chrono::seconds(2);
    return options;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    llmbatch::cli::RunOptions options;
    options.out_is_terminal = ::isatty(STDOUT_FILENO) == 1;
    options.err_is_terminal = ::isatty(STDERR_FILENO) == 1;
    options.interrupted = &interrupted;
    std::signal(SIGINT, on_interrupt);

    bool force_emulator = false, base_url = false;
    for (const auto& a : args) {
        if (a == "--emulator") force_emulator = true;
        if (a == "--base-url" || a.rfind("--base-url=", 0) == 0) base_url = true;
    }
    bool any_key = false;
    for (const auto provider : llmbatch::cli::provider_names)
        if (const char* key = std::getenv(llmbatch::cli::key_variable(provider).c_str()); key && *key) any_key = true;
    const bool live = !force_emulator && (any_key || base_url);

    if (live) {
#if LLMBATCH_HAVE_CURL
        llmbatch::cli::LiveBackend backend;
        return llmbatch::cli::run(args, backend, std::cout, std::cerr, options);
#else
        std::cerr << "Error: an API key or --base-url asks for a live API, but this llmbatch was built without "
                     "libcurl. Install libcurl (libcurl4-openssl-dev) and rebuild, or add --emulator to use the "
                     "built-in emulators.\n";
        return llmbatch::cli::exit_failure;
#endif
    }
    bool help = false;
    for (const auto& a : args) help = help || a == "--help" || a == "-h" || a == "--version" || a == "help";
    if (!force_emulator && !help)
        std::cerr << "No API key set (GEMINI_API_KEY, OPENAI_API_KEY, MISTRAL_API_KEY or ANTHROPIC_API_KEY): the "
                     "built-in emulators answer (offline).\n";
    using Clock = llmbatch::SystemClock;
    namespace testing = llmbatch::testing;
    llmbatch::cli::EmulatorBackend<Clock> backend(
        testing::BasicGeminiEmulator<Clock>(Clock{}, quick(testing::GeminiEmulatorOptions{})),
        testing::BasicOpenAIEmulator<Clock>(Clock{}, quick(testing::OpenAIEmulatorOptions{})),
        testing::BasicMistralEmulator<Clock>(Clock{}, quick(testing::MistralEmulatorOptions{})),
        testing::BasicAnthropicEmulator<Clock>(Clock{}, quick(testing::AnthropicEmulatorOptions{})),
        llmbatch::cli::EmulatorPersistence::state_file);
    return llmbatch::cli::run(args, backend, std::cout, std::cerr, options);
}
