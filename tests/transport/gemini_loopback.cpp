// GeminiProvider through the real transports (libcurl and cpp-httplib) against the Gemini
// emulator served on a loopback port: the whole batch lifecycle over real HTTP.
#include "llmbatch/testing/emulator_server.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/service.hpp"
#include "llmbatch/testing/gemini_emulator.hpp"
#include "llmbatch/testing/manual_clock.hpp"
#include "llmbatch/transport/curl.hpp"
#include "llmbatch/transport/httplib.hpp"
#include "../providers/contract/contract.hpp"
#include "../providers/contract/gemini_harness.hpp"
#include "loopback_link.hpp"

namespace tests_transport_gemini_loopback {

using namespace std::chrono_literals;
using llmbatch::Json;
using llmbatch::JobState;
using llmbatch::testing::EmulatorServer;
using llmbatch::testing::GeminiEmulator;
using llmbatch::testing::ManualClock;

namespace {

/// A provider over transport `T` aimed at a fresh emulator server; the provider waits on its own
/// manual clock (so retries never sleep for real), the emulator runs on another.
template <class T>
struct Loopback {
    ManualClock emulator_clock;
    GeminiEmulator emulator{emulator_clock};
    EmulatorServer<GeminiEmulator> server{emulator, [this](double s) {
                                              emulator_clock.advance(std::chrono::duration_cast<ManualClock::duration>(
                                                  std::chrono::duration<double>(s)));
                                          }};
    ManualClock provider_clock;
    llmbatch::GeminiProvider<T, ManualClock> gemini;

    Loopback() : gemini(make_provider()) {}

