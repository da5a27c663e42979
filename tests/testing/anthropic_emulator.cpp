#include "llmbatch/testing/anthropic_emulator.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace tests_testing_anthropic_emulator {

using namespace std::chrono_literals;
using llmbatch::HttpRequest;
using llmbatch::HttpResponse;
using llmbatch::Json;
using llmbatch::testing::AnthropicEmulator;
using llmbatch::testing::AnthropicEmulatorOptions;
using llmbatch::testing::ManualClock;

namespace {

const std::string host = "https://api.anthropic.com";

HttpRequest req(std::string method, const std::string& path, std::string body = {}, bool x_api_key = false) {
    HttpRequest r{std::move(method), host + path, {}, std::move(body)};
    if (x_api_key) r.headers.set("x-api-key", "ak");
    else r.headers.set("Authorization", "Bearer ak");
    r.headers.set("anthropic-version", "2023-06-01");
    if (!r.body.empty()) r.headers.set("Content-Type", "application/json");
    return r;
}

Json call(AnthropicEmulator& e, const HttpRequest& r, int status = 200) {
    const HttpResponse res = e.send(r);
    CHECK(res.status == status);
    return Json::parse(res.body);
}

std::string create_body(std::size_t n) {
    Json list = Json::array();
    for (std::size_t i = 0; i < n; ++i)
        list.push_back({{"custom_id", "r" + std::to_string(i)},
                        {"params", {{"model", "claude-sonnet-4-5"}, {"max_tokens", 64},
                                    {"messages", Json::array({{{"role", "user"}, {"content", "Categorise: item " + std::to_string(i)}}})}}}});
    return Json{{"requests", list}}.dump();
}

std::vector<Json> lines(const std::string& body) {
    std::vector<Json> out;
    std::size_t at = 0;
    while (at < body.size()) {
        const auto nl = body.find('\n', at);
        out.push_back(Json::parse(body.substr(at, nl - at)));
        at = nl == std::string::npos ? body.size() : nl + 1;
    }
    return out;
}

}  // namespace

