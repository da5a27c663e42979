#pragma once
// Helpers shared by the Gemini emulator's tests: requests, create bodies, calls that check the
// status and the JSON content type, and Google error checks.

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "llmbatch/testing/gemini_emulator.hpp"

namespace gemini_test {

using namespace std::chrono_literals;
using llmbatch::HttpRequest;
using llmbatch::HttpResponse;
using llmbatch::Json;
using llmbatch::testing::GeminiEmulator;
using llmbatch::testing::GeminiEmulatorOptions;
using llmbatch::testing::ManualClock;

inline const std::string host = "https://generativelanguage.googleapis.com";
inline const std::string create_path = "/v1beta/models/gemini-2.5-flash:batchGenerateContent";

inline HttpRequest request(std::string method, const std::string& path, std::string body = {},
                    std::optional<std::string> key = "test-key") {
    HttpRequest r{std::move(method), host + path, {}, std::move(body)};
    if (key) r.headers.set("x-goog-api-key", *key);
    if (!r.body.empty()) r.headers.set("Content-Type", "application/json");
    return r;
}

/// A GenerateContentRequest with one user message.
inline Json generate_request(const std::string& prompt, const Json& generation_config = nullptr) {
    Json r = {{"contents", Json::array({Json{{"role", "user"}, {"parts", Json::array({Json{{"text", prompt}}})}}})}};
    if (!generation_config.is_null()) r["generationConfig"] = generation_config;
    return r;
}

/// A create body with one inlined request per prompt, keyed by position.
inline Json batch_body(const std::vector<std::string>& prompts, const Json& generation_config = nullptr,
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
inline Json call(GeminiEmulator& gemini, const HttpRequest& r, int expected_status = 200) {
    const HttpResponse response = gemini.send(r);
    CHECK(response.status == expected_status);
    CHECK(response.headers.get("Content-Type").value_or("").rfind("application/json", 0) == 0);
    return Json::parse(response.body);
}

inline std::string create(GeminiEmulator& gemini, const std::vector<std::string>& prompts,
                   const Json& generation_config = nullptr) {
    const Json op = call(gemini, request("POST", create_path, batch_body(prompts, generation_config).dump()));
    return op.at("name").get<std::string>();
}

inline Json get(GeminiEmulator& gemini, const std::string& name) { return call(gemini, request("GET", "/v1beta/" + name)); }

inline std::string answer_text(const Json& generate_content_response) {
    return generate_content_response.at("candidates").at(0).at("content").at("parts").at(0).at("text").get<std::string>();
}

inline Json items_of(const Json& op) { return op.at("response").at("inlinedResponses").at("inlinedResponses"); }

inline void check_google_error(const Json& body, int code, const std::string& status) {
    REQUIRE(body.contains("error"));
    CHECK(body["error"]["code"] == code);
    CHECK(body["error"]["status"] == status);
    CHECK(body["error"]["message"].is_string());
}

}  // namespace gemini_test
