// request.hpp: neutral requests, the payload convenience, and the checks before sending.
#include "llmbatch/request.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace tests_unit_request {

using llmbatch::BatchRequest;
using llmbatch::InvalidArgument;

TEST_SUITE("unit") {

TEST_CASE("request: a payload converts to requests keyed by index, its prompts as parts") {
    const auto requests = llmbatch::to_requests({{"a"}, {"b", "context"}});
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].key == "0");
    CHECK(requests[1].key == "1");
    CHECK(requests[1].parts == std::vector<std::string>{"b", "context"});
    CHECK(requests[1].provider_options.is_null());
    CHECK_THROWS_WITH_AS((void)llmbatch::to_requests({}), "batch_payload must not be empty.", InvalidArgument);
}

TEST_CASE("request: an empty key is the index; keys must be unique") {
    std::vector<BatchRequest> requests{BatchRequest({"x"}), BatchRequest({"y"}, "0")};
    CHECK(llmbatch::request_key(requests[0], 0) == "0");
    CHECK_THROWS_WITH_AS(llmbatch::validate_requests(requests, "gemini"),
                         "request 1: key '0' is used by an earlier request; keys must be unique", InvalidArgument);
    requests[1].key = "custom";
    CHECK_NOTHROW(llmbatch::validate_requests(requests, "gemini"));
}

TEST_CASE("request: a provider's key rules are checked before sending, naming the request") {
    constexpr llmbatch::KeyRules rules{8, [](char c) { return c != ' '; }, "at most 8 characters, no spaces"};
    std::vector<BatchRequest> requests{BatchRequest({"x"}, "ok-key")};
    CHECK_NOTHROW(llmbatch::validate_requests(requests, "toy", rules));
    requests.emplace_back(std::vector<std::string>{"y"}, "much-too-long");
    CHECK_THROWS_WITH_AS(llmbatch::validate_requests(requests, "toy", rules),
                         "request 1: key 'much-too-long' is 13 characters long, over toy's limit of 8 (at most 8 "
                         "characters, no spaces)",
                         InvalidArgument);
    requests[1].key = "a b";
    CHECK_THROWS_AS(llmbatch::validate_requests(requests, "toy", rules), InvalidArgument);
}

TEST_CASE("request: empty content and non-object provider options are refused") {
    std::vector<BatchRequest> requests{BatchRequest({"x"}), BatchRequest()};
    CHECK_THROWS_WITH_AS(llmbatch::validate_requests(requests, "gemini"),
                         "Each prompt sequence in batch_payload must not be empty (request 1 is empty).", InvalidArgument);
    requests[1].parts = {"y"};
    requests[1].provider_options = llmbatch::Json::array();
    CHECK_THROWS_AS(llmbatch::validate_requests(requests, "gemini"), InvalidArgument);
    CHECK_THROWS_AS(llmbatch::validate_requests({}, "gemini"), InvalidArgument);
}

}  // TEST_SUITE

}  // namespace tests_unit_request
