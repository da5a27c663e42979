// Must not compile: two distinct provider types share the name "batch-only", so names could
// not identify a provider at run time; LLMService rejects this with a static_assert.
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

struct SameName {
    static constexpr std::string_view name = "batch-only";
    bool is_available() const { return true; }
    std::string create_batch_job(const llmbatch::BatchPayload&, const llmbatch::CreateOptions&) { return "job"; }
    llmbatch::BatchJob get_batch_job(const std::string&) { return {}; }
    llmbatch::BatchResults fetch_batch_results(const std::string&, const llmbatch::FetchOptions&) { return {}; }
};

int main() {
    llmbatch::LLMService service{BatchOnly{}, SameName{}};
    (void)service.get_batch_job_status<BatchOnly>("job");
    return 0;
}
