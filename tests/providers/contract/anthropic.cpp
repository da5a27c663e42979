// The provider contract for AnthropicProvider over its in-memory emulator (the loopback runs
// through both real transports are in tests/transport/anthropic_loopback.cpp).
#include "contract.hpp"
#include "tracked_create.hpp"

#include "anthropic_harness.hpp"

namespace tests_providers_contract_anthropic {

using AnthropicInMemory = contract::AnthropicHarness<contract::InMemoryLink>;

TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_order, AnthropicInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_request_errors, AnthropicInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_failed_job, AnthropicInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_cancel, AnthropicInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_expiry, AnthropicInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_retries, AnthropicInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_no_duplicate, AnthropicInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_file_input, AnthropicInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_over_inline_limit, AnthropicInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_large, AnthropicInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_client_token, AnthropicInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_lost_reply_adopted, AnthropicInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_crash_after_create, AnthropicInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_create_not_made, AnthropicInMemory);

}  // namespace tests_providers_contract_anthropic
