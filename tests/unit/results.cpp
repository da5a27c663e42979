// results.hpp: outcomes, their one copy of the response, usage, and gathering a stream in order.
#include "llmbatch/results.hpp"

#include <doctest/doctest.h>

#include <string>

namespace tests_unit_results {

using llmbatch::Json;
using llmbatch::RequestOutcome;

TEST_SUITE("unit") {

TEST_CASE("results: the response is kept once, in value or in raw") {
    RequestOutcome plain;
    plain.value = Json{{"candidates", 1}};
    CHECK(plain.raw.is_null());
    CHECK(plain.response() == Json{{"candidates", 1}});
    RequestOutcome extracted;
    extracted.raw = Json{{"candidates", 2}};
    extracted.value = Json{{"category", "STEM"}};
    CHECK(extracted.response() == Json{{"candidates", 2}});
    RequestOutcome failed;
    failed.error = llmbatch::ErrorStatus{3, "INVALID_ARGUMENT", "bad", nullptr};
    CHECK(failed.response().is_null());
}

TEST_CASE("results: a collector puts streamed outcomes in input order and fills the gaps") {
    llmbatch::OutcomeCollector collected;
    auto sink = collected.sink();
    for (std::size_t i : {3u, 0u, 2u}) {
        RequestOutcome o;
        o.index = i;
        o.key = std::to_string(i);
        o.value = Json(static_cast<int>(i));
        o.usage = llmbatch::TokenUsage{10, 5, 2, 0, 17};
        sink(std::move(o));
    }
    const auto results = std::move(collected).take("toy", "jobs/1");
    REQUIRE(results.size() == 4);
    CHECK(results[0].value == Json(0));
    CHECK(results[1].error->status == "MISSING_RESULT");
    CHECK(results[3].value == Json(3));
    CHECK(results.failed_indices() == std::vector<std::size_t>{1});
    CHECK(results.usage() == llmbatch::TokenUsage{30, 15, 6, 0, 51});
    CHECK(results.job_name() == "jobs/1");
}

}  // TEST_SUITE

}  // namespace tests_unit_results
