#include "llmbatch/testing/emulator/faults.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>

namespace tests_testing_emulator_faults {

using llmbatch::Json;
using llmbatch::testing::FaultPlan;
using llmbatch::testing::HttpFault;
using llmbatch::testing::JobError;

TEST_SUITE("testing") {

TEST_CASE("FaultPlan: HTTP faults are served to the next calls, in order") {
    FaultPlan plan;
    plan.add_http_fault(HttpFault{2, 429, "RESOURCE_EXHAUSTED", "slow down", std::nullopt, {}});
    plan.add_http_fault(HttpFault{1, 503, "UNAVAILABLE", "down", "7", R"({"error":"pre-rendered"})"});
    plan.add_http_fault(HttpFault{0, 500, "X", "never", std::nullopt, {}});  // nothing to serve
    CHECK(plan.take_http_fault()->http_status == 429);
    CHECK(plan.take_http_fault()->http_status == 429);
    const auto third = plan.take_http_fault();
    REQUIRE(third);
    CHECK(third->retry_after == std::optional<std::string>("7"));
    CHECK(third->body == R"({"error":"pre-rendered"})");
    CHECK_FALSE(plan.take_http_fault());
}

TEST_CASE("FaultPlan: truncated bodies for the next responses") {
    FaultPlan plan;
    plan.truncate_bodies(2, 10);
    plan.truncate_bodies(1, 0);
    CHECK(plan.take_truncation() == std::optional<std::size_t>(10));
    CHECK(plan.take_truncation() == std::optional<std::size_t>(10));
    CHECK(plan.take_truncation() == std::optional<std::size_t>(0));
    CHECK_FALSE(plan.take_truncation());
}

TEST_CASE("FaultPlan: per-request errors, omissions, order and the next job's failure") {
    FaultPlan plan;
    plan.fail_request(1, JobError{3, "bad", "INVALID_ARGUMENT"});
    plan.omit_result(2);
    plan.set_out_of_order(true);
    plan.set_echo_metadata(false);
    plan.fail_next_job(JobError{13, "boom", {}});
    CHECK(plan.request_error(1)->code == 3);
    CHECK(plan.request_error(0) == nullptr);
    CHECK(plan.omitted(2));
    CHECK_FALSE(plan.omitted(1));
    const auto first = plan.take_job_faults();
    CHECK(first.out_of_order);
    CHECK_FALSE(first.echo_metadata);
    CHECK(first.fail_at_finish->message == "boom");
    CHECK_FALSE(plan.take_job_faults().fail_at_finish);  // used up; the rest stays
    CHECK(plan.request_error(1) != nullptr);
    plan.clear();
    CHECK(plan.request_error(1) == nullptr);
    CHECK_FALSE(plan.take_job_faults().out_of_order);
}

TEST_CASE("FaultPlan: request errors of the next job only are taken by that job, over the standing ones") {
    FaultPlan plan;
    plan.fail_request(1, JobError{3, "always", {}});
    plan.fail_request_of_next_job(1, JobError{3, "once", {}});
    plan.fail_request_of_next_job(2, JobError{3, "once", {}});
    const Json saved = plan.to_json();
    CHECK(FaultPlan::from_json(Json::parse(saved.dump())).to_json() == saved);  // kept in a state file
    const auto first = plan.take_job_faults();
    CHECK(first.request_error(1, plan)->message == "once");
    CHECK(first.request_error(2, plan)->message == "once");
    CHECK(first.request_error(0, plan) == nullptr);
    const auto second = plan.take_job_faults();
    CHECK(second.request_error(1, plan)->message == "always");
    CHECK(second.request_error(2, plan) == nullptr);
}

TEST_CASE("FaultPlan: JSON round trip") {
    FaultPlan plan;
    plan.fail_request(4, JobError{3, "bad", {}});
    plan.omit_result(0);
    plan.fail_next_job(JobError{13, "boom", {}});
    plan.add_http_fault(HttpFault{3, 503, "UNAVAILABLE", "down", "2", {}});
    plan.truncate_bodies(1, 5);
    const Json saved = plan.to_json();
    FaultPlan back = FaultPlan::from_json(Json::parse(saved.dump()));
    CHECK(back.to_json() == saved);
    CHECK(back.take_http_fault()->http_status == 503);
    CHECK(back.take_truncation() == std::optional<std::size_t>(5));
    // A state written before truncations existed still loads.
    CHECK_FALSE(FaultPlan::from_json(Json::object()).take_truncation());
}

}

}  // namespace tests_testing_emulator_faults
