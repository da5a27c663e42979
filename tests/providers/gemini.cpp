// GeminiProvider: the exact JSON we send (golden), how replies are read, and every error path.
#include "llmbatch/providers/gemini.hpp"

#include <doctest/doctest.h>

#include <string>

#include "llmbatch/testing/fake_transport.hpp"
#include "llmbatch/testing/manual_clock.hpp"

namespace tests_providers_gemini {

using llmbatch::Json;
using llmbatch::testing::FakeTransport;
using llmbatch::testing::google_error_response;
using llmbatch::testing::json_response;
using llmbatch::testing::ManualClock;

namespace {

using Gemini = llmbatch::GeminiProvider<FakeTransport, ManualClock>;

constexpr const char* test_key = "test-key-0123456789";
constexpr const char* base = "https://generativelanguage.googleapis.com";

llmbatch::GeminiConfig config_with_key() {
    llmbatch::GeminiConfig c;
    c.api_key = test_key;
    return c;
}

Gemini make(FakeTransport t, llmbatch::GeminiConfig c = config_with_key()) { return Gemini(std::move(c), std::move(t), ManualClock{}); }

// A created (pending) job, as captured from the live API (gemini-wire.md §3.1).
const Json pending_op = Json::parse(R"({
  "name": "batches/4m855v7q30kc7gtzcigdg9m72o87s08w33vp",
  "metadata": {
    "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
    "model": "models/gemini-2.5-flash",
    "displayName": "test-batch-job",
    "createTime": "2025-12-10T18:27:01.407650525Z",
    "updateTime": "2025-12-10T18:27:01.407650525Z",
    "batchStats": {"requestCount": "3", "pendingRequestCount": "3"},
    "state": "BATCH_STATE_PENDING",
    "name": "batches/4m855v7q30kc7gtzcigdg9m72o87s08w33vp"
  }
})");

Json text_response(const std::string& text) {
    return {{"candidates", Json::array({{{"content", {{"parts", Json::array({{{"text", text}}})}, {"role", "model"}}},
                                         {"finishReason", "STOP"},
                                         {"index", 0}}})},
            {"modelVersion", "gemini-2.5-flash"}};
}

Json item(const Json& response, const std::string& key, const char* filter = "true") {
    return {{"response", response}, {"metadata", {{"key", key}, {"filter_json", filter}}}};
}

Json succeeded_op(Json items, const std::string& count) {
    Json inlined = {{"inlinedResponses", std::move(items)}};
    return {{"name", "batches/done1"},
            {"metadata",
             {{"@type", "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"},
              {"model", "models/gemini-2.5-flash"},
              {"output", {{"inlinedResponses", inlined}}},
              {"createTime", "2025-12-10T18:27:01.407650525Z"},
              {"endTime", "2025-12-10T18:28:31.548158795Z"},
              {"updateTime", "2025-12-10T18:28:31.548158754Z"},
              {"batchStats", {{"requestCount", count}, {"successfulRequestCount", count}}},
              {"state", "BATCH_STATE_SUCCEEDED"},
              {"name", "batches/done1"}}},
            {"done", true},
            {"response",
             {{"@type", "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput"},
              {"inlinedResponses", inlined}}}};
}

}  // namespace

TEST_SUITE("providers") {

TEST_CASE("GeminiConfig's generation defaults are the document's") {
    const llmbatch::GenerationConfig config = llmbatch::GeminiConfig{}.generation;
    CHECK(config.model == "gemini-2.5-flash");
    REQUIRE(config.temperature.has_value());
    CHECK(*config.temperature == doctest::Approx(0.2));
    REQUIRE(config.thinking_budget.has_value());
    CHECK(*config.thinking_budget == 24576);
    CHECK_FALSE(config.max_output_tokens.has_value());
    CHECK_FALSE(config.system_prompt.has_value());
    CHECK_FALSE(config.filter_json);
    CHECK(config.json_mime_type_when_filtering);
    CHECK(llmbatch::GeminiConfig::default_model == "gemini-2.5-flash");
    CHECK(llmbatch::GeminiConfig::max_thinking_budget == 24576);
}

TEST_CASE("create_batch_job sends the documented request, golden") {
    FakeTransport t;
    t.on("POST", "/v1beta/models/gemini-2.5-flash:batchGenerateContent", json_response(200, pending_op));
    auto config = config_with_key();
    config.generation.system_prompt = llmbatch::SystemPrompt::from_text("You categorise documents.");
    auto gemini = make(t, config);

    const auto name = gemini.create_batch_job({{"Categorize this document: Geography GCSE"}, {"prompt2", "context"}},
                                              {.filter_json = true, .display_name = "nightly"});
    CHECK(name == "batches/4m855v7q30kc7gtzcigdg9m72o87s08w33vp");

    REQUIRE(t.requests().size() == 1);
    const auto sent = t.last_request();
    CHECK(sent.method == "POST");
    CHECK(sent.url == std::string(base) + "/v1beta/models/gemini-2.5-flash:batchGenerateContent");
    CHECK(sent.headers.get("x-goog-api-key") == test_key);
    CHECK(sent.headers.get("content-type") == "application/json");
    CHECK(sent.url.find(test_key) == std::string::npos);

    const Json expected = Json::parse(R"({
      "batch": {
        "displayName": "nightly",
        "inputConfig": {"requests": {"requests": [
          {"request": {
             "contents": [{"role": "user", "parts": [{"text": "Categorize this document: Geography GCSE"}]}],
             "systemInstruction": {"parts": [{"text": "You categorise documents."}]},
             "generationConfig": {"temperature": 0.2, "responseMimeType": "application/json",
                                  "thinkingConfig": {"thinkingBudget": 24576}}},
           "metadata": {"key": "0", "filter_json": "true"}},
          {"request": {
             "contents": [{"role": "user", "parts": [{"text": "prompt2\ncontext"}]}],
             "systemInstruction": {"parts": [{"text": "You categorise documents."}]},
             "generationConfig": {"temperature": 0.2, "responseMimeType": "application/json",
                                  "thinkingConfig": {"thinkingBudget": 24576}}},
           "metadata": {"key": "1", "filter_json": "true"}}
        ]}}
      }
    })");
    CHECK(Json::parse(sent.body) == expected);
}

