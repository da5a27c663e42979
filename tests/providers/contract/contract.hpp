// The provider contract: what every (provider, emulator) pair must do, in memory and through real
// transports over loopback. Each case is a doctest template over a harness `H` (see
// gemini_harness.hpp for one); an executable invokes the cases with its harnesses through
// `TEST_CASE_TEMPLATE_INVOKE(provider_contract_<case>, H...)`.
//
// A harness gives a fresh world per case:
//   H h;                          the emulator and its clock (ManualClock: nothing sleeps for real)
//   auto p = h.provider();        a provider over LossyTransport<the harness's transport>
//   h.payload(n, padding = 0)     n requests whose answers echo "item <i>" as JSON {"echo": "item <i>"},
//                                 each request padded with `padding` more bytes
//   h.finish()                    moves the clock past the end of every job
//   h.advance(d)                  moves the clock by d
//   h.out_of_order()              later jobs answer in reverse order
//   h.request_error(i)            request i of later jobs fails
//   h.fail_next_job()             the next job fails as a whole
//   h.http_errors(n, status)      the next n calls get that HTTP error
//   h.expire(job)                 ends a job EXPIRED now (cancelled and expired jobs keep finished results)
//   h.halfway()                   a duration after which a new job has some requests finished, not all
//   h.lose_create_reply(p)        p's next create reaches the server but its reply is lost
//   h.refuse_create(p, status)    p's next create is refused with that HTTP status (not delivered)
//   h.jobs_held()                 how many jobs the emulator holds
//   h.answer_bytes(n)             answers of about n bytes each (for large result sets)
//   H::has_input_files            optional, default true; false for an API without input files
//                                 (Anthropic): a "file-input" or oversized batch goes inline then
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "llmbatch/polling.hpp"

namespace contract {

using llmbatch::Json;

/// Every outcome of `results` holds the echo of its own request: input order is kept.
template <class Results>
void check_in_order(const Results& results, std::size_t n) {
    REQUIRE(results.size() == n);
    for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(i);
        REQUIRE(results[i].ok());
        CHECK(results[i].index == i);
        CHECK((*results[i].value)["echo"] == "item " + std::to_string(i));
    }
}

/// Whether the harness's provider sends large or forced batches as uploaded input files.
template <class H>
constexpr bool has_input_files() {
    if constexpr (requires { H::has_input_files; }) return H::has_input_files;
    else return true;
}

template <class H, class P, class Job>
llmbatch::BatchJob wait(H& h, P& p, const Job& job) {
    h.finish();
    const auto status = p.get_batch_job(job);
    REQUIRE(status.done);
    return status;
}


TEST_CASE_TEMPLATE_DEFINE("contract: create, poll, fetch in input order from out-of-order answers" * doctest::test_suite("providers"), H,
                          provider_contract_order) {
    H h;
    auto p = h.provider();
    h.out_of_order();
    const auto job = p.create_batch_job(h.payload(6), {.filter_json = true});
    CHECK_FALSE(p.get_batch_job(job).done);
    const auto status = wait(h, p, job);
    CHECK(status.state == llmbatch::JobState::succeeded);
    CHECK(status.counts.total == 6);
    check_in_order(p.fetch_batch_results(status, {.filter_json = true}), 6);
    check_in_order(p.fetch_batch_results(job, {.filter_json = true}), 6);
}

TEST_CASE_TEMPLATE_DEFINE("contract: per-request errors are kept as data" * doctest::test_suite("providers"), H, provider_contract_request_errors) {
    H h;
    auto p = h.provider();
    h.request_error(1);
    const auto job = p.create_batch_job(h.payload(3), {.filter_json = true});
    const auto results = p.fetch_batch_results(wait(h, p, job), {.filter_json = true});
    REQUIRE(results.size() == 3);
    CHECK(results[0].ok());
    CHECK_FALSE(results[1].ok());
    CHECK_FALSE(results[1].error->message.empty());
    CHECK(results[2].ok());
    CHECK(results.failed_indices() == std::vector<std::size_t>{1});
}

TEST_CASE_TEMPLATE_DEFINE("contract: a failed job raises JobFailed" * doctest::test_suite("providers"), H, provider_contract_failed_job) {
    H h;
    auto p = h.provider();
    h.fail_next_job();
    const auto job = p.create_batch_job(h.payload(2), {});
    const auto status = wait(h, p, job);
    CHECK(status.state == llmbatch::JobState::failed);
    CHECK_THROWS_AS((void)p.fetch_batch_results(status), llmbatch::JobFailed);
}

