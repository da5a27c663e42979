// The user's document's "Complete Example" in C++: create a batch job through LLMService, poll it
// until done, fetch the results and print each document with its category.
//
//   quickstart [--provider gemini|openai|mistral|anthropic] [--base-url URL] [--poll-interval SECONDS]
//
// - The provider's key unset (GEMINI_API_KEY, OPENAI_API_KEY, MISTRAL_API_KEY or ANTHROPIC_API_KEY) and no
//   --base-url: that provider's built-in emulator, in memory, on virtual time (the 10-second
//   polling sleeps cost nothing), offline.
// - The key set: the provider's live API through the libcurl transport.
// - --base-url URL: that endpoint through the libcurl transport (e.g. the loopback emulator server,
//   `emulator_server --provider openai --advance-per-poll 10`); the key defaults to a placeholder.
// Which path runs is reported on stderr, so stdout is the same on every path (but the job name).
#include <llmbatch/llmbatch.hpp>
#include <llmbatch/providers/anthropic.hpp>
#include <llmbatch/providers/mistral.hpp>
#include <llmbatch/providers/openai.hpp>
#include <llmbatch/testing/anthropic_emulator.hpp>
#include <llmbatch/testing/gemini_emulator.hpp>
#include <llmbatch/testing/mistral_emulator.hpp>
#include <llmbatch/testing/openai_emulator.hpp>
#include <llmbatch/testing/manual_clock.hpp>
#if LLMBATCH_HAVE_CURL
#include <llmbatch/transport/curl.hpp>
#endif

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#ifndef LLMBATCH_EXAMPLES_DIR
#define LLMBATCH_EXAMPLES_DIR "examples"
#endif

