// Must not compile: the typed cancel_batch_job<P> requires a CancellableBatchProvider,
// and BatchOnly has no cancel_batch_job.
// first error: not a CancellableBatchProvider: it lacks the member 'cancel_batch_job(const std::string& job_name)'
#include "batch_only.hpp"

int main() {
    llmbatch::LLMService service{BatchOnly<>{}};
    service.cancel_batch_job<BatchOnly<>>("job");
    return 0;
}