TEST_CASE("create_batch_job without filter_json sends no responseMimeType and a clock-derived display name") {
    FakeTransport t;
    t.on("POST", "/v1beta/models/gemini-2.5-flash:batchGenerateContent", json_response(200, pending_op));
    auto gemini = make(t);
    (void)gemini.create_batch_job({{"hello"}});
    const Json expected = Json::parse(R"({
      "batch": {
        "displayName": "llmbatch-20260101T000000Z",
        "inputConfig": {"requests": {"requests": [
          {"request": {"contents": [{"role": "user", "parts": [{"text": "hello"}]}],
                       "generationConfig": {"temperature": 0.2, "thinkingConfig": {"thinkingBudget": 24576}}},
           "metadata": {"key": "0", "filter_json": "false"}}]}}
      }
    })");
    CHECK(Json::parse(t.last_request().body) == expected);
}

TEST_CASE("configuration: model, base URL, API version, temperature, thinking budget, provider default filter_json") {
    FakeTransport t;
    t.on("POST", "/v1alpha/models/gemini-2.5-pro:batchGenerateContent", json_response(200, pending_op));
    auto c = config_with_key();
    c.base_url = "http://127.0.0.1:8080/";
    c.api_version = "v1alpha";
    c.generation.model = "models/gemini-2.5-pro";
    c.generation.temperature = 0.7;
    c.generation.thinking_budget = std::nullopt;
    c.generation.max_output_tokens = 256;
    c.generation.filter_json = true;
    auto gemini = make(t, c);
    (void)gemini.create_batch_job({{"x"}}, {.display_name = "d"});
    const auto sent = t.last_request();
    CHECK(sent.url == "http://127.0.0.1:8080/v1alpha/models/gemini-2.5-pro:batchGenerateContent");
    const Json req = Json::parse(sent.body)["batch"]["inputConfig"]["requests"]["requests"][0];
    CHECK(req["request"]["generationConfig"] ==
          Json::parse(R"({"temperature": 0.7, "maxOutputTokens": 256, "responseMimeType": "application/json"})"));
    CHECK(req["metadata"]["filter_json"] == "true");
}

