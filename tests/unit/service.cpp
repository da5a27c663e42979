// LLMService: provider choice for create_batch_job and generate, dispatch by provider name,
// typed calls, and the reporter.
#include "llmbatch/service.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/testing/gemini_emulator.hpp"
#include "llmbatch/testing/manual_clock.hpp"

#include "../support/fake_providers.hpp"

namespace tests_unit_service {

namespace {

using llmbatch::BatchJob;
using llmbatch::BatchPayload;
using llmbatch::BatchResults;
using llmbatch::CreateOptions;
using llmbatch::FetchOptions;
using llmbatch::Json;
using llmbatch::LLMService;
using llmbatch::PromptSequence;
using llmbatch::ProviderStatus;
using namespace fakes;

// ---- a scripted transport for the real GeminiProvider --------------------------------------

/// Replies to every request with the next scripted response and records the requests.
struct ScriptedTransport {
    struct State {
        std::vector<llmbatch::HttpResponse> replies;
        std::vector<llmbatch::HttpRequest> requests;
    };
    std::shared_ptr<State> state = std::make_shared<State>();

    llmbatch::HttpResponse send(const llmbatch::HttpRequest& request) {
        state->requests.push_back(request);
        if (state->requests.size() > state->replies.size())
            throw llmbatch::TransportError("ScriptedTransport: no reply scripted for this request", false);
        return state->replies[state->requests.size() - 1];
    }
};

llmbatch::HttpResponse json_reply(int status, const Json& body) {
    llmbatch::HttpResponse response;
    response.status = status;
    response.headers.set("Content-Type", "application/json");
    response.body = body.dump();
    return response;
}

const Json pending_operation = Json::parse(R"({
  "name": "batches/4m855v7q30kc7gtzcigdg9m72o87s08w33vp",
  "metadata": {
    "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
    "model": "models/gemini-2.5-flash",
    "displayName": "test-batch-job",
    "createTime": "2025-12-10T18:27:01.407650525Z",
    "updateTime": "2025-12-10T18:27:01.407650525Z",
    "batchStats": {"requestCount": "2", "pendingRequestCount": "2"},
    "state": "BATCH_STATE_PENDING",
    "name": "batches/4m855v7q30kc7gtzcigdg9m72o87s08w33vp"
  }
})");

/// A configured Gemini provider that does not retry (these tests are about the facade's fallback).
llmbatch::GeminiConfig gemini_config() {
    llmbatch::GeminiConfig config;
    config.api_key = "test-key-0123456789";
    config.retry = llmbatch::RetryPolicy::none();
    return config;
}

}  // namespace