    llmbatch::GeminiProvider<T, ManualClock> make_provider() {
        server.start();
        llmbatch::GeminiConfig config;
        config.api_key = "loopback-key";
        config.base_url = server.base_url();
        config.list_page_size = 2;
        return llmbatch::GeminiProvider<T, ManualClock>(config, T{}, provider_clock);
    }
};

const llmbatch::BatchPayload payload = {
    {"Categorize this document: Geography GCSE"}, {"Categorize this document: French GCSE"},
    {"Categorize this document: Mathematics GCSE"}, {"Categorize this document:", "Music GCSE"}};

}  // namespace

TEST_SUITE("transport") {

TEST_CASE_TEMPLATE("loopback: create, poll to done, fetch in order, list, cancel, delete", T, llmbatch::CurlTransport,
                   llmbatch::HttplibTransport) {
    Loopback<T> lb;
    lb.emulator.set_out_of_order(true);
    const auto name = lb.gemini.create_batch_job(payload, {.filter_json = true, .display_name = "loopback"});
    CHECK(name.rfind("batches/", 0) == 0);

    auto job = lb.gemini.get_batch_job(name);
    CHECK(job.state == JobState::pending);
    CHECK(job.counts.total == 4);
    CHECK(job.display_name == "loopback");

    // Poll to done: each wait moves the emulator's clock by the same amount.
    llmbatch::PollPolicy policy;
    policy.jitter = 0;
    std::vector<JobState> seen;
    job = llmbatch::wait_until_done(
        [&] {
            auto j = lb.gemini.get_batch_job(name);
            lb.emulator_clock.advance(10s);
            return j;
        },
        name, lb.provider_clock, policy, [&](const llmbatch::BatchJob& j) {
            seen.push_back(j.state);
            return llmbatch::WaitControl::keep_waiting;
        });
    CHECK(job.state == JobState::succeeded);
    CHECK(job.counts.succeeded == 4);
    CHECK(std::find(seen.begin(), seen.end(), JobState::running) != seen.end());

    const auto results = lb.gemini.fetch_batch_results(name);
    REQUIRE(results.size() == 4);
    const char* expected[] = {"Humanities", "Languages", "STEM", "Arts"};
    for (std::size_t i = 0; i < 4; ++i) {
        REQUIRE(results[i].ok());
        CHECK(results[i].value->at("category") == expected[i]);
    }

    // Two more jobs, one of them cancelled; list walks every page (page size 2).
    const auto second = lb.gemini.create_batch_job({{"a"}});
    const auto third = lb.gemini.create_batch_job({{"b"}});
    lb.gemini.cancel_batch_job(third);
    CHECK(lb.gemini.get_batch_job(third).state == JobState::cancelled);
    CHECK_THROWS_AS(lb.gemini.cancel_batch_job(name), llmbatch::ProviderError);  // already finished
    const auto jobs = lb.gemini.list_batch_jobs();
    REQUIRE(jobs.size() == 3);
    std::set<std::string> names;
    for (const auto& j : jobs) names.insert(j.name);
    CHECK(names == std::set<std::string>{name, second, third});

    lb.gemini.delete_batch_job(second);
    CHECK_THROWS_AS((void)lb.gemini.get_batch_job(second), llmbatch::NotFoundError);
    CHECK(lb.gemini.list_batch_jobs().size() == 2);
}

TEST_CASE_TEMPLATE("loopback: 429 then success, and 503 then success, are retried", T, llmbatch::CurlTransport,
                   llmbatch::HttplibTransport) {
    Loopback<T> lb;
    lb.emulator.inject_http_errors(1, 429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).",
                                   std::string("2"));
    const auto name = lb.gemini.create_batch_job(payload);  // a refused create is safe to repeat
    CHECK(lb.emulator.job_count() == 1);
    REQUIRE(lb.provider_clock.sleeps().size() == 1);
    CHECK(lb.provider_clock.sleeps()[0] == 2s);  // Retry-After honoured

    lb.emulator.inject_http_errors(2, 503, "UNAVAILABLE", "The service is currently unavailable.");
    CHECK(lb.gemini.get_batch_job(name).state == JobState::pending);
    CHECK(lb.provider_clock.sleeps().size() == 3);

    // A create answered 503 may have been taken: it is not repeated.
    lb.emulator.inject_http_errors(1, 503, "UNAVAILABLE", "The service is currently unavailable.");
    CHECK_THROWS_AS((void)lb.gemini.create_batch_job(payload), llmbatch::ProviderError);
    CHECK(lb.emulator.job_count() == 1);
}

TEST_CASE_TEMPLATE("loopback: the emulator server's control endpoints", T, llmbatch::CurlTransport,
                   llmbatch::HttplibTransport) {
    Loopback<T> lb;
    T transport;
    auto post = [&](const std::string& path, const std::string& body) {
        llmbatch::HttpRequest r{"POST", lb.server.base_url() + path, {{"Content-Type", "application/json"}}, body};
        return transport.send(r);
    };
    const auto name = lb.gemini.create_batch_job(payload);
    CHECK(post("/_emulator/advance", R"({"seconds": 3600})").status == 200);
    CHECK(lb.gemini.get_batch_job(name).state == JobState::succeeded);
    CHECK(post("/_emulator/advance", R"({"seconds": -1})").status == 400);
    CHECK(post("/_emulator/inject-http-errors", R"({"count": 1, "status": 404, "api_status": "NOT_FOUND"})").status == 200);
    CHECK_THROWS_AS((void)lb.gemini.get_batch_job(name), llmbatch::NotFoundError);
}

TEST_CASE_TEMPLATE("loopback: a results file is streamed over HTTP, and a truncated download fails", T,
                   llmbatch::CurlTransport, llmbatch::HttplibTransport) {
    ManualClock emulator_clock;
    llmbatch::testing::GeminiEmulatorOptions options;
    options.inline_file_output = true;  // inline jobs answer with a responses file
    GeminiEmulator emulator(emulator_clock, options);
    EmulatorServer<GeminiEmulator> server(emulator);
    server.start();
    ManualClock provider_clock;
    llmbatch::GeminiConfig config;
    config.api_key = "loopback-key";
    config.base_url = server.base_url();
    llmbatch::GeminiProvider<T, ManualClock> gemini(config, T{}, provider_clock);

    const auto name = gemini.create_batch_job(payload, {.filter_json = true});
    emulator_clock.advance(1h);
    const auto results = gemini.fetch_batch_results(name);
    REQUIRE(results.size() == 4);
    const char* expected[] = {"Humanities", "Languages", "STEM", "Arts"};
    for (std::size_t i = 0; i < 4; ++i) {
        REQUIRE(results[i].ok());
        CHECK(results[i].value->at("category") == expected[i]);
    }

    T transport;
    const llmbatch::HttpRequest download{
        "GET", server.base_url() + "/download/v1beta/files/batch-" + name.substr(8) + ":download?alt=media",
        {{"x-goog-api-key", "loopback-key"}}, {}};
    const auto whole = transport.send(download);
    CHECK(whole.status == 200);
    CHECK(std::count(whole.body.begin(), whole.body.end(), '\n') == 4);

    llmbatch::HttpRequest control{"POST", server.base_url() + "/_emulator/truncate-bodies",
                                  {{"Content-Type", "application/json"}}, R"({"count": 1, "keep_bytes": 10})"};
    CHECK(transport.send(control).status == 200);
    CHECK_THROWS_AS((void)transport.send(download), llmbatch::TransportError);
    CHECK(transport.send(download).body == whole.body);  // only the next body was cut
}

}  // TEST_SUITE

// ---- the provider contract, through both real transports over loopback -------------------------

namespace {

using GeminiOverCurl = contract::GeminiHarness<OverLoopback<llmbatch::CurlTransport>::Link>;
using GeminiOverHttplib = contract::GeminiHarness<OverLoopback<llmbatch::HttplibTransport>::Link>;

}  // namespace

TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_order, GeminiOverCurl, GeminiOverHttplib);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_request_errors, GeminiOverCurl, GeminiOverHttplib);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_failed_job, GeminiOverCurl, GeminiOverHttplib);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_cancel, GeminiOverCurl, GeminiOverHttplib);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_expiry, GeminiOverCurl, GeminiOverHttplib);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_retries, GeminiOverCurl, GeminiOverHttplib);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_no_duplicate, GeminiOverCurl, GeminiOverHttplib);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_file_input, GeminiOverCurl, GeminiOverHttplib);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_over_inline_limit, GeminiOverCurl, GeminiOverHttplib);
TEST_CASE_TEMPLATE_INVOKE(contract::provider_contract_large, GeminiOverCurl, GeminiOverHttplib);

}  // namespace tests_transport_gemini_loopback
