// Tests of llmbatch/detail/time.hpp: RFC 3339 parsing and formatting.
#include "llmbatch/detail/time.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>

namespace tests_unit_time {

namespace {

using namespace std::chrono;
using llmbatch::detail::format_rfc3339;
using llmbatch::detail::parse_rfc3339;
using llmbatch::detail::SysTime;

// The expected instant, built independently of the parser.
SysTime at(year_month_day ymd, hours h, minutes m, seconds s, nanoseconds ns = nanoseconds{0}) {
    return time_point_cast<system_clock::duration>(sys_days{ymd} + h + m + s + ns);
}

std::int64_t nanos_since_epoch(SysTime t) { return duration_cast<nanoseconds>(t.time_since_epoch()).count(); }

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("parse_rfc3339 reads a Gemini timestamp to the nanosecond") {
    const auto t = parse_rfc3339("2025-12-10T18:27:01.407650525Z");
    REQUIRE(t.has_value());
    CHECK(*t == at(2025y / December / 10, 18h, 27min, 1s, 407650525ns));
    // 2025-12-10 is day 20432 of the Unix epoch.
    const std::int64_t expected = ((20432LL * 86400 + 18 * 3600 + 27 * 60 + 1) * 1'000'000'000LL) + 407650525LL;
    CHECK(nanos_since_epoch(*t) == expected);
    CHECK(duration_cast<nanoseconds>(*t - floor<seconds>(*t)).count() == 407650525);
}

TEST_CASE("parse_rfc3339 reads a timestamp without a fraction") {
    const auto t = parse_rfc3339("2026-01-01T00:00:00Z");
    REQUIRE(t.has_value());
    CHECK(*t == SysTime{sys_days{2026y / January / 1}});
    CHECK(nanos_since_epoch(*t) % 1'000'000'000LL == 0);
    CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == SysTime{});
}

TEST_CASE("parse_rfc3339 scales a short fraction and ignores digits beyond nanoseconds") {
    const SysTime base = at(2025y / March / 4, 5h, 6min, 7s);
    CHECK(parse_rfc3339("2025-03-04T05:06:07.5Z") == base + 500ms);
    CHECK(parse_rfc3339("2025-03-04T05:06:07.123Z") == base + 123ms);
    CHECK(parse_rfc3339("2025-03-04T05:06:07.000001Z") == base + 1us);
    CHECK(parse_rfc3339("2025-03-04T05:06:07.1234567899Z") == base + 123456789ns);
}

TEST_CASE("parse_rfc3339 applies numeric offsets") {
    const SysTime utc = at(2025y / June / 1, 12h, 0min, 0s);
    CHECK(parse_rfc3339("2025-06-01T14:00:00+02:00") == utc);
    CHECK(parse_rfc3339("2025-06-01T06:30:00-05:30") == utc);
    CHECK(parse_rfc3339("2025-06-01T12:00:00+00:00") == utc);
    CHECK(parse_rfc3339("2025-06-01T12:00:00-00:00") == utc);
    // An offset can move the instant to another day.
    CHECK(parse_rfc3339("2025-06-02T01:00:00+13:00") == utc);
    CHECK(parse_rfc3339("2025-06-01T14:00:00.25+02:00") == utc + 250ms);
}

TEST_CASE("parse_rfc3339 accepts lower-case t and z") {
    const SysTime expected = at(2025y / December / 10, 18h, 27min, 1s);
    CHECK(parse_rfc3339("2025-12-10T18:27:01z") == expected);
    CHECK(parse_rfc3339("2025-12-10t18:27:01Z") == expected);
}

TEST_CASE("parse_rfc3339 validates the calendar date") {
    CHECK(parse_rfc3339("2024-02-29T00:00:00Z").has_value());  // leap year
    CHECK_FALSE(parse_rfc3339("2025-02-29T00:00:00Z").has_value());
    CHECK_FALSE(parse_rfc3339("2025-02-30T00:00:00Z").has_value());
    CHECK_FALSE(parse_rfc3339("2025-13-01T00:00:00Z").has_value());
    CHECK_FALSE(parse_rfc3339("2025-00-01T00:00:00Z").has_value());
    CHECK_FALSE(parse_rfc3339("2025-04-31T00:00:00Z").has_value());
    CHECK_FALSE(parse_rfc3339("2025-01-00T00:00:00Z").has_value());
    CHECK_FALSE(parse_rfc3339("2025-01-01T24:00:00Z").has_value());
    CHECK_FALSE(parse_rfc3339("2025-01-01T00:60:00Z").has_value());
    CHECK_FALSE(parse_rfc3339("2025-01-01T00:00:61Z").has_value());
}

TEST_CASE("parse_rfc3339 rejects malformed text") {
    CHECK_FALSE(parse_rfc3339("").has_value());
    CHECK_FALSE(parse_rfc3339("2025").has_value());
    CHECK_FALSE(parse_rfc3339("2025-12-10").has_value());
    CHECK_FALSE(parse_rfc3339("2025-12-10T18:27Z").has_value());          // too short
    CHECK_FALSE(parse_rfc3339("2025-12-10T18:27:01").has_value());        // missing zone
    CHECK_FALSE(parse_rfc3339("2025-12-10T18:27:01.5").has_value());      // missing zone after fraction
    CHECK_FALSE(parse_rfc3339("2025-12-10T18:27:01.Z").has_value());      // empty fraction
    CHECK_FALSE(parse_rfc3339("2025-12-10T18:27:01Zjunk").has_value());   // trailing junk
    CHECK_FALSE(parse_rfc3339("2025-12-10T18:27:01Z ").has_value());      // trailing space
    CHECK_FALSE(parse_rfc3339("2025-12-10T18:27:01+02:00x").has_value()); // junk after offset
    CHECK_FALSE(parse_rfc3339("2025-12-10T18:27:01+02").has_value());     // offset without minutes
    CHECK_FALSE(parse_rfc3339("2025-12-10T18:27:01+0200").has_value());   // offset without colon
    CHECK_FALSE(parse_rfc3339("2025-12-10T18:27:01X").has_value());       // unknown zone letter
    CHECK_FALSE(parse_rfc3339("2025/12/10T18:27:01Z").has_value());
    CHECK_FALSE(parse_rfc3339("2025-12-10X18:27:01Z").has_value());
    CHECK_FALSE(parse_rfc3339("2025-12-10T18-27-01Z").has_value());
    CHECK_FALSE(parse_rfc3339("2025-1a-10T18:27:01Z").has_value());
    CHECK_FALSE(parse_rfc3339("20251210T182701Z").has_value());
    CHECK_FALSE(parse_rfc3339("1765391221").has_value());
}

TEST_CASE("parse_rfc3339 rejects an offset out of range") {
    CHECK_FALSE(parse_rfc3339("2026-01-01T00:00:00+99:99").has_value());
    CHECK_FALSE(parse_rfc3339("2026-01-01T00:00:00+24:00").has_value());
    CHECK_FALSE(parse_rfc3339("2026-01-01T00:00:00+01:60").has_value());
}

TEST_CASE("format_rfc3339 writes UTC with a nine-digit fraction only when non-zero") {
    CHECK(format_rfc3339(*parse_rfc3339("2026-01-01T00:00:00Z")) == "2026-01-01T00:00:00Z");
    CHECK(format_rfc3339(SysTime{}) == "1970-01-01T00:00:00Z");
    CHECK(format_rfc3339(at(2025y / December / 10, 18h, 27min, 1s, 407650525ns)) ==
          "2025-12-10T18:27:01.407650525Z");
    CHECK(format_rfc3339(at(2025y / March / 4, 5h, 6min, 7s) + 500ms) == "2025-03-04T05:06:07.500000000Z");
    CHECK(format_rfc3339(at(2025y / March / 4, 5h, 6min, 7s) + 1ns) == "2025-03-04T05:06:07.000000001Z");
    CHECK(format_rfc3339(at(2024y / February / 29, 23h, 59min, 59s)) == "2024-02-29T23:59:59Z");

    SUBCASE("without the fraction") {
        CHECK(format_rfc3339(at(2025y / December / 10, 18h, 27min, 1s, 407650525ns), false) ==
              "2025-12-10T18:27:01Z");
    }
    SUBCASE("before the epoch") {
        CHECK(format_rfc3339(at(1969y / December / 31, 23h, 59min, 59s)) == "1969-12-31T23:59:59Z");
        CHECK(format_rfc3339(SysTime{} - 1ns) == "1969-12-31T23:59:59.999999999Z");
    }
}

TEST_CASE("format_rfc3339 and parse_rfc3339 round-trip") {
    for (const char* text : {"2025-12-10T18:27:01.407650525Z", "2026-01-01T00:00:00Z", "2000-02-29T12:34:56.000000001Z",
                             "1999-12-31T23:59:59.999999999Z", "2038-01-19T03:14:08Z"}) {
        CAPTURE(text);
        const auto t = parse_rfc3339(text);
        REQUIRE(t.has_value());
        CHECK(format_rfc3339(*t) == text);
    }
    // An offset is normalised to Z.
    CHECK(format_rfc3339(*parse_rfc3339("2025-06-01T14:00:00.5+02:00")) == "2025-06-01T12:00:00.500000000Z");
    // Each instant survives format then parse.
    const SysTime t = at(2031y / July / 15, 9h, 8min, 7s, 123456789ns);
    CHECK(parse_rfc3339(format_rfc3339(t)) == t);
}

TEST_CASE("parse_rfc3339 refuses times the clock cannot hold instead of wrapping around") {
    CHECK_FALSE(parse_rfc3339("1500-01-01T00:00:00Z").has_value());
    CHECK_FALSE(parse_rfc3339("2263-01-01T00:00:00Z").has_value());
    CHECK_FALSE(parse_rfc3339("9999-12-31T23:59:59Z").has_value());
    CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == llmbatch::detail::SysTime{});
    CHECK(parse_rfc3339("2200-01-01T00:00:00Z").has_value());
}
}  // TEST_SUITE("unit")

}  // namespace tests_unit_time
