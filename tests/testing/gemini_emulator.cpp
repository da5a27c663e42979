#include "llmbatch/testing/gemini_emulator.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using llmbatch::HttpRequest;
using llmbatch::HttpResponse;
using llmbatch::Json;
using llmbatch::testing::GeminiEmulator;
using llmbatch::testing::GeminiEmulatorOptions;
using llmbatch::testing::ManualClock;

const std::string host = "https://generativelanguage.googleapis.com";
const std::string create_path = "/v1beta/models/gemini-2.5-flash:batchGenerateContent";

HttpRequest request(std::string method, const std::string& path, std::string body = {},
                    std::optional<std::string> key = "test-key") {
    HttpRequest r{std::move(method), host + path, {}, std::move(body)};
    if (key) r.headers.set("x-goog-api-key", *key);
    if (!r.body.empty()) r.headers.set("Content-Type", "application/json");
    return r;
}

/// A GenerateContentRequest with one user message.
Json generate_request(const std::string& prompt, const Json& generation_config = nullptr) {
    Json r = {{"contents", Json::array({Json{{"role", "user"}, {"parts", Json::array({Json{{"text", prompt}}})}}})}};
    if (!generation_config.is_null()) r["generationConfig"] = generation_config;
    return r;
}

/// A create body with one inlined request per prompt, keyed by position.
Json batch_body(const std::vector<std::string>& prompts, const Json& generation_config = nullptr,
                const std::string& display_name = {}) {
    Json requests = Json::array();
    for (std::size_t i = 0; i < prompts.size(); ++i)
        requests.push_back(
            Json{{"request", generate_request(prompts[i], generation_config)}, {"metadata", {{"key", std::to_string(i)}}}});
    Json batch = {{"inputConfig", {{"requests", {{"requests", requests}}}}}};
    if (!display_name.empty()) batch["displayName"] = display_name;
    return Json{{"batch", batch}};
}

/// Sends `r`, checks the status and returns the parsed body.
Json call(GeminiEmulator& gemini, const HttpRequest& r, int expected_status = 200) {
    const HttpResponse response = gemini.send(r);
    CHECK(response.status == expected_status);
    CHECK(response.headers.get("Content-Type").value_or("").rfind("application/json", 0) == 0);
    return Json::parse(response.body);
}

std::string create(GeminiEmulator& gemini, const std::vector<std::string>& prompts,
                   const Json& generation_config = nullptr) {
    const Json op = call(gemini, request("POST", create_path, batch_body(prompts, generation_config).dump()));
    return op.at("name").get<std::string>();
}

Json get(GeminiEmulator& gemini, const std::string& name) { return call(gemini, request("GET", "/v1beta/" + name)); }

std::string answer_text(const Json& generate_content_response) {
    return generate_content_response.at("candidates").at(0).at("content").at("parts").at(0).at("text").get<std::string>();
}

Json items_of(const Json& op) { return op.at("response").at("inlinedResponses").at("inlinedResponses"); }

void check_google_error(const Json& body, int code, const std::string& status) {
    REQUIRE(body.contains("error"));
    CHECK(body["error"]["code"] == code);
    CHECK(body["error"]["status"] == status);
    CHECK(body["error"]["message"].is_string());
}

}  // namespace

