#pragma once
/// @file detail/impl/jitter.ipp
/// The definitions of `detail/jitter.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <cstdint>
#include <memory>
#include <random>

#include "llmbatch/detail/jitter.hpp"

namespace llmbatch::detail {

struct Jitter::State {
    std::mt19937_64 rng;
    std::uniform_real_distribution<double> unit{-1.0, 1.0};
};

LLMBATCH_DECL Jitter::Jitter(std::uint64_t seed) : seed_(seed) {}
LLMBATCH_DECL Jitter::Jitter(Jitter&&) noexcept = default;
LLMBATCH_DECL Jitter& Jitter::operator=(Jitter&&) noexcept = default;
LLMBATCH_DECL Jitter::~Jitter() = default;
LLMBATCH_DECL double Jitter::unit() {
    if (!state_) state_ = std::make_unique<State>(State{std::mt19937_64(seed_)});
    return state_->unit(state_->rng);
}

}  // namespace llmbatch::detail
