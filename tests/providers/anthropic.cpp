// AnthropicProvider: the exact bytes we send (golden), status mapping, paging, limits, retries and errors.
#include "llmbatch/providers/anthropic.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "anthropic/support.hpp"

namespace tests_providers_anthropic {

using llmbatch::Json;
using llmbatch::JobState;
using llmbatch::testing::FakeTransport;
using llmbatch::testing::json_response;
using namespace anthropic_test;

static_assert(llmbatch::check_provider<Anthropic>());
static_assert(llmbatch::StreamingBatchProvider<Anthropic>);
static_assert(!llmbatch::FileStoreProvider<Anthropic>);
static_assert(llmbatch::CancellableBatchProvider<Anthropic>);
static_assert(llmbatch::DeletableBatchProvider<Anthropic>);
static_assert(llmbatch::ListableBatchProvider<Anthropic>);
static_assert(llmbatch::SyncProvider<Anthropic>);

TEST_SUITE("providers") {

TEST_CASE("AnthropicConfig defaults") {
    const llmbatch::AnthropicConfig c;
    CHECK(c.base_url == "https://api.anthropic.com");
    CHECK(c.auth == llmbatch::AnthropicAuth::bearer);
    CHECK(c.anthropic_version == "2026-10-21");
    CHECK(c.generation.model == "claude-sonnet-4-5");
    CHECK(*c.generation.temperature == doctest::Approx(0.2));
    CHECK(c.max_tokens == 4096);
    CHECK(c.max_requests == 100'000);
    CHECK(c.max_request_bytes == 256ULL * 1024 * 1024);
}

TEST_CASE("a batch is created inline with Bearer auth and anthropic-version, golden") {
    FakeTransport t;
    t.on("POST", "/v1/messages/batches", json_response(200, batch("msgbatch_1", "in_progress")));
    llmbatch::AnthropicConfig c;
    c.generation.system_prompt = llmbatch::SystemPrompt::from_text("Answer in JSON.");
    auto p = make(t, c);
    std::vector<llmbatch::BatchRequest> requests{llmbatch::BatchRequest({"Categorise: Geography"}),
                                                 llmbatch::BatchRequest({"p2", "ctx"})};
    requests[1].settings.max_output_tokens = 50;
    requests[1].settings.temperature = 0.7;
    requests[1].settings.system_prompt = llmbatch::SystemPrompt::from_text("Be brief.");
    const auto name = p.create_batch_job(requests, {.filter_json = true, .force_file_input = true});
    CHECK(name == "msgbatch_1");
    CHECK(name.input_files.empty());
    REQUIRE(t.call_count() == 1);
    const auto sent = t.last_request();
    CHECK(sent.method == "POST");
    CHECK(sent.url == std::string(base) + "/v1/messages/batches");
    CHECK(sent.headers.get("Authorization") == std::string("Bearer ") + key);
    CHECK_FALSE(sent.headers.contains("x-api-key"));
    CHECK(sent.headers.get("anthropic-version") == "2026-10-21");
    CHECK_FALSE(sent.headers.contains("anthropic-workspace-id"));
    CHECK(sent.headers.get("Content-Type") == "application/json");
    CHECK(Json::parse(sent.body) == Json::parse(R"({"requests": [
      {"custom_id": "0", "params": {"model": "claude-sonnet-4-5", "max_tokens": 4096, "temperature": 0.2,
        "system": "Answer in JSON.", "messages": [{"role": "user", "content": "Categorise: Geography"}]}},
      {"custom_id": "1", "params": {"model": "claude-sonnet-4-5", "max_tokens": 50, "temperature": 0.7,
        "system": "Be brief.", "messages": [{"role": "user", "content": "p2\nctx"}]}}]})"));
}

TEST_CASE("x-api-key auth, an older anthropic-version and a workspace header are configurable") {
    FakeTransport t;
    t.on("GET", "/v1/messages/batches/msgbatch_1", json_response(200, batch("msgbatch_1", "in_progress")));
    llmbatch::AnthropicConfig c;
    c.auth = llmbatch::AnthropicAuth::x_api_key;
    c.anthropic_version = "2023-06-01";
    c.workspace_id = "wrkspc_1";
    c.base_url = "http://localhost:9/";
    auto p = make(t, c);
    (void)p.get_batch_job("msgbatch_1");
    const auto sent = t.last_request();
    CHECK(sent.url == "http://localhost:9/v1/messages/batches/msgbatch_1");
    CHECK(sent.headers.get("x-api-key") == key);
    CHECK_FALSE(sent.headers.contains("Authorization"));
    CHECK(sent.headers.get("anthropic-version") == "2023-06-01");
    CHECK(sent.headers.get("anthropic-workspace-id") == "wrkspc_1");
}

TEST_CASE("keys the API refuses as custom_id are derived, and mapped back on fetch") {
    const std::string long_key(80, 'x');
    const std::vector<std::string> keys{"ok_key-1", long_key, "has space", "ok_key-1x"};
    std::vector<llmbatch::BatchRequest> requests;
    for (const auto& k : keys) requests.emplace_back(std::vector<std::string>{"text " + k.substr(0, 3)}, k);
    FakeTransport t;
    t.on("POST", "/v1/messages/batches", json_response(200, batch("msgbatch_k", "in_progress")));
    auto p = make(t);
    (void)p.create_batch_job(requests);
    const Json sent = Json::parse(t.last_request().body);
    std::vector<std::string> ids;
    for (const auto& r : sent["requests"]) ids.push_back(r["custom_id"].get<std::string>());
    CHECK(ids[0] == "ok_key-1");
    CHECK(ids[3] == "ok_key-1x");
    for (const auto& id : ids) CHECK(llmbatch::detail::anthropic_valid_custom_id(id));
    CHECK(ids[1] == llmbatch::detail::anthropic_custom_id(long_key, 1));
    CHECK(ids[1].substr(ids[1].size() - 2) == "_1");
    CHECK(ids[2] != ids[1]);

    std::string body;
    for (std::size_t i : {3U, 1U, 0U, 2U}) body += ok_line(ids[i], R"({"k": ")" + std::to_string(i) + R"("})").dump() + "\n";
    FakeTransport rt;
    rt.on("GET", "/v1/messages/batches/msgbatch_k/results", llmbatch::HttpResponse{200, {}, body});
    auto reader = make(rt);
    const auto results = reader.fetch_batch_results(llmbatch::detail::parse_anthropic_batch(batch("msgbatch_k", "ended", 0, 4)),
                                                    {.filter_json = true, .request_keys = keys});
    REQUIRE(results.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
        CAPTURE(i);
        REQUIRE(results[i].ok());
        CHECK(results[i].key == keys[i]);
        CHECK((*results[i].value)["k"] == std::to_string(i));
    }
}

TEST_CASE("limits and max_tokens 0 are refused before anything is sent") {
    FakeTransport t;
    llmbatch::AnthropicConfig c;
    c.max_requests = 2;
    auto p = make(t, c);
    try {
        (void)p.create_batch_job({{"a"}, {"b"}, {"c"}});
        FAIL("expected InvalidArgument");
    } catch (const llmbatch::InvalidArgument& e) {
        CHECK(std::string(e.what()).find("split") != std::string::npos);
    }
    llmbatch::AnthropicConfig small;
    small.max_request_bytes = 100;
    auto q = make(t, small);
    CHECK_THROWS_WITH_AS((void)q.create_batch_job({{std::string(200, 'x')}}), doctest::Contains("split"),
                         llmbatch::InvalidArgument);
    std::vector<llmbatch::BatchRequest> zero{llmbatch::BatchRequest({"a"})};
    zero[0].settings.max_output_tokens = 0;
    CHECK_THROWS_AS((void)q.create_batch_job(zero), llmbatch::InvalidArgument);
    llmbatch::AnthropicConfig bad;
    bad.max_tokens = 0;
    CHECK_THROWS_AS((void)make(t, bad), llmbatch::InvalidArgument);
    CHECK(t.call_count() == 0);
}

TEST_CASE("status mapping: running, cancelling, succeeded and the all-errored / canceled / expired endings") {
    using llmbatch::detail::parse_anthropic_batch;
    const auto running = parse_anthropic_batch(batch("b", "in_progress", 5));
    CHECK(running.state == JobState::running);
    CHECK_FALSE(running.done);
    CHECK(running.counts.total == 5);
    CHECK(running.counts.pending == 5);
    CHECK(running.counts_final_only_at_end);
    CHECK(running.results_location == llmbatch::ResultsLocation::none);
    CHECK(parse_anthropic_batch(batch("b", "canceling", 5)).state == JobState::cancelling);

    const auto mixed = parse_anthropic_batch(batch("b", "ended", 0, 3, 2));
    CHECK(mixed.state == JobState::succeeded);
    CHECK(mixed.counts.succeeded == 3);
    CHECK(mixed.counts.failed == 2);
    CHECK(mixed.counts.total == 5);
    CHECK(mixed.results_location == llmbatch::ResultsLocation::url);
    CHECK(mixed.results_ref == "https://results.example/v1/messages/batches/b/results?sig=x");
    REQUIRE(mixed.create_time);
    REQUIRE(mixed.end_time);
    CHECK(*mixed.end_time - *mixed.create_time == std::chrono::milliseconds(3'600'500));
    REQUIRE(mixed.expire_time);

    const auto all_errored = parse_anthropic_batch(batch("b", "ended", 0, 0, 4));
    CHECK(all_errored.state == JobState::failed);
    REQUIRE(all_errored.error);
    CHECK(all_errored.done);
    CHECK(parse_anthropic_batch(batch("b", "ended", 0, 0, 0, 4)).state == JobState::cancelled);
    CHECK(parse_anthropic_batch(batch("b", "ended", 0, 2, 0, 2, 0, true)).state == JobState::cancelled);
    CHECK(parse_anthropic_batch(batch("b", "ended", 0, 4, 0, 0, 0, true)).state == JobState::succeeded);
    CHECK(parse_anthropic_batch(batch("b", "ended", 0, 2, 0, 0, 2)).state == JobState::expired);
    CHECK(parse_anthropic_batch(batch("b", "ended", 0, 0, 0, 0, 4)).state == JobState::expired);
}

TEST_CASE("list pages with limit and after_id until has_more is false") {
    FakeTransport t;
    t.on("GET", "/v1/messages/batches",
         json_response(200, {{"data", {batch("b3", "in_progress"), batch("b2", "ended", 0, 2)}}, {"has_more", true},
                             {"first_id", "b3"}, {"last_id", "b2"}}));
    t.on("GET", "/v1/messages/batches",
         json_response(200, {{"data", {batch("b1", "ended", 0, 2)}}, {"has_more", false}, {"first_id", "b1"}, {"last_id", "b1"}}));
    llmbatch::AnthropicConfig c;
    c.list_page_size = 2;
    auto p = make(t, c);
    const auto jobs = p.list_batch_jobs();
    REQUIRE(jobs.size() == 3);
    CHECK(jobs[0].name == "b3");
    CHECK(jobs[2].name == "b1");
    REQUIRE(t.requests().size() == 2);
    CHECK(t.requests()[0].url == std::string(base) + "/v1/messages/batches?limit=2");
    CHECK(t.requests()[1].url == std::string(base) + "/v1/messages/batches?limit=2&after_id=b2");
}

TEST_CASE("cancel and delete, golden; delete before the end is a JobNotReady") {
    FakeTransport t;
    t.on("POST", "/v1/messages/batches/b1/cancel", json_response(200, batch("b1", "canceling")));
    t.on("DELETE", "/v1/messages/batches/b1", json_response(200, {{"id", "b1"}, {"type", "message_batch_deleted"}}));
    auto p = make(t);
    p.cancel_batch_job("b1");
    CHECK(t.last_request().method == "POST");
    CHECK(t.last_request().url == std::string(base) + "/v1/messages/batches/b1/cancel");
    CHECK(t.last_request().body.empty());
    p.delete_batch_job("b1");
    CHECK(t.last_request().method == "DELETE");
    CHECK(t.last_request().url == std::string(base) + "/v1/messages/batches/b1");

    FakeTransport early;
    early.on("DELETE", "/v1/messages/batches/b2",
             json_response(400, {{"type", "error"},
                                 {"error", {{"type", "invalid_request_error"}, {"message", "Batch is still processing"}}}}));
    early.on("GET", "/v1/messages/batches/b2", json_response(200, batch("b2", "in_progress")));
    auto q = make(early);
    CHECK_THROWS_AS(q.delete_batch_job("b2"), llmbatch::JobNotReady);
    CHECK(early.call_count() == 2);  // a 400 is not retried
    CHECK_THROWS_AS(q.cancel_batch_job("../x"), llmbatch::InvalidArgument);
}

TEST_CASE("results are downloaded from results_url exactly as returned") {
    FakeTransport t;
    t.on("GET", "/v1/messages/batches/b1", json_response(200, batch("b1", "ended", 0, 2)));
    t.on("GET", "/v1/messages/batches/b1/results",
         llmbatch::HttpResponse{200, {}, ok_line("1", R"({"a":1})").dump() + "\r\n" + ok_line("0", "x {\"a\":0} y").dump() + "\r\n"});
    t.stream_piece_bytes(7);
    auto p = make(t);
    const auto results = p.fetch_batch_results("b1", {.filter_json = true});
    REQUIRE(results.size() == 2);
    CHECK((*results[0].value)["a"] == 0);
    CHECK((*results[1].value)["a"] == 1);
    REQUIRE(results[0].usage);
    CHECK(results[0].usage->input == 7);
    CHECK(results[0].usage->output == 3);
    const auto sent = t.last_request();
    CHECK(sent.url == "https://results.example/v1/messages/batches/b1/results?sig=x");
    CHECK(sent.headers.get("Authorization") == std::string("Bearer ") + key);
    CHECK(sent.headers.get("anthropic-version") == "2026-10-21");
    CHECK_THROWS_AS((void)p.fetch_batch_results(Anthropic::parse_job(batch("b1", "in_progress"))), llmbatch::JobNotReady);
}

TEST_CASE("a 529 overloaded_error and a 429 are retried; a create is not repeated after a lost reply") {
    FakeTransport t;
    const Json overloaded = {{"type", "error"}, {"error", {{"type", "overloaded_error"}, {"message", "Overloaded"}}}};
    t.on("GET", "/v1/messages/batches/b1", json_response(529, overloaded));
    t.on("GET", "/v1/messages/batches/b1", json_response(200, batch("b1", "in_progress")));
    auto p = make(t);
    CHECK(p.get_batch_job("b1").state == JobState::running);
    CHECK(t.call_count() == 2);

    FakeTransport q;
    q.on("POST", "/v1/messages/batches",
         json_response(429, {{"type", "error"}, {"error", {{"type", "rate_limit_error"}, {"message", "slow down"}}}},
                       {{"retry-after", "1"}}));
    q.on("POST", "/v1/messages/batches", json_response(200, batch("b2", "in_progress")));
    auto r = make(q);
    CHECK(r.create_batch_job({{"a"}}) == "b2");
    CHECK(q.call_count() == 2);

    FakeTransport lost;
    lost.fail_on_call(1, true);
    lost.on("POST", "/v1/messages/batches", json_response(200, batch("b3", "in_progress")));
    auto s = make(lost);
    CHECK_THROWS_AS((void)s.create_batch_job({{"a"}}), llmbatch::TransportError);
    CHECK(lost.call_count() == 1);
}

TEST_CASE("an empty results download is a retryable error; a key echoed in a result line is redacted") {
    FakeTransport t;
    t.on("GET", "/v1/messages/batches/b1", json_response(200, batch("b1", "ended", 0, 2)));
    t.on("GET", "/v1/messages/batches/b1/results", llmbatch::HttpResponse{200, {}, ""});
    auto p = make(t);
    try {
        (void)p.fetch_batch_results("b1");
        FAIL("expected ProviderError");
    } catch (const llmbatch::ProviderError& e) {
        CHECK(e.retryable());
        CHECK(std::string(e.what()).find("came back empty") != std::string::npos);
    }

    FakeTransport echo;
    echo.on("GET", "/v1/messages/batches/b2", json_response(200, batch("b2", "ended", 0, 0, 1)));
    const Json errored = {{"custom_id", "0"},
                          {"result",
                           {{"type", "errored"},
                            {"error", {{"type", "error"},
                                       {"error", {{"type", "invalid_request_error"}, {"message", std::string("bad key ") + key}}}}}}}};
    echo.on("GET", "/v1/messages/batches/b2/results", llmbatch::HttpResponse{200, {}, errored.dump() + "\n"});
    auto q = make(echo);
    std::vector<llmbatch::RequestOutcome> seen;
    q.stream_results_of(q.get_batch_job("b2"), [&](llmbatch::RequestOutcome&& o) { seen.push_back(std::move(o)); });
    REQUIRE(seen.size() == 1);
    REQUIRE(seen[0].error);
    CHECK(seen[0].error->message.find(key) == std::string::npos);
    CHECK(seen[0].error->message.find("[REDACTED]") != std::string::npos);
}

TEST_CASE("errors are typed and the API key never appears, even when echoed") {
    FakeTransport t;
    const std::string echoed = std::string("invalid x-api-key: ") + key;
    t.on("GET", "/v1/messages/batches/b1",
         json_response(401, {{"type", "error"}, {"error", {{"type", "authentication_error"}, {"message", echoed}}}}));
    t.on("GET", "/v1/messages/batches/b2",
         json_response(404, {{"type", "error"}, {"error", {{"type", "not_found_error"}, {"message", "no batch"}}}}));
    t.on("GET", "/v1/messages/batches/b3",
         json_response(400, {{"type", "error"}, {"error", {{"type", "invalid_request_error"}, {"message", echoed}}}}));
    auto p = make(t);
    try {
        (void)p.get_batch_job("b1");
        FAIL("expected AuthenticationError");
    } catch (const llmbatch::AuthenticationError& e) {
        CHECK(std::string(e.what()).find(key) == std::string::npos);
        CHECK(e.api_status() == "authentication_error");
        CHECK(e.api_message().find(key) == std::string::npos);
    }
    CHECK_THROWS_AS((void)p.get_batch_job("b2"), llmbatch::NotFoundError);
    try {
        (void)p.get_batch_job("b3");
        FAIL("expected ProviderError");
    } catch (const llmbatch::ProviderError& e) {
        CHECK(std::string(e.what()).find(key) == std::string::npos);
        CHECK(e.http_status() == 400);
        CHECK_FALSE(e.retryable());
    }
}

TEST_CASE("generate sends POST /v1/messages and reads the text blocks") {
    FakeTransport t;
    t.on("POST", "/v1/messages",
         json_response(200, ok_line("x", "Sure: {\"category\": \"Geography\"}")["result"]["message"]));
    auto p = make(t);
    const Json answer = p.generate({"Categorise: Geography"}, true);
    CHECK(answer["category"] == "Geography");
    const auto sent = t.last_request();
    CHECK(sent.url == std::string(base) + "/v1/messages");
    CHECK(Json::parse(sent.body) == Json::parse(R"({"model": "claude-sonnet-4-5", "max_tokens": 4096, "temperature": 0.2,
      "messages": [{"role": "user", "content": "Categorise: Geography"}]})"));
    CHECK(p.generate({"again"})["type"] == "message");
    CHECK_THROWS_AS((void)p.generate({}), llmbatch::InvalidArgument);
}

}  // TEST_SUITE

}  // namespace tests_providers_anthropic
