// LLMService over the three real providers, each on its emulator: create on the first available
// provider, dispatch by provider name, create on a named provider, the quota fallback of
// generate, health_check and batch_generate, end to end.
#include "llmbatch/service.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>

#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/providers/mistral.hpp"
#include "llmbatch/providers/openai.hpp"
#include "llmbatch/testing/gemini_emulator.hpp"
#include "llmbatch/testing/manual_clock.hpp"
#include "llmbatch/testing/mistral_emulator.hpp"
#include "llmbatch/testing/openai_emulator.hpp"

namespace tests_providers_service {

namespace {

using namespace std::chrono_literals;
using llmbatch::Json;
using llmbatch::JobState;
using llmbatch::testing::ManualClock;

using Gemini = llmbatch::GeminiProvider<llmbatch::testing::GeminiEmulator, ManualClock>;
using OpenAI = llmbatch::OpenAIProvider<llmbatch::testing::OpenAIEmulator, ManualClock>;
using Mistral = llmbatch::MistralProvider<llmbatch::testing::MistralEmulator, ManualClock>;
using Service = llmbatch::LLMService<Gemini, OpenAI, Mistral>;

/// Removes an environment variable for the life of the object (so a provider configured without
/// a key stays without one on a machine that has the variable set).
class WithoutEnv {
public:
    explicit WithoutEnv(const char* name) : name_(name) {
        if (const char* v = std::getenv(name)) saved_ = v;
        ::unsetenv(name);
    }
    ~WithoutEnv() {
        if (saved_) ::setenv(name_, saved_->c_str(), 1);
    }
    WithoutEnv(const WithoutEnv&) = delete;
    WithoutEnv& operator=(const WithoutEnv&) = delete;

private:
    const char* name_;
    std::optional<std::string> saved_;
};

/// The three emulators and providers on one manual clock; `keyed` says which providers have a key.
struct Trio {
    ManualClock clock;
    llmbatch::testing::GeminiEmulator gemini{clock};
    llmbatch::testing::OpenAIEmulator openai{clock};
    llmbatch::testing::MistralEmulator mistral{clock};
    Service service;

    Trio(bool gemini_key, bool openai_key, bool mistral_key)
        : service(Gemini(config<llmbatch::GeminiConfig>(gemini_key), gemini, clock),
                  OpenAI(config<llmbatch::OpenAIConfig>(openai_key), openai, clock),
                  Mistral(config<llmbatch::MistralConfig>(mistral_key), mistral, clock)) {}

    template <class Config>
    static Config config(bool keyed) {
        Config c;
        // An unavailable provider has no key: the environment must not give it one either.
        c.api_key = keyed ? "trio-key-0123456789" : "";
        c.retry = llmbatch::RetryPolicy::none();
        return c;
    }
};

const llmbatch::BatchPayload documents{{"Categorize this document: Geography GCSE"},
                                       {"Categorize this document: French GCSE"},
                                       {"Categorize this document: Mathematics GCSE"}};

}  // namespace

TEST_SUITE("providers") {

TEST_CASE("LLMService<Gemini, OpenAI, Mistral>: create on the first available, then every call by name") {
    const WithoutEnv no_key("GEMINI_API_KEY");
    Trio t(false, true, true);
    const auto created = t.service.create_batch_job(documents, {.filter_json = true});
    CHECK(created.provider_name == "openai");
    CHECK(created.input_files.size() == 1);
    CHECK(t.openai.job_count() == 1);
    CHECK(t.gemini.call_count() == 0);

    CHECK_FALSE(t.service.get_batch_job_status("openai", created.job_name).done);
    t.clock.advance(2h);
    const auto job = t.service.get_batch_job_status("openai", created.job_name);
    CHECK(job.state == JobState::succeeded);
    const auto results = t.service.fetch_batch_results("openai", job);
    REQUIRE(results.size() == 3);
    CHECK((*results[0].value)["category"] == "Humanities");
    CHECK((*results[1].value)["category"] == "Languages");
    CHECK((*results[2].value)["category"] == "STEM");
    CHECK(t.service.list_batch_jobs("openai").size() == 1);
    CHECK_THROWS_AS((void)t.service.get_batch_job_status("mistral", created.job_name), llmbatch::ProviderError);

    const auto on_mistral = t.service.create_batch_job_on("mistral", documents, {.filter_json = true});
    CHECK(on_mistral.provider_name == "mistral");
    t.service.cancel_batch_job("mistral", on_mistral.job_name);
    t.clock.advance(2h);
    CHECK(t.service.get_batch_job_status("mistral", on_mistral.job_name).state == JobState::cancelled);
    t.service.delete_batch_job("mistral", on_mistral.job_name);
    CHECK(t.mistral.job_count() == 0);
}

TEST_CASE("LLMService<Gemini, OpenAI, Mistral>: generate falls back from a provider over quota to the next") {
    Trio t(true, true, true);
    t.gemini.inject_http_errors(1, 429);
    t.openai.inject_http_errors(1, 429, "insufficient_quota", "You exceeded your current quota.");
    const Json answer = t.service.generate({"Categorize this document: French GCSE"}, true);
    CHECK(answer["category"] == "Languages");
    CHECK(t.mistral.call_count() == 1);
}

TEST_CASE("LLMService<Gemini, OpenAI, Mistral>: health_check and batch_generate") {
    const WithoutEnv no_key("OPENAI_API_KEY");
    Trio t(true, false, true);
    CHECK(t.service.health_check() ==
          std::vector<llmbatch::ProviderHealth>{{"gemini", true}, {"openai", false}, {"mistral", true}});
    t.gemini.inject_http_errors(1, 429);  // the create on Gemini is refused: Mistral takes the job
    llmbatch::BatchGenerateOptions options;
    options.create.filter_json = true;
    options.poll.initial_interval = 5s;
    const auto results = t.service.batch_generate(documents, options);
    CHECK(results.provider() == "mistral");
    REQUIRE(results.size() == 3);
    CHECK((*results[2].value)["category"] == "STEM");
    CHECK(t.gemini.job_count() == 0);
    CHECK(t.mistral.job_count() == 1);
}

}  // TEST_SUITE

}  // namespace tests_providers_service
