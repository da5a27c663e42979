// OpenAIProvider requests: per-request keys and settings in the input lines, and creates retried
// only when the service certainly did not receive them.
#include "llmbatch/providers/openai.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support.hpp"

namespace tests_providers_openai_requests {

using llmbatch::Json;
using llmbatch::testing::FakeTransport;
using llmbatch::testing::json_response;
using namespace openai_test;

TEST_SUITE("providers") {

TEST_CASE("input_file_line carries the request's key, settings, schema and provider options") {
    FakeTransport t;
    auto openai = make(t);
    llmbatch::BatchRequest r({"Classify", "physics"}, "doc-a");
    r.settings.max_output_tokens = 12;
    r.settings.json_schema = {{"type", "object"}, {"properties", {{"label", {{"type", "string"}}}}}};
    r.provider_options = {{"seed", 3}, {"temperature", nullptr}};
    CHECK(openai.input_file_line(r, 5, true) == Json::parse(R"({
      "custom_id": "doc-a", "method": "POST", "url": "/v1/chat/completions",
      "body": {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Classify\nphysics"}],
               "max_completion_tokens": 12, "seed": 3,
               "response_format": {"type": "json_schema", "json_schema": {"name": "response",
                  "schema": {"type": "object", "properties": {"label": {"type": "string"}}}}}}})"));
    CHECK(openai.input_file_line(llmbatch::BatchRequest({"x"}), 5, false)["custom_id"] == "5");
    CHECK(t.call_count() == 0);
}

TEST_CASE("create_batch_job with BatchRequests refuses duplicate keys before sending anything") {
    FakeTransport t;
    auto openai = make(t);
    std::vector<llmbatch::BatchRequest> requests{llmbatch::BatchRequest({"a"}, "k"), llmbatch::BatchRequest({"b"}, "k")};
    CHECK_THROWS_AS((void)openai.create_batch_job(requests), llmbatch::InvalidArgument);
    CHECK(t.call_count() == 0);
}

TEST_CASE("a create that certainly did not reach the service is sent again") {
    FakeTransport t;
    t.on("POST", "/v1/files", json_response(200, file_object("file-abc")));
    t.on("POST", "/v1/batches", json_response(200, batch("batch_7", "validating")));
    t.fail_on_call(2, false);  // connection refused on the create
    auto openai = make(t);
    CHECK(openai.create_batch_job({{"a"}}) == "batch_7");
    const auto sent = t.requests();
    REQUIRE(sent.size() == 3);
    CHECK(sent[1].url == std::string(base) + "/batches");
    CHECK(sent[2].body == sent[1].body);
}

}  // TEST_SUITE

}  // namespace tests_providers_openai_requests