TEST_CASE("system prompt loaded from a file path") {
    const auto path = std::filesystem::temp_directory_path() / "llmbatch_test_system_prompt.md";
    {
        std::ofstream out(path);
        out << "# Categorise\nReturn JSON.";
    }
    FakeTransport t;
    t.on("POST", "/v1beta/models/gemini-2.5-flash:generateContent", json_response(200, text_response("{\"a\":1}")));
    auto c = config_with_key();
    c.generation.system_prompt = llmbatch::SystemPrompt::from_file(path);
    auto gemini = make(t, c);
    (void)gemini.generate({"q"}, true);
    CHECK(Json::parse(t.last_request().body)["systemInstruction"] ==
          Json::parse(R"({"parts": [{"text": "# Categorise\nReturn JSON."}]})"));
    std::filesystem::remove(path);
}

TEST_CASE("create_batch_job refuses bad payloads before sending anything") {
    FakeTransport t;
    auto gemini = make(t);
    CHECK_THROWS_WITH_AS((void)gemini.create_batch_job({}), "batch_payload must not be empty.", llmbatch::InvalidArgument);
    CHECK_THROWS_AS((void)gemini.create_batch_job({{"a"}, {}}), llmbatch::InvalidArgument);
    CHECK(t.call_count() == 0);
}

TEST_CASE("create_batch_job refuses a body over the inline size limit, before sending") {
    FakeTransport t;
    auto c = config_with_key();
    c.max_inline_bytes = 1000;
    c.files_for_large_jobs = false;
    auto gemini = make(t, c);
    try {
        (void)gemini.create_batch_job({{std::string(2000, 'x')}});
        FAIL("expected InvalidArgument");
    } catch (const llmbatch::InvalidArgument& e) {
        CHECK(std::string(e.what()).find("over the inline limit of 1000 bytes") != std::string::npos);
    }
    CHECK(t.call_count() == 0);
    // Just under the default 20 MB limit goes through.
    FakeTransport t2;
    t2.on("POST", "/v1beta/models/gemini-2.5-flash:batchGenerateContent", json_response(200, pending_op));
    auto inline_only = config_with_key();
    inline_only.files_for_large_jobs = false;
    auto big = make(t2, inline_only);
    CHECK_NOTHROW((void)big.create_batch_job({{std::string(19'000'000, 'y')}}));
    CHECK_THROWS_AS((void)big.create_batch_job({{std::string(20'000'001, 'y')}}), llmbatch::InvalidArgument);
    CHECK(t2.call_count() == 1);
}

TEST_CASE("API key from GEMINI_API_KEY when the config has none; unavailable without one") {
    FakeTransport t;
    ::setenv("GEMINI_API_KEY", "env-key-abcdef", 1);
    auto from_env = Gemini(llmbatch::GeminiConfig{}, t, ManualClock{});
    CHECK(from_env.is_available());
    ::unsetenv("GEMINI_API_KEY");
    auto without = Gemini(llmbatch::GeminiConfig{}, t, ManualClock{});
    CHECK_FALSE(without.is_available());
    t.on("GET", "/v1beta/batches/x", json_response(200, pending_op));
    (void)from_env.get_batch_job("batches/x");
    CHECK(t.last_request().headers.get("x-goog-api-key") == "env-key-abcdef");
}

TEST_CASE("get_batch_job reads a pending Operation: string counters, omitted zeros, omitted done") {
    FakeTransport t;
    t.on("GET", "/v1beta/batches/4m855v7q30kc7gtzcigdg9m72o87s08w33vp", json_response(200, pending_op));
    auto gemini = make(t);
    const auto job = gemini.get_batch_job("batches/4m855v7q30kc7gtzcigdg9m72o87s08w33vp");
    CHECK(t.last_request().method == "GET");
    CHECK(t.last_request().body.empty());
    CHECK(job.name == "batches/4m855v7q30kc7gtzcigdg9m72o87s08w33vp");
    CHECK(job.provider == "gemini");
    CHECK(job.display_name == "test-batch-job");
    CHECK(job.model == "models/gemini-2.5-flash");
    CHECK(job.state == llmbatch::JobState::pending);
    CHECK(job.raw_state == "BATCH_STATE_PENDING");
    CHECK_FALSE(job.done);
    CHECK(job.counts == llmbatch::RequestCounts{3, 0, 0, 3});
    REQUIRE(job.create_time);
    CHECK(std::chrono::duration_cast<std::chrono::nanoseconds>(job.create_time->time_since_epoch()).count() ==
          1765391221407650525LL);
    CHECK_FALSE(job.end_time);
    CHECK_FALSE(job.error);
    // A bare id is accepted too.
    CHECK(gemini.get_batch_job("4m855v7q30kc7gtzcigdg9m72o87s08w33vp").name == job.name);
}

TEST_CASE("every wire state maps to the normalised state; JOB_STATE_ names too") {
    using llmbatch::JobState;
    const std::pair<const char*, JobState> cases[] = {
        {"BATCH_STATE_PENDING", JobState::pending},     {"BATCH_STATE_RUNNING", JobState::running},
        {"BATCH_STATE_SUCCEEDED", JobState::succeeded}, {"BATCH_STATE_FAILED", JobState::failed},
        {"BATCH_STATE_CANCELLED", JobState::cancelled}, {"BATCH_STATE_EXPIRED", JobState::expired},
        {"JOB_STATE_RUNNING", JobState::running},       {"BATCH_STATE_UNSPECIFIED", JobState::unspecified},
        {"SOMETHING_NEW", JobState::unspecified}};
    for (const auto& c : cases) {
        const std::string raw = c.first;
        const auto state = c.second;
        Json op = pending_op;
        op["metadata"]["state"] = raw;
        const auto job = Gemini::parse_operation(op);
        CHECK_MESSAGE(job.state == state, raw);
        CHECK(job.raw_state == raw);
        CHECK(job.done == llmbatch::is_terminal(state));
    }
}

TEST_CASE("malformed counters and states are reported, not guessed") {
    Json op = pending_op;
    op["metadata"]["batchStats"]["requestCount"] = "three";
    CHECK_THROWS_AS((void)Gemini::parse_operation(op), llmbatch::ProviderError);
    op = pending_op;
    op["metadata"]["state"] = 3;
    CHECK_THROWS_AS((void)Gemini::parse_operation(op), llmbatch::ProviderError);
    CHECK_THROWS_AS((void)Gemini::parse_operation(Json::array()), llmbatch::ProviderError);
    op = pending_op;
    op["metadata"]["batchStats"]["requestCount"] = 7;  // a number is accepted too
    CHECK(Gemini::parse_operation(op).counts.total == 7);
}

TEST_CASE("job names that could alter the URL are refused") {
    FakeTransport t;
    auto gemini = make(t);
    for (const char* bad : {"", "batches/", "batches/a/b", "batches/../files", "batches/x?alt=media", "batches/a b"})
        CHECK_THROWS_AS((void)gemini.get_batch_job(bad), llmbatch::InvalidArgument);
    CHECK(t.call_count() == 0);
}

TEST_CASE("cancel is POST batches/{id}:cancel, delete is DELETE batches/{id}") {
    FakeTransport t;
    t.on("POST", "/v1beta/batches/abc:cancel", json_response(200, Json::object()));
    t.on("DELETE", "/v1beta/batches/abc", json_response(200, Json::object()));
    auto gemini = make(t);
    gemini.cancel_batch_job("batches/abc");
    CHECK(t.last_request().method == "POST");
    CHECK(t.last_request().url == std::string(base) + "/v1beta/batches/abc:cancel");
    CHECK(t.last_request().body.empty());
    gemini.delete_batch_job("batches/abc");
    CHECK(t.last_request().method == "DELETE");
    CHECK(t.last_request().url == std::string(base) + "/v1beta/batches/abc");
}

TEST_CASE("cancelling a finished job surfaces the API's error") {
    FakeTransport t;
    t.on("POST", "/v1beta/batches/abc:cancel",
         google_error_response(400, "FAILED_PRECONDITION", "Batch job is already in a terminal state."));
    auto gemini = make(t);
    try {
        gemini.cancel_batch_job("batches/abc");
        FAIL("expected ProviderError");
    } catch (const llmbatch::ProviderError& e) {
        CHECK(e.http_status() == 400);
        CHECK(e.api_status() == "FAILED_PRECONDITION");
        CHECK(std::string(e.what()).find("already in a terminal state") != std::string::npos);
        CHECK_FALSE(e.retryable());
    }
}

TEST_CASE("list_batch_jobs follows every page; an empty list is {}") {
    FakeTransport t;
    Json page1 = {{"operations", Json::array({pending_op, pending_op})}, {"nextPageToken", "tok/+="}};
    Json op2 = pending_op;
    op2["name"] = "batches/second";
    Json page2 = {{"operations", Json::array({op2})}};
    t.push(json_response(200, page1)).push(json_response(200, page2));
    auto c = config_with_key();
    c.list_page_size = 2;
    auto gemini = make(t, c);
    const auto jobs = gemini.list_batch_jobs();
    REQUIRE(jobs.size() == 3);
    CHECK(jobs[2].name == "batches/second");
    const auto reqs = t.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].url == std::string(base) + "/v1beta/batches?pageSize=2");
    CHECK(reqs[1].url == std::string(base) + "/v1beta/batches?pageSize=2&pageToken=tok%2F%2B%3D");

    FakeTransport empty;
    empty.push(json_response(200, Json::object()));
    CHECK(make(empty).list_batch_jobs().empty());
}

