// The Anthropic wire vocabulary: custom ids, error bodies, retry rules, the header transport.
#include "llmbatch/providers/anthropic/wire.hpp"

#include <doctest/doctest.h>

#include <string>

#include "llmbatch/testing/fake_transport.hpp"

namespace tests_providers_anthropic_wire {

using llmbatch::HttpResponse;
using llmbatch::Json;

TEST_SUITE("providers") {

TEST_CASE("custom ids: valid keys kept, others derived deterministically and valid") {
    using llmbatch::detail::anthropic_custom_id;
    using llmbatch::detail::anthropic_valid_custom_id;
    CHECK(anthropic_custom_id("doc-0001_a", 5) == "doc-0001_a");
    CHECK(anthropic_valid_custom_id(std::string(64, 'a')));
    CHECK_FALSE(anthropic_valid_custom_id(std::string(65, 'a')));
    CHECK_FALSE(anthropic_valid_custom_id(""));
    CHECK_FALSE(anthropic_valid_custom_id("a.b"));
    const std::string derived = anthropic_custom_id("a.b", 12);
    CHECK(anthropic_valid_custom_id(derived));
    CHECK(derived == anthropic_custom_id("a.b", 12));
    CHECK(derived != anthropic_custom_id("a.c", 12));
    CHECK(derived.substr(derived.size() - 3) == "_12");
    CHECK(anthropic_valid_custom_id(anthropic_custom_id(std::string(500, '/'), 99'999)));
}

TEST_CASE("error bodies and retry rules") {
    const HttpResponse overloaded{529, {}, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":null})"};
    const auto status = llmbatch::AnthropicWire::read_error(overloaded);
    CHECK(status.status == "overloaded_error");
    CHECK(status.message == "Overloaded");
    CHECK(llmbatch::AnthropicWire::read_error(HttpResponse{502, {}, "<html>bad gateway</html>"}).message == "<html>bad gateway</html>");
    const auto& rules = llmbatch::AnthropicWire::retry_rules;
    for (int s : {408, 409, 429, 500, 503, 529}) CHECK(rules.retryable(HttpResponse{s, {}, {}}));
    for (int s : {400, 401, 403, 404, 413}) CHECK_FALSE(rules.retryable(HttpResponse{s, {}, {}}));
    CHECK_FALSE(rules.retryable(HttpResponse{529, {{"x-should-retry", "false"}}, {}}));
    CHECK(rules.retryable(HttpResponse{400, {{"x-should-retry", "true"}}, {}}));
    CHECK(llmbatch::AnthropicWire::is_quota(429, {}));
    CHECK(llmbatch::detail::anthropic_error_http_status("overloaded_error") == 529);
}

TEST_CASE("the header transport adds the version and workspace, and moves the key for x-api-key") {
    llmbatch::testing::FakeTransport fake;
    fake.push(HttpResponse{200, {}, "{}"});
    fake.push(HttpResponse{200, {}, "{}"});
    llmbatch::AnthropicHeaderTransport<llmbatch::testing::FakeTransport> t{fake, "2023-06-01", "ws", llmbatch::AnthropicAuth::x_api_key};
    llmbatch::HttpRequest r{"GET", "https://api.anthropic.com/v1/messages/batches", {{"Authorization", "Bearer k-123"}}, {}};
    (void)t.send(r);
    auto sent = fake.last_request();
    CHECK(sent.headers.get("x-api-key") == "k-123");
    CHECK_FALSE(sent.headers.contains("Authorization"));
    CHECK(sent.headers.get("anthropic-version") == "2023-06-01");
    CHECK(sent.headers.get("anthropic-workspace-id") == "ws");
    t.auth = llmbatch::AnthropicAuth::bearer;
    t.workspace_id.clear();
    (void)t.send(r);
    sent = fake.last_request();
    CHECK(sent.headers.get("Authorization") == "Bearer k-123");
    CHECK_FALSE(sent.headers.contains("x-api-key"));
    CHECK_FALSE(sent.headers.contains("anthropic-workspace-id"));
}

}  // TEST_SUITE

}  // namespace tests_providers_anthropic_wire
