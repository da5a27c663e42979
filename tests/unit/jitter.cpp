// detail/jitter.hpp: Jitter draws what a seeded 64-bit Mersenne Twister and a uniform
// distribution over [-1, 1) draw, so retry and poll schedules replay from their seed.
#include "llmbatch/detail/jitter.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <utility>

namespace tests_unit_jitter {

TEST_SUITE("unit") {
    TEST_CASE("Jitter draws the seeded Mersenne Twister's uniform values in [-1, 1)") {
        for (const std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{42}, std::uint64_t{0x6c6c6d6261746368ULL}}) {
            llmbatch::detail::Jitter jitter(seed);
            std::mt19937_64 rng(seed);
            std::uniform_real_distribution<double> unit(-1.0, 1.0);
            for (int i = 0; i < 1000; ++i) {
                const double drawn = jitter.unit();
                CHECK(drawn == unit(rng));
                CHECK(drawn >= -1.0);
                CHECK(drawn < 1.0);
            }
        }
    }

    TEST_CASE("a moved Jitter goes on with the same sequence") {
        llmbatch::detail::Jitter first(7);
        std::mt19937_64 rng(7);
        std::uniform_real_distribution<double> unit(-1.0, 1.0);
        CHECK(first.unit() == unit(rng));
        llmbatch::detail::Jitter moved(std::move(first));
        CHECK(moved.unit() == unit(rng));
        llmbatch::detail::Jitter assigned(99);
        assigned = std::move(moved);
        CHECK(assigned.unit() == unit(rng));
    }

    TEST_CASE("two seeds give different sequences") {
        llmbatch::detail::Jitter a(1), b(2);
        int same = 0;
        for (int i = 0; i < 100; ++i) same += a.unit() == b.unit() ? 1 : 0;
        CHECK(same == 0);
    }
}

}  // namespace tests_unit_jitter