TEST_SUITE("testing") {

TEST_CASE("AnthropicEmulator runs a batch from in_progress (counts hidden) to ended with results") {
    ManualClock clock;
    AnthropicEmulator e(clock);
    e.inject_request_error(1, 400, "max_tokens: too large");
    const Json created = call(e, req("POST", "/v1/messages/batches", create_body(3)));
    const std::string id = created["id"];
    CHECK(id.rfind("msgbatch_", 0) == 0);
    CHECK(created["type"] == "message_batch");
    CHECK(created["processing_status"] == "in_progress");
    CHECK(created["results_url"].is_null());
    clock.advance(50s);  // most requests done, but counts stay hidden
    Json b = call(e, req("GET", "/v1/messages/batches/" + id, {}, true));
    CHECK(b["processing_status"] == "in_progress");
    CHECK(b["request_counts"] == Json::parse(R"({"processing":3,"succeeded":0,"errored":0,"canceled":0,"expired":0})"));
    CHECK(call(e, req("GET", "/v1/messages/batches/" + id + "/results"), 400)["error"]["type"] == "invalid_request_error");
    clock.advance(1min);
    b = call(e, req("GET", "/v1/messages/batches/" + id));
    CHECK(b["processing_status"] == "ended");
    CHECK(b["request_counts"] == Json::parse(R"({"processing":0,"succeeded":2,"errored":1,"canceled":0,"expired":0})"));
    CHECK(b["results_url"] == host + "/v1/messages/batches/" + id + "/results");
    CHECK(b["ended_at"].is_string());
    CHECK(b["archived_at"].is_null());
    e.set_chunk_size(5);
    std::string streamed;
    std::size_t chunks = 0;
    const HttpResponse head = e.send(req("GET", "/v1/messages/batches/" + id + "/results"), [&](const HttpResponse&, std::string_view c) {
        streamed.append(c);
        ++chunks;
    });
    CHECK(head.status == 200);
    CHECK(head.headers.get("Content-Type") == "application/x-jsonl");
    CHECK(chunks > 10);
    const auto results = lines(streamed);
    REQUIRE(results.size() == 3);
    CHECK(results[0]["custom_id"] == "r0");
    CHECK(results[0]["result"]["type"] == "succeeded");
    CHECK(results[0]["result"]["message"]["content"][0]["type"] == "text");
    CHECK(results[1]["result"]["type"] == "errored");
    CHECK(results[1]["result"]["error"]["error"] == Json::parse(R"({"type":"invalid_request_error","message":"max_tokens: too large"})"));
}

TEST_CASE("AnthropicEmulator cancels (canceled lines), expires at 24 h, and fails every request on request") {
    ManualClock clock;
    AnthropicEmulatorOptions o;
    o.cancelling_for = 5s;
    AnthropicEmulator e(clock, o);
    e.set_out_of_order(true);
    const std::string a = call(e, req("POST", "/v1/messages/batches", create_body(4)))["id"];
    e.set_out_of_order(false);
    clock.advance(40s);  // half of the requests done
    const Json canceling = call(e, req("POST", "/v1/messages/batches/" + a + "/cancel"));
    CHECK(canceling["processing_status"] == "canceling");
    CHECK(canceling["cancel_initiated_at"].is_string());
    CHECK(call(e, req("DELETE", "/v1/messages/batches/" + a), 400)["type"] == "error");
    clock.advance(10s);
    const Json ended = call(e, req("GET", "/v1/messages/batches/" + a));
    CHECK(ended["request_counts"] == Json::parse(R"({"processing":0,"succeeded":2,"errored":0,"canceled":2,"expired":0})"));
    const auto cancelled = lines(e.send(req("GET", "/v1/messages/batches/" + a + "/results")).body);
    REQUIRE(cancelled.size() == 4);
    CHECK(cancelled[0]["custom_id"] == "r3");  // out of order
    CHECK(cancelled[0]["result"]["type"] == "canceled");
    CHECK(cancelled[3]["result"]["type"] == "succeeded");

    const std::string b = call(e, req("POST", "/v1/messages/batches", create_body(2)))["id"];
    CHECK(call(e, req("GET", "/v1/messages/batches/" + b))["expires_at"].is_string());
    e.expire_job(b);
    CHECK(call(e, req("GET", "/v1/messages/batches/" + b))["request_counts"]["expired"] == 2);
    CHECK(lines(e.send(req("GET", "/v1/messages/batches/" + b + "/results")).body)[0]["result"]["type"] == "expired");

    AnthropicEmulatorOptions slow;
    slow.running_for = 48h;
    AnthropicEmulator s(clock, slow);
    const std::string c = call(s, req("POST", "/v1/messages/batches", create_body(2)))["id"];
    clock.advance(24h);
    CHECK(call(s, req("GET", "/v1/messages/batches/" + c))["processing_status"] == "ended");

    e.fail_next_job();
    const std::string d = call(e, req("POST", "/v1/messages/batches", create_body(2)))["id"];
    clock.advance(2min);
    CHECK(call(e, req("GET", "/v1/messages/batches/" + d))["request_counts"]["errored"] == 2);
    CHECK(call(e, req("DELETE", "/v1/messages/batches/" + d)) == Json{{"id", d}, {"type", "message_batch_deleted"}});
    CHECK(call(e, req("GET", "/v1/messages/batches/" + d), 404)["error"]["type"] == "not_found_error");
}

TEST_CASE("AnthropicEmulator checks auth, version and bodies; injects 529; lists by page; archives") {
    ManualClock clock;
    AnthropicEmulatorOptions o;
    o.required_api_key = "ak";
    o.archive_after = 48h;
    AnthropicEmulator e(clock, o);
    HttpRequest no_key{"GET", host + "/v1/messages/batches", {{"anthropic-version", "2023-06-01"}}, {}};
    CHECK(call(e, no_key, 401)["error"]["type"] == "authentication_error");
    HttpRequest no_version{"GET", host + "/v1/messages/batches", {{"x-api-key", "ak"}}, {}};
    CHECK(call(e, no_version, 400)["error"]["message"] == "anthropic-version: header is required");
    Json bad = Json::parse(create_body(1));
    bad["requests"][0]["custom_id"] = std::string(65, 'a');
    CHECK(call(e, req("POST", "/v1/messages/batches", bad.dump()), 400)["error"]["type"] == "invalid_request_error");
    bad["requests"][0]["custom_id"] = "ok";
    bad["requests"][0]["params"]["max_tokens"] = 0;
    (void)call(e, req("POST", "/v1/messages/batches", bad.dump()), 400);
    e.inject_http_errors(1, 529);
    const HttpResponse overloaded = e.send(req("GET", "/v1/messages/batches"));
    CHECK(overloaded.status == 529);
    CHECK(Json::parse(overloaded.body)["error"]["type"] == "overloaded_error");

    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(call(e, req("POST", "/v1/messages/batches", create_body(1)))["id"]);
    const Json first = call(e, req("GET", "/v1/messages/batches?limit=2"));
    REQUIRE(first["data"].size() == 2);
    CHECK(first["data"][0]["id"] == ids[2]);
    CHECK(first["has_more"] == true);
    CHECK(first["last_id"] == ids[1]);
    const Json second = call(e, req("GET", "/v1/messages/batches?limit=2&after_id=" + ids[1]));
    REQUIRE(second["data"].size() == 1);
    CHECK(second["data"][0]["id"] == ids[0]);
    CHECK(second["has_more"] == false);
    const Json back = call(e, req("GET", "/v1/messages/batches?limit=2&before_id=" + ids[0]));
    CHECK(back["data"].size() == 2);

    clock.advance(49h);
    const Json archived = call(e, req("GET", "/v1/messages/batches/" + ids[0]));
    CHECK(archived["archived_at"].is_string());
    CHECK(archived["results_url"].is_null());
    (void)call(e, req("GET", "/v1/messages/batches/" + ids[0] + "/results"), 404);
}

TEST_CASE("AnthropicEmulator answers POST /v1/messages, passes params to the responder and keeps its state") {
    ManualClock clock;
    AnthropicEmulator e(clock);
    std::vector<Json> seen;
    e.set_responder([&](const Json& params) {
        seen.push_back(params);
        return std::string(R"({"ok":true})");
    });
    const Json message = call(e, req("POST", "/v1/messages", Json::parse(create_body(1))["requests"][0]["params"].dump()));
    CHECK(message["type"] == "message");
    CHECK(message["content"][0]["text"] == R"({"ok":true})");
    CHECK(message["usage"]["output_tokens"].is_number_integer());
    REQUIRE(seen.size() == 1);
    CHECK(seen[0]["messages"][0]["content"] == "Categorise: item 0");

    const std::string id = call(e, req("POST", "/v1/messages/batches", create_body(2)))["id"];
    e.inject_request_error(0);
    const Json saved = e.to_json();
    auto restored = AnthropicEmulator::from_json(saved, clock);
    CHECK(restored.job_names() == std::vector<std::string>{id});
    CHECK(restored.to_json() == saved);
    clock.advance(2min);
    CHECK(call(restored, req("GET", "/v1/messages/batches/" + id))["request_counts"]["succeeded"] == 2);
    CHECK_THROWS_AS(restored.restore(Json{{"format", "other"}}), std::invalid_argument);
    CHECK(AnthropicEmulator::default_answer(Json::parse(create_body(1))["requests"][0]["params"]).find("category") != std::string::npos);
    CHECK(e.file_count() == 0);
}

}  // TEST_SUITE

}  // namespace tests_testing_anthropic_emulator
