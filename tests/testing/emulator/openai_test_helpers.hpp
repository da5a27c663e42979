#pragma once
// Helpers shared by the OpenAI emulator's tests: requests with a bearer key, calls that check the
// status, the SDK's multipart upload, batch creation and the reading of a JSONL file.

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "llmbatch/testing/openai_emulator.hpp"

namespace openai_test {

using namespace std::chrono_literals;
using llmbatch::HttpRequest;
using llmbatch::HttpResponse;
using llmbatch::Json;
using llmbatch::testing::ManualClock;
using llmbatch::testing::OpenAIEmulator;
using llmbatch::testing::OpenAIEmulatorOptions;

inline const std::string host = "https://api.openai.com";

inline HttpRequest req(std::string method, const std::string& path, std::string body = {}, std::optional<std::string> key = "sk-test") {
    HttpRequest r{std::move(method), host + path, {}, std::move(body)};
    if (key) r.headers.set("Authorization", "Bearer " + *key);
    if (!r.body.empty()) r.headers.set("Content-Type", "application/json");
    return r;
}

inline Json call(OpenAIEmulator& e, const HttpRequest& r, int status = 200) {
    const HttpResponse res = e.send(r);
    CHECK(res.status == status);
    return Json::parse(res.body);
}

inline std::string line(const std::string& id, const std::string& prompt, const std::string& model = "gpt-4o-mini",
                 const std::string& url = "/v1/chat/completions") {
    return Json{{"custom_id", id}, {"method", "POST"}, {"url", url},
                {"body", {{"model", model}, {"messages", Json::array({{{"role", "user"}, {"content", prompt}}})}}}}
               .dump() + "\n";
}

inline std::string four_lines() { return line("a", "Physics") + line("b", "French") + line("c", "History") + line("d", "Music"); }

/// Uploads `jsonl` as the OpenAI SDK does (multipart `file` then `purpose`) and returns the file id.
inline std::string upload(OpenAIEmulator& e, const std::string& jsonl) {
    std::string type;
    const std::string form = llmbatch::testing::build_multipart({{"purpose", "batch"}}, "file", "in.jsonl", jsonl, type);
    HttpRequest r = req("POST", "/v1/files", form);
    r.headers.set("Content-Type", type);
    const Json f = call(e, r);
    CHECK(f["object"] == "file");
    CHECK(f["purpose"] == "batch");
    CHECK(f["status"] == "processed");
    CHECK(f["bytes"] == jsonl.size());
    CHECK(f["filename"] == "in.jsonl");
    CHECK(f["status_details"].is_null());
    CHECK(f["expires_at"].get<std::int64_t>() - f["created_at"].get<std::int64_t>() == 30 * 24 * 3600);
    return f["id"].get<std::string>();
}

inline Json create(OpenAIEmulator& e, const std::string& file_id, int status = 200) {
    return call(e, req("POST", "/v1/batches",
                       Json{{"input_file_id", file_id}, {"endpoint", "/v1/chat/completions"}, {"completion_window", "24h"},
                            {"metadata", {{"job", "nightly"}}}}.dump()),
                status);
}

inline Json get(OpenAIEmulator& e, const std::string& id) { return call(e, req("GET", "/v1/batches/" + id)); }

inline std::vector<Json> content_lines(OpenAIEmulator& e, const Json& file_id) {
    REQUIRE(file_id.is_string());
    const HttpResponse res = e.send(req("GET", "/v1/files/" + file_id.get<std::string>() + "/content"));
    REQUIRE(res.status == 200);
    std::vector<Json> out;
    for (std::size_t at = 0; at < res.body.size();) {
        const auto nl = res.body.find('\n', at);
        out.push_back(Json::parse(res.body.substr(at, nl - at)));
        at = nl + 1;
    }
    return out;
}


}  // namespace openai_test
