#pragma once
/// @file impl/clock.ipp
/// The definitions of `llmbatch/clock.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <thread>

#include "llmbatch/clock.hpp"

namespace llmbatch {

LLMBATCH_DECL void SystemClock::sleep_for(duration d) const { std::this_thread::sleep_for(d); }

}  // namespace llmbatch
