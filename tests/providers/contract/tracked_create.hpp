// The provider contract of tracked creates (llmbatch/tracked_create.hpp): whatever happens to a
// create's reply, and whenever the process stops, each batch ends with exactly one job at the
// provider and in the tracking file. Cases are doctest templates over a contract harness `H` (see
// contract.hpp), invoked in memory by each provider's contract file.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "llmbatch/service.hpp"
#include "llmbatch/tracked_create.hpp"
#include "llmbatch/tracking.hpp"

#include "../../support/temp_dir.hpp"

namespace contract {

/// A service over the harness's provider and a tracker in a fresh folder.
template <class H>
struct TrackedWorld {
    H h;
    llmbatch::LLMService<typename H::Provider> service{h.provider()};
    llmbatch_test::TempDir dir{"llmbatch-contract", true};
    llmbatch::JobTracker tracker{dir.path / "jobs.json", dir.path / "state.json"};
    std::string name{H::Provider::name};

    auto& provider() { return service.template provider<typename H::Provider>(); }

    /// Batch `index` of source "s.md" with `n` requests keyed "0".."n-1".
    static llmbatch::TrackedJob batch(std::int64_t index, std::size_t n) {
        llmbatch::TrackedJob job;
        job.source = "s.md";
        job.batch_index = index;
        for (std::size_t i = 0; i < n; ++i) job.request_keys.push_back(std::to_string(i));
        return job;
    }
    llmbatch::TrackedCreate create(std::int64_t index, std::size_t n) {
        return llmbatch::create_tracked_job(service, tracker, h.provider_clock, name, batch(index, n), h.payload(n));
    }
    /// Both clocks (the provider's and the emulator's) move by `d`.
    void advance(std::chrono::seconds d) {
        h.provider_clock.advance(d);
        h.advance(d);
    }
};

TEST_CASE_TEMPLATE_DEFINE("contract: a job is found in the listing by its client token, or by time and size" *
                              doctest::test_suite("providers"),
                          H, provider_contract_client_token) {
    H h;
    auto p = h.provider();
    llmbatch::CreateOptions options;
    options.client_token = "token-0123456789abcdef";
    const auto job = p.create_batch_job(h.payload(3), options);
    (void)p.create_batch_job(h.payload(2), {});
    const auto listed = p.list_batch_jobs();
    const auto it = std::find_if(listed.begin(), listed.end(), [&](const auto& j) { return j.name == job.name(); });
    REQUIRE(it != listed.end());
    if constexpr (llmbatch::provider_lists_client_tokens<typename H::Provider>()) {
        CHECK(it->client_token == options.client_token);
        CHECK(std::count_if(listed.begin(), listed.end(), [](const auto& j) { return j.client_token.empty(); }) == 1);
    } else {
        CHECK(it->counts.total == 3);
        CHECK(it->create_time.has_value());
    }
    options.client_token = "not a token";
    CHECK_THROWS_AS((void)p.create_batch_job(h.payload(1), options), llmbatch::InvalidArgument);
}

TEST_CASE_TEMPLATE_DEFINE("contract: a create whose reply is lost is found and tracked once" * doctest::test_suite("providers"),
                          H, provider_contract_lost_reply_adopted) {
    TrackedWorld<H> w;
    w.h.lose_create_reply(w.provider());
    const auto created = w.create(0, 2);
    CHECK(created.adopted);
    CHECK(w.h.jobs_held() == 1);
    REQUIRE(w.tracker.jobs().size() == 1);
    CHECK(w.tracker.jobs().front().job_name == created.job.job_name);
    CHECK(w.tracker.jobs().front().request_keys == std::vector<std::string>{"0", "1"});
    CHECK(w.tracker.open_creates().empty());
    CHECK_THROWS_AS(w.create(0, 2), llmbatch::DuplicateJobError);  // the batch has its pending job
    CHECK(w.h.jobs_held() == 1);
}

TEST_CASE_TEMPLATE_DEFINE("contract: a process stopped between the create and its record is settled by the next run" *
                              doctest::test_suite("providers"),
                          H, provider_contract_crash_after_create) {
    TrackedWorld<H> w;
    // What a process killed right after the provider made the job leaves behind: the recorded
    // create, and the job at the provider.
    auto job = w.batch(0, 3);
    job.provider = w.name;
    job.created_at = std::chrono::floor<std::chrono::seconds>(w.h.provider_clock.utc_now());
    w.tracker.begin_create({"crashed-create-token", job});
    llmbatch::CreateOptions options;
    options.client_token = "crashed-create-token";
    const auto made = w.provider().create_batch_job(w.h.payload(3), options);
    w.advance(std::chrono::seconds(30));
    CHECK_THROWS_AS(w.create(0, 3), llmbatch::DuplicateJobError);  // reserved until settled
    const auto settled = llmbatch::resolve_open_creates(w.service, w.tracker, w.h.provider_clock);
    REQUIRE(settled.size() == 1);
    CHECK(settled[0].settlement == llmbatch::CreateSettlement::adopted);
    CHECK(settled[0].job.job_name == made.name());
    CHECK(w.tracker.jobs().size() == 1);
    CHECK(w.tracker.open_creates().empty());
    CHECK(w.h.jobs_held() == 1);
}

TEST_CASE_TEMPLATE_DEFINE("contract: a create that made no job is created again only once the provider is believed" *
                              doctest::test_suite("providers"),
                          H, provider_contract_create_not_made) {
    TrackedWorld<H> w;
    // Refused with a 4xx: surely no job, nothing stays recorded.
    w.h.refuse_create(w.provider(), 400);
    CHECK_THROWS_AS(w.create(0, 2), llmbatch::ProviderError);
    CHECK(w.tracker.open_creates().empty());
    // A 503 from a server that did not take it: in doubt until the settling time has passed.
    w.h.refuse_create(w.provider(), 503);
    try {
        (void)w.create(0, 2);
        FAIL("a 503 to a create leaves it in doubt");
    } catch (const llmbatch::CreateInDoubt& e) {
        CHECK(e.decidable_after().has_value());
        CHECK(std::string(e.what()).find(e.intent().token) != std::string::npos);
    }
    CHECK(w.h.jobs_held() == 0);
    CHECK(w.tracker.open_creates().size() == 1);
    auto settled = llmbatch::resolve_open_creates(w.service, w.tracker, w.h.provider_clock);
    REQUIRE(settled.size() == 1);
    CHECK(settled[0].settlement == llmbatch::CreateSettlement::in_doubt);
    CHECK_THROWS_AS(w.create(0, 2), llmbatch::DuplicateJobError);
    w.advance(std::chrono::minutes(11));
    settled = llmbatch::resolve_open_creates(w.service, w.tracker, w.h.provider_clock);
    REQUIRE(settled.size() == 1);
    CHECK(settled[0].settlement == llmbatch::CreateSettlement::not_created);
    CHECK(w.tracker.open_creates().empty());
    (void)w.create(0, 2);
    CHECK(w.h.jobs_held() == 1);
    CHECK(w.tracker.jobs().size() == 1);
}

}  // namespace contract
