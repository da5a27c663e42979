#include "llmbatch/testing/emulator/response.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace tests_testing_emulator_response {

using llmbatch::HttpResponse;
using llmbatch::testing::BodyWriter;
using llmbatch::testing::EmulatedResponse;

namespace {

EmulatedResponse produced(std::vector<std::string> pieces) {
    EmulatedResponse r;
    r.head.status = 200;
    r.head.headers.set("Content-Type", "application/jsonl");
    r.producer = [pieces](const BodyWriter& write) {
        for (const auto& p : pieces) write(p);
    };
    return r;
}

std::vector<std::string> chunks_of(EmulatedResponse r, std::size_t size, HttpResponse* head = nullptr) {
    std::vector<std::string> chunks;
    HttpResponse h = llmbatch::testing::deliver(std::move(r), [&](const HttpResponse& seen, std::string_view chunk) {
        CHECK(seen.status == 200);
        chunks.emplace_back(chunk);
    }, size);
    CHECK(h.body.empty());
    if (head) *head = h;
    return chunks;
}

}  // namespace

TEST_SUITE("testing") {

TEST_CASE("deliver: chunks of the configured size, lines split across them") {
    HttpResponse head;
    const auto chunks = chunks_of(produced({"{\"a\":1}\n", "{\"b\":2}\n", "x"}), 3, &head);
    CHECK(head.headers.get("Content-Type") == std::optional<std::string>("application/jsonl"));
    CHECK(chunks == std::vector<std::string>{"{\"a", "\":1", "}\n{", "\"b\"", ":2}", "\nx"});

    EmulatedResponse held;
    held.head.body = "0123456789";
    CHECK(chunks_of(held, 4) == std::vector<std::string>{"0123", "4567", "89"});
    CHECK(chunks_of(produced({}), 4).empty());
}

TEST_CASE("deliver and materialize honour a truncation") {
    EmulatedResponse r = produced({"abc", "def", "ghi"});
    r.truncate_after = 5;
    CHECK(chunks_of(r, 2) == std::vector<std::string>{"ab", "cd", "e"});
    CHECK(llmbatch::testing::materialize(r).body == "abcde");
    r.truncate_after = 0;
    CHECK(llmbatch::testing::materialize(r).body.empty());

    EmulatedResponse held;
    held.head.body = "0123456789";
    held.truncate_after = 3;
    CHECK(llmbatch::testing::materialize(held).body == "012");
    CHECK(held.known_length() == std::optional<std::size_t>(10));
    CHECK_FALSE(r.known_length());
}

TEST_CASE("deliver: an exception from the sink reaches the caller") {
    CHECK_THROWS_AS(llmbatch::testing::deliver(produced({"abc"}), [](const HttpResponse&, std::string_view) {
        throw std::runtime_error("disk full");
    }), std::runtime_error);
}

}

}  // namespace tests_testing_emulator_response