TEST_CASE_TEMPLATE_DEFINE("contract: a cancelled job ends cancelled; its finished requests are kept" * doctest::test_suite("providers"), H,
                          provider_contract_cancel) {
    H h;
    auto p = h.provider();
    const auto job = p.create_batch_job(h.payload(10), {.filter_json = true});
    h.advance(h.halfway());
    p.cancel_batch_job(job);
    const auto status = wait(h, p, job);
    CHECK(status.state == llmbatch::JobState::cancelled);
    const auto results = p.fetch_batch_results(status, {.filter_json = true});
    REQUIRE(results.size() == 10);
    std::size_t ok = 0, cancelled = 0;
    for (const auto& o : results) {
        if (o.ok()) {
            ++ok;
            CHECK((*o.value)["echo"] == "item " + std::to_string(o.index));
        } else {
            CHECK(o.error->status == "CANCELLED");
            ++cancelled;
        }
    }
    CHECK(ok > 0);
    CHECK(cancelled > 0);
}

TEST_CASE_TEMPLATE_DEFINE("contract: an expired job gives its finished requests, the rest EXPIRED" * doctest::test_suite("providers"), H,
                          provider_contract_expiry) {
    H h;
    auto p = h.provider();
    const auto job = p.create_batch_job(h.payload(10), {.filter_json = true});
    h.advance(h.halfway());
    h.expire(job);
    const auto status = p.get_batch_job(job);
    CHECK(status.state == llmbatch::JobState::expired);
    const auto results = p.fetch_batch_results(status, {.filter_json = true});
    REQUIRE(results.size() == 10);
    CHECK(results.succeeded_count() > 0);
    for (const auto& o : results)
        if (!o.ok()) CHECK(o.error->status == "EXPIRED");
    CHECK(results.failed_count() > 0);
}

TEST_CASE_TEMPLATE_DEFINE("contract: a 429 and then a 5xx are retried to success" * doctest::test_suite("providers"), H, provider_contract_retries) {
    H h;
    auto p = h.provider();
    h.http_errors(1, 429);
    const auto job = p.create_batch_job(h.payload(2), {.filter_json = true});  // a refused create is safe to repeat
    CHECK(h.jobs_held() == 1);
    h.finish();
    h.http_errors(2, 503);
    check_in_order(p.fetch_batch_results(job, {.filter_json = true}), 2);
}

TEST_CASE_TEMPLATE_DEFINE("contract: a create is never repeated after an ambiguous failure" * doctest::test_suite("providers"), H,
                          provider_contract_no_duplicate) {
    H h;
    auto p = h.provider();
    h.lose_create_reply(p);
    CHECK_THROWS_AS((void)p.create_batch_job(h.payload(2), {}), llmbatch::TransportError);
    CHECK(h.jobs_held() == 1);  // the job exists once; nothing was sent again
    h.refuse_create(p, 503);
    CHECK_THROWS_AS((void)p.create_batch_job(h.payload(2), {}), llmbatch::ProviderError);
    CHECK(h.jobs_held() == 1);
}

TEST_CASE_TEMPLATE_DEFINE("contract: a file-input batch runs end to end" * doctest::test_suite("providers"), H, provider_contract_file_input) {
    H h;
    auto p = h.provider();
    h.out_of_order();
    const auto job = p.create_batch_job(h.payload(5), {.filter_json = true, .force_file_input = true});
    CHECK(job.input_files.empty() == !has_input_files<H>());
    check_in_order(p.fetch_batch_results(wait(h, p, job), {.filter_json = true}), 5);
}

TEST_CASE_TEMPLATE_DEFINE("contract: a payload over the 20 MB inline limit goes as an uploaded input file" *
                              doctest::test_suite("providers"),
                          H, provider_contract_over_inline_limit) {
    H h;
    auto p = h.provider();
    constexpr std::size_t n = 210;
    const auto job = p.create_batch_job(h.payload(n, 100'000), {.filter_json = true});  // about 21 MB
    CHECK(job.input_files.size() == (has_input_files<H>() ? 1U : 0U));
    check_in_order(p.fetch_batch_results(wait(h, p, job), {.filter_json = true}), n);
}

TEST_CASE_TEMPLATE_DEFINE("contract: a multi-megabyte result set streams, every outcome once" * doctest::test_suite("providers"), H,
                          provider_contract_large) {
    H h;
    h.answer_bytes(4000);
    auto p = h.provider();
    h.out_of_order();
    constexpr std::size_t n = 1000;
    const auto job = p.create_batch_job(h.payload(n), {.filter_json = true, .force_file_input = true});
    const auto status = wait(h, p, job);
    std::vector<bool> seen(n, false);
    std::size_t bytes = 0;
    p.stream_batch_results(
        status,
        [&](llmbatch::RequestOutcome&& o) {
            REQUIRE(o.index < n);
            CHECK_FALSE(seen[o.index]);
            seen[o.index] = true;
            REQUIRE(o.ok());
            bytes += o.value->dump().size();
        },
        {.filter_json = true});
    CHECK(std::count(seen.begin(), seen.end(), true) == static_cast<std::ptrdiff_t>(n));
    CHECK(bytes > 4'000'000);
}

}  // namespace contract
