// Must not compile: the typed delete_batch_job<P> requires a DeletableBatchProvider,
// and BatchOnly has no delete_batch_job.
#include "batch_only.hpp"

int main() {
    llmbatch::LLMService service{BatchOnly<>{}};
    service.delete_batch_job<BatchOnly<>>("job");
    return 0;
}