TEST_SUITE("testing") {
    TEST_CASE("GeminiEmulator walks a job from PENDING through RUNNING to SUCCEEDED on the clock") {
        ManualClock clock;
        GeminiEmulator gemini(clock);  // PENDING 20 s, RUNNING 40 s
        const Json created = call(gemini, request("POST", create_path,
                                                  batch_body({"Geography of Wales", "French verbs", "Physics of light",
                                                              "Music theory"},
                                                             nullptr, "nightly-eval")
                                                      .dump()));
        const std::string name = created.at("name");
        CHECK(std::regex_match(name, std::regex("batches/[a-z0-9]{36}")));
        CHECK(gemini.job_names() == std::vector<std::string>{name});

        const Json& meta = created.at("metadata");
        CHECK(meta["@type"] == "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch");
        CHECK(meta["name"] == name);
        CHECK(meta["model"] == "models/gemini-2.5-flash");
        CHECK(meta["displayName"] == "nightly-eval");
        CHECK(meta["state"] == "BATCH_STATE_PENDING");
        CHECK(meta["batchStats"] == Json{{"requestCount", "4"}, {"pendingRequestCount", "4"}});
        CHECK(meta["createTime"] == "2026-01-01T00:00:00.000000000Z");
        CHECK(meta["updateTime"] == "2026-01-01T00:00:00.000000000Z");
        CHECK_FALSE(meta.contains("endTime"));
        CHECK_FALSE(meta.contains("output"));
        CHECK_FALSE(meta.contains("inputConfig"));
        CHECK_FALSE(created.contains("done"));
        CHECK_FALSE(created.contains("response"));
        CHECK_FALSE(created.contains("error"));

        clock.advance(19s);
        CHECK(get(gemini, name)["metadata"]["state"] == "BATCH_STATE_PENDING");

        clock.advance(11s);  // 30 s: 10 s into RUNNING, one request of four done
        Json running = get(gemini, name);
        CHECK(running["metadata"]["state"] == "BATCH_STATE_RUNNING");
        CHECK(running["metadata"]["batchStats"] ==
              Json{{"requestCount", "4"}, {"successfulRequestCount", "1"}, {"pendingRequestCount", "3"}});
        CHECK(running["metadata"]["updateTime"] == "2026-01-01T00:00:30.000000000Z");
        CHECK_FALSE(running.contains("done"));
        CHECK_FALSE(running.contains("response"));

        clock.advance(25s);  // 55 s: three done
        running = get(gemini, name);
        CHECK(running["metadata"]["batchStats"] ==
              Json{{"requestCount", "4"}, {"successfulRequestCount", "3"}, {"pendingRequestCount", "1"}});
        CHECK(running["metadata"]["updateTime"] == "2026-01-01T00:00:50.000000000Z");

        clock.advance(5s);  // 60 s: finished
        const Json done = get(gemini, name);
        CHECK(done["done"] == true);
        CHECK(done["metadata"]["state"] == "BATCH_STATE_SUCCEEDED");
        CHECK(done["metadata"]["endTime"] == "2026-01-01T00:01:00.000000000Z");
        CHECK(done["metadata"]["updateTime"] == "2026-01-01T00:01:00.000000000Z");
        CHECK(done["metadata"]["batchStats"] == Json{{"requestCount", "4"}, {"successfulRequestCount", "4"}});
        CHECK_FALSE(done.contains("error"));
        CHECK(done["response"]["@type"] ==
              "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput");
        CHECK(done["metadata"]["output"]["inlinedResponses"] == done["response"]["inlinedResponses"]);
        CHECK_FALSE(done["metadata"]["output"].contains("@type"));

        const Json items = items_of(done);
        REQUIRE(items.size() == 4);
        const char* categories[] = {"Humanities", "Languages", "STEM", "Arts"};
        for (std::size_t i = 0; i < 4; ++i) {
            CHECK(items[i]["metadata"] == Json{{"key", std::to_string(i)}});
            CHECK_FALSE(items[i].contains("error"));
            const std::string text = answer_text(items[i]["response"]);
            CHECK(text.find(std::string("\"category\": \"") + categories[i] + "\"") != std::string::npos);
        }
        CHECK(gemini.call_count() == 5);
    }

    TEST_CASE("GeminiEmulator writes the GenerateContentResponse wire shape") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        const std::string name = create(gemini, {"Which topic is photosynthesis in biology?"});
        clock.advance(1min);
        const Json response = items_of(get(gemini, name)).at(0).at("response");
        const Json& candidate = response.at("candidates").at(0);
        CHECK(candidate["content"]["role"] == "model");
        CHECK(candidate["finishReason"] == "STOP");
        CHECK(candidate["index"] == 0);
        const Json& usage = response.at("usageMetadata");
        CHECK(usage["promptTokenCount"].is_number_integer());
        CHECK(usage["candidatesTokenCount"].is_number_integer());
        CHECK(usage["totalTokenCount"].get<int>() ==
              usage["promptTokenCount"].get<int>() + usage["candidatesTokenCount"].get<int>());
        CHECK(response["modelVersion"] == "gemini-2.5-flash");
        CHECK(std::regex_match(response["responseId"].get<std::string>(), std::regex("[A-Za-z0-9_-]{23}")));
    }

    TEST_CASE("GeminiEmulator answers deterministically, as JSON when asked for application/json") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        const std::string prompt = "Which topic is photosynthesis in biology?";
        const std::string text_job = create(gemini, {prompt, prompt, "Hello there"});
        const std::string json_job = create(gemini, {prompt}, Json{{"responseMimeType", "application/json"}});
        clock.advance(1min);
        const Json text_items = items_of(get(gemini, text_job));
        const Json json_items = items_of(get(gemini, json_job));

        // A stable hash (FNV-1a), so the confidence is the same in every run and on every platform.
        CHECK(answer_text(json_items[0]["response"]) == R"({"category":"STEM","confidence":56})");
        CHECK(answer_text(text_items[0]["response"]) ==
              "Here is the categorisation:\n```json\n{\"category\": \"STEM\", \"confidence\": 56}\n```\n"
              "Let me know if you need more.");
        CHECK(answer_text(text_items[1]["response"]) == answer_text(text_items[0]["response"]));
        CHECK(answer_text(text_items[2]["response"]).find("{\"category\": \"General\", \"confidence\": 69}") !=
              std::string::npos);
        // Response ids differ per request even when the answers agree.
        CHECK(text_items[0]["response"]["responseId"] != text_items[1]["response"]["responseId"]);
    }

    TEST_CASE("GeminiEmulator picks categories by keyword, ignoring case") {
        const auto category_of = [](const std::string& prompt) {
            const Json answer = Json::parse(GeminiEmulator::default_answer(
                generate_request(prompt, Json{{"responseMimeType", "application/json"}})));
            CHECK(answer["confidence"].get<int>() >= 50);
            CHECK(answer["confidence"].get<int>() <= 99);
            return answer["category"].get<std::string>();
        };
        CHECK(category_of("A HISTORY essay") == "Humanities");
        CHECK(category_of("Religious studies") == "Humanities");
        CHECK(category_of("Welsh second language") == "Languages");
        CHECK(category_of("Spanish") == "Languages");
        CHECK(category_of("Computer science") == "STEM");
        CHECK(category_of("Mathematics, paper 2") == "STEM");
        CHECK(category_of("Drama performance") == "Arts");
        CHECK(category_of("Nothing in particular") == "General");
        // Every text part of every content counts.
        Json two_parts = generate_request("Question one", Json{{"responseMimeType", "application/json"}});
        two_parts["contents"][0]["parts"].push_back(Json{{"text", "about chemistry"}});
        CHECK(Json::parse(GeminiEmulator::default_answer(two_parts))["category"] == "STEM");
    }

    TEST_CASE("GeminiEmulator accepts snake_case input, as the real API does") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        const Json body = {
            {"batch",
             {{"display_name", "snake"},
              {"input_config",
               {{"requests",
                 {{"requests", Json::array({Json{{"request",
                                                  {{"contents", generate_request("music")["contents"]},
                                                   {"generation_config",
                                                    {{"response_mime_type", "application/json"},
                                                     {"thinking_config", {{"thinking_budget", 0}}}}}}}}})}}}}}}}};
        const Json op = call(gemini, request("POST", create_path, body.dump()));
        CHECK(op["metadata"]["displayName"] == "snake");
        clock.advance(1min);
        const Json item = items_of(get(gemini, op["name"]))[0];
        CHECK(Json::parse(answer_text(item["response"]))["category"] == "Arts");
        CHECK_FALSE(item.contains("metadata"));  // none was sent
    }

    TEST_CASE("GeminiEmulator::set_responder replaces the answers") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        std::vector<Json> seen;
        gemini.set_responder([&](const Json& r) {
            seen.push_back(r);
            return "custom: " + r["contents"][0]["parts"][0]["text"].get<std::string>();
        });
        const std::string name = create(gemini, {"a", "b"}, Json{{"temperature", 0.2}});
        REQUIRE(seen.size() == 2);
        CHECK(seen[1]["generationConfig"]["temperature"] == 0.2);
        gemini.set_responder({});
        const std::string default_job = create(gemini, {"a"});
        clock.advance(1min);
        const Json items = items_of(get(gemini, name));
        CHECK(answer_text(items[0]["response"]) == "custom: a");
        CHECK(answer_text(items[1]["response"]) == "custom: b");
        CHECK(answer_text(items_of(get(gemini, default_job))[0]["response"]).rfind("Here is the categorisation", 0) == 0);
    }

    TEST_CASE("GeminiEmulator writes times with nine fractional digits") {
        ManualClock clock;
        clock.advance(1500ms);
        GeminiEmulator gemini(clock);
        const Json op = call(gemini, request("POST", create_path, batch_body({"x"}).dump()));
        CHECK(op["metadata"]["createTime"] == "2026-01-01T00:00:01.500000000Z");
    }

    TEST_CASE("GeminiEmulator fails the injected requests of later jobs") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        const std::string before = create(gemini, {"a", "b", "c"});
        gemini.inject_request_error(1, 3, "Request contains an invalid argument.");
        gemini.inject_request_error(2, 8, "Quota exceeded.", "RESOURCE_EXHAUSTED");
        const std::string after = create(gemini, {"a", "b", "c"});

        clock.advance(20s + 27s);  // two of three done in RUNNING: one success, one failure
        CHECK(get(gemini, after)["metadata"]["batchStats"] ==
              Json{{"requestCount", "3"}, {"successfulRequestCount", "1"}, {"failedRequestCount", "1"},
                   {"pendingRequestCount", "1"}});

        clock.advance(1min);
        const Json op = get(gemini, after);
        CHECK(op["metadata"]["state"] == "BATCH_STATE_SUCCEEDED");
        CHECK(op["metadata"]["batchStats"] ==
              Json{{"requestCount", "3"}, {"successfulRequestCount", "1"}, {"failedRequestCount", "2"}});
        const Json items = items_of(op);
        REQUIRE(items.size() == 3);
        CHECK(items[0].contains("response"));
        CHECK(items[1] == Json{{"error", {{"code", 3}, {"message", "Request contains an invalid argument."}}},
                               {"metadata", {{"key", "1"}}}});
        CHECK(items[2]["error"] ==
              Json{{"code", 8}, {"message", "Quota exceeded."}, {"status", "RESOURCE_EXHAUSTED"}});
        CHECK_FALSE(items[2].contains("response"));

        // The job created before the injection is untouched.
        CHECK(get(gemini, before)["metadata"]["batchStats"] == Json{{"requestCount", "3"}, {"successfulRequestCount", "3"}});

        gemini.clear_injections();
        const std::string cleared = create(gemini, {"a", "b", "c"});
        clock.advance(1min);
        CHECK(get(gemini, cleared)["metadata"]["batchStats"] ==
              Json{{"requestCount", "3"}, {"successfulRequestCount", "3"}});
    }

    TEST_CASE("GeminiEmulator::fail_next_job fails one job when it would have succeeded") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        const std::string before = create(gemini, {"a"});
        gemini.fail_next_job();
        const std::string failing = create(gemini, {"a", "b"});
        const std::string after = create(gemini, {"a"});

        clock.advance(30s);
        CHECK(get(gemini, failing)["metadata"]["state"] == "BATCH_STATE_RUNNING");
        clock.advance(30s);
        const Json op = get(gemini, failing);
        CHECK(op["metadata"]["state"] == "BATCH_STATE_FAILED");
        CHECK(op["done"] == true);
        CHECK(op["error"] == Json{{"code", 13}, {"message", "Internal error encountered."}});
        CHECK(op["metadata"]["endTime"] == "2026-01-01T00:01:00.000000000Z");
        CHECK_FALSE(op.contains("response"));
        CHECK_FALSE(op["metadata"].contains("output"));
        CHECK(get(gemini, before)["metadata"]["state"] == "BATCH_STATE_SUCCEEDED");
        CHECK(get(gemini, after)["metadata"]["state"] == "BATCH_STATE_SUCCEEDED");
    }

    TEST_CASE("GeminiEmulator::fail_job and expire_job end a job at once") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        const std::string failed = create(gemini, {"a"});
        const std::string expired = create(gemini, {"a"});
        clock.advance(5s);
        gemini.fail_job(failed, 9, "The batch could not be processed.");
        gemini.expire_job(expired);

        const Json f = get(gemini, failed);
        CHECK(f["metadata"]["state"] == "BATCH_STATE_FAILED");
        CHECK(f["done"] == true);
        CHECK(f["error"] == Json{{"code", 9}, {"message", "The batch could not be processed."}});
        CHECK(f["metadata"]["endTime"] == "2026-01-01T00:00:05.000000000Z");

        const Json e = get(gemini, expired);
        CHECK(e["metadata"]["state"] == "BATCH_STATE_EXPIRED");
        CHECK(e["done"] == true);
        CHECK_FALSE(e.contains("response"));
        CHECK_FALSE(e.contains("error"));

        clock.advance(1h);  // an ended job stays ended
        CHECK(get(gemini, failed)["metadata"]["state"] == "BATCH_STATE_FAILED");
        CHECK_THROWS_AS(gemini.expire_job(failed), std::logic_error);
        CHECK_THROWS_AS(gemini.fail_job("batches/unknown", 13, "x"), std::invalid_argument);
    }

    TEST_CASE("GeminiEmulator expires a job still unfinished after expire_after") {
        ManualClock clock;
        GeminiEmulatorOptions options;
        options.running_for = 72h;
        GeminiEmulator gemini(clock, options);
        const std::string name = create(gemini, {"a", "b"});
        clock.advance(47h);
        CHECK(get(gemini, name)["metadata"]["state"] == "BATCH_STATE_RUNNING");
        clock.advance(1h);
        const Json op = get(gemini, name);
        CHECK(op["metadata"]["state"] == "BATCH_STATE_EXPIRED");
        CHECK(op["done"] == true);
        CHECK(op["metadata"]["endTime"] == "2026-01-03T00:00:00.000000000Z");
        CHECK_FALSE(op.contains("response"));
    }

    TEST_CASE("GeminiEmulator serves injected HTTP errors to the next calls, whatever the endpoint") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        gemini.inject_http_errors(2);
        gemini.inject_http_errors(1, 503, "UNAVAILABLE", "The service is currently unavailable.", "7");

        Json body = call(gemini, request("POST", create_path, batch_body({"a"}).dump()), 429);
        check_google_error(body, 429, "RESOURCE_EXHAUSTED");
        CHECK(body["error"]["message"] == "Resource has been exhausted (e.g. check quota).");
        body = call(gemini, request("GET", "/v1beta/batches"), 429);
        check_google_error(body, 429, "RESOURCE_EXHAUSTED");

        const HttpResponse unavailable = gemini.send(request("GET", "/v1beta/batches"));
        CHECK(unavailable.status == 503);
        CHECK(unavailable.headers.get("Retry-After") == std::optional<std::string>("7"));
        check_google_error(Json::parse(unavailable.body), 503, "UNAVAILABLE");

        CHECK(gemini.job_count() == 0);
        create(gemini, {"a"});
        CHECK(gemini.job_count() == 1);
        CHECK(gemini.call_count() == 4);
    }

    TEST_CASE("GeminiEmulator reverses results when out of order, still echoing metadata") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        gemini.set_out_of_order(true);
        const std::string name = create(gemini, {"history", "french", "physics"});
        clock.advance(1min);
        const Json items = items_of(get(gemini, name));
        REQUIRE(items.size() == 3);
        CHECK(items[0]["metadata"]["key"] == "2");
        CHECK(items[1]["metadata"]["key"] == "1");
        CHECK(items[2]["metadata"]["key"] == "0");
        CHECK(answer_text(items[0]["response"]).find("STEM") != std::string::npos);
        CHECK(answer_text(items[2]["response"]).find("Humanities") != std::string::npos);
    }

    TEST_CASE("GeminiEmulator can drop the metadata echo and omit results") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        gemini.set_echo_metadata(false);
        const std::string no_metadata = create(gemini, {"a", "b"});
        gemini.set_echo_metadata(true);
        gemini.omit_results_for(1);
        const std::string omitted = create(gemini, {"a", "b", "c"});
        clock.advance(1min);

        for (const auto& item : items_of(get(gemini, no_metadata))) CHECK_FALSE(item.contains("metadata"));

        const Json op = get(gemini, omitted);
        CHECK(op["metadata"]["batchStats"]["requestCount"] == "3");
        const Json items = items_of(op);
        REQUIRE(items.size() == 2);
        CHECK(items[0]["metadata"]["key"] == "0");
        CHECK(items[1]["metadata"]["key"] == "2");
    }

    TEST_CASE("GeminiEmulator cancels an unfinished job and refuses to cancel a finished one") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        const std::string name = create(gemini, {"a", "b", "c", "d"});
        const std::string finished = create(gemini, {"a"});
        clock.advance(40s);  // halfway through RUNNING
        CHECK(call(gemini, request("POST", "/v1beta/" + name + ":cancel")) == Json::object());
        clock.advance(1min);

        const Json op = get(gemini, name);
        CHECK(op["metadata"]["state"] == "BATCH_STATE_CANCELLED");
        CHECK(op["done"] == true);
        CHECK(op["error"]["code"] == 1);
        CHECK(op["error"]["message"].is_string());
        CHECK_FALSE(op.contains("response"));
        CHECK(op["metadata"]["endTime"] == "2026-01-01T00:00:40.000000000Z");
        CHECK(op["metadata"]["batchStats"] ==
              Json{{"requestCount", "4"}, {"successfulRequestCount", "2"}, {"pendingRequestCount", "2"}});

        check_google_error(call(gemini, request("POST", "/v1beta/" + name + ":cancel", "{}"), 400), 400,
                           "FAILED_PRECONDITION");
        check_google_error(call(gemini, request("POST", "/v1beta/" + finished + ":cancel"), 400), 400,
                           "FAILED_PRECONDITION");
        check_google_error(call(gemini, request("POST", "/v1beta/batches/nosuchjob:cancel"), 404), 404, "NOT_FOUND");
    }

    TEST_CASE("GeminiEmulator deletes a job") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        const std::string name = create(gemini, {"a"});
        const std::string kept = create(gemini, {"b"});
        CHECK(call(gemini, request("DELETE", "/v1beta/" + name)) == Json::object());
        CHECK(gemini.job_names() == std::vector<std::string>{kept});
        const Json missing = call(gemini, request("GET", "/v1beta/" + name), 404);
        CHECK(missing == Json{{"error", {{"code", 404}, {"message", "Requested entity was not found."},
                                         {"status", "NOT_FOUND"}}}});
        check_google_error(call(gemini, request("DELETE", "/v1beta/" + name), 404), 404, "NOT_FOUND");
    }

    TEST_CASE("GeminiEmulator lists jobs newest first, page by page, without results") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        CHECK(call(gemini, request("GET", "/v1beta/batches")) == Json::object());
        for (int i = 0; i < 5; ++i) {
            create(gemini, {"job " + std::to_string(i)});
            clock.advance(1s);
        }
        clock.advance(1min);  // all succeeded

        std::vector<std::string> listed;
        std::vector<std::size_t> page_sizes;
        std::string token;
        for (int page = 0; page < 10; ++page) {
            std::string path = "/v1beta/batches?pageSize=2";
            if (!token.empty()) path += "&pageToken=" + token;
            const Json body = call(gemini, request("GET", path));
            REQUIRE(body.contains("operations"));
            page_sizes.push_back(body["operations"].size());
            for (const auto& op : body["operations"]) {
                listed.push_back(op["name"]);
                CHECK(op["metadata"]["state"] == "BATCH_STATE_SUCCEEDED");
                CHECK(op["done"] == true);
                CHECK_FALSE(op.contains("response"));
                CHECK_FALSE(op["metadata"].contains("output"));
                CHECK(op["metadata"]["batchStats"]["requestCount"] == "1");
            }
            if (!body.contains("nextPageToken")) break;
            token = body["nextPageToken"].get<std::string>();
            CHECK_FALSE(token.empty());
        }
        CHECK(page_sizes == std::vector<std::size_t>{2, 2, 1});
        auto newest_first = gemini.job_names();
        std::reverse(newest_first.begin(), newest_first.end());
        CHECK(listed == newest_first);
    }

    TEST_CASE("GeminiEmulator lists with the default page size and rejects bad paging") {
        ManualClock clock;
        GeminiEmulatorOptions options;
        options.default_page_size = 3;
        GeminiEmulator gemini(clock, options);
        for (int i = 0; i < 4; ++i) create(gemini, {"x"});
        const Json first = call(gemini, request("GET", "/v1beta/batches"));
        CHECK(first["operations"].size() == 3);
        CHECK(first.contains("nextPageToken"));
        const Json all = call(gemini, request("GET", "/v1beta/batches?pageSize=1000"));
        CHECK(all["operations"].size() == 4);
        CHECK_FALSE(all.contains("nextPageToken"));
        check_google_error(call(gemini, request("GET", "/v1beta/batches?pageSize=abc"), 400), 400, "INVALID_ARGUMENT");
        check_google_error(call(gemini, request("GET", "/v1beta/batches?pageToken=garbage"), 400), 400,
                           "INVALID_ARGUMENT");
    }

    TEST_CASE("GeminiEmulator checks the API key without echoing it") {
        ManualClock clock;
        GeminiEmulatorOptions options;
        options.required_api_key = "the-right-key";
        GeminiEmulator gemini(clock, options);

        const HttpResponse missing = gemini.send(request("POST", create_path, batch_body({"a"}).dump(), std::nullopt));
        CHECK(missing.status == 403);
        check_google_error(Json::parse(missing.body), 403, "PERMISSION_DENIED");

        const HttpResponse empty = gemini.send(request("GET", "/v1beta/batches", {}, ""));
        CHECK(empty.status == 403);

        const HttpResponse wrong =
            gemini.send(request("POST", create_path, batch_body({"a"}).dump(), "wrong-key-12345"));
        CHECK(wrong.status == 400);
        const Json body = Json::parse(wrong.body);
        check_google_error(body, 400, "INVALID_ARGUMENT");
        CHECK(body["error"]["message"] == "API key not valid. Please pass a valid API key.");
        CHECK(wrong.body.find("wrong-key-12345") == std::string::npos);
        CHECK(gemini.job_count() == 0);

        CHECK(gemini.send(request("POST", create_path, batch_body({"a"}).dump(), "the-right-key")).status == 200);
        CHECK(gemini.job_count() == 1);

        GeminiEmulator any_key(clock);
        CHECK(any_key.send(request("GET", "/v1beta/batches", {}, "whatever")).status == 200);
    }

    TEST_CASE("GeminiEmulator validates create bodies like the real API") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        const auto rejected = [&](const std::string& body) {
            const Json error = call(gemini, request("POST", create_path, body), 400);
            check_google_error(error, 400, "INVALID_ARGUMENT");
            return error["error"]["message"].get<std::string>();
        };

        SUBCASE("an unknown field beside request and metadata") {
            Json body = batch_body({"a", "b"});
            body["batch"]["inputConfig"]["requests"]["requests"][1]["safetySettings"] = Json::array();
            const Json error = call(gemini, request("POST", create_path, body.dump()), 400);
            CHECK(error["error"]["message"] ==
                  "Invalid JSON payload received. Unknown name \"safetySettings\" at "
                  "'batch.input_config.requests.requests[1]': Cannot find field.");
            CHECK(error["error"]["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest");
            CHECK(error["error"]["details"][0]["fieldViolations"][0]["field"] ==
                  "batch.input_config.requests.requests[1]");
        }
        SUBCASE("a generation setting at request level") {
            Json body = batch_body({"a"});
            body["batch"]["inputConfig"]["requests"]["requests"][0]["request"]["thinking_config"] =
                Json{{"thinking_budget", 0}};
            CHECK(rejected(body.dump()) ==
                  "Invalid JSON payload received. Unknown name \"thinking_config\" at "
                  "'batch.input_config.requests.requests[0].request': Cannot find field.");
        }
        SUBCASE("an unknown top-level field") {
            CHECK(rejected(R"({"batch":{},"extra":1})") ==
                  "Invalid JSON payload received. Unknown name \"extra\": Cannot find field.");
        }
        SUBCASE("a wrongly typed value") {
            Json body = batch_body({"a"});
            body["batch"]["inputConfig"]["requests"]["requests"][0]["request"]["contents"][0]["parts"][0]["text"] = 5;
            CHECK(rejected(body.dump()).find(
                      "'batch.input_config.requests.requests[0].request.contents[0].parts[0].text'") !=
                  std::string::npos);
        }
        SUBCASE("an empty or missing request list") {
            Json body = batch_body({"a"});
            body["batch"]["inputConfig"]["requests"]["requests"] = Json::array();
            CHECK_FALSE(rejected(body.dump()).empty());
            CHECK_FALSE(rejected(R"({"batch":{"inputConfig":{"requests":{}}}})").empty());
            CHECK_FALSE(rejected(R"({"batch":{"displayName":"x"}})").empty());
            CHECK_FALSE(rejected(R"({})").empty());
        }
        SUBCASE("a request without contents") {
            CHECK(rejected(R"({"batch":{"inputConfig":{"requests":{"requests":[{"request":{}}]}}}})").find(
                      "contents is not specified") != std::string::npos);
        }
        SUBCASE("file input naming no file") {
            CHECK(rejected(R"({"batch":{"inputConfig":{"fileName":"files/abc"}}})") ==
                  "* BatchGenerateContentRequest.batch.input_config.file_name: the file files/abc does not exist.");
        }
        SUBCASE("an unparseable body") {
            CHECK(rejected("{\"batch\": ").rfind("Invalid JSON payload received.", 0) == 0);
            CHECK_FALSE(rejected("[1, 2]").empty());
        }
        CHECK(gemini.job_count() == 0);
    }

    TEST_CASE("GeminiEmulator answers 404 NOT_FOUND off its surface") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        check_google_error(call(gemini, request("GET", "/v1beta/batches/unknown"), 404), 404, "NOT_FOUND");
        check_google_error(call(gemini, request("GET", "/v1beta/corpora"), 404), 404, "NOT_FOUND");
        check_google_error(call(gemini, request("GET", "/v1/batches"), 404), 404, "NOT_FOUND");
        check_google_error(call(gemini, request("PUT", "/v1beta/batches/x"), 404), 404, "NOT_FOUND");
        check_google_error(call(gemini, request("GET", create_path), 404), 404, "NOT_FOUND");
        check_google_error(call(gemini, request("POST", "/v1beta/models/gemini-2.5-flash:countTokens", "{}"), 404), 404,
                           "NOT_FOUND");
    }

    TEST_CASE("GeminiEmulator answers generateContent synchronously") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        const Json body = generate_request("Which topic is photosynthesis in biology?",
                                           Json{{"responseMimeType", "application/json"}, {"temperature", 0.2}});
        const Json response =
            call(gemini, request("POST", "/v1beta/models/gemini-2.5-flash:generateContent", body.dump()));
        CHECK(answer_text(response) == R"({"category":"STEM","confidence":56})");
        CHECK(response["modelVersion"] == "gemini-2.5-flash");
        CHECK(response["usageMetadata"]["totalTokenCount"].is_number_integer());
        CHECK(gemini.job_count() == 0);

        const Json error = call(gemini, request("POST", "/v1beta/models/gemini-2.5-flash:generateContent",
                                                R"({"contents":[],"temprature":1})"),
                                400);
        CHECK(error["error"]["message"] == "Invalid JSON payload received. Unknown name \"temprature\": Cannot find field.");
    }

    TEST_CASE("GeminiEmulator copies share the jobs") {
        ManualClock clock;
        GeminiEmulator gemini(clock);
        GeminiEmulator held_by_provider = gemini;
        const std::string name = create(held_by_provider, {"a"});
        CHECK(gemini.job_names() == std::vector<std::string>{name});
        CHECK(gemini.call_count() == 1);
        CHECK(gemini.requests().at(0).method == "POST");
        CHECK(gemini.clock().shares_state_with(clock));
    }

    TEST_CASE("GeminiEmulator names jobs deterministically and uniquely") {
        ManualClock clock_a;
        ManualClock clock_b;
        GeminiEmulator a(clock_a);
        GeminiEmulator b(clock_b);
        const std::string a1 = create(a, {"x"});
        const std::string a2 = create(a, {"x"});
        CHECK(a1 != a2);
        CHECK(create(b, {"something else"}) == a1);
    }

    TEST_CASE("GeminiEmulator state survives a round trip through JSON") {
        ManualClock clock;
        GeminiEmulator first(clock);
        first.inject_request_error(1, 3, "bad");
        const std::string name = create(first, {"history", "physics"});
        first.omit_results_for(0);
        clock.advance(10s);

        // Another process: a fresh clock at the same wall-clock time, the state read back from text.
        const std::string saved = first.to_json().dump();
        ManualClock later(ManualClock::default_utc_start() + 10s);
        GeminiEmulator second = GeminiEmulator::from_json(Json::parse(saved), later);
        CHECK(second.job_names() == first.job_names());
        CHECK(get(second, name) == get(first, name));

        later.advance(1min);
        clock.advance(1min);
        const Json restored = get(second, name);
        CHECK(restored["metadata"]["state"] == "BATCH_STATE_SUCCEEDED");
        CHECK(restored == get(first, name));
        CHECK(items_of(restored)[1]["error"]["code"] == 3);

        // The pending injection came along, and new names do not repeat old ones.
        const std::string next = create(second, {"a", "b"});
        CHECK(next != name);
        later.advance(1min);
        CHECK(items_of(get(second, next)).size() == 1);

        CHECK_THROWS_AS(second.restore(Json{{"format", "something else"}}), std::invalid_argument);
        CHECK_THROWS_AS(second.restore(Json::parse(R"({"format":"llmbatch.gemini-emulator","version":1,
                                                        "nextSequence":1,"jobs":[{"name":"x"}]})")),
                        std::invalid_argument);
        CHECK(second.job_count() == 2);  // a failed restore changes nothing
    }

    TEST_CASE("GeminiEmulator runs on the system clock too") {
        static_assert(llmbatch::HttpTransport<llmbatch::testing::BasicGeminiEmulator<llmbatch::SystemClock>>);
        llmbatch::testing::BasicGeminiEmulator<llmbatch::SystemClock> gemini;
        const auto before = std::chrono::system_clock::now();
        const HttpResponse response = gemini.send(request("POST", create_path, batch_body({"a"}).dump()));
        REQUIRE(response.status == 200);
        const Json op = Json::parse(response.body);
        CHECK(op["metadata"]["state"] == "BATCH_STATE_PENDING");
        const auto created = llmbatch::detail::parse_rfc3339(op["metadata"]["createTime"].get<std::string>());
        REQUIRE(created.has_value());
        CHECK(*created >= std::chrono::time_point_cast<std::chrono::seconds>(before));
    }

TEST_CASE("emulator: set_next_job_number renumbers later jobs, and their names with them") {
    ManualClock clock_a, clock_b;
    GeminiEmulator a(clock_a), b(clock_b);
    b.set_next_job_number(1000);
    const auto first = create(a, {"x"});
    const auto renumbered = create(b, {"x"});
    CHECK(first != renumbered);
    CHECK_THROWS_AS(b.set_next_job_number(1000), std::invalid_argument);  // job 1000 exists
    CHECK_THROWS_AS(GeminiEmulator(clock_a).set_next_job_number(0), std::invalid_argument);
    b.set_next_job_number(5000);
    (void)create(b, {"y"});
    CHECK(b.to_json()["nextSequence"] == 5001);
}

}
