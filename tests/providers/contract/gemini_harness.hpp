// What the contract harness needs to know of GeminiProvider and the Gemini emulator.
#pragma once

#include <string>

#include "emulator_harness.hpp"
#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/testing/gemini_emulator.hpp"

namespace contract {

struct GeminiTraits {
    template <class Transport, class ClockT>
    using Provider = llmbatch::GeminiProvider<Transport, ClockT>;
    using Config = llmbatch::GeminiConfig;
    using Emulator = llmbatch::testing::GeminiEmulator;
    using Options = llmbatch::testing::GeminiEmulatorOptions;
    /// What follows the server's address in the provider's base URL.
    static constexpr std::string_view base_path = "";

    /// The request that creates a batch job.
    static bool is_create(const llmbatch::HttpRequest& r) {
        return r.method == "POST" && r.url.find(":batchGenerateContent") != std::string::npos;
    }
    /// The user text of a GenerateContentRequest.
    static std::string request_text(const llmbatch::Json& request) {
        std::string text;
        for (const auto& part : request["contents"][0]["parts"]) text += part.value("text", "");
        return text;
    }
    static void request_error(Emulator& e, std::size_t i) {
        e.inject_request_error(i, 3, "Request contains an invalid argument.", "INVALID_ARGUMENT");
    }
    static void http_errors(Emulator& e, std::size_t n, int status) {
        e.inject_http_errors(n, status, status == 429 ? "RESOURCE_EXHAUSTED" : "UNAVAILABLE",
                             status == 429 ? "Resource has been exhausted." : "The service is unavailable.");
    }
};

template <template <class> class Link>
using GeminiHarness = EmulatorHarness<GeminiTraits, Link>;

}  // namespace contract
