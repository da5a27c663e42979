// What the contract harness needs to know of OpenAIProvider and MistralProvider and their
// emulators (both speak chat completions: a request's text is its last user message).
#pragma once

#include <string>

#include "emulator_harness.hpp"
#include "llmbatch/providers/mistral.hpp"
#include "llmbatch/providers/openai.hpp"
#include "llmbatch/testing/mistral_emulator.hpp"
#include "llmbatch/testing/openai_emulator.hpp"

namespace contract {

/// The chat-completions side shared by both.
struct ChatTraits {
    /// The text of the last user message of a chat-completions body.
    static std::string request_text(const llmbatch::Json& request) {
        std::string text;
        for (const auto& m : request["messages"])
            if (m.value("role", "") == "user") text = m["content"].is_string() ? m["content"].get<std::string>() : m["content"].dump();
        return text;
    }
    template <class Emulator>
    static void request_error(Emulator& e, std::size_t i) {
        e.inject_request_error(i, 400, "max_tokens is too large", "invalid_request_error");
    }
    template <class Emulator>
    static void http_errors(Emulator& e, std::size_t n, int status) {
        e.inject_http_errors(n, status);
    }
};

struct OpenAITraits : ChatTraits {
    template <class Transport, class ClockT>
    using Provider = llmbatch::OpenAIProvider<Transport, ClockT>;
    using Config = llmbatch::OpenAIConfig;
    using Emulator = llmbatch::testing::OpenAIEmulator;
    using Options = llmbatch::testing::OpenAIEmulatorOptions;
    static constexpr std::string_view base_path = "/v1";  // OpenAI's base URL holds the version
    static bool is_create(const llmbatch::HttpRequest& r) {
        return r.method == "POST" && llmbatch::url_path(r.url) == "/v1/batches";
    }
};

struct MistralTraits : ChatTraits {
    template <class Transport, class ClockT>
    using Provider = llmbatch::MistralProvider<Transport, ClockT>;
    using Config = llmbatch::MistralConfig;
    using Emulator = llmbatch::testing::MistralEmulator;
    using Options = llmbatch::testing::MistralEmulatorOptions;
    static constexpr std::string_view base_path = "";
    static bool is_create(const llmbatch::HttpRequest& r) {
        return r.method == "POST" && llmbatch::url_path(r.url) == "/v1/batch/jobs";
    }
};

template <template <class> class Link>
using OpenAIHarness = EmulatorHarness<OpenAITraits, Link>;
template <template <class> class Link>
using MistralHarness = EmulatorHarness<MistralTraits, Link>;

}  // namespace contract
