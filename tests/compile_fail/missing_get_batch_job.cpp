// Must not compile: NoGetBatchJob means to be a batch provider but has no get_batch_job, so
// LLMService rejects it with a sentence naming the capability and the missing member.
// first error: not a BatchProvider: it lacks the member 'BatchJob get_batch_job(const std::string& job_name)'
#include "llmbatch/service.hpp"

struct NoGetBatchJob {
    static constexpr std::string_view name = "no-get";
    bool is_available() const { return true; }
    std::string create_batch_job(const llmbatch::BatchPayload&, const llmbatch::CreateOptions&) { return "job"; }
    llmbatch::BatchResults fetch_batch_results(const std::string&, const llmbatch::FetchOptions&) { return {}; }
};

int main() {
    [[maybe_unused]] llmbatch::LLMService service{NoGetBatchJob{}};
    return 0;
}