TEST_SUITE("unit") {
    // ---- create_batch_job: choosing a provider -----------------------------------------------

    TEST_CASE("create_batch_job uses the first available batch provider and names it") {
        LLMService service{FullProvider<Alpha>{}, FullProvider<Beta>{}};
        auto [provider_name, job_name] = service.create_batch_job(payload);
        CHECK(provider_name == "alpha");
        CHECK(job_name == "alpha-job-1");
        CHECK(joined(service.provider<FullProvider<Alpha>>().log.calls) == "create:2");
        CHECK(service.provider<FullProvider<Beta>>().log.calls.empty());
    }

    TEST_CASE("create_batch_job forwards the create options to the provider") {
        LLMService service{FullProvider<Alpha>{}};
        const auto created = service.create_batch_job(payload, {.filter_json = true, .display_name = "nightly"});
        CHECK(created == llmbatch::CreatedBatchJob{"alpha", "alpha-job-1"});
        const auto& options = service.provider<FullProvider<Alpha>>().log.last_create_options;
        REQUIRE(options.has_value());
        CHECK(options->filter_json == std::optional<bool>(true));
        CHECK(options->display_name == "nightly");
    }

    TEST_CASE("create_batch_job skips a provider that is not available") {
        FullProvider<Alpha> alpha;
        alpha.available = false;
        LLMService service{std::move(alpha), FullProvider<Beta>{}};
        auto reports = record_reports(service);
        auto [provider_name, job_name] = service.create_batch_job(payload);
        CHECK(provider_name == "beta");
        CHECK(job_name == "beta-job-1");
        CHECK(service.provider<FullProvider<Alpha>>().log.calls.empty());
        CHECK(joined(*reports) == "alpha:unsupported, beta:success");
    }

    TEST_CASE("create_batch_job skips a provider without batch support") {
        LLMService service{SyncOnlyProvider<Alpha>{}, BasicBatchProvider<Beta>{}};
        auto reports = record_reports(service);
        const auto created = service.create_batch_job(payload);
        CHECK(created.provider_name == "beta");
        CHECK(created.job_name == "beta-job");
        CHECK(service.provider<SyncOnlyProvider<Alpha>>().log.calls.empty());
        CHECK(joined(*reports) == "alpha:unsupported, beta:success");
    }

    TEST_CASE("create_batch_job falls back to the next provider on QuotaError") {
        FullProvider<Alpha> alpha;
        alpha.create_outcome = Outcome::quota;
        LLMService service{std::move(alpha), FullProvider<Beta>{}, FullProvider<Gamma>{}};
        auto reports = record_reports(service);
        const auto created = service.create_batch_job(payload);
        CHECK(created == llmbatch::CreatedBatchJob{"beta", "beta-job-1"});
        CHECK(service.provider<FullProvider<Alpha>>().log.calls.size() == 1);
        CHECK(service.provider<FullProvider<Gamma>>().log.calls.empty());
        CHECK(joined(*reports) == "alpha:quota, beta:success");
    }

    TEST_CASE("create_batch_job falls back when a provider reports UnsupportedOperation") {
        FullProvider<Alpha> alpha;
        alpha.create_outcome = Outcome::unsupported;
        LLMService service{std::move(alpha), FullProvider<Beta>{}};
        auto reports = record_reports(service);
        CHECK(service.create_batch_job(payload).provider_name == "beta");
        CHECK(joined(*reports) == "alpha:unsupported, beta:success");
    }

    TEST_CASE("create_batch_job throws QuotaError when every batch provider is over quota") {
        FullProvider<Alpha> alpha;
        alpha.create_outcome = Outcome::quota;
        BasicBatchProvider<Beta> beta;
        beta.create_outcome = Outcome::quota;
        LLMService service{std::move(alpha), std::move(beta)};
        auto reports = record_reports(service);
        CHECK_THROWS_AS((void)service.create_batch_job(payload), llmbatch::QuotaError);
        CHECK(service.provider<FullProvider<Alpha>>().log.calls.size() == 1);
        CHECK(service.provider<BasicBatchProvider<Beta>>().log.calls.size() == 1);
        CHECK(joined(*reports) == "alpha:quota, beta:quota");
        try {
            (void)service.create_batch_job(payload);
            FAIL("create_batch_job did not throw");
        } catch (const llmbatch::QuotaError& e) {
            CHECK(std::string_view(e.what()).find("All providers exceeded quota") != std::string_view::npos);
            // The last provider's details are kept.
            CHECK(e.provider() == "beta");
            CHECK(e.http_status() == 429);
        }
    }

    TEST_CASE("create_batch_job throws UnsupportedOperation when no batch provider is available") {
        BasicBatchProvider<Beta> beta;
        beta.available = false;
        LLMService service{SyncOnlyProvider<Alpha>{}, std::move(beta)};
        const auto message = message_of([&] { (void)service.create_batch_job(payload); });
        CHECK(message.find("No available provider supports create_batch_job") != std::string::npos);
        CHECK_THROWS_AS((void)service.create_batch_job(payload), llmbatch::UnsupportedOperation);
        CHECK(service.provider<BasicBatchProvider<Beta>>().log.calls.empty());
        CHECK(service.provider<SyncOnlyProvider<Alpha>>().log.calls.empty());
    }

    TEST_CASE("create_batch_job rethrows a provider error other than quota without falling back") {
        FullProvider<Alpha> alpha;
        alpha.create_outcome = Outcome::provider_error;
        LLMService service{std::move(alpha), FullProvider<Beta>{}};
        auto reports = record_reports(service);
        try {
            (void)service.create_batch_job(payload);
            FAIL("create_batch_job did not throw");
        } catch (const llmbatch::QuotaError&) {
            FAIL("a non-quota error became a QuotaError");
        } catch (const llmbatch::ProviderError& e) {
            CHECK(std::string(e.what()) == "alpha: create: internal error");
            CHECK(e.http_status() == 500);
        }
        CHECK(service.provider<FullProvider<Beta>>().log.calls.empty());
        CHECK(joined(*reports) == "alpha:failure");
    }

    TEST_CASE("create_batch_job rejects an empty payload before calling any provider") {
        LLMService service{FullProvider<Alpha>{}, BasicBatchProvider<Beta>{}};
        auto reports = record_reports(service);
        SUBCASE("no requests") {
            CHECK_THROWS_AS((void)service.create_batch_job(BatchPayload{}), llmbatch::InvalidArgument);
        }
        SUBCASE("an empty prompt sequence") {
            const BatchPayload bad{{"fine"}, {}};
            const auto message = message_of([&] { (void)service.create_batch_job(bad); });
            CHECK(message.find("request 1 is empty") != std::string::npos);
            CHECK_THROWS_AS((void)service.create_batch_job(bad), llmbatch::InvalidArgument);
        }
        CHECK(service.provider<FullProvider<Alpha>>().log.calls.empty());
        CHECK(service.provider<BasicBatchProvider<Beta>>().log.calls.empty());
        CHECK(reports->empty());
    }

    // ---- dispatch by provider name -------------------------------------------------------------

    TEST_CASE("batch operations dispatch to the provider named in the call") {
        LLMService service{FullProvider<Alpha>{}, FullProvider<Beta>{}};
        auto& alpha = service.provider<FullProvider<Alpha>>();
        auto& beta = service.provider<FullProvider<Beta>>();

        SUBCASE("get_batch_job_status") {
            const BatchJob job = service.get_batch_job_status("beta", "job-7");
            CHECK(job.name == "job-7");
            CHECK(job.provider == "beta");
            CHECK(joined(beta.log.calls) == "get:job-7");
            CHECK(alpha.log.calls.empty());
        }
        SUBCASE("fetch_batch_results, with the fetch options") {
            const BatchResults results = service.fetch_batch_results("alpha", "job-8", {.filter_json = false});
            CHECK(results.provider() == "alpha");
            CHECK(results.job_name() == "job-8");
            REQUIRE(results.size() == 1);
            CHECK(results[0].value == Json{{"from", "alpha"}});
            CHECK(joined(alpha.log.calls) == "fetch:job-8");
            REQUIRE(alpha.log.last_fetch_options.has_value());
            CHECK(alpha.log.last_fetch_options->filter_json == std::optional<bool>(false));
            CHECK(beta.log.calls.empty());
        }
        SUBCASE("cancel_batch_job") {
            service.cancel_batch_job("beta", "job-9");
            CHECK(joined(beta.log.calls) == "cancel:job-9");
            CHECK(alpha.log.calls.empty());
        }
        SUBCASE("delete_batch_job") {
            service.delete_batch_job("alpha", "job-10");
            CHECK(joined(alpha.log.calls) == "delete:job-10");
            CHECK(beta.log.calls.empty());
        }
        SUBCASE("list_batch_jobs") {
            const auto jobs = service.list_batch_jobs("beta");
            REQUIRE(jobs.size() == 1);
            CHECK(jobs[0].name == "beta-listed");
            CHECK(joined(beta.log.calls) == "list");
            CHECK(alpha.log.calls.empty());
        }
    }

    TEST_CASE("a job created through the service is reached again through its provider name") {
        FullProvider<Alpha> alpha;
        alpha.available = false;
        LLMService service{std::move(alpha), FullProvider<Beta>{}};
        const auto [provider_name, job_name] = service.create_batch_job(payload);
        (void)service.get_batch_job_status(provider_name, job_name);
        (void)service.fetch_batch_results(provider_name, job_name);
        CHECK(joined(service.provider<FullProvider<Beta>>().log.calls) ==
              fmt::format("create:2, get:{0}, fetch:{0}", job_name));
        CHECK(service.provider<FullProvider<Alpha>>().log.calls.empty());
    }

    TEST_CASE("an unknown provider name is an InvalidArgument naming it") {
        LLMService service{FullProvider<Alpha>{}, BasicBatchProvider<Beta>{}};
        auto check_unknown = [&](auto&& call, std::string_view expected = "Provider 'nope' not found in service") {
            CHECK_THROWS_AS(call(), llmbatch::InvalidArgument);
            const auto message = message_of(call);
            CHECK_MESSAGE(message.find(expected) != std::string::npos, message);
        };
        check_unknown([&] { (void)service.get_batch_job_status("nope", "job"); });
        check_unknown([&] { (void)service.fetch_batch_results("nope", "job"); });
        check_unknown([&] { service.cancel_batch_job("nope", "job"); });
        check_unknown([&] { service.delete_batch_job("nope", "job"); });
        check_unknown([&] { (void)service.list_batch_jobs("nope"); });
        // Names are matched exactly.
        check_unknown([&] { (void)service.get_batch_job_status("Alpha", "job"); },
                      "Provider 'Alpha' not found in service");
        CHECK(service.provider<FullProvider<Alpha>>().log.calls.empty());
        CHECK(service.provider<BasicBatchProvider<Beta>>().log.calls.empty());
    }

    TEST_CASE("an operation the named provider lacks is an UnsupportedOperation") {
        LLMService service{FullProvider<Alpha>{}, BasicBatchProvider<Beta>{}, SyncOnlyProvider<Gamma>{}};
        auto check_unsupported = [&](auto&& call, std::string_view expected) {
            CHECK_THROWS_AS(call(), llmbatch::UnsupportedOperation);
            const auto message = message_of(call);
            CHECK_MESSAGE(message.find(expected) != std::string::npos, message);
        };
        check_unsupported([&] { service.cancel_batch_job("beta", "job"); }, "does not support cancel_batch_job");
        check_unsupported([&] { service.delete_batch_job("beta", "job"); }, "does not support delete_batch_job");
        check_unsupported([&] { (void)service.list_batch_jobs("beta"); }, "does not support list_batch_jobs");
        check_unsupported([&] { (void)service.get_batch_job_status("gamma", "job"); },
                          "does not support get_batch_job");
        check_unsupported([&] { (void)service.fetch_batch_results("gamma", "job"); },
                          "does not support fetch_batch_results");
        CHECK(message_of([&] { service.cancel_batch_job("beta", "job"); }).find("'beta'") != std::string::npos);
        CHECK(service.provider<BasicBatchProvider<Beta>>().log.calls.empty());
        CHECK(service.provider<FullProvider<Alpha>>().log.calls.empty());
    }

    TEST_CASE("a provider's cancel failure propagates with its type") {
        FullProvider<Beta> beta;
        beta.cancel_outcome = Outcome::provider_error;
        LLMService service{FullProvider<Alpha>{}, std::move(beta)};
        auto reports = record_reports(service);
        CHECK_THROWS_AS(service.cancel_batch_job("beta", "job-1"), llmbatch::ProviderError);
        CHECK(joined(*reports) == "beta:failure");
        CHECK(message_of([&] { service.cancel_batch_job("beta", "job-1"); }) == "beta: cancel: internal error");

        service.provider<FullProvider<Beta>>().cancel_outcome = Outcome::not_found;
        CHECK_THROWS_AS(service.cancel_batch_job("beta", "job-2"), llmbatch::NotFoundError);
        CHECK(service.provider<FullProvider<Alpha>>().log.calls.empty());
    }

    // ---- generate --------------------------------------------------------------------------------

    TEST_CASE("generate uses the first available synchronous provider") {
        BasicBatchProvider<Alpha> batch_only;
        FullProvider<Beta> unavailable;
        unavailable.available = false;
        LLMService service{std::move(batch_only), std::move(unavailable), SyncOnlyProvider<Gamma>{}};
        auto reports = record_reports(service);
        CHECK(service.generate({"hello", "world"}) == Json{{"from", "gamma"}});
        CHECK(joined(service.provider<SyncOnlyProvider<Gamma>>().log.calls) == "generate:2");
        CHECK(service.provider<FullProvider<Beta>>().log.calls.empty());
        CHECK(joined(*reports) == "alpha:unsupported, beta:unsupported, gamma:success");
    }

    TEST_CASE("generate forwards filter_json, unset when the caller does not say") {
        LLMService service{FullProvider<Alpha>{}};
        const auto& seen = service.provider<FullProvider<Alpha>>().log.last_generate_filter;
        (void)service.generate({"hi"});
        REQUIRE(seen.has_value());
        CHECK_FALSE(seen->has_value());
        (void)service.generate({"hi"}, true);
        REQUIRE(seen.has_value());
        CHECK(*seen == std::optional<bool>(true));
    }

    TEST_CASE("generate falls back to the next provider on QuotaError only") {
        FullProvider<Alpha> alpha;
        alpha.generate_outcome = Outcome::quota;
        LLMService service{std::move(alpha), SyncOnlyProvider<Beta>{}, FullProvider<Gamma>{}};
        auto reports = record_reports(service);
        CHECK(service.generate({"p"}) == Json{{"from", "beta"}});
        CHECK(service.provider<FullProvider<Gamma>>().log.calls.empty());
        CHECK(joined(*reports) == "alpha:quota, beta:success");
    }

    TEST_CASE("generate rethrows a provider error other than quota") {
        FullProvider<Alpha> alpha;
        alpha.generate_outcome = Outcome::provider_error;
        LLMService service{std::move(alpha), SyncOnlyProvider<Beta>{}};
        auto reports = record_reports(service);
        CHECK_THROWS_AS((void)service.generate({"p"}), llmbatch::ProviderError);
        CHECK(message_of([&] { (void)service.generate({"p"}); }) == "alpha: generate: internal error");
        CHECK(service.provider<SyncOnlyProvider<Beta>>().log.calls.empty());
        CHECK(joined(*reports) == "alpha:failure, alpha:failure");
    }

    TEST_CASE("generate passes InvalidArgument through without falling back") {
        FullProvider<Alpha> alpha;
        alpha.generate_outcome = Outcome::invalid_argument;
        LLMService service{std::move(alpha), SyncOnlyProvider<Beta>{}};
        CHECK_THROWS_AS((void)service.generate({"p"}), llmbatch::InvalidArgument);
        CHECK(message_of([&] { (void)service.generate({"p"}); }) == "alpha: generate: bad input");
        CHECK(service.provider<SyncOnlyProvider<Beta>>().log.calls.empty());
    }

    TEST_CASE("generate throws QuotaError when every provider is over quota") {
        FullProvider<Alpha> alpha;
        alpha.generate_outcome = Outcome::quota;
        SyncOnlyProvider<Beta> beta;
        beta.generate_outcome = Outcome::quota;
        LLMService service{std::move(alpha), std::move(beta)};
        auto reports = record_reports(service);
        try {
            (void)service.generate({"p"});
            FAIL("generate did not throw");
        } catch (const llmbatch::QuotaError& e) {
            CHECK(std::string_view(e.what()).find("All providers exceeded quota") != std::string_view::npos);
            CHECK(e.provider() == "beta");
        }
        CHECK(joined(*reports) == "alpha:quota, beta:quota");
        CHECK(service.provider<FullProvider<Alpha>>().log.calls.size() == 1);
        CHECK(service.provider<SyncOnlyProvider<Beta>>().log.calls.size() == 1);
    }

    TEST_CASE("generate throws UnsupportedOperation when no synchronous provider is available") {
        SyncOnlyProvider<Beta> beta;
        beta.available = false;
        LLMService service{BasicBatchProvider<Alpha>{}, std::move(beta)};
        CHECK_THROWS_AS((void)service.generate({"p"}), llmbatch::UnsupportedOperation);
        CHECK(service.provider<SyncOnlyProvider<Beta>>().log.calls.empty());
    }

    // ---- reporter, order, typed access ----------------------------------------------------------

    TEST_CASE("the reporter sees each attempt in order, with the error when there was one") {
        FullProvider<Alpha> alpha;
        alpha.create_outcome = Outcome::quota;
        LLMService service{std::move(alpha), FullProvider<Beta>{}};
        std::vector<std::string> seen;
        service.set_reporter([&](std::string_view provider, ProviderStatus status, const std::exception* error) {
            seen.push_back(fmt::format("{}:{}:{}", provider, llmbatch::to_string(status),
                                       error ? error->what() : "-"));
        });
        (void)service.create_batch_job(payload);
        CHECK(joined(seen) == "alpha:quota:alpha: create: quota exhausted, beta:success:-");
    }

    TEST_CASE("a service without a reporter still works") {
        FullProvider<Alpha> alpha;
        alpha.create_outcome = Outcome::quota;
        LLMService service{std::move(alpha), FullProvider<Beta>{}};
        CHECK(service.create_batch_job(payload).provider_name == "beta");
    }

    TEST_CASE("provider_order lists the names in the order given and has_provider finds them") {
        using Service = LLMService<SyncOnlyProvider<Gamma>, FullProvider<Alpha>, BasicBatchProvider<Beta>>;
        static_assert(Service::provider_order().size() == 3);
        static_assert(Service::has_provider("alpha"));
        static_assert(!Service::has_provider("nope"));
        const auto order = Service::provider_order();
        CHECK(order[0] == "gamma");
        CHECK(order[1] == "alpha");
        CHECK(order[2] == "beta");
        CHECK(Service::has_provider("beta"));
        CHECK(Service::has_provider("gamma"));
        CHECK_FALSE(Service::has_provider(""));
        CHECK_FALSE(Service::has_provider("Gamma"));
    }

    TEST_CASE("typed calls reach the provider of that type") {
        LLMService service{FullProvider<Alpha>{}, FullProvider<Beta>{}, BasicBatchProvider<Gamma>{}};
        service.cancel_batch_job<FullProvider<Beta>>("job-1");
        service.delete_batch_job<FullProvider<Alpha>>("job-2");
        (void)service.get_batch_job_status<BasicBatchProvider<Gamma>>("job-3");
        (void)service.fetch_batch_results<FullProvider<Beta>>("job-4", {.filter_json = true});
        const auto listed = service.list_batch_jobs<FullProvider<Alpha>>();
        REQUIRE(listed.size() == 1);
        CHECK(listed[0].provider == "alpha");

        CHECK(joined(service.provider<FullProvider<Alpha>>().log.calls) == "delete:job-2, list");
        CHECK(joined(service.provider<FullProvider<Beta>>().log.calls) == "cancel:job-1, fetch:job-4");
        CHECK(service.provider<FullProvider<Beta>>().log.last_fetch_options->filter_json == std::optional<bool>(true));
        CHECK(joined(service.provider<BasicBatchProvider<Gamma>>().log.calls) == "get:job-3");
    }

    TEST_CASE("provider<P>() returns the service's own provider object") {
        LLMService service{FullProvider<Alpha>{}, FullProvider<Beta>{}};
        FullProvider<Alpha>& alpha = service.provider<FullProvider<Alpha>>();
        CHECK(&alpha == &service.provider<FullProvider<Alpha>>());
        alpha.available = false;  // changes what the service does next
        CHECK(service.create_batch_job(payload).provider_name == "beta");
        CHECK(alpha.log.calls.empty());
    }

    // ---- with the real Gemini provider ----------------------------------------------------------

    TEST_CASE("LLMService over GeminiProvider creates a job and reports it as gemini's") {
        ScriptedTransport transport;
        transport.state->replies.push_back(json_reply(200, pending_operation));
        using Gemini = llmbatch::GeminiProvider<ScriptedTransport>;
        LLMService service{Gemini(gemini_config(), transport)};

        auto [provider_name, job_name] = service.create_batch_job(payload, {.filter_json = true});
        CHECK(provider_name == "gemini");
        CHECK(job_name == "batches/4m855v7q30kc7gtzcigdg9m72o87s08w33vp");
        CHECK(job_name.rfind("batches/", 0) == 0);

        REQUIRE(transport.state->requests.size() == 1);
        const auto& request = transport.state->requests[0];
        CHECK(request.method == "POST");
        CHECK(llmbatch::url_path(request.url) == "/v1beta/models/gemini-2.5-flash:batchGenerateContent");
        const Json body = Json::parse(request.body);
        CHECK(body["batch"]["inputConfig"]["requests"]["requests"].size() == 2);
    }

    TEST_CASE("LLMService over GeminiProvider falls back to the next provider on HTTP 429") {
        ScriptedTransport transport;
        const Json quota_error = {
            {"error", {{"code", 429}, {"message", "Resource has been exhausted."}, {"status", "RESOURCE_EXHAUSTED"}}}};
        transport.state->replies.push_back(json_reply(429, quota_error));
        using Gemini = llmbatch::GeminiProvider<ScriptedTransport>;
        LLMService service{Gemini(gemini_config(), transport), FullProvider<Beta>{}};
        auto reports = record_reports(service);

        const auto created = service.create_batch_job(payload);
        CHECK(created == llmbatch::CreatedBatchJob{"beta", "beta-job-1"});
        CHECK(transport.state->requests.size() == 1);
        CHECK(joined(*reports) == "gemini:quota, beta:success");
    }

    TEST_CASE("LLMService over GeminiProvider dispatches status calls by the name gemini") {
        ScriptedTransport transport;
        transport.state->replies.push_back(json_reply(200, pending_operation));
        using Gemini = llmbatch::GeminiProvider<ScriptedTransport>;
        LLMService service{FullProvider<Alpha>{}, Gemini(gemini_config(), transport)};

        const BatchJob job = service.get_batch_job_status("gemini", "batches/4m855v7q30kc7gtzcigdg9m72o87s08w33vp");
        CHECK(job.provider == "gemini");
        CHECK(job.state == llmbatch::JobState::pending);
        REQUIRE(transport.state->requests.size() == 1);
        CHECK(transport.state->requests[0].method == "GET");
        CHECK(llmbatch::url_path(transport.state->requests[0].url) ==
              "/v1beta/batches/4m855v7q30kc7gtzcigdg9m72o87s08w33vp");
        CHECK(service.provider<FullProvider<Alpha>>().log.calls.empty());
    }

TEST_CASE("wait_for_job through the service polls the named provider until the job is done") {
    using namespace std::chrono_literals;
    llmbatch::testing::ManualClock clock;
    llmbatch::testing::GeminiEmulator emulator(clock);  // PENDING 20 s, then RUNNING 40 s
    llmbatch::GeminiConfig config;
    config.api_key = "k";
    LLMService service{llmbatch::GeminiProvider<llmbatch::testing::GeminiEmulator, llmbatch::testing::ManualClock>(
        config, emulator, clock)};
    const auto [provider_name, job_name] = service.create_batch_job({{"x"}});
    llmbatch::PollPolicy policy;
    policy.initial_interval = 10s;
    policy.multiplier = 1.0;
    policy.jitter = 0;
    std::vector<llmbatch::JobState> states;
    const auto job = service.wait_for_job(provider_name, job_name, clock, policy, [&](const BatchJob& j) {
        states.push_back(j.state);
        return llmbatch::WaitControl::keep_waiting;
    });
    CHECK(job.state == llmbatch::JobState::succeeded);
    CHECK(clock.elapsed() == 60s);  // looked at 0, 10, ..., 60 s
    CHECK(states.size() == 7);
    CHECK(states.front() == llmbatch::JobState::pending);
    CHECK(states[2] == llmbatch::JobState::running);
    CHECK_THROWS_AS((void)service.wait_for_job("nope", job_name, clock, policy), llmbatch::InvalidArgument);
}

}

}  // namespace tests_unit_service
