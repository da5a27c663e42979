// Must not compile: NoFetch has every batch member but fetch_batch_results.
// first error: not a BatchProvider: it lacks the member 'BatchResults fetch_batch_results(const std::string& job_name, const FetchOptions& options)'
#include "llmbatch/service.hpp"

struct NoFetch {
    static constexpr std::string_view name = "no-fetch";
    bool is_available() const { return true; }
    std::string create_batch_job(const llmbatch::BatchPayload&, const llmbatch::CreateOptions&) { return "job"; }
    llmbatch::BatchJob get_batch_job(const std::string&) { return {}; }
};

int main() {
    [[maybe_unused]] llmbatch::LLMService service{NoFetch{}};
    return 0;
}
