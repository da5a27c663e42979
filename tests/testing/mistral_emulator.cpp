#include "llmbatch/testing/mistral_emulator.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace tests_testing_mistral_emulator {

using namespace std::chrono_literals;
using llmbatch::HttpRequest;
using llmbatch::HttpResponse;
using llmbatch::Json;
using llmbatch::testing::ManualClock;
using llmbatch::testing::MistralEmulator;
using llmbatch::testing::MistralEmulatorOptions;

namespace {

const std::string host = "https://api.mistral.ai";
const std::regex uuid_shape("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}");

HttpRequest req(std::string method, const std::string& path, std::string body = {}, std::optional<std::string> key = "mk") {
    HttpRequest r{std::move(method), host + path, {}, std::move(body)};
    if (key) r.headers.set("Authorization", "Bearer " + *key);
    if (!r.body.empty()) r.headers.set("Content-Type", "application/json");
    return r;
}

Json call(MistralEmulator& e, const HttpRequest& r, int status = 200) {
    const HttpResponse res = e.send(r);
    CHECK(res.status == status);
    return Json::parse(res.body);
}

Json request_body(const std::string& prompt) {
    return {{"max_tokens", 50}, {"messages", Json::array({{{"role", "user"}, {"content", prompt}}})}};
}

std::string jsonl(const std::vector<std::string>& prompts) {
    std::string out;
    for (std::size_t i = 0; i < prompts.size(); ++i)
        out += Json{{"custom_id", std::to_string(i)}, {"body", request_body(prompts[i])}}.dump() + "\n";
    return out;
}

/// Uploads as the Mistral SDK does: `file`, `purpose=batch`, `visibility=workspace`.
Json upload(MistralEmulator& e, const std::string& bytes) {
    std::string type;
    const std::string form = llmbatch::testing::build_multipart({{"purpose", "batch"}, {"visibility", "workspace"}}, "file",
                                                                "batch.jsonl", bytes, type);
    HttpRequest r = req("POST", "/v1/files", form);
    r.headers.set("Content-Type", type);
    return call(e, r);
}

Json create_from_file(MistralEmulator& e, const std::string& file_id, int hours = 24) {
    return call(e, req("POST", "/v1/batch/jobs",
                       Json{{"input_files", {file_id}}, {"endpoint", "/v1/chat/completions"}, {"model", "mistral-small-latest"},
                            {"metadata", {{"job", "nightly"}}}, {"timeout_hours", hours}}.dump()));
}

Json create_inline(MistralEmulator& e, const std::vector<std::string>& prompts) {
    Json requests = Json::array();
    for (std::size_t i = 0; i < prompts.size(); ++i)
        requests.push_back({{"custom_id", std::to_string(i)}, {"body", request_body(prompts[i])}});
    return call(e, req("POST", "/v1/batch/jobs",
                       Json{{"requests", requests}, {"endpoint", "/v1/chat/completions"}, {"model", "mistral-small-latest"},
                            {"timeout_hours", 24}}.dump()));
}

Json get(MistralEmulator& e, const Json& id, const std::string& query = {}) {
    return call(e, req("GET", "/v1/batch/jobs/" + id.get<std::string>() + query));
}

std::vector<Json> lines_of(MistralEmulator& e, const Json& file_id) {
    REQUIRE(file_id.is_string());
    const std::string body = e.send(req("GET", "/v1/files/" + file_id.get<std::string>() + "/content")).body;
    std::vector<Json> out;
    for (std::size_t at = 0; at < body.size();) {
        const auto nl = body.find('\n', at);
        out.push_back(Json::parse(body.substr(at, nl - at)));
        at = nl + 1;
    }
    return out;
}

}  // namespace

