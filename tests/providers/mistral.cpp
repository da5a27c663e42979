// MistralProvider: the exact bytes we send (golden), status mapping, paging, retries and errors.
#include "llmbatch/providers/mistral.hpp"

#include <doctest/doctest.h>

#include <string>

#include "mistral/support.hpp"

namespace tests_providers_mistral {

using llmbatch::Json;
using llmbatch::JobState;
using llmbatch::testing::FakeTransport;
using llmbatch::testing::json_response;
using llmbatch::testing::ManualClock;
using namespace mistral_test;

static_assert(llmbatch::check_provider<Mistral>());
static_assert(llmbatch::StreamingBatchProvider<Mistral>);
static_assert(llmbatch::FileStoreProvider<Mistral>);
static_assert(llmbatch::CancellableBatchProvider<Mistral>);
static_assert(llmbatch::DeletableBatchProvider<Mistral>);
static_assert(llmbatch::ListableBatchProvider<Mistral>);
static_assert(llmbatch::SyncProvider<Mistral>);

TEST_SUITE("providers") {

TEST_CASE("MistralConfig defaults") {
    const llmbatch::MistralConfig c;
    CHECK(c.base_url == "https://api.mistral.ai");
    CHECK(c.generation.model == "mistral-small-latest");
    CHECK(*c.generation.temperature == doctest::Approx(0.2));
    CHECK(c.endpoint == "/v1/chat/completions");
    CHECK(c.timeout_hours == 24);
}

TEST_CASE("a small job is created with inline requests, golden") {
    FakeTransport t;
    t.on("POST", "/v1/batch/jobs", json_response(200, job("job-1", "QUEUED")));
    llmbatch::MistralConfig c;
    c.generation.system_prompt = llmbatch::SystemPrompt::from_text("Answer in JSON.");
    c.generation.max_output_tokens = 50;
    c.metadata = {{"team", "eval"}};
    auto mistral = make(t, c);
    const auto name = mistral.create_batch_job({{"Categorise: Geography"}, {"p2", "ctx"}},
                                               {.filter_json = true, .display_name = "nightly"});
    CHECK(name == "job-1");
    CHECK(name.input_files.empty());
    REQUIRE(t.call_count() == 1);
    const auto sent = t.last_request();
    CHECK(sent.url == std::string(base) + "/v1/batch/jobs");
    CHECK(sent.headers.get("Authorization") == std::string("Bearer ") + key);
    CHECK(Json::parse(sent.body) == Json::parse(R"({
      "endpoint": "/v1/chat/completions", "model": "mistral-small-latest", "timeout_hours": 24,
      "metadata": {"team": "eval", "llmbatch_filter_json": "true", "llmbatch_display_name": "nightly"},
      "requests": [
        {"custom_id": "0", "body": {"messages": [{"role": "system", "content": "Answer in JSON."},
                                                 {"role": "user", "content": "Categorise: Geography"}],
                                    "temperature": 0.2, "max_tokens": 50, "response_format": {"type": "json_object"}}},
        {"custom_id": "1", "body": {"messages": [{"role": "system", "content": "Answer in JSON."},
                                                 {"role": "user", "content": "p2\nctx"}],
                                    "temperature": 0.2, "max_tokens": 50, "response_format": {"type": "json_object"}}}]})"));
}

TEST_CASE("force_file_input (or a job over the inline limits) uploads a file first, golden multipart") {
    for (bool forced : {true, false}) {
        FakeTransport t;
        t.on("POST", "/v1/files", json_response(200, {{"id", "f-1"}, {"object", "file"}, {"bytes", 10},
                                                      {"filename", "d.jsonl"}, {"purpose", "batch"}}));
        t.on("POST", "/v1/batch/jobs", json_response(200, job("job-2", "QUEUED")));
        llmbatch::MistralConfig c;
        if (!forced) c.max_inline_requests = 0;
        auto mistral = make(t, c);
        const auto name = mistral.create_batch_job({{"hello"}}, {.display_name = "d", .force_file_input = forced});
        CHECK(name.input_files == std::vector<std::string>{"f-1"});
        const auto sent = t.requests();
        REQUIRE(sent.size() == 2);
        const std::string b = llmbatch::MultipartForm::boundary_for(0);
        CHECK(sent[0].url == std::string(base) + "/v1/files");
        CHECK(sent[0].body ==
              "--" + b +
                  "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"d.jsonl\"\r\n"
                  "Content-Type: application/octet-stream\r\n\r\n"
                  R"({"body":{"messages":[{"content":"hello","role":"user"}],"temperature":0.2},"custom_id":"0"})"
                  "\n\r\n--" +
                  b + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--" + b +
                  "\r\nContent-Disposition: form-data; name=\"visibility\"\r\n\r\nworkspace\r\n--" + b + "--\r\n");
        CHECK(Json::parse(sent[1].body) == Json::parse(R"({
          "input_files": ["f-1"], "endpoint": "/v1/chat/completions", "model": "mistral-small-latest",
          "timeout_hours": 24, "metadata": {"llmbatch_filter_json": "false", "llmbatch_display_name": "d"}})"));
    }
}

TEST_CASE("a failed create deletes the uploaded file; an ambiguous one is not repeated") {
    FakeTransport t;
    t.on("POST", "/v1/files", json_response(200, {{"id", "f-1"}}));
    t.on("POST", "/v1/batch/jobs", json_response(422, {{"detail", "Field required"}}));
    t.on("DELETE", "/v1/files/f-1", json_response(200, {{"id", "f-1"}, {"deleted", true}}));
    auto mistral = make(t);
    CHECK_THROWS_WITH_AS((void)mistral.create_batch_job({{"a"}}, {.force_file_input = true}),
                         "mistral: create batch job failed: HTTP 422: Field required", llmbatch::ProviderError);
    CHECK(t.last_request().method == "DELETE");
    FakeTransport lost;
    lost.fail_on_call(1, true);
    auto m2 = make(lost);
    CHECK_THROWS_AS((void)m2.create_batch_job({{"a"}}), llmbatch::TransportError);
    CHECK(lost.call_count() == 1);
}

TEST_CASE("get_batch_job maps every status; unknown ones are unspecified and not done") {
    const std::pair<const char*, JobState> cases[] = {
        {"QUEUED", JobState::pending},       {"RUNNING", JobState::running},
        {"SUCCESS", JobState::succeeded},    {"FAILED", JobState::failed},
        {"TIMEOUT_EXCEEDED", JobState::expired}, {"CANCELLATION_REQUESTED", JobState::cancelling},
        {"CANCELLED", JobState::cancelled},  {"PAUSED", JobState::unspecified}};
    for (const auto& [word, state] : cases) {
        FakeTransport t;
        t.on("GET", "/v1/batch/jobs/job-1", json_response(200, job("job-1", word, 4, 1, 1)));
        const auto j = make(t).get_batch_job("job-1");
        CHECK(j.state == state);
        CHECK(j.raw_state == word);
        CHECK(j.done == llmbatch::is_terminal(state));
        CHECK(j.counts.total == 4);
        CHECK(j.counts.succeeded == 1);
        CHECK(j.counts.failed == 1);
        CHECK(j.counts.pending == (j.done ? 0 : 2));
    }
    FakeTransport t;
    Json failed = job("job-9", "FAILED", 0, 0, 0, nullptr, "err-1");
    failed["errors"] = {{{"message", "Invalid input file"}, {"count", 3}}};
    failed["input_files"] = {"f-in"};
    t.on("GET", "/v1/batch/jobs/job-9", json_response(200, failed));
    const auto j = make(t).get_batch_job("job-9");
    REQUIRE(j.error);
    CHECK(j.error->message == "Invalid input file (3 times)");
    CHECK(j.input_file == "f-in");
    CHECK(j.results_ref == "err-1");
    CHECK(j.display_name == "nightly");
}

TEST_CASE("list_batch_jobs reads pages from 0 until total is reached") {
    FakeTransport t;
    t.push(json_response(200, {{"object", "list"}, {"data", {job("a", "SUCCESS"), job("b", "RUNNING")}}, {"total", 3}}));
    t.push(json_response(200, {{"object", "list"}, {"data", {job("c", "QUEUED")}}, {"total", 3}}));
    llmbatch::MistralConfig c;
    c.list_page_size = 2;
    const auto jobs = make(t, c).list_batch_jobs();
    REQUIRE(jobs.size() == 3);
    CHECK(jobs[2].name == "c");
    const auto sent = t.requests();
    REQUIRE(sent.size() == 2);
    CHECK(sent[0].url == std::string(base) + "/v1/batch/jobs?page=0&page_size=2");
    CHECK(sent[1].url == std::string(base) + "/v1/batch/jobs?page=1&page_size=2");
}

TEST_CASE("cancel and delete use the job routes") {
    FakeTransport t;
    t.on("POST", "/v1/batch/jobs/job-1/cancel", json_response(200, job("job-1", "CANCELLATION_REQUESTED")));
    t.on("DELETE", "/v1/batch/jobs/job-1", json_response(200, {{"id", "job-1"}, {"object", "batch"}, {"deleted", true}}));
    auto mistral = make(t);
    mistral.cancel_batch_job("job-1");
    CHECK(t.last_request().method == "POST");
    CHECK(t.last_request().body.empty());
    mistral.delete_batch_job("job-1");
    CHECK(t.last_request().method == "DELETE");
    CHECK(t.last_request().url == std::string(base) + "/v1/batch/jobs/job-1");
}

TEST_CASE("generate posts a chat completion with max_tokens (golden)") {
    FakeTransport t;
    t.on("POST", "/v1/chat/completions", json_response(200, {{"choices", {{{"message", {{"content", "{\"k\": 2}"}}}}}}}));
    llmbatch::MistralConfig c;
    c.generation.max_output_tokens = 20;
    auto mistral = make(t, c);
    CHECK(mistral.generate({"json please"}, true) == Json{{"k", 2}});
    CHECK(Json::parse(t.last_request().body) == Json::parse(R"({
      "model": "mistral-small-latest", "temperature": 0.2, "max_tokens": 20,
      "response_format": {"type": "json_object"}, "messages": [{"role": "user", "content": "json please"}]})"));
}

TEST_CASE("429 is a QuotaError retried with retry-after-ms; 503 retried; the key never leaks") {
    FakeTransport t;
    auto limited = json_response(429, {{"message", "Requests rate limit exceeded"}, {"type", "rate_limited"}});
    limited.headers.set("retry-after-ms", "700");
    t.push(limited).push(json_response(503, {{"message", "busy"}}));
    t.on("POST", "/v1/chat/completions", json_response(200, {{"choices", {{{"message", {{"content", "ok"}}}}}}}));
    ManualClock clock;
    auto mistral = make(t, {}, clock);
    (void)mistral.generate({"x"});
    CHECK(t.call_count() == 3);
    REQUIRE(clock.sleeps().size() == 2);
    CHECK(clock.sleeps()[0] == std::chrono::milliseconds(700));

    FakeTransport denied;
    denied.on("GET", "/v1/batch/jobs/job-1",
              json_response(401, {{"message", std::string("Unauthorized key ") + key}, {"type", "unauthorized"}}));
    denied.on("GET", "/v1/batch/jobs/job-2", json_response(429, {{"message", "slow down"}}));
    llmbatch::MistralConfig once;
    once.retry = llmbatch::RetryPolicy::none();
    auto m2 = make(denied, once);
    try {
        (void)m2.get_batch_job("job-1");
        FAIL("expected AuthenticationError");
    } catch (const llmbatch::AuthenticationError& e) {
        CHECK(std::string(e.what()).find(key) == std::string::npos);
        CHECK(std::string(e.what()).find("[REDACTED]") != std::string::npos);
    }
    CHECK_THROWS_AS((void)m2.get_batch_job("job-2"), llmbatch::QuotaError);
}

}  // TEST_SUITE

}  // namespace tests_providers_mistral
