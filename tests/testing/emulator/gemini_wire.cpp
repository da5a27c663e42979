#include "llmbatch/testing/emulator/gemini_wire.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <regex>
#include <string>

#include "gemini_test_helpers.hpp"

namespace tests_testing_emulator_gemini_wire {

using namespace gemini_test;

TEST_SUITE("testing") {
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
}

}  // namespace tests_testing_emulator_gemini_wire
