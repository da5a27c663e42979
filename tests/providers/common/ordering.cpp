// providers/common/ordering.hpp: results back in input order by key, and what is missing.
#include "llmbatch/providers/common/ordering.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace tests_providers_common_ordering {

using llmbatch::ResultOrder;

TEST_SUITE("providers") {

TEST_CASE("ordering: index keys must be canonical decimals within the job") {
    const ResultOrder order({}, 3);
    CHECK(order.index_of("0") == 0u);
    CHECK(order.index_of("2") == 2u);
    CHECK_FALSE(order.index_of("3"));
    CHECK_FALSE(order.index_of("01"));
    CHECK_FALSE(order.index_of("-1"));
    CHECK_FALSE(order.index_of("1x"));
    CHECK_FALSE(order.index_of(""));
}

TEST_CASE("ordering: the caller's own keys are looked up; missing positions are listed") {
    ResultOrder order({"alpha", "beta", "gamma"}, 0);
    CHECK(order.index_of("beta") == 1u);
    CHECK_FALSE(order.index_of("1"));
    CHECK(order.mark(1));
    CHECK_FALSE(order.mark(1));
    std::vector<std::size_t> missing;
    order.for_each_missing([&](std::size_t i) { missing.push_back(i); });
    CHECK(missing == std::vector<std::size_t>{0, 2});
    CHECK(order.key_of(2) == "gamma");
}

TEST_CASE("ordering: a whole list goes by key, by position without keys, and nowhere when partly keyed") {
    using Keys = std::vector<std::string_view>;
    CHECK(llmbatch::plan_order(Keys{"2", "0", "1"}, {}, 3) == std::vector<std::size_t>{2, 0, 1});
    CHECK(llmbatch::plan_order(Keys{"", ""}, {}, 2) == std::vector<std::size_t>{0, 1});
    // Keys that name no request (or repeat) fall back to the documented order.
    CHECK(llmbatch::plan_order(Keys{"7", "7"}, {}, 2) == std::vector<std::size_t>{0, 1});
    CHECK_FALSE(llmbatch::plan_order(Keys{"1", ""}, {}, 2));
    CHECK(llmbatch::plan_order(Keys{"b", "a"}, {"a", "b"}, 0) == std::vector<std::size_t>{1, 0});
}

}  // TEST_SUITE

}  // namespace tests_providers_common_ordering
