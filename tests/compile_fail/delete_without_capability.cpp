// Must not compile: the typed delete_batch_job<P> requires a DeletableBatchProvider,
// and BatchOnly has no delete_batch_job.
// first error: not a DeletableBatchProvider: it lacks the member 'delete_batch_job(const std::string& job_name)'
#include "batch_only.hpp"

int main() {
    llmbatch::LLMService service{BatchOnly<>{}};
    service.delete_batch_job<BatchOnly<>>("job");
    return 0;
}
