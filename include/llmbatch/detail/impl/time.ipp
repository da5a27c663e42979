#pragma once
/// @file detail/impl/time.ipp
/// The definitions of `llmbatch/detail/time.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <fmt/format.h>
#include "llmbatch/detail/time.hpp"

namespace llmbatch::detail {

namespace time_impl {

LLMBATCH_DECL bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    int v = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    out = v;
    return true;
}

}  // namespace time_impl

LLMBATCH_DECL std::optional<SysTime> parse_rfc3339(std::string_view s) {
    using namespace std::chrono;
    using time_impl::digits;
    int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
        !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2, h) ||
        s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
        return std::nullopt;
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)}, day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
    std::size_t pos = 19;
    std::int64_t nanos = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        int count = 0;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (count < 9) nanos = nanos * 10 + (s[pos] - '0');
            ++count;
            ++pos;
        }
        if (count == 0) return std::nullopt;
        for (int i = count; i < 9; ++i) nanos *= 10;
    }
    if (pos >= s.size()) return std::nullopt;
    minutes offset{0};
    if (s[pos] == 'Z' || s[pos] == 'z') {
        ++pos;
    } else if (s[pos] == '+' || s[pos] == '-') {
        int oh = 0, om = 0;
        if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' || !digits(s, pos + 4, 2, om))
            return std::nullopt;
        if (oh > 23 || om > 59) return std::nullopt;
        offset = hours{oh} + minutes{om};
        if (s[pos] == '-') offset = -offset;
        pos += 6;
    } else {
        return std::nullopt;
    }
    if (pos != s.size()) return std::nullopt;
    // In seconds first (no year of four digits overflows them), then refused when the clock's
    // duration cannot hold it (1677 to 2262 for nanoseconds) instead of wrapping around.
    const seconds since_epoch =
        duration_cast<seconds>(sys_days{ymd}.time_since_epoch()) + hours{h} + minutes{mi} + seconds{se} - offset;
    using Duration = system_clock::duration;
    constexpr auto lowest = duration_cast<seconds>(Duration::min()) + seconds{1};
    constexpr auto highest = duration_cast<seconds>(Duration::max()) - seconds{1};
    if (since_epoch < lowest || since_epoch > highest) return std::nullopt;
    return SysTime{duration_cast<Duration>(since_epoch) + duration_cast<Duration>(nanoseconds{nanos})};
}

LLMBATCH_DECL std::string format_rfc3339(SysTime t, bool with_fraction) {
    using namespace std::chrono;
    const auto days = floor<std::chrono::days>(t);
    const year_month_day ymd{days};
    const hh_mm_ss hms{duration_cast<nanoseconds>(t - days)};
    std::string out = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(ymd.year()),
                                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                                  hms.hours().count(), hms.minutes().count(), hms.seconds().count());
    if (with_fraction && hms.subseconds().count() != 0) out += fmt::format(".{:09}", hms.subseconds().count());
    out += 'Z';
    return out;
}

}  // namespace llmbatch::detail
