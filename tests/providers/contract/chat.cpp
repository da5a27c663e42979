// The provider contract for OpenAIProvider and MistralProvider over their in-memory emulators
// (the loopback runs through both real transports are in tests/transport/chat_loopback.cpp).
#include "contract.hpp"
#include "tracked_create.hpp"

#include "openai_harness.hpp"

namespace tests_providers_contract_chat {

using OpenAIInMemory = contract::OpenAIHarness<contract::InMemoryLink>;
using MistralInMemory = contract::MistralHarness<contract::InMemoryLink>;

TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_order, OpenAIInMemory, MistralInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_request_errors, OpenAIInMemory, MistralInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_failed_job, OpenAIInMemory, MistralInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_cancel, OpenAIInMemory, MistralInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_expiry, OpenAIInMemory, MistralInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_retries, OpenAIInMemory, MistralInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_no_duplicate, OpenAIInMemory, MistralInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_file_input, OpenAIInMemory, MistralInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_over_inline_limit, OpenAIInMemory, MistralInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_large, OpenAIInMemory, MistralInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_client_token, OpenAIInMemory, MistralInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_lost_reply_adopted, OpenAIInMemory, MistralInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_crash_after_create, OpenAIInMemory, MistralInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_create_not_made, OpenAIInMemory, MistralInMemory);

}  // namespace tests_providers_contract_chat
