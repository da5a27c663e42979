// Must not compile: NameOnly opts in with a name but offers neither batch nor synchronous
// operations; the first error says what each capability needs.
// first error: the provider offers no operation: a BatchProvider needs is_available, create_batch_job, get_batch_job and fetch_batch_results; a SyncProvider needs is_available and generate
#include "llmbatch/service.hpp"

struct NameOnly {
    static constexpr std::string_view name = "name-only";
};

int main() {
    [[maybe_unused]] llmbatch::LLMService service{NameOnly{}};
    return 0;
}