TEST_CASE("fetch_batch_results: not done is a ValueError-kind error naming the state") {
    FakeTransport t;
    Json running = pending_op;
    running["metadata"]["state"] = "BATCH_STATE_RUNNING";
    t.on("GET", "/v1beta/batches/r1", json_response(200, running));
    auto gemini = make(t);
    try {
        (void)gemini.fetch_batch_results("batches/r1");
        FAIL("expected JobNotReady");
    } catch (const llmbatch::JobNotReady& e) {
        CHECK(std::string(e.what()) == "Batch job batches/r1 (gemini) is not completed yet. Current state: RUNNING");
        CHECK(e.state() == "RUNNING");
        CHECK(e.job_name() == "batches/r1");
    }
    CHECK_THROWS_AS((void)gemini.fetch_batch_results("batches/r1"), llmbatch::InvalidArgument);
}

TEST_CASE("fetch_batch_results: results in input order by key even when answered out of order") {
    FakeTransport t;
    Json items = Json::array({item(text_response("{\"category\": \"STEM\"}"), "2"),
                              item(text_response("```json\n{\"category\": \"Humanities\",}\n```"), "0"),
                              item(text_response("Sure! [{\"category\": \"Languages\"}]"), "1")});
    t.on("GET", "/v1beta/batches/done1", json_response(200, succeeded_op(items, "3")));
    auto gemini = make(t);
    const auto results = gemini.fetch_batch_results("batches/done1");
    REQUIRE(results.size() == 3);
    CHECK(results.job_name() == "batches/done1");
    CHECK(results.provider() == "gemini");
    CHECK(results[0].value == Json::parse(R"({"category": "Humanities"})"));
    CHECK(results[1].value == Json::parse(R"([{"category": "Languages"}])"));
    CHECK(results[2].value == Json::parse(R"({"category": "STEM"})"));
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(results[i].index == i);
        CHECK(results[i].key == std::to_string(i));
        CHECK(results[i].raw.contains("candidates"));
    }
    CHECK(results.values().size() == 3);
}

