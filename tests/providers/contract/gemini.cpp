// The provider contract for GeminiProvider over the in-memory Gemini emulator (the loopback runs
// through both real transports are in tests/transport/gemini_loopback.cpp).
#include "contract.hpp"
#include "tracked_create.hpp"

#include "gemini_harness.hpp"

namespace tests_providers_contract_gemini {

using GeminiInMemory = contract::GeminiHarness<contract::InMemoryLink>;

TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_order, GeminiInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_request_errors, GeminiInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_failed_job, GeminiInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_cancel, GeminiInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_expiry, GeminiInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_retries, GeminiInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_no_duplicate, GeminiInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_file_input, GeminiInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_over_inline_limit, GeminiInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_large, GeminiInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_client_token, GeminiInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_lost_reply_adopted, GeminiInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_crash_after_create, GeminiInMemory);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_create_not_made, GeminiInMemory);

}  // namespace tests_providers_contract_gemini
