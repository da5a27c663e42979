#pragma once
/// @file clock.hpp
/// The `Clock` policy and `SystemClock`, the real clock.
///
/// A clock is an object (not a type with a static `now()`), so a stateful fake such as
/// `testing::ManualClock` models it. Waiting, retries and the tracker's timestamps all go
/// through the clock, which is how tests check a backoff schedule without sleeping.

#include <chrono>
#include <concepts>

#include "llmbatch/detail/config.hpp"

namespace llmbatch {

/// Requirements, for a clock object `c` of type `C` and a `C::duration d`:
/// 1. `C::duration` and `C::time_point` name a `std::chrono` duration and time point;
/// 2. `c.now()` gives the current monotonic `C::time_point`;
/// 3. `c.sleep_for(d)` blocks (or pretends to) for `d`;
/// 4. `c.utc_now()` gives the wall-clock time as a `std::chrono::system_clock::time_point`,
///    used for timestamps that are stored or compared with a provider's times.
template <class C>
concept Clock = requires(C& c, const typename C::duration& d) {
    typename C::duration;
    typename C::time_point;
    { c.now() } -> std::convertible_to<typename C::time_point>;
    { c.sleep_for(d) };
    { c.utc_now() } -> std::convertible_to<std::chrono::system_clock::time_point>;
};

/// The real clock: `std::chrono::steady_clock` for intervals, the system clock for timestamps,
/// and `std::this_thread::sleep_for` for waiting. Stateless.
struct SystemClock {
    using duration = std::chrono::steady_clock::duration;
    using time_point = std::chrono::steady_clock::time_point;

    [[nodiscard]] time_point now() const noexcept { return std::chrono::steady_clock::now(); }
    LLMBATCH_DECL void sleep_for(duration d) const;
    [[nodiscard]] std::chrono::system_clock::time_point utc_now() const noexcept {
        return std::chrono::system_clock::now();
    }
};

static_assert(Clock<SystemClock>);

}  // namespace llmbatch

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/impl/clock.ipp"
#endif
