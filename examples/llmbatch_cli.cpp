// llmbatch: the batch command-line tool (create / fetch / list / cancel / refresh-errors / wait).
// The whole tool lives in cli/cli.hpp; this file only picks the provider and the terminal:
// - GEMINI_API_KEY unset (or --emulator): the built-in Gemini emulator, with its jobs kept in
//   <tracking-file>.emulator.json so later runs see them, on the system clock, with short phases
//   (pending 2 s, running 5 s) so jobs finish within seconds;
// - GEMINI_API_KEY set, or --base-url given: the Gemini API (or that endpoint) through libcurl.
#include "cli/cli.hpp"

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    llmbatch::cli::RunOptions options;
    options.out_is_terminal = ::isatty(STDOUT_FILENO) == 1;

    bool force_emulator = false, base_url = false;
    for (const auto& a : args) {
        if (a == "--emulator") force_emulator = true;
        if (a == "--base-url" || a.rfind("--base-url=", 0) == 0) base_url = true;
    }
    const char* key = std::getenv("GEMINI_API_KEY");
    const bool live = !force_emulator && ((key && *key) || base_url);

    if (live) {
#if LLMBATCH_HAVE_CURL
        llmbatch::cli::LiveBackend backend;
        return llmbatch::cli::run(args, backend, std::cout, std::cerr, options);
#else
        std::cerr << "Error: GEMINI_API_KEY or --base-url asks for the Gemini API, but this llmbatch was built "
                     "without libcurl. Install libcurl (libcurl4-openssl-dev) and rebuild, or add --emulator "
                     "to use the built-in emulator.\n";
        return llmbatch::cli::exit_failure;
#endif
    }
    llmbatch::testing::BasicGeminiEmulator<llmbatch::SystemClock> emulator(llmbatch::SystemClock{},
                                                                           llmbatch::cli::quick_emulator_options());
    llmbatch::cli::EmulatorBackend<llmbatch::SystemClock> backend(emulator, llmbatch::cli::EmulatorPersistence::state_file);
    return llmbatch::cli::run(args, backend, std::cout, std::cerr, options);
}
