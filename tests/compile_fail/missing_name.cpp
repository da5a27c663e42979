// Must not compile: Unnamed has the batch members but no name, the provider's run-time id and
// opt-in marker.
// first error: not a provider (NamedProvider): it lacks the member 'static constexpr std::string_view name'
#include "llmbatch/service.hpp"

struct Unnamed {
    bool is_available() const { return true; }
    std::string create_batch_job(const llmbatch::BatchPayload&, const llmbatch::CreateOptions&) { return "job"; }
    llmbatch::BatchJob get_batch_job(const std::string&) { return {}; }
    llmbatch::BatchResults fetch_batch_results(const std::string&, const llmbatch::FetchOptions&) { return {}; }
};

int main() {
    [[maybe_unused]] llmbatch::LLMService service{Unnamed{}};
    return 0;
}
