// OpenAIProvider: the exact bytes we send (golden), how batches are read, limits, retries and errors.
#include "llmbatch/providers/openai.hpp"

#include <doctest/doctest.h>

#include <string>

#include "openai/support.hpp"

namespace tests_providers_openai {

using llmbatch::Json;
using llmbatch::JobState;
using llmbatch::testing::FakeTransport;
using llmbatch::testing::json_response;
using llmbatch::testing::ManualClock;
using namespace openai_test;

static_assert(llmbatch::check_provider<OpenAI>());
static_assert(llmbatch::StreamingBatchProvider<OpenAI>);
static_assert(llmbatch::FileStoreProvider<OpenAI>);
static_assert(llmbatch::CancellableBatchProvider<OpenAI>);
static_assert(llmbatch::DeletableBatchProvider<OpenAI>);
static_assert(llmbatch::ListableBatchProvider<OpenAI>);
static_assert(llmbatch::SyncProvider<OpenAI>);

namespace {

std::string multipart_of(const std::string& boundary, const std::string& filename, const std::string& content) {
    return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
           "\"\r\nContent-Type: application/octet-stream\r\n\r\n" + content + "\r\n--" + boundary +
           "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n--" + boundary + "--\r\n";
}

}  // namespace

TEST_SUITE("providers") {

TEST_CASE("OpenAIConfig defaults") {
    const llmbatch::OpenAIConfig c;
    CHECK(c.base_url == "https://api.openai.com/v1");
    CHECK(c.generation.model == "gpt-4o-mini");
    CHECK(*c.generation.temperature == doctest::Approx(0.2));
    CHECK(c.completion_window == "24h");
    CHECK(c.max_requests == 50'000);
    CHECK(c.max_input_bytes == 200'000'000);
    CHECK(c.endpoint == llmbatch::OpenAIEndpoint::chat_completions);
}

TEST_CASE("create_batch_job uploads the JSONL input file and creates the batch, golden bytes") {
    FakeTransport t;
    t.on("POST", "/v1/files", json_response(200, file_object("file-abc")));
    t.on("POST", "/v1/batches", json_response(200, batch("batch_123", "validating")));
    llmbatch::OpenAIConfig c;
    c.organization = "org-1";
    c.project = "proj-1";
    auto openai = make(t, c);
    const auto job = openai.create_batch_job({{"Categorise as JSON: Geography"}, {"prompt2", "context"}},
                                             {.filter_json = true, .display_name = "nightly"});
    CHECK(job == "batch_123");
    CHECK(job.input_files == std::vector<std::string>{"file-abc"});

    const auto sent = t.requests();
    REQUIRE(sent.size() == 2);
    CHECK(sent[0].method == "POST");
    CHECK(sent[0].url == std::string(base) + "/files");
    const std::string boundary = llmbatch::MultipartForm::boundary_for(0);
    CHECK(sent[0].headers.get("Content-Type") == "multipart/form-data; boundary=" + boundary);
    const std::string lines =
        R"({"body":{"messages":[{"content":"Categorise as JSON: Geography","role":"user"}],"model":"gpt-4o-mini","response_format":{"type":"json_object"},"temperature":0.2},"custom_id":"0","method":"POST","url":"/v1/chat/completions"})"
        "\n"
        R"({"body":{"messages":[{"content":"prompt2\ncontext","role":"user"}],"model":"gpt-4o-mini","temperature":0.2},"custom_id":"1","method":"POST","url":"/v1/chat/completions"})"
        "\n";
    CHECK(sent[0].body == multipart_of(boundary, "nightly.jsonl", lines));
    for (const auto& r : sent) {
        CHECK(r.headers.get("Authorization") == std::string("Bearer ") + key);
        CHECK(r.headers.get("OpenAI-Organization") == "org-1");
        CHECK(r.headers.get("OpenAI-Project") == "proj-1");
        CHECK(r.url.find(key) == std::string::npos);
    }
    CHECK(sent[1].url == std::string(base) + "/batches");
    CHECK(sent[1].headers.get("Content-Type") == "application/json");
    CHECK(Json::parse(sent[1].body) == Json::parse(R"({
      "input_file_id": "file-abc", "endpoint": "/v1/chat/completions", "completion_window": "24h",
      "metadata": {"llmbatch_filter_json": "true", "llmbatch_display_name": "nightly"}})"));
}

TEST_CASE("create_batch_job: responses endpoint lines, configured metadata, clock-derived display name") {
    FakeTransport t;
    t.on("POST", "/v1/files", json_response(200, file_object("file-abc")));
    t.on("POST", "/v1/batches", json_response(200, batch("batch_1", "validating")));
    llmbatch::OpenAIConfig c;
    c.endpoint = llmbatch::OpenAIEndpoint::responses;
    c.metadata = {{"team", "eval"}};
    c.generation.max_output_tokens = 100;
    auto openai = make(t, c);
    (void)openai.create_batch_job({{"hello"}});
    const auto sent = t.requests();
    const std::string line =
        R"({"body":{"input":"hello","max_output_tokens":100,"model":"gpt-4o-mini","temperature":0.2},"custom_id":"0","method":"POST","url":"/v1/responses"})"
        "\n";
    CHECK(sent[0].body == multipart_of(llmbatch::MultipartForm::boundary_for(0), "llmbatch-20260101T000000Z.jsonl", line));
    CHECK(Json::parse(sent[1].body) == Json::parse(R"({
      "input_file_id": "file-abc", "endpoint": "/v1/responses", "completion_window": "24h",
      "metadata": {"team": "eval", "llmbatch_filter_json": "false", "llmbatch_display_name": "llmbatch-20260101T000000Z"}})"));
}

TEST_CASE("create_batch_job refuses over max_requests or max_input_bytes before sending anything") {
    FakeTransport t;
    llmbatch::OpenAIConfig c;
    c.max_requests = 2;
    auto openai = make(t, c);
    CHECK_THROWS_WITH_AS((void)openai.create_batch_job({{"a"}, {"b"}, {"c"}}),
                         "openai: the job has 3 requests, over the limit of 2 requests per batch; split the payload "
                         "into several jobs",
                         llmbatch::InvalidArgument);
    llmbatch::OpenAIConfig small;
    small.max_input_bytes = 100;
    auto tight = make(t, small);
    try {
        (void)tight.create_batch_job({{"a"}, {"b"}});
        FAIL("expected InvalidArgument");
    } catch (const llmbatch::InvalidArgument& e) {
        const std::string what = e.what();
        CHECK(what.find("over the limit of 100 bytes") != std::string::npos);
        CHECK(what.find("several jobs") != std::string::npos);
    }
    CHECK_THROWS_AS((void)openai.create_batch_job({}), llmbatch::InvalidArgument);
    CHECK(t.call_count() == 0);
}

TEST_CASE("create_batch_job checks the metadata limits before sending anything") {
    FakeTransport t;
    llmbatch::OpenAIConfig c;
    for (int i = 0; i < 15; ++i) c.metadata["k" + std::to_string(i)] = "v";
    CHECK_THROWS_AS((void)make(t, c).create_batch_job({{"a"}}), llmbatch::InvalidArgument);
    llmbatch::OpenAIConfig long_key;
    long_key.metadata[std::string(65, 'k')] = "v";
    CHECK_THROWS_AS((void)make(t, long_key).create_batch_job({{"a"}}), llmbatch::InvalidArgument);
    llmbatch::OpenAIConfig long_value;
    long_value.metadata["k"] = std::string(513, 'v');
    CHECK_THROWS_AS((void)make(t, long_value).create_batch_job({{"a"}}), llmbatch::InvalidArgument);
    CHECK(t.call_count() == 0);
}

TEST_CASE("a failed create deletes the uploaded file; an ambiguous one keeps it and is not repeated") {
    {
        FakeTransport t;
        t.on("POST", "/v1/files", json_response(200, file_object("file-abc")));
        t.on("POST", "/v1/batches", error_response(400, "bad endpoint"));
        t.on("DELETE", "/v1/files/file-abc", json_response(200, {{"id", "file-abc"}, {"deleted", true}}));
        auto openai = make(t);
        CHECK_THROWS_AS((void)openai.create_batch_job({{"a"}}), llmbatch::ProviderError);
        REQUIRE(t.call_count() == 3);
        CHECK(t.last_request().method == "DELETE");
    }
    {
        FakeTransport t;
        t.on("POST", "/v1/files", json_response(200, file_object("file-abc")));
        t.fail_on_call(2, true);
        auto openai = make(t);
        CHECK_THROWS_AS((void)openai.create_batch_job({{"a"}}), llmbatch::TransportError);
        CHECK(t.call_count() == 2);  // not repeated, file kept
    }
    {
        FakeTransport t;
        t.on("POST", "/v1/files", json_response(200, file_object("file-abc")));
        t.on("POST", "/v1/batches", json_response(503, {{"error", {{"message", "overloaded"}}}}));
        t.on("DELETE", "/v1/files/file-abc", json_response(200, {{"deleted", true}}));
        auto openai = make(t);
        CHECK_THROWS_AS((void)openai.create_batch_job({{"a"}}), llmbatch::ProviderError);
        CHECK(t.call_count() == 3);  // the create is not repeated after a 5xx; the file is deleted
    }
}

TEST_CASE("get_batch_job maps every status, counts, usage, times, files") {
    const std::pair<const char*, JobState> cases[] = {
        {"validating", JobState::pending},   {"in_progress", JobState::running}, {"finalizing", JobState::running},
        {"completed", JobState::succeeded},  {"failed", JobState::failed},       {"expired", JobState::expired},
        {"cancelling", JobState::cancelling}, {"cancelled", JobState::cancelled}, {"paused", JobState::unspecified}};
    for (const auto& [word, state] : cases) {
        FakeTransport t;
        t.on("GET", "/v1/batches/batch_1", json_response(200, batch("batch_1", word)));
        const auto job = make(t).get_batch_job("batch_1");
        CHECK(job.state == state);
        CHECK(job.raw_state == word);
        CHECK(job.done == llmbatch::is_terminal(state));
    }
    FakeTransport t;
    Json b = batch("batch_1", "completed", 3, 2, 1, "file-out", "file-err");
    b["usage"] = {{"input_tokens", 96}, {"input_tokens_details", {{"cached_tokens", 6}}}, {"output_tokens", 41},
                  {"output_tokens_details", {{"reasoning_tokens", 1}}}, {"total_tokens", 137}};
    t.on("GET", "/v1/batches/batch_1", json_response(200, b));
    const auto job = make(t).get_batch_job("batch_1");
    CHECK(job.name == "batch_1");
    CHECK(job.provider == "openai");
    CHECK(job.display_name == "nightly");
    CHECK(job.counts == llmbatch::RequestCounts{3, 2, 1, 0, 0, 0});
    REQUIRE(job.usage);
    CHECK(*job.usage == llmbatch::TokenUsage{96, 40, 1, 6, 137});
    CHECK(job.create_time == std::chrono::system_clock::time_point(std::chrono::seconds(1767225600)));
    CHECK(job.expire_time == std::chrono::system_clock::time_point(std::chrono::seconds(1767312000)));
    CHECK(job.end_time == std::chrono::system_clock::time_point(std::chrono::seconds(1767229185)));
    CHECK(job.results_location == llmbatch::ResultsLocation::file);
    CHECK(job.results_ref == "file-out");
    CHECK(job.input_file == "file-in");
    CHECK(job.raw["error_file_id"] == "file-err");
}

TEST_CASE("get_batch_job: validation errors become the job error with code and line; bad ids are refused") {
    FakeTransport t;
    Json b = batch("batch_9", "failed", 0);
    b["errors"] = Json::parse(R"({"object":"list","data":[{"code":"duplicate_custom_id","line":2,"message":"custom_id 'x' is duplicated","param":null}]})");
    t.on("GET", "/v1/batches/batch_9", json_response(200, b));
    auto openai = make(t);
    const auto job = openai.get_batch_job("batch_9");
    REQUIRE(job.error);
    CHECK(job.error->status == "duplicate_custom_id");
    CHECK(job.error->message == "duplicate_custom_id at line 2: custom_id 'x' is duplicated");
    CHECK_THROWS_AS((void)openai.get_batch_job("../files"), llmbatch::InvalidArgument);
    CHECK_THROWS_AS((void)openai.get_batch_job(""), llmbatch::InvalidArgument);
}

TEST_CASE("list_batch_jobs pages with limit and after=<last id> until has_more is false") {
    FakeTransport t;
    t.push(json_response(200, {{"object", "list"}, {"data", {batch("b1", "completed"), batch("b2", "in_progress")}},
                               {"first_id", "b1"}, {"last_id", "b2"}, {"has_more", true}}));
    t.push(json_response(200, {{"object", "list"}, {"data", {batch("b3", "failed")}}, {"has_more", false}}));
    llmbatch::OpenAIConfig c;
    c.list_page_size = 2;
    const auto jobs = make(t, c).list_batch_jobs();
    REQUIRE(jobs.size() == 3);
    CHECK(jobs[2].name == "b3");
    const auto sent = t.requests();
    REQUIRE(sent.size() == 2);
    CHECK(sent[0].url == std::string(base) + "/batches?limit=2");
    CHECK(sent[1].url == std::string(base) + "/batches?limit=2&after=b2");
    llmbatch::OpenAIConfig bad;
    bad.list_page_size = 101;
    CHECK_THROWS_AS(make(t, bad), llmbatch::InvalidArgument);
}

TEST_CASE("cancel posts with no body; delete_batch_job deletes the job's files, a missing one is fine") {
    FakeTransport t;
    t.on("POST", "/v1/batches/batch_1/cancel", json_response(200, batch("batch_1", "cancelling")));
    t.on("GET", "/v1/batches/batch_1", json_response(200, batch("batch_1", "completed", 2, 2, 0, "file-out", "")));
    t.on("DELETE", "/v1/files/file-in", error_response(404, "No such File object"));
    t.on("DELETE", "/v1/files/file-out", json_response(200, {{"id", "file-out"}, {"deleted", true}}));
    auto openai = make(t);
    openai.cancel_batch_job("batch_1");
    CHECK(t.last_request().url == std::string(base) + "/batches/batch_1/cancel");
    CHECK(t.last_request().body.empty());
    openai.delete_batch_job("batch_1");
    const auto sent = t.requests();
    REQUIRE(sent.size() == 4);
    CHECK(sent[2].url == std::string(base) + "/files/file-in");
    CHECK(sent[3].url == std::string(base) + "/files/file-out");  // error_file_id "" is no file
}

TEST_CASE("generate posts one chat completion (golden) and filters JSON") {
    FakeTransport t;
    t.on("POST", "/v1/chat/completions",
         json_response(200, {{"choices", {{{"message", {{"role", "assistant"}, {"content", "```json\n{\"a\": 1}\n```"}}}}}}}));
    auto openai = make(t);
    CHECK(openai.generate({"Give JSON", "about x"}, true) == Json{{"a", 1}});
    CHECK(Json::parse(t.last_request().body) == Json::parse(R"({
      "model": "gpt-4o-mini", "temperature": 0.2, "response_format": {"type": "json_object"},
      "messages": [{"role": "user", "content": "Give JSON\nabout x"}]})"));
    CHECK(openai.generate({"hi"})["choices"][0]["message"]["content"] == "```json\n{\"a\": 1}\n```");
    CHECK_THROWS_AS((void)openai.generate({}), llmbatch::InvalidArgument);
}

TEST_CASE("insufficient_quota is not retried; a plain 429 and a 503 are, honouring retry-after-ms") {
    {
        FakeTransport t;
        t.on("POST", "/v1/chat/completions", error_response(429, "You exceeded your current quota", "insufficient_quota", "insufficient_quota"));
        ManualClock clock;
        auto openai = make(t, {}, clock);
        try {
            (void)openai.generate({"x"});
            FAIL("expected QuotaError");
        } catch (const llmbatch::QuotaError& e) {
            CHECK_FALSE(e.retryable());
            CHECK(e.api_status() == "insufficient_quota");
        }
        CHECK(t.call_count() == 1);
        CHECK(clock.sleeps().empty());
    }
    {
        FakeTransport t;
        auto slow = error_response(429, "Rate limit reached", "rate_limit_exceeded", "requests");
        slow.headers.set("retry-after-ms", "1500");
        auto busy = error_response(503, "overloaded", nullptr, "server_error");
        busy.headers.set("retry-after-ms", "250");
        t.push(slow).push(busy);
        t.on("POST", "/v1/chat/completions", json_response(200, {{"choices", {{{"message", {{"content", "ok"}}}}}}}));
        ManualClock clock;
        auto openai = make(t, {}, clock);
        (void)openai.generate({"x"});
        CHECK(t.call_count() == 3);
        REQUIRE(clock.sleeps().size() == 2);
        CHECK(clock.sleeps()[0] == std::chrono::milliseconds(1500));
        CHECK(clock.sleeps()[1] == std::chrono::milliseconds(250));
    }
}

TEST_CASE("x-should-retry overrides the status rule both ways") {
    FakeTransport t;
    auto refused = error_response(503, "do not retry", nullptr, "server_error");
    refused.headers.set("x-should-retry", "false");
    auto again = error_response(400, "try again", nullptr);
    again.headers.set("x-should-retry", "true");
    again.headers.set("retry-after-ms", "10");
    t.push(again).push(refused);
    ManualClock clock;
    auto openai = make(t, {}, clock);
    CHECK_THROWS_WITH_AS((void)openai.get_batch_job("batch_1"),
                         "openai: get batch job batch_1 failed: HTTP 503 server_error: do not retry",
                         llmbatch::ProviderError);
    CHECK(t.call_count() == 2);
    CHECK(clock.sleeps().size() == 1);
}

TEST_CASE("typed errors; the API key never appears in a message, even when the server echoes it") {
    FakeTransport t;
    t.push(error_response(401, std::string("Incorrect API key provided: ") + key, "invalid_api_key"));
    t.push(error_response(404, "No batch found", nullptr));
    t.push(llmbatch::HttpResponse{400, {}, std::string("plain text mentioning ") + key});
    auto openai = make(t);
    try {
        (void)openai.get_batch_job("batch_1");
        FAIL("expected AuthenticationError");
    } catch (const llmbatch::AuthenticationError& e) {
        CHECK(std::string(e.what()).find(key) == std::string::npos);
        CHECK(e.api_message().find(key) == std::string::npos);
        CHECK(std::string(e.what()).find("[REDACTED]") != std::string::npos);
    }
    CHECK_THROWS_AS((void)openai.get_batch_job("batch_1"), llmbatch::NotFoundError);
    try {
        (void)openai.get_batch_job("batch_1");
        FAIL("expected ProviderError");
    } catch (const llmbatch::ProviderError& e) {
        CHECK(std::string(e.what()).find(key) == std::string::npos);
        CHECK(e.http_status() == 400);
    }
}

}  // TEST_SUITE

TEST_SUITE("providers") {

TEST_CASE("a unix time past what a time point holds reads as absent") {
    Json b = batch("batch_1", "completed", 2, 2, 0, "file-out");
    b["created_at"] = 17672256200;           // the year 2530: nanoseconds since 1970 overflow 64 bits
    b["expires_at"] = 9223372036854775807;   // the largest int64
    const auto job = OpenAI::parse_batch(b);
    CHECK_FALSE(job.create_time.has_value());
    CHECK_FALSE(job.expire_time.has_value());
    REQUIRE(job.end_time.has_value());  // the times in range still read
    CHECK(*job.end_time == std::chrono::system_clock::time_point(std::chrono::seconds(1767229185)));
}

}  // TEST_SUITE

}  // namespace tests_providers_openai
