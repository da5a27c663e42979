// Must not compile: CreateReturnsInt's create_batch_job returns an int, not the job name; a
// member with another signature counts as missing, and the sentence gives the expected one.
// first error: not a BatchProvider: it lacks the member 'SubmittedJob create_batch_job(const BatchPayload& payload, const CreateOptions& options)'
#include "llmbatch/service.hpp"

struct CreateReturnsInt {
    static constexpr std::string_view name = "create-int";
    bool is_available() const { return true; }
    int create_batch_job(const llmbatch::BatchPayload&, const llmbatch::CreateOptions&) { return 0; }
    llmbatch::BatchJob get_batch_job(const std::string&) { return {}; }
    llmbatch::BatchResults fetch_batch_results(const std::string&, const llmbatch::FetchOptions&) { return {}; }
};

int main() {
    [[maybe_unused]] llmbatch::LLMService service{CreateReturnsInt{}};
    return 0;
}