TEST_CASE("fetch_batch_results without filter_json returns the raw response objects") {
    FakeTransport t;
    const Json r0 = text_response("plain answer");
    t.on("GET", "/v1beta/batches/done1", json_response(200, succeeded_op(Json::array({item(r0, "0", "false")}), "1")));
    auto gemini = make(t);
    const auto results = gemini.fetch_batch_results("batches/done1");
    REQUIRE(results.size() == 1);
    CHECK(results[0].value == r0);
    // Forcing filter_json at fetch time overrides what the job recorded: "plain answer" has no JSON.
    const auto forced = gemini.fetch_batch_results("batches/done1", {.filter_json = true});
    CHECK_FALSE(forced[0].ok());
    CHECK(forced[0].error->status == "INVALID_JSON");
}

TEST_CASE("fetch_batch_results without echoed metadata: provider default decides, order by position") {
    FakeTransport t;
    Json items = Json::array({{{"response", text_response("{\"n\": 0}")}}, {{"response", text_response("{\"n\": 1}")}}});
    t.on("GET", "/v1beta/batches/done1", json_response(200, succeeded_op(items, "2")));
    auto c = config_with_key();
    c.generation.filter_json = true;
    auto gemini = make(t, c);
    const auto results = gemini.fetch_batch_results("batches/done1");
    REQUIRE(results.size() == 2);
    CHECK(results[0].value == Json::parse(R"({"n": 0})"));
    CHECK(results[1].value == Json::parse(R"({"n": 1})"));
}

TEST_CASE("per-request errors are data; the strict accessor throws on the first with its index") {
    FakeTransport t;
    Json items = Json::array({item(text_response("{\"ok\": true}"), "0"),
                              {{"error", {{"code", 3}, {"message", "Request contains an invalid argument."}}},
                               {"metadata", {{"key", "1"}}}},
                              item(text_response("{\"ok\": 2}"), "2")});
    Json op = succeeded_op(items, "3");
    op["metadata"]["batchStats"] = {{"requestCount", "3"}, {"successfulRequestCount", "2"}, {"failedRequestCount", "1"}};
    t.on("GET", "/v1beta/batches/done1", json_response(200, op));
    auto gemini = make(t);
    const auto results = gemini.fetch_batch_results("batches/done1");
    REQUIRE(results.size() == 3);
    CHECK(results[0].ok());
    CHECK_FALSE(results[1].ok());
    CHECK(results[1].error->code == 3);
    CHECK(results[1].error->message == "Request contains an invalid argument.");
    CHECK(results[2].ok());
    CHECK(results.failed_indices() == std::vector<std::size_t>{1});
    try {
        (void)results.values();
        FAIL("expected RequestFailed");
    } catch (const llmbatch::RequestFailed& e) {
        CHECK(e.index() == 1);
        CHECK(std::string(e.what()).find("Request 1 in batch job batches/done1 (gemini) failed") != std::string::npos);
    }
    CHECK_THROWS_AS((void)results.values(), llmbatch::ProviderError);
}

TEST_CASE("missing and unusable results become per-request errors, never a shifted order") {
    FakeTransport t;
    Json blocked = {{"candidates", Json::array({{{"finishReason", "SAFETY"}, {"index", 0}}})}};
    Json items = Json::array({item(text_response("{\"n\": 0}"), "0"), item(blocked, "2")});
    t.on("GET", "/v1beta/batches/done1", json_response(200, succeeded_op(items, "4")));
    auto gemini = make(t);
    const auto results = gemini.fetch_batch_results("batches/done1");
    REQUIRE(results.size() == 4);
    CHECK(results[0].ok());
    CHECK(results[1].error->status == "MISSING_RESULT");
    CHECK(results[2].error->status == "EMPTY_RESPONSE");
    CHECK(results[2].error->message.find("SAFETY") != std::string::npos);
    CHECK(results[3].error->status == "MISSING_RESULT");
    CHECK(results.failed_indices() == std::vector<std::size_t>{1, 2, 3});
}

TEST_CASE("a request count from the server never sizes the results beyond what was submitted") {
    FakeTransport t;
    Json items = Json::array({item(text_response("{\"n\": 0}"), "0")});
    t.on("GET", "/v1beta/batches/done1", json_response(200, succeeded_op(items, "100000000")));
    auto gemini = make(t);
    llmbatch::FetchOptions counted;
    counted.request_count = 2;
    const auto results = gemini.fetch_batch_results("batches/done1", counted);
    REQUIRE(results.size() == 2);
    CHECK(results[0].ok());
    CHECK(results[1].error->status == "MISSING_RESULT");
    llmbatch::FetchOptions keyed;
    keyed.request_keys = {"0", "1", "2"};
    CHECK(gemini.fetch_batch_results("batches/done1", keyed).size() == 3);
}