TEST_SUITE("testing") {
    TEST_CASE("MistralEmulator runs a file-input job from QUEUED through RUNNING to SUCCESS") {
        ManualClock clock;
        MistralEmulator e(clock);
        const Json f = upload(e, jsonl({"Physics", "French", "Art"}));
        CHECK(std::regex_match(f["id"].get<std::string>(), uuid_shape));
        CHECK(f["object"] == "file");
        CHECK(f["purpose"] == "batch");
        CHECK(f["sample_type"] == "batch_request");
        CHECK(f["source"] == "upload");
        CHECK(f["num_lines"] == 3);
        CHECK(f["filename"] == "batch.jsonl");
        CHECK(e.requests().front().body.empty());  // uploaded bytes are not logged

        Json job = create_from_file(e, f["id"]);
        CHECK(std::regex_match(job["id"].get<std::string>(), uuid_shape));
        CHECK(job["object"] == "batch");
        CHECK(job["status"] == "QUEUED");
        CHECK(job["input_files"] == Json::array({f["id"]}));
        CHECK(job["model"] == "mistral-small-latest");
        CHECK(job["metadata"]["job"] == "nightly");
        CHECK(job["errors"].empty());
        CHECK(job["total_requests"] == 3);
        CHECK(job["started_at"].is_null());
        clock.advance(20s);
        job = get(e, job["id"]);
        CHECK(job["status"] == "RUNNING");
        CHECK(job["started_at"].get<std::int64_t>() == job["created_at"].get<std::int64_t>() + 20);
        clock.advance(30s);
        CHECK(get(e, job["id"])["completed_requests"] == 2);
        clock.advance(10s);
        job = get(e, job["id"]);
        CHECK(job["status"] == "SUCCESS");
        CHECK(job["completed_at"].get<std::int64_t>() == job["created_at"].get<std::int64_t>() + 60);
        CHECK(job["succeeded_requests"] == 3);
        CHECK(job["failed_requests"] == 0);
        CHECK(job["error_file"].is_null());
        CHECK_FALSE(job.contains("outputs"));
        const auto lines = lines_of(e, job["output_file"]);
        REQUIRE(lines.size() == 3);
        CHECK(lines[0]["custom_id"] == "0");
        CHECK(lines[0]["error"].is_null());
        CHECK(lines[0]["response"]["status_code"] == 200);
        const Json& body = lines[0]["response"]["body"];
        CHECK(body["object"] == "chat.completion");
        CHECK(body["model"] == "mistral-small-latest");
        CHECK(body["choices"][0]["message"]["content"].get<std::string>().find("STEM") != std::string::npos);
        CHECK(body["usage"]["total_tokens"].get<int>() > 0);
        const Json out = call(e, req("GET", "/v1/files/" + job["output_file"].get<std::string>()));
        CHECK(out["sample_type"] == "batch_result");
        CHECK(out["source"] == "mistral");
        CHECK(out["num_lines"] == 3);
        CHECK(call(e, req("POST", "/v1/batch/jobs/" + job["id"].get<std::string>() + "/cancel"), 400)["object"] == "error");
    }

    TEST_CASE("MistralEmulator runs inline requests, writes HTTP errors to the error file and shows outputs inline") {
        ManualClock clock;
        MistralEmulator e(clock);
        e.inject_request_error(1, 400, "Prompt contains 900 tokens, too large.");
        Json job = create_inline(e, {"Physics", "French"});
        CHECK(job["input_files"].empty());
        clock.advance(1h);
        job = get(e, job["id"]);
        CHECK(job["status"] == "SUCCESS");
        CHECK(job["succeeded_requests"] == 1);
        CHECK(job["failed_requests"] == 1);
        const auto errors = lines_of(e, job["error_file"]);
        REQUIRE(errors.size() == 1);
        CHECK(errors[0]["custom_id"] == "1");
        CHECK(errors[0]["response"]["status_code"] == 400);
        CHECK(errors[0]["response"]["body"]["message"] == "Prompt contains 900 tokens, too large.");
        CHECK(lines_of(e, job["output_file"]).size() == 1);
        const Json with = get(e, job["id"], "?inline=true");
        REQUIRE(with["outputs"].size() == 2);
        CHECK(with["outputs"][1]["response"]["status_code"] == 400);
    }

    TEST_CASE("MistralEmulator cancels and times out jobs, keeping finished lines") {
        ManualClock clock;
        MistralEmulator e(clock);
        Json job = create_inline(e, {"a", "b", "c", "d"});
        clock.advance(40s);  // two requests done
        Json c = call(e, req("POST", "/v1/batch/jobs/" + job["id"].get<std::string>() + "/cancel"));
        CHECK(c["status"] == "CANCELLATION_REQUESTED");
        clock.advance(5s);
        c = get(e, job["id"]);
        CHECK(c["status"] == "CANCELLED");
        CHECK(c["completed_requests"] == 2);
        CHECK(lines_of(e, c["output_file"]).size() == 2);
        const auto cancelled = lines_of(e, c["error_file"]);
        REQUIRE(cancelled.size() == 2);
        CHECK(cancelled[0]["error"]["code"] == "batch_cancelled");
        CHECK(cancelled[0]["response"].is_null());

        e.set_out_of_order(true);
        job = create_inline(e, {"a", "b", "c", "d"});
        clock.advance(50s);
        e.expire_job(job["id"]);
        job = get(e, job["id"]);
        CHECK(job["status"] == "TIMEOUT_EXCEEDED");
        const auto kept = lines_of(e, job["output_file"]);
        REQUIRE(kept.size() == 3);
        CHECK(kept[0]["custom_id"] == "2");
        CHECK(lines_of(e, job["error_file"])[0]["error"]["code"] == "batch_expired");

        MistralEmulatorOptions slow;
        slow.running_for = 2h;
        MistralEmulator s(clock, slow);
        const Json f = upload(s, jsonl({"a", "b"}));
        const Json one_hour = create_from_file(s, f["id"], 1);
        clock.advance(1h);
        CHECK(get(s, one_hour["id"])["status"] == "TIMEOUT_EXCEEDED");
    }

    TEST_CASE("MistralEmulator fails jobs with bad lines or on request, with errors [{message, count}]") {
        ManualClock clock;
        MistralEmulator e(clock);
        const Json f = upload(e, jsonl({"a"}) + "{broken\n" + Json{{"custom_id", "x"}}.dump() + "\n");
        Json job = create_from_file(e, f["id"]);
        CHECK(job["status"] == "QUEUED");
        clock.advance(20s);
        job = get(e, job["id"]);
        CHECK(job["status"] == "FAILED");
        REQUIRE(job["errors"].size() == 1);
        CHECK(job["errors"][0]["count"] == 2);
        CHECK(job["errors"][0]["message"].get<std::string>().find("line 2") != std::string::npos);
        CHECK(job["output_file"].is_null());

        e.fail_next_job("GPU on fire.");
        job = create_inline(e, {"a"});
        clock.advance(1h);
        job = get(e, job["id"]);
        CHECK(job["status"] == "FAILED");
        CHECK(job["errors"] == Json::array({{{"message", "GPU on fire."}, {"count", 1}}}));

        e.inject_request_error(0, 500, "boom", "internal_server_error");
        job = create_inline(e, {"a"});
        clock.advance(1h);
        job = get(e, job["id"]);
        CHECK(job["status"] == "SUCCESS");
        CHECK(job["output_file"].is_null());
        CHECK(lines_of(e, job["error_file"])[0]["response"]["status_code"] == 500);

        CHECK(call(e, req("POST", "/v1/batch/jobs", Json{{"input_files", {"nope"}}, {"endpoint", "/v1/chat/completions"},
                                                         {"model", "m"}}.dump()), 404)["object"] == "error");
        CHECK(call(e, req("POST", "/v1/batch/jobs", Json{{"endpoint", "/v1/chat/completions"}, {"model", "m"}}.dump()),
                   400)["type"] == "invalid_request_error");
        const Json invalid = call(e, req("POST", "/v1/batch/jobs", Json{{"requests", Json::array()}, {"model", "m"}}.dump()), 422);
        CHECK(invalid["detail"][0]["loc"] == Json::array({"body", "endpoint"}));
        CHECK(invalid["detail"][0]["type"] == "missing");
        CHECK(call(e, req("POST", "/v1/batch/jobs", Json{{"requests", Json::array()}, {"endpoint", "/v1/chat/completions"},
                                                         {"model", "m"}, {"timeout_hours", "24"}}.dump()),
                   422)["detail"][0]["loc"][1] == "timeout_hours");
    }

    TEST_CASE("MistralEmulator lists by page with status filters and deletes jobs") {
        ManualClock clock;
        MistralEmulator e(clock);
        std::vector<std::string> ids;
        for (int i = 0; i < 5; ++i) ids.push_back(create_inline(e, {"x"})["id"]);
        e.cancel_job(ids[0]);
        Json page = call(e, req("GET", "/v1/batch/jobs?page=0&page_size=2&created_by_me=false&order_by=-created"));
        CHECK(page["object"] == "list");
        CHECK(page["total"] == 5);
        REQUIRE(page["data"].size() == 2);
        CHECK(page["data"][0]["id"] == ids[4]);
        page = call(e, req("GET", "/v1/batch/jobs?page=2&page_size=2"));
        REQUIRE(page["data"].size() == 1);
        CHECK(page["data"][0]["id"] == ids[0]);
        page = call(e, req("GET", "/v1/batch/jobs?status=CANCELLATION_REQUESTED&status=SUCCESS"));
        CHECK(page["total"] == 1);
        CHECK(page["data"][0]["id"] == ids[0]);

        CHECK(call(e, req("DELETE", "/v1/batch/jobs/" + ids[2])) == Json{{"id", ids[2]}, {"object", "batch"}, {"deleted", true}});
        CHECK(e.job_count() == 4);
        CHECK(call(e, req("GET", "/v1/batch/jobs/" + ids[2]), 404)["message"].get<std::string>().find(ids[2]) != std::string::npos);
    }

    TEST_CASE("MistralEmulator answers auth and rate-limit errors, keeps state and streams files in chunks") {
        ManualClock clock;
        MistralEmulatorOptions o;
        o.required_api_key = "mk";
        MistralEmulator e(clock, o);
        CHECK(call(e, req("GET", "/v1/batch/jobs", {}, std::nullopt), 401)["message"] == "Unauthorized");
        CHECK(call(e, req("GET", "/v1/batch/jobs", {}, "other"), 401)["message"] == "Unauthorized");
        e.inject_http_errors(1, 429, {}, {}, "2");
        const HttpResponse limited = e.send(req("GET", "/v1/batch/jobs"));
        CHECK(limited.status == 429);
        CHECK(limited.headers.get("Retry-After") == "2");
        CHECK(Json::parse(limited.body)["type"] == "rate_limited");

        const Json f = upload(e, jsonl({"Physics", "French", "History", "Music"}));
        const Json job = create_from_file(e, f["id"]);
        MistralEmulator copy = MistralEmulator::from_json(e.to_json(), clock, o);
        clock.advance(1h);
        const Json done = get(copy, job["id"]);
        CHECK(done["status"] == "SUCCESS");
        CHECK(lines_of(copy, done["output_file"]) == lines_of(e, get(e, job["id"])["output_file"]));
        CHECK_THROWS_AS(copy.restore(Json{{"format", "llmbatch.openai-emulator"}, {"version", 1}}), std::invalid_argument);

        copy.set_chunk_size(5);
        std::string joined;
        (void)copy.send(req("GET", "/v1/files/" + done["output_file"].get<std::string>() + "/content"),
                        [&](const HttpResponse&, std::string_view chunk) {
                            CHECK(chunk.size() <= 5);
                            joined.append(chunk);
                        });
        CHECK(joined == copy.send(req("GET", "/v1/files/" + done["output_file"].get<std::string>() + "/content")).body);
        CHECK(call(copy, req("DELETE", "/v1/files/" + f["id"].get<std::string>()))["deleted"] == true);
        CHECK(copy.file_count() == 1);

        const Json chat = call(copy, req("POST", "/v1/chat/completions",
                                          Json{{"model", "mistral-small-latest"}, {"messages", request_body("Biology")["messages"]}}.dump()));
        CHECK(chat["object"] == "chat.completion");
        CHECK(chat["choices"][0]["message"]["tool_calls"].is_null());
        CHECK_FALSE(chat["choices"][0]["message"].contains("refusal"));
    }
}

}  // namespace tests_testing_mistral_emulator
