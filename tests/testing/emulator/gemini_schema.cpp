#include "llmbatch/testing/emulator/gemini_schema.hpp"

#include <doctest/doctest.h>

#include <string>

#include "gemini_test_helpers.hpp"

namespace tests_testing_emulator_gemini_schema {

using namespace gemini_test;

TEST_SUITE("testing") {
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
}

}  // namespace tests_testing_emulator_gemini_schema
