// Must not compile: the typed delete_batch_job<P> requires a DeletableBatchProvider,
// and BatchOnly has no delete_batch_job.
#include <string>
#include <string_view>

#include "llmbatch/service.hpp"

struct BatchOnly {
    static constexpr std::string_view name = "batch-only";
    bool is_available() const { return true; }
    std::string create_batch_job(const llmbatch::BatchPayload&, const llmbatch::CreateOptions&) { return "job"; }
    llmbatch::BatchJob get_batch_job(const std::string&) { return {}; }
    llmbatch::BatchResults fetch_batch_results(const std::string&, const llmbatch::FetchOptions&) { return {}; }
};

int main() {
    llmbatch::LLMService service{BatchOnly{}};
    service.delete_batch_job<BatchOnly>("job");
    return 0;
}
