// Must not compile: a typed call names a provider type that is not in the service. Other has a
// cancel_batch_job, but the service holds only BatchOnly.
// first error: llmbatch: the provider type is not one of this LLMService's providers
#include "batch_only.hpp"

struct Other {
    static constexpr std::string_view name = "other";
    bool is_available() const { return true; }
    void cancel_batch_job(const std::string&) {}
};

int main() {
    llmbatch::LLMService service{BatchOnly<>{}};
    service.cancel_batch_job<Other>("job");
    return 0;
}