TEST_CASE("partly keyed results cannot be ordered safely and are refused") {
    FakeTransport t;
    Json items = Json::array({item(text_response("{}"), "1"), {{"response", text_response("{}")}}});
    t.on("GET", "/v1beta/batches/done1", json_response(200, succeeded_op(items, "2")));
    auto gemini = make(t);
    CHECK_THROWS_AS((void)gemini.fetch_batch_results("batches/done1"), llmbatch::ProviderError);
}

TEST_CASE("failed, cancelled and expired jobs raise JobFailed with the API's message") {
    struct Case {
        const char* state;
        Json error;
        const char* expected;
        const char* normalised;
    };
    const Case cases[] = {
        {"BATCH_STATE_FAILED", {{"code", 13}, {"message", "Internal error encountered."}},
         "Batch job batches/f1 (gemini) failed: Internal error encountered.", "FAILED"},
        {"BATCH_STATE_CANCELLED", {{"code", 1}, {"message", "Cancelled by user."}},
         "Batch job batches/f1 (gemini) was cancelled: Cancelled by user.", "CANCELLED"},
        {"BATCH_STATE_EXPIRED", nullptr, "Batch job batches/f1 (gemini) expired: no error message given", "EXPIRED"},
    };
    for (const auto& c : cases) {
        Json op = {{"name", "batches/f1"}, {"metadata", {{"state", c.state}, {"batchStats", {{"requestCount", "2"}}}}},
                   {"done", true}};
        if (!c.error.is_null()) op["error"] = c.error;
        FakeTransport t;
        t.on("GET", "/v1beta/batches/f1", json_response(200, op));
        auto gemini = make(t);
        const auto job = gemini.get_batch_job("batches/f1");
        CHECK(job.done);
        CHECK(job.error.has_value() == !c.error.is_null());
        try {
            (void)gemini.fetch_batch_results("batches/f1");
            FAIL("expected JobFailed");
        } catch (const llmbatch::JobFailed& e) {
            CHECK(std::string(e.what()) == c.expected);
            CHECK(e.state() == c.normalised);
            CHECK(e.job_name() == "batches/f1");
        }
    }
}

TEST_CASE("a succeeded job with no results is a ValueError-kind error") {
    FakeTransport t;
    Json op = {{"name", "batches/e1"}, {"metadata", {{"state", "BATCH_STATE_SUCCEEDED"}}}, {"done", true}};
    t.on("GET", "/v1beta/batches/e1", json_response(200, op));
    auto gemini = make(t);
    CHECK_THROWS_WITH_AS((void)gemini.fetch_batch_results("batches/e1"),
                         "Batch job batches/e1 (gemini) has no results. This may indicate the job failed or was cancelled.",
                         llmbatch::ResultsMissing);
}

TEST_CASE("file-output jobs: the responses file is downloaded and joined on key") {
    FakeTransport t;
    Json op = {{"name", "batches/f2"},
               {"metadata", {{"state", "BATCH_STATE_SUCCEEDED"}, {"batchStats", {{"requestCount", "2"}}}}},
               {"done", true},
               {"response", {{"responsesFile", "files/batch-f2"}}}};
    t.on("GET", "/v1beta/batches/f2", json_response(200, op));
    llmbatch::HttpResponse file;
    file.body = Json({{"key", "1"}, {"response", text_response("{\"n\": 1}")}}).dump() + "\r\n" +
                Json({{"response", text_response("{\"n\": 0}")}, {"key", "0"}}).dump() + "\n\n";
    t.on("GET", "/download/v1beta/files/batch-f2:download", file);
    auto gemini = make(t);
    const auto results = gemini.fetch_batch_results("batches/f2", {.filter_json = true});
    REQUIRE(results.size() == 2);
    CHECK(results[0].value == Json::parse(R"({"n": 0})"));
    CHECK(results[1].value == Json::parse(R"({"n": 1})"));
    CHECK(t.last_request().url == std::string(base) + "/download/v1beta/files/batch-f2:download?alt=media");
    CHECK(t.last_request().headers.get("x-goog-api-key") == test_key);
}

