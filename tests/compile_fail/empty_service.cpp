// Must not compile: a service with no provider could never do anything; LLMService rejects an
// empty pack with a static_assert.
// first error: llmbatch: LLMService needs at least one provider
#include "llmbatch/service.hpp"

int main() {
    [[maybe_unused]] llmbatch::LLMService<> service;
    return 0;
}
