#include "llmbatch/testing/emulator/state.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "llmbatch/testing/emulator/ids.hpp"

namespace tests_testing_emulator_state {

using llmbatch::Json;
using llmbatch::testing::IdSequence;
using llmbatch::testing::JobBook;

namespace {

struct Job {
    std::uint64_t sequence = 0;
    std::string name;
    int payload = 0;
    [[nodiscard]] Json to_json() const { return {{"sequence", sequence}, {"name", name}, {"payload", payload}}; }
    [[nodiscard]] static Job from_json(const Json& j) {
        return Job{j.at("sequence").get<std::uint64_t>(), j.at("name").get<std::string>(), j.at("payload").get<int>()};
    }
};

std::string name_of(std::uint64_t n, unsigned salt) { return fmt::format("job-{}", n + salt); }

}  // namespace

TEST_SUITE("testing") {

TEST_CASE("JobBook: numbers, unique names, find, erase; set_next_number rejects used numbers and 0") {
    JobBook<Job> book;
    const auto first = book.take_number();
    book.add(Job{first, book.unique_name(first, name_of), 1});
    CHECK_THROWS_AS(book.set_next_number(1), std::invalid_argument);
    CHECK_THROWS_AS(book.set_next_number(0), std::invalid_argument);
    book.set_next_number(2);
    const auto second = book.take_number();
    CHECK(second == 2);
    // job-2 is free; a name taken already gets the next salt.
    book.add(Job{second, book.unique_name(1, name_of), 2});
    CHECK(book.jobs().back().name == "job-2");
    CHECK(book.unique_name(1, name_of) == "job-3");
    CHECK(book.find("job-1")->payload == 1);
    CHECK(book.find("nope") == nullptr);
    CHECK(book.erase("job-1"));
    CHECK_FALSE(book.erase("job-1"));
    CHECK(book.size() == 1);
}

TEST_CASE("JobBook: JSON round trip sorts by number and keeps the counter") {
    JobBook<Job> book;
    book.restore(Json::parse(R"([{"sequence":5,"name":"b","payload":2},{"sequence":3,"name":"a","payload":1}])"), 9);
    CHECK(book.jobs().front().name == "a");
    CHECK(book.next_number() == 9);
    CHECK(book.jobs_json().size() == 2);
    CHECK_THROWS(book.restore(Json::parse(R"([{"name":"x"}])"), 1));
    CHECK(book.size() == 2);  // unchanged
}

TEST_CASE("check_state_envelope and IdSequence") {
    using llmbatch::testing::check_state_envelope;
    CHECK_NOTHROW(check_state_envelope(Json{{"format", "f"}, {"version", 1}}, "f", 1, "an f"));
    CHECK_THROWS_AS(check_state_envelope(Json{{"format", "g"}, {"version", 1}}, "f", 1, "an f"), std::invalid_argument);
    CHECK_THROWS_AS(check_state_envelope(Json{{"format", "f"}, {"version", 2}}, "f", 1, "an f"), std::invalid_argument);
    CHECK_THROWS_AS(check_state_envelope(Json::array(), "f", 1, "an f"), std::invalid_argument);

    IdSequence a("seed");
    IdSequence b("seed");
    const std::string first = a.next(12);
    CHECK(first.size() == 12);
    CHECK(b.next(12) == first);
    CHECK(a.next(12) != first);
    CHECK(a.next_number() == 3);
    b.set_next_number(1);
    CHECK(b.next(12) == first);
    CHECK(llmbatch::testing::detail::format_timestamp(llmbatch::testing::detail::parse_timestamp(
              "2026-01-01T00:00:01.5Z")) == "2026-01-01T00:00:01.500000000Z");
}

}

}  // namespace tests_testing_emulator_state
