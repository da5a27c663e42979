// The provider contract for AnthropicProvider through both real transports (libcurl and
// cpp-httplib) against its emulator served on a loopback port.
#include "../providers/contract/contract.hpp"
#include "../providers/contract/anthropic_harness.hpp"
#include "llmbatch/transport/curl.hpp"
#include "llmbatch/transport/httplib.hpp"
#include "loopback_link.hpp"

namespace tests_transport_anthropic_loopback {

namespace {

using AnthropicOverCurl = contract::AnthropicHarness<OverLoopback<llmbatch::CurlTransport>::Link>;
using AnthropicOverHttplib = contract::AnthropicHarness<OverLoopback<llmbatch::HttplibTransport>::Link>;

}  // namespace

#define LLMBATCH_ANTHROPIC_CONTRACT(name) TEST_CASE_TEMPLATE_INVOKE(contract::name, AnthropicOverCurl, AnthropicOverHttplib)
LLMBATCH_ANTHROPIC_CONTRACT(provider_contract_order);
LLMBATCH_ANTHROPIC_CONTRACT(provider_contract_request_errors);
LLMBATCH_ANTHROPIC_CONTRACT(provider_contract_failed_job);
LLMBATCH_ANTHROPIC_CONTRACT(provider_contract_cancel);
LLMBATCH_ANTHROPIC_CONTRACT(provider_contract_expiry);
LLMBATCH_ANTHROPIC_CONTRACT(provider_contract_retries);
LLMBATCH_ANTHROPIC_CONTRACT(provider_contract_no_duplicate);
LLMBATCH_ANTHROPIC_CONTRACT(provider_contract_file_input);
LLMBATCH_ANTHROPIC_CONTRACT(provider_contract_over_inline_limit);
LLMBATCH_ANTHROPIC_CONTRACT(provider_contract_large);

TEST_CASE("the served Anthropic emulator takes 529s through the inject-http-errors control endpoint; they are retried" *
          doctest::test_suite("providers")) {
    llmbatch::testing::ManualClock clock;
    llmbatch::testing::AnthropicEmulator emulator(clock);
    llmbatch::testing::EmulatorServer<llmbatch::testing::AnthropicEmulator> server(emulator);
    server.start();
    llmbatch::AnthropicConfig config;
    config.api_key = "loopback-key-0123456789";
    config.base_url = server.base_url();
    config.retry.jitter = 0;
    llmbatch::AnthropicProvider<llmbatch::CurlTransport, llmbatch::testing::ManualClock> p(config, {}, clock);
    const auto job = p.create_batch_job({{"item 0"}});
    llmbatch::CurlTransport control;
    const auto injected = control.send(llmbatch::HttpRequest{
        "POST", server.base_url() + "/_emulator/inject-http-errors", {{"Content-Type", "application/json"}},
        R"({"count": 2, "status": 529})"});
    REQUIRE(injected.status == 200);
    const auto calls = emulator.call_count();
    CHECK(p.get_batch_job(job).state == llmbatch::JobState::running);
    CHECK(emulator.call_count() == calls + 3);  // two 529 overloaded_error answers, then the batch
}

}  // namespace tests_transport_anthropic_loopback
