// LLMService on a named provider (create_batch_job_on) and health_check, with the vocabulary of
// service_types.hpp (CreatedBatchJob, ProviderHealth bindings).
#include "llmbatch/service_types.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "llmbatch/service.hpp"

#include "../support/fake_providers.hpp"

namespace tests_unit_service_types {

namespace {

using namespace fakes;
using llmbatch::LLMService;
using llmbatch::ProviderHealth;

/// A provider with its own health check, which can fail.
struct Checked {
    static constexpr std::string_view name = "checked";
    bool healthy = true;
    bool throws = false;
    bool is_available() const { return true; }
    bool health_check() const {
        if (throws) throw llmbatch::TransportError("checked: connection refused", false, "checked");
        return healthy;
    }
    llmbatch::Json generate(const PromptSequence&, std::optional<bool>) { return {}; }
};

}  // namespace

TEST_SUITE("unit") {
    TEST_CASE("CreatedBatchJob binds as (provider_name, job_name) and ProviderHealth as (provider, available)") {
        const llmbatch::CreatedBatchJob created{"gemini", "batches/1", {"files/a"}};
        const auto& [provider, job] = created;
        CHECK(provider == "gemini");
        CHECK(job == "batches/1");
        const ProviderHealth health{"openai", true};
        const auto& [name, available] = health;
        CHECK(name == "openai");
        CHECK(available);
    }

    TEST_CASE("create_batch_job_on creates on the named provider, not the first one") {
        LLMService service{FullProvider<Alpha>{}, FullProvider<Beta>{}};
        const auto created = service.create_batch_job_on("beta", payload, {.filter_json = true});
        CHECK(created.provider_name == "beta");
        CHECK(created.job_name == "beta-job-1");
        CHECK(service.provider<FullProvider<Alpha>>().log.calls.empty());
        CHECK(service.provider<FullProvider<Beta>>().log.last_create_options->filter_json == true);
    }

    TEST_CASE("create_batch_job_on refuses a provider that is not available, before calling it") {
        FullProvider<Beta> beta;
        beta.available = false;
        LLMService service{FullProvider<Alpha>{}, beta};
        const auto message = message_of([&] { (void)service.create_batch_job_on("beta", payload); });
        CHECK(message == "Provider 'beta' is not available (no API key is configured for it)");
        CHECK_THROWS_AS((void)service.create_batch_job_on("beta", payload), llmbatch::UnsupportedOperation);
        CHECK(service.provider<FullProvider<Beta>>().log.calls.empty());
        CHECK(service.provider<FullProvider<Alpha>>().log.calls.empty());  // no fallback either
    }

    TEST_CASE("create_batch_job_on does not fall back when the named provider is over quota") {
        FullProvider<Alpha> alpha;
        alpha.create_outcome = Outcome::quota;
        LLMService service{alpha, FullProvider<Beta>{}};
        CHECK_THROWS_AS((void)service.create_batch_job_on("alpha", payload), llmbatch::QuotaError);
        CHECK(service.provider<FullProvider<Beta>>().log.calls.empty());
    }

    TEST_CASE("create_batch_job_on names an unknown provider, and a provider without batch jobs") {
        LLMService service{FullProvider<Alpha>{}, SyncOnlyProvider<Gamma>{}};
        CHECK(message_of([&] { (void)service.create_batch_job_on("delta", payload); }) ==
              "Provider 'delta' not found in service (providers: alpha, gamma) for create_batch_job");
        CHECK_THROWS_AS((void)service.create_batch_job_on("gamma", payload), llmbatch::UnsupportedOperation);
        CHECK(message_of([&] { (void)service.create_batch_job_on("gamma", payload); }) ==
              "Provider 'gamma' does not support create_batch_job");
    }

    TEST_CASE("create_batch_job_on checks the payload before any provider is called") {
        LLMService service{FullProvider<Alpha>{}};
        CHECK_THROWS_AS((void)service.create_batch_job_on("alpha", BatchPayload{}), llmbatch::InvalidArgument);
        CHECK_THROWS_AS((void)service.create_batch_job_on("alpha", BatchPayload{{}}), llmbatch::InvalidArgument);
        CHECK(service.provider<FullProvider<Alpha>>().log.calls.empty());
    }

    TEST_CASE("health_check reports every provider in order, from its own check when it has one") {
        FullProvider<Alpha> alpha;
        BasicBatchProvider<Beta> beta;
        beta.available = false;
        LLMService service{alpha, beta, Checked{}};
        CHECK(service.health_check() ==
              std::vector<ProviderHealth>{{"alpha", true}, {"beta", false}, {"checked", true}});
        service.provider<Checked>().healthy = false;
        CHECK(service.health_check().back() == ProviderHealth{"checked", false});
        service.provider<Checked>().throws = true;
        CHECK(service.health_check().back() == ProviderHealth{"checked", false});
        CHECK(service.provider<FullProvider<Alpha>>().log.calls.empty());  // nothing was called
    }
}

}  // namespace tests_unit_service_types
