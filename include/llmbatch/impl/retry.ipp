#pragma once
/// @file impl/retry.ipp
/// The definitions of `llmbatch/retry.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include "llmbatch/clock.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/retry.hpp"

namespace llmbatch {

namespace detail {

LLMBATCH_DECL std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s) {
    using namespace std::chrono;
    static constexpr std::string_view months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    if (s.size() != 29 || s[3] != ',' || s.substr(25) != " GMT") return std::nullopt;
    auto num = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
        int v = 0;
        for (std::size_t i = pos; i < pos + n; ++i) {
            if (s[i] < '0' || s[i] > '9') return std::nullopt;
            v = v * 10 + (s[i] - '0');
        }
        return v;
    };
    const auto d = num(5, 2), y = num(12, 4), h = num(17, 2), mi = num(20, 2), se = num(23, 2);
    unsigned mo = 0;
    for (unsigned i = 0; i < 12; ++i)
        if (s.substr(8, 3) == months[i]) mo = i + 1;
    if (!d || !y || !h || !mi || !se || mo == 0 || s[19] != ':' || s[22] != ':') return std::nullopt;
    const year_month_day ymd{year{*y}, month{mo}, day{static_cast<unsigned>(*d)}};
    if (!ymd.ok() || *h > 23 || *mi > 59 || *se > 60) return std::nullopt;
    return time_point_cast<system_clock::duration>(sys_days{ymd} + hours{*h} + minutes{*mi} + seconds{*se});
}

}  // namespace detail

LLMBATCH_DECL std::optional<std::chrono::milliseconds> server_retry_delay(
    const HttpResponse& response, std::chrono::system_clock::time_point utc_now) {
    using namespace std::chrono;
    auto trimmed = [](std::string_view v) {
        while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
        while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
        return v;
    };
    auto digits = [](std::string_view v) {
        return !v.empty() && v.size() < 10 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (auto header = response.headers.get("retry-after-ms")) {
        const std::string_view v = trimmed(*header);
        if (digits(v)) return milliseconds(std::stoll(std::string(v)));
    }
    if (auto header = response.headers.get("Retry-After")) {
        const std::string_view v = trimmed(*header);
        if (digits(v)) return duration_cast<milliseconds>(seconds(std::stoll(std::string(v))));
        if (auto when = detail::parse_http_date(v))
            return std::max(milliseconds(0), duration_cast<milliseconds>(*when - utc_now));
    }
    return std::nullopt;
}

LLMBATCH_DECL std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, int retry) {
    const double base = static_cast<double>(policy.initial_backoff.count()) *
                        std::pow(std::max(policy.multiplier, 1.0), std::max(retry - 1, 0));
    const double capped = std::min(base, static_cast<double>(policy.max_backoff.count()));
    return std::chrono::milliseconds(static_cast<std::int64_t>(capped));
}

}  // namespace llmbatch
