#pragma once
/// @file detail/jitter.hpp
/// `Jitter`: the random factors that spread retries and polls, from a seed (so a schedule can
/// be replayed in tests).

#include <cstdint>
#include <memory>

#include "llmbatch/detail/config.hpp"

namespace llmbatch::detail {

/// A 64-bit Mersenne Twister seeded with `seed`; each `unit()` is uniform in [-1, 1). Its state
/// lives apart, so this header needs no <random>, and is made at the first draw, so a schedule
/// that never waits (most exchanges never retry) costs no allocation and no seeding.
class Jitter {
public:
    LLMBATCH_DECL explicit Jitter(std::uint64_t seed);
    LLMBATCH_DECL Jitter(Jitter&&) noexcept;
    LLMBATCH_DECL Jitter& operator=(Jitter&&) noexcept;
    LLMBATCH_DECL ~Jitter();
    [[nodiscard]] LLMBATCH_DECL double unit();

private:
    struct State;
    std::uint64_t seed_;
    std::unique_ptr<State> state_;
};

}  // namespace llmbatch::detail

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/detail/impl/jitter.ipp"
#endif