namespace {

/// The document's workflow, for any service and clock.
template <class Service, class Clock>
int run(Service& service, Clock& clock, std::chrono::milliseconds poll_interval) {
    const std::vector<std::string> documents = {
        "Geography GCSE specification document",
        "French GCSE speaking assessment",
        "Mathematics GCSE past paper 2023",
    };
    llmbatch::BatchPayload batch_payload;
    for (const auto& doc : documents) batch_payload.push_back({fmt::format("Categorize this document: {}", doc)});

    std::puts("Creating batch job...");
    auto [provider_name, job_name] = service.create_batch_job(batch_payload, {.filter_json = true});
    fmt::print("Created job: {}\n", job_name);

    std::puts("Waiting for completion...");
    while (true) {
        const auto status = service.get_batch_job_status(provider_name, job_name);
        if (status.done) break;
        fmt::print("  Status: {}\n", status.state);
        std::fflush(stdout);
        clock.sleep_for(std::chrono::duration_cast<typename Clock::duration>(poll_interval));
    }

    std::puts("Fetching results...");
    try {
        const auto results = service.fetch_batch_results(provider_name, job_name);
        for (std::size_t i = 0; i < documents.size() && i < results.size(); ++i) {
            fmt::print("\nDocument: {}\n", documents[i]);
            if (results[i].ok())
                fmt::print("Category: {}\n", results[i].value->dump());
            else
                fmt::print("Failed: {}\n", results[i].error->message);
        }
    } catch (const llmbatch::InvalidArgument& e) {
        fmt::print(stderr, "Job not ready: {}\n", e.what());
        return 1;
    } catch (const llmbatch::ProviderError& e) {
        fmt::print(stderr, "Processing failed: {}\n", e.what());
        return 1;
    }
    return 0;
}

struct Args {
    std::string provider = "gemini";
    std::string base_url;
    std::chrono::milliseconds poll_interval{10'000};
};

Args parse_args(int argc, char** argv) {
    Args args;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if ((arg == "--base-url" || arg == "--poll-interval" || arg == "--provider") && i + 1 < argc) {
            const std::string value = argv[++i];
            if (arg == "--base-url") {
                args.base_url = value;
                continue;
            }
            if (arg == "--provider") {
                if (value != "gemini" && value != "openai" && value != "mistral" && value != "anthropic")
                    throw llmbatch::InvalidArgument(
                        fmt::format("--provider takes gemini, openai, mistral or anthropic, not '{}'", value));
                args.provider = value;
                continue;
            }
            char* end = nullptr;
            const double seconds = std::strtod(value.c_str(), &end);
            if (end == value.c_str() || *end != '\0' || !(seconds >= 0))
                throw llmbatch::InvalidArgument(fmt::format("--poll-interval takes seconds >= 0, not '{}'", value));
            args.poll_interval = std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
        } else {
            throw llmbatch::InvalidArgument(fmt::format(
                "unknown or incomplete option '{}'\nusage: quickstart [--provider gemini|openai|mistral|anthropic] [--base-url URL] "
                "[--poll-interval SECONDS]", arg));
        }
    }
    return args;
}

// What differs between providers: the provider, config and emulator types, the key's name.
struct GeminiKind {
    template <class Transport, class ClockT>
    using provider = llmbatch::GeminiProvider<Transport, ClockT>;
    using config = llmbatch::GeminiConfig;
    using emulator = llmbatch::testing::GeminiEmulator;
    static constexpr std::string_view title = "Gemini";
    static constexpr std::string_view key_env = "GEMINI_API_KEY";
};
struct OpenAIKind {
    template <class Transport, class ClockT>
    using provider = llmbatch::OpenAIProvider<Transport, ClockT>;
    using config = llmbatch::OpenAIConfig;
    using emulator = llmbatch::testing::OpenAIEmulator;
    static constexpr std::string_view title = "OpenAI";
    static constexpr std::string_view key_env = "OPENAI_API_KEY";
};
struct AnthropicKind {
    template <class Transport, class ClockT>
    using provider = llmbatch::AnthropicProvider<Transport, ClockT>;
    using config = llmbatch::AnthropicConfig;
    using emulator = llmbatch::testing::AnthropicEmulator;
    static constexpr std::string_view title = "Anthropic";
    static constexpr std::string_view key_env = "ANTHROPIC_API_KEY";
};
struct MistralKind {
    template <class Transport, class ClockT>
    using provider = llmbatch::MistralProvider<Transport, ClockT>;
    using config = llmbatch::MistralConfig;
    using emulator = llmbatch::testing::MistralEmulator;
    static constexpr std::string_view title = "Mistral";
    static constexpr std::string_view key_env = "MISTRAL_API_KEY";
};

/// Runs the document's workflow on one provider: its emulator when offline, libcurl when live.
template <class Kind>
int run_on(const Args& args) {
    using Config = typename Kind::config;
    using ManualClock = llmbatch::testing::ManualClock;
    using Emulator = typename Kind::emulator;  // on a ManualClock
    Config config;
    config.generation.system_prompt = llmbatch::SystemPrompt::from_file(LLMBATCH_EXAMPLES_DIR "/prompts/categorise.md");
    config.generation.filter_json = true;

    const char* key = std::getenv(Kind::key_env.data());
    const bool live = (key && *key) || !args.base_url.empty();
    if (!live) {
        // Offline: the emulator answers the REST calls; the manual clock makes the polling
        // sleeps virtual.
        llmbatch::testing::ManualClock clock;
        Emulator emulator(clock);
        config.api_key = "emulator-key";
        fmt::print(stderr, "(running on the built-in {} emulator; set {} to use the live API)\n", Kind::title,
                   Kind::key_env);
        llmbatch::LLMService service{
            typename Kind::template provider<Emulator, ManualClock>(config, emulator, clock)};
        return run(service, clock, args.poll_interval);
    }
#if LLMBATCH_HAVE_CURL
    if (!args.base_url.empty()) config.base_url = args.base_url;
    if (!(key && *key)) config.api_key = "emulator-key";
    llmbatch::SystemClock clock;
    fmt::print(stderr, "(using the {} API at {} through libcurl)\n", Kind::title, config.base_url);
    llmbatch::LLMService service{
        typename Kind::template provider<llmbatch::CurlTransport, llmbatch::SystemClock>(config, llmbatch::CurlTransport{},
                                                                                          clock)};
    return run(service, clock, args.poll_interval);
#else
    fmt::print(stderr, "error: this quickstart was built without libcurl, so it cannot reach {}; install "
                       "libcurl4-openssl-dev and rebuild, or unset {} to use the emulator\n",
               args.base_url.empty() ? std::string(config.base_url) : args.base_url, Kind::key_env);
    return 1;
#endif
}

}  // namespace

int main(int argc, char** argv) try {
    const Args args = parse_args(argc, argv);
    if (args.provider == "openai") return run_on<OpenAIKind>(args);
    if (args.provider == "mistral") return run_on<MistralKind>(args);
    if (args.provider == "anthropic") return run_on<AnthropicKind>(args);
    return run_on<GeminiKind>(args);
} catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
}
