// Must not compile: two distinct provider types share the name "batch-only", so names could
// not identify a provider at run time; LLMService rejects this with a static_assert.
// first error: llmbatch: two providers of this LLMService share a name; each provider's 'name' must be unique
#include "batch_only.hpp"

int main() {
    llmbatch::LLMService service{BatchOnly<0>{}, BatchOnly<1>{}};
    (void)service.get_batch_job_status<BatchOnly<0>>("job");
    return 0;
}
