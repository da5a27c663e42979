// What the contract harness needs to know of AnthropicProvider and its emulator. The responder
// gets a request's `params`, whose user message is read as in chat completions; the API has no
// input files, so forced and oversized batches go inline.
#pragma once

#include <string>

#include "emulator_harness.hpp"
#include "llmbatch/providers/anthropic.hpp"
#include "llmbatch/testing/anthropic_emulator.hpp"
#include "openai_harness.hpp"

namespace contract {

struct AnthropicTraits : ChatTraits {
    template <class Transport, class ClockT>
    using Provider = llmbatch::AnthropicProvider<Transport, ClockT>;
    using Config = llmbatch::AnthropicConfig;
    using Emulator = llmbatch::testing::AnthropicEmulator;
    using Options = llmbatch::testing::AnthropicEmulatorOptions;
    static constexpr std::string_view base_path = "";
    static constexpr bool has_input_files = false;
    static bool is_create(const llmbatch::HttpRequest& r) {
        return r.method == "POST" && llmbatch::url_path(r.url) == "/v1/messages/batches";
    }
};

template <template <class> class Link>
using AnthropicHarness = EmulatorHarness<AnthropicTraits, Link>;

}  // namespace contract
