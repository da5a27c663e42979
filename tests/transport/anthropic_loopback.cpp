// The provider contract for AnthropicProvider through both real transports (libcurl and
// cpp-httplib) against its emulator served on a loopback port.
#include "../providers/contract/contract.hpp"
#include "../providers/contract/anthropic_harness.hpp"
#include "llmbatch/transport/curl.hpp"
#include "llmbatch/transport/httplib.hpp"
#include "loopback_link.hpp"

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