TEST_CASE("HTTP errors become typed errors with the API's status and message") {
    FakeTransport t;
    t.on("GET", "/v1beta/batches/q", google_error_response(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."));
    t.on("GET", "/v1beta/batches/missing", google_error_response(404, "NOT_FOUND", "Requested entity was not found."));
    t.on("GET", "/v1beta/batches/boom", llmbatch::HttpResponse{503, {}, "<html>Service Unavailable</html>"});
    t.on("GET", "/v1beta/batches/bad", llmbatch::HttpResponse{200, {}, "not json"});
    auto gemini = make(t);
    try {
        (void)gemini.get_batch_job("batches/q");
        FAIL("expected QuotaError");
    } catch (const llmbatch::QuotaError& e) {
        CHECK(e.http_status() == 429);
        CHECK(e.api_status() == "RESOURCE_EXHAUSTED");
        CHECK(e.retryable());
        CHECK(std::string(e.what()) ==
              "gemini: get batch job batches/q failed: HTTP 429 RESOURCE_EXHAUSTED: Resource has been exhausted (e.g. check quota).");
    }
    CHECK_THROWS_AS((void)gemini.get_batch_job("batches/missing"), llmbatch::NotFoundError);
    try {
        (void)gemini.get_batch_job("batches/boom");
        FAIL("expected ProviderError");
    } catch (const llmbatch::ProviderError& e) {
        CHECK(e.http_status() == 503);
        CHECK(e.retryable());
        CHECK(std::string(e.what()).find("Service Unavailable") != std::string::npos);
    }
    CHECK_THROWS_AS((void)gemini.get_batch_job("batches/bad"), llmbatch::ProviderError);
}

TEST_CASE("a RESOURCE_EXHAUSTED status is a quota error whatever the HTTP code") {
    FakeTransport t;
    t.on("POST", "/v1beta/models/gemini-2.5-flash:batchGenerateContent",
         google_error_response(400, "RESOURCE_EXHAUSTED", "Enqueued token limit reached."));
    auto gemini = make(t);
    CHECK_THROWS_AS((void)gemini.create_batch_job({{"x"}}), llmbatch::QuotaError);
}

TEST_CASE("transport failures are TransportErrors naming the provider and the operation") {
    FakeTransport t;
    for (std::size_t n = 1; n <= 5; ++n) t.fail_on_call(n);
    ManualClock clock;
    Gemini gemini(config_with_key(), t, clock);
    try {
        (void)gemini.get_batch_job("batches/x");
        FAIL("expected TransportError");
    } catch (const llmbatch::TransportError& e) {
        CHECK(e.provider() == "gemini");
        CHECK(std::string(e.what()).find("get batch job batches/x") != std::string::npos);
        CHECK(e.retryable());
    }
    CHECK(t.call_count() == 5);         // the default policy: five attempts
    CHECK(clock.sleeps().size() == 4);  // with a wait between each
}

TEST_CASE("transient failures are retried; a later success is returned") {
    FakeTransport t;
    t.fail_on_call(1);
    t.push(google_error_response(503, "UNAVAILABLE", "The service is currently unavailable."));
    t.on("GET", "/v1beta/batches/x", json_response(200, pending_op));
    ManualClock clock;
    Gemini gemini(config_with_key(), t, clock);
    // Call 1 fails in transport (the queue is untouched), call 2 takes the queued 503, call 3 the route.
    CHECK(gemini.get_batch_job("batches/x").state == llmbatch::JobState::pending);
    CHECK(t.call_count() == 3);
    CHECK(clock.sleeps().size() == 2);
}

TEST_CASE("a create that may have reached the server is not retried unless the user opts in") {
    for (bool opt_in : {false, true}) {
        FakeTransport t;
        t.push(google_error_response(500, "INTERNAL", "Internal error encountered."));
        t.on("POST", "/v1beta/models/gemini-2.5-flash:batchGenerateContent", json_response(200, pending_op));
        auto c = config_with_key();
        c.retry.retry_unsafe_creates = opt_in;
        auto gemini = make(t, c);
        if (opt_in) {
            CHECK(gemini.create_batch_job({{"x"}}) == "batches/4m855v7q30kc7gtzcigdg9m72o87s08w33vp");
            CHECK(t.call_count() == 2);
        } else {
            CHECK_THROWS_AS((void)gemini.create_batch_job({{"x"}}), llmbatch::ProviderError);
            CHECK(t.call_count() == 1);
        }
    }
    // A 429 was refused by the server, so even a create is repeated.
    FakeTransport t;
    t.push(google_error_response(429, "RESOURCE_EXHAUSTED", "quota"));
    t.on("POST", "/v1beta/models/gemini-2.5-flash:batchGenerateContent", json_response(200, pending_op));
    CHECK_NOTHROW((void)make(t).create_batch_job({{"x"}}));
    CHECK(t.call_count() == 2);
}

TEST_CASE("the API key never appears in an error message, even when the server echoes it") {
    FakeTransport t;
    t.on("GET", "/v1beta/batches/x",
         google_error_response(400, "INVALID_ARGUMENT", std::string("API key ") + test_key + " not valid."));
    t.on("GET", "/v1beta/batches/y", llmbatch::HttpResponse{500, {}, std::string("oops ") + test_key});
    auto gemini = make(t);
    for (const char* job : {"batches/x", "batches/y"}) {
        try {
            (void)gemini.get_batch_job(job);
            FAIL("expected ProviderError");
        } catch (const llmbatch::ProviderError& e) {
            CHECK(std::string(e.what()).find(test_key) == std::string::npos);
            CHECK(e.api_message().find(test_key) == std::string::npos);
            CHECK(std::string(e.what()).find("[REDACTED]") != std::string::npos);
        }
    }
}

TEST_CASE("the API key is redacted from a failed job's error and from every per-request error") {
    FakeTransport t;
    const std::string echo = std::string("key ") + test_key + " refused";
    Json failed = succeeded_op(Json::array(), "1");
    failed["metadata"]["state"] = "BATCH_STATE_FAILED";
    failed.erase("response");
    failed["error"] = {{"code", 13}, {"message", echo}, {"status", test_key}, {"details", Json::array({{{"k", echo}}})}};
    t.on("GET", "/v1beta/batches/failed1", json_response(200, failed));
    Json bad = {{"error", {{"code", 3}, {"message", echo}, {"status", echo}, {"details", Json::array({{{test_key, echo}}})}}},
                {"metadata", {{"key", "1"}}}};
    Json items = Json::array({item(text_response("{\"n\": 0}"), "0"), bad});
    t.on("GET", "/v1beta/batches/done1", json_response(200, succeeded_op(items, "2")));
    auto gemini = make(t);

    const auto job = gemini.get_batch_job("batches/failed1");
    REQUIRE(job.error.has_value());
    CHECK(job.error->message.find(test_key) == std::string::npos);
    CHECK(job.error->message.find("[REDACTED]") != std::string::npos);
    CHECK(job.error->status.find(test_key) == std::string::npos);
    CHECK(job.error->details.dump().find(test_key) == std::string::npos);
    CHECK(job.raw.dump().find(test_key) == std::string::npos);

    const auto results = gemini.fetch_batch_results("batches/done1");
    REQUIRE(results.size() == 2);
    REQUIRE(results[1].error.has_value());
    CHECK(results[1].error->message.find(test_key) == std::string::npos);
    CHECK(results[1].error->status.find(test_key) == std::string::npos);
    CHECK(results[1].error->details.dump().find(test_key) == std::string::npos);
    CHECK(results[1].error->details.dump().find("[REDACTED]") != std::string::npos);
}

TEST_CASE("model names and job names that would rewrite the request path are refused before sending") {
    FakeTransport t;
    for (const char* model : {"x/../../batches/abc:cancel?", "../../v1/files", "models/a/b", "models/..", "a?b"}) {
        CAPTURE(model);
        auto config = config_with_key();
        config.generation.model = model;
        auto gemini = make(t, config);
        CHECK_THROWS_AS((void)gemini.create_batch_job({{"x"}}), llmbatch::InvalidArgument);
        CHECK_THROWS_AS((void)gemini.generate({"x"}), llmbatch::InvalidArgument);
    }
    auto gemini = make(t);
    for (const char* job : {"batches/..", "..", "batches/.", "batches/a/b"}) {
        CAPTURE(job);
        CHECK_THROWS_AS((void)gemini.get_batch_job(job), llmbatch::InvalidArgument);
    }
    CHECK(t.call_count() == 0);
}

TEST_CASE("generate: golden request, filter_json on and off, quota, empty prompts") {
    FakeTransport t;
    const Json reply = text_response("Here you go:\n```json\n{\"category\": \"STEM\",}\n```");
    t.on("POST", "/v1beta/models/gemini-2.5-flash:generateContent", json_response(200, reply));
    auto gemini = make(t);
    CHECK(gemini.generate({"Categorise:", "Mathematics GCSE"}, true) == Json::parse(R"({"category": "STEM"})"));
    CHECK(Json::parse(t.last_request().body) == Json::parse(R"({
        "contents": [{"role": "user", "parts": [{"text": "Categorise:\nMathematics GCSE"}]}],
        "generationConfig": {"temperature": 0.2, "responseMimeType": "application/json",
                             "thinkingConfig": {"thinkingBudget": 24576}}})"));
    CHECK(gemini.generate({"x"}, false) == reply);
    CHECK(gemini.generate({"x"}) == reply);  // provider default: filter_json off
    CHECK_THROWS_WITH_AS((void)gemini.generate({}), "user_prompts must not be empty.", llmbatch::InvalidArgument);

    FakeTransport q;
    q.on("POST", "/v1beta/models/gemini-2.5-flash:generateContent",
         google_error_response(429, "RESOURCE_EXHAUSTED", "quota"));
    CHECK_THROWS_AS((void)make(q).generate({"x"}), llmbatch::QuotaError);

    FakeTransport nojson;
    nojson.on("POST", "/v1beta/models/gemini-2.5-flash:generateContent", json_response(200, text_response("No JSON here")));
    CHECK_THROWS_AS((void)make(nojson).generate({"x"}, true), llmbatch::JsonExtractionError);
}

TEST_CASE("generate skips thought parts when reading the text") {
    FakeTransport t;
    Json reply = text_response("{\"a\": 1}");
    reply["candidates"][0]["content"]["parts"].insert(reply["candidates"][0]["content"]["parts"].begin(),
                                                      Json{{"text", "thinking {not json"}, {"thought", true}});
    t.on("POST", "/v1beta/models/gemini-2.5-flash:generateContent", json_response(200, reply));
    CHECK(make(t).generate({"x"}, true) == Json::parse(R"({"a": 1})"));
}

}  // TEST_SUITE

}  // namespace tests_providers_gemini
