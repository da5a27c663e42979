// The user's document's "Complete Example" in C++: create a batch job through LLMService, poll it
// until done, fetch the results and print each document with its category.
//
// With no GEMINI_API_KEY set it runs on the built-in Gemini emulator, on virtual time, so it
// finishes at once and needs no network.
#include <llmbatch/llmbatch.hpp>
#include <llmbatch/testing/gemini_emulator.hpp>
#include <llmbatch/testing/manual_clock.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <fmt/format.h>

#ifndef LLMBATCH_EXAMPLES_DIR
#define LLMBATCH_EXAMPLES_DIR "examples"
#endif

namespace {

/// The document's workflow, for any service and clock.
template <class Service, class Clock>
int run(Service& service, Clock& clock) {
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
        clock.sleep_for(std::chrono::seconds(10));
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

}  // namespace

int main() try {
    llmbatch::GeminiConfig config;
    config.generation.system_prompt =
        llmbatch::SystemPrompt::from_file(LLMBATCH_EXAMPLES_DIR "/prompts/categorise.md");
    config.generation.filter_json = true;

    // Offline: the emulator answers the Gemini REST calls; the manual clock makes the
    // 10-second polling sleeps virtual.
    llmbatch::testing::ManualClock clock;
    llmbatch::testing::GeminiEmulator emulator(clock);
    config.api_key = "emulator-key";
    std::puts("(running on the built-in Gemini emulator)");
    llmbatch::LLMService service{
        llmbatch::GeminiProvider<llmbatch::testing::GeminiEmulator, llmbatch::testing::ManualClock>(config, emulator, clock)};
    return run(service, clock);
} catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
}
