// The provider contract for OpenAIProvider and MistralProvider through both real transports
// (libcurl and cpp-httplib) against their emulators served on a loopback port.
#include "../providers/contract/contract.hpp"
#include "../providers/contract/openai_harness.hpp"
#include "llmbatch/transport/curl.hpp"
#include "llmbatch/transport/httplib.hpp"
#include "loopback_link.hpp"

namespace tests_transport_chat_loopback {

namespace {

using OpenAIOverCurl = contract::OpenAIHarness<OverLoopback<llmbatch::CurlTransport>::Link>;
using OpenAIOverHttplib = contract::OpenAIHarness<OverLoopback<llmbatch::HttplibTransport>::Link>;
using MistralOverCurl = contract::MistralHarness<OverLoopback<llmbatch::CurlTransport>::Link>;
using MistralOverHttplib = contract::MistralHarness<OverLoopback<llmbatch::HttplibTransport>::Link>;

}  // namespace

#define LLMBATCH_CHAT_CONTRACT(name) \
    TEST_CASE_TEMPLATE_INVOKE(contract::name, OpenAIOverCurl, OpenAIOverHttplib, MistralOverCurl, MistralOverHttplib)
LLMBATCH_CHAT_CONTRACT(provider_contract_order);
LLMBATCH_CHAT_CONTRACT(provider_contract_request_errors);
LLMBATCH_CHAT_CONTRACT(provider_contract_failed_job);
LLMBATCH_CHAT_CONTRACT(provider_contract_cancel);
LLMBATCH_CHAT_CONTRACT(provider_contract_expiry);
LLMBATCH_CHAT_CONTRACT(provider_contract_retries);
LLMBATCH_CHAT_CONTRACT(provider_contract_no_duplicate);
LLMBATCH_CHAT_CONTRACT(provider_contract_file_input);
LLMBATCH_CHAT_CONTRACT(provider_contract_over_inline_limit);
LLMBATCH_CHAT_CONTRACT(provider_contract_large);

}  // namespace tests_transport_chat_loopback
