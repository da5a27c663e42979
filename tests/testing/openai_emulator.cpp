#include "llmbatch/testing/openai_emulator.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "emulator/openai_test_helpers.hpp"

namespace tests_testing_openai_emulator {

using namespace openai_test;

TEST_SUITE("testing") {
    TEST_CASE("OpenAIEmulator runs a batch from validating through finalizing to completed") {
        ManualClock clock;
        OpenAIEmulator e(clock);
        const std::string file = upload(e, four_lines());
        Json b = create(e, file);
        const std::string id = b["id"];
        CHECK(id.rfind("batch_", 0) == 0);
        CHECK(b["object"] == "batch");
        CHECK(b["status"] == "validating");
        CHECK(b["endpoint"] == "/v1/chat/completions");
        CHECK(b["model"] == "gpt-4o-mini");
        CHECK(b["metadata"]["job"] == "nightly");
        CHECK(b["in_progress_at"].is_null());
        CHECK(b["expires_at"].get<std::int64_t>() - b["created_at"].get<std::int64_t>() == 24 * 3600);
        CHECK(b["request_counts"] == Json{{"total", 4}, {"completed", 0}, {"failed", 0}});

        clock.advance(20s);
        b = get(e, id);
        CHECK(b["status"] == "in_progress");
        CHECK(b["in_progress_at"].get<std::int64_t>() == b["created_at"].get<std::int64_t>() + 20);
        clock.advance(20s);  // halfway through the requests
        CHECK(get(e, id)["request_counts"]["completed"] == 2);
        clock.advance(20s);
        b = get(e, id);
        CHECK(b["status"] == "finalizing");
        CHECK(b["finalizing_at"].get<std::int64_t>() == b["created_at"].get<std::int64_t>() + 60);
        CHECK(b["output_file_id"].is_null());
        clock.advance(10s);
        b = get(e, id);
        CHECK(b["status"] == "completed");
        CHECK(b["completed_at"].get<std::int64_t>() == b["created_at"].get<std::int64_t>() + 70);
        CHECK(b["request_counts"] == Json{{"total", 4}, {"completed", 4}, {"failed", 0}});
        CHECK(b["error_file_id"].is_null());
        CHECK(b["usage"]["total_tokens"].get<int>() ==
              b["usage"]["input_tokens"].get<int>() + b["usage"]["output_tokens"].get<int>());
        CHECK(b["usage"]["output_tokens"].get<int>() > 0);

        const Json out = call(e, req("GET", "/v1/files/" + b["output_file_id"].get<std::string>()));
        CHECK(out["purpose"] == "batch_output");
        const auto lines = content_lines(e, b["output_file_id"]);
        REQUIRE(lines.size() == 4);
        CHECK(lines[0]["custom_id"] == "a");
        CHECK(lines[3]["custom_id"] == "d");
        CHECK(lines[0]["id"].get<std::string>().rfind("batch_req_", 0) == 0);
        CHECK(lines[0]["error"].is_null());
        CHECK(lines[0]["response"]["status_code"] == 200);
        CHECK(lines[0]["response"]["request_id"].get<std::string>().rfind("req_", 0) == 0);
        const Json& body = lines[0]["response"]["body"];
        CHECK(body["object"] == "chat.completion");
        CHECK(body["model"] == "gpt-4o-mini");
        CHECK(body["choices"][0]["message"]["content"].get<std::string>().find("STEM") != std::string::npos);
        CHECK(body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"].get<int>() + body["usage"]["completion_tokens"].get<int>());
        CHECK(out["bytes"].get<std::size_t>() == e.send(req("GET", "/v1/files/" + out["id"].get<std::string>() + "/content")).body.size());
        CHECK(call(e, req("POST", "/v1/batches/" + id + "/cancel"), 400)["error"]["type"] == "invalid_request_error");
    }

    TEST_CASE("OpenAIEmulator refuses bad input files after validating, naming code and line") {
        ManualClock clock;
        OpenAIEmulator e(clock);
        const std::string dup = upload(e, line("a", "x") + line("b", "y") + line("a", "z"));
        const std::string url = upload(e, line("a", "x") + line("b", "y", "gpt-4o-mini", "/v1/embeddings"));
        const std::string model = upload(e, line("a", "x") + line("b", "y", "gpt-4o"));
        const std::string bad_json = upload(e, line("a", "x") + "{not json\n");
        const std::string empty = upload(e, "");
        const Json b1 = create(e, dup);
        CHECK(b1["status"] == "validating");
        const Json b2 = create(e, url);
        const Json b3 = create(e, model);
        const Json b4 = create(e, bad_json);
        const Json b5 = create(e, empty);
        clock.advance(20s);
        const auto first_error = [&](const Json& b) {
            const Json now = get(e, b["id"]);
            CHECK(now["status"] == "failed");
            CHECK(now["failed_at"].get<std::int64_t>() == now["created_at"].get<std::int64_t>() + 20);
            CHECK(now["errors"]["object"] == "list");
            CHECK(now["output_file_id"].is_null());
            CHECK(now["error_file_id"].is_null());
            CHECK(now["in_progress_at"].is_null());
            return now["errors"]["data"][0];
        };
        Json err = first_error(b1);
        CHECK(err["code"] == "duplicate_custom_id");
        CHECK(err["line"] == 3);
        CHECK(err["param"] == "custom_id");
        err = first_error(b2);
        CHECK(err["code"] == "url_mismatch");
        CHECK(err["line"] == 2);
        err = first_error(b3);
        CHECK(err["code"] == "model_mismatch");
        CHECK(err["line"] == 2);
        CHECK(first_error(b4)["code"] == "invalid_json_line");
        err = first_error(b5);
        CHECK(err["code"] == "empty_file");
        CHECK(err["line"].is_null());

        // Refused before a job exists: unknown file, wrong window, no batch deletion.
        CHECK(create(e, "file-missing", 404)["error"]["message"].get<std::string>().find("file-missing") != std::string::npos);
        CHECK(call(e, req("POST", "/v1/batches",
                          Json{{"input_file_id", dup}, {"endpoint", "/v1/chat/completions"}, {"completion_window", "48h"}}.dump()),
                   400)["error"]["param"] == "completion_window");
        CHECK(call(e, req("DELETE", "/v1/batches/" + b1["id"].get<std::string>()), 404)["error"]["message"] ==
              "Invalid URL (DELETE /v1/batches/" + b1["id"].get<std::string>() + ")");
        CHECK(e.job_count() == 5);

        e.fail_next_job();
        const Json b6 = create(e, upload(e, line("a", "x")));
        clock.advance(20s);
        CHECK(first_error(b6)["code"] == "token_limit_exceeded");
    }

    TEST_CASE("OpenAIEmulator cancels through cancelling, keeping finished lines and error lines") {
        ManualClock clock;
        OpenAIEmulatorOptions o;
        o.cancelling_for = 5s;  // requests still finish while cancelling: keep it short
        OpenAIEmulator e(clock, o);
        e.inject_request_error(1, 400, "max_tokens is too large");
        const Json b = create(e, upload(e, four_lines()));
        const std::string id = b["id"];
        clock.advance(40s);  // requests 0 and 1 are done
        Json c = call(e, req("POST", "/v1/batches/" + id + "/cancel"));
        CHECK(c["status"] == "cancelling");
        CHECK(c["cancelling_at"].get<std::int64_t>() == c["created_at"].get<std::int64_t>() + 40);
        clock.advance(4s);
        CHECK(get(e, id)["status"] == "cancelling");
        clock.advance(1s);
        c = get(e, id);
        CHECK(c["status"] == "cancelled");
        CHECK(c["cancelled_at"].get<std::int64_t>() == c["created_at"].get<std::int64_t>() + 45);
        CHECK(c["request_counts"] == Json{{"total", 4}, {"completed", 1}, {"failed", 3}});
        const auto out = content_lines(e, c["output_file_id"]);
        REQUIRE(out.size() == 1);
        CHECK(out[0]["custom_id"] == "a");
        const auto errs = content_lines(e, c["error_file_id"]);
        REQUIRE(errs.size() == 3);
        CHECK(errs[0]["custom_id"] == "b");
        CHECK(errs[0]["response"]["status_code"] == 400);
        CHECK(errs[0]["error"].is_null());
        CHECK(errs[0]["response"]["body"]["error"]["message"] == "max_tokens is too large");
        CHECK(errs[0]["response"]["body"]["error"]["type"] == "invalid_request_error");
        CHECK(errs[1]["custom_id"] == "c");
        CHECK(errs[1]["response"].is_null());
        CHECK(errs[1]["error"]["code"] == "batch_cancelled");
        CHECK(errs[2]["error"]["code"] == "batch_cancelled");
    }

    TEST_CASE("OpenAIEmulator expires a job with partial, reversed results; all-failed jobs have no output file") {
        ManualClock clock;
        OpenAIEmulator e(clock);
        e.set_out_of_order(true);
        const Json b = create(e, upload(e, four_lines()));
        clock.advance(50s);  // three requests done
        e.expire_job(b["id"]);
        const Json x = get(e, b["id"]);
        CHECK(x["status"] == "expired");
        CHECK(!x["expired_at"].is_null());
        const auto out = content_lines(e, x["output_file_id"]);
        REQUIRE(out.size() == 3);
        CHECK(out[0]["custom_id"] == "c");
        CHECK(out[2]["custom_id"] == "a");
        const auto errs = content_lines(e, x["error_file_id"]);
        REQUIRE(errs.size() == 1);
        CHECK(errs[0]["custom_id"] == "d");
        CHECK(errs[0]["error"]["code"] == "batch_expired");
        CHECK_THROWS_AS(e.expire_job(b["id"]), std::logic_error);

        e.set_out_of_order(false);
        for (std::size_t i = 0; i < 2; ++i) e.inject_request_error(i, 429, "Too many tokens", "rate_limit_error");
        const Json f = create(e, upload(e, line("a", "x") + line("b", "y")));
        clock.advance(2h);
        const Json done = get(e, f["id"]);
        CHECK(done["status"] == "completed");
        CHECK(done["output_file_id"].is_null());
        CHECK(done["request_counts"]["failed"] == 2);
        const auto lines = content_lines(e, done["error_file_id"]);
        REQUIRE(lines.size() == 2);
        CHECK(lines[1]["response"]["status_code"] == 429);
    }

    TEST_CASE("OpenAIEmulator lists batches newest first with limit and after") {
        ManualClock clock;
        OpenAIEmulator e(clock);
        const std::string file = upload(e, line("a", "x"));
        std::vector<std::string> ids;
        for (int i = 0; i < 5; ++i) ids.push_back(create(e, file)["id"]);
        Json page = call(e, req("GET", "/v1/batches?limit=2"));
        CHECK(page["object"] == "list");
        REQUIRE(page["data"].size() == 2);
        CHECK(page["data"][0]["id"] == ids[4]);
        CHECK(page["first_id"] == ids[4]);
        CHECK(page["last_id"] == ids[3]);
        CHECK(page["has_more"] == true);
        page = call(e, req("GET", "/v1/batches?limit=2&after=" + ids[3]));
        CHECK(page["data"][0]["id"] == ids[2]);
        page = call(e, req("GET", "/v1/batches?limit=2&after=" + ids[1]));
        REQUIRE(page["data"].size() == 1);
        CHECK(page["data"][0]["id"] == ids[0]);
        CHECK(page["has_more"] == false);
        CHECK(call(e, req("GET", "/v1/batches?limit=0"), 400)["error"]["param"] == "limit");
    }

    TEST_CASE("OpenAIEmulator answers auth, quota and rate-limit errors in OpenAI's shape") {
        ManualClock clock;
        OpenAIEmulatorOptions o;
        o.required_api_key = "sk-right";
        OpenAIEmulator e(clock, o);
        Json err = call(e, req("GET", "/v1/batches", {}, std::nullopt), 401)["error"];
        CHECK(err["type"] == "invalid_request_error");
        CHECK(err["code"].is_null());
        err = call(e, req("GET", "/v1/batches", {}, "sk-wrong-key-1234"), 401)["error"];
        CHECK(err["code"] == "invalid_api_key");
        CHECK(err["param"].is_null());
        CHECK(err["message"].get<std::string>().find("sk-wrong-key-1234") == std::string::npos);

        e.inject_http_errors(1, 429, "insufficient_quota", {}, "3");
        const HttpResponse quota = e.send(req("GET", "/v1/batches", {}, "sk-right"));
        CHECK(quota.status == 429);
        CHECK(quota.headers.get("Retry-After") == "3");
        CHECK(quota.headers.get("x-request-id").value_or("").rfind("req_", 0) == 0);
        err = Json::parse(quota.body)["error"];
        CHECK(err["type"] == "insufficient_quota");
        CHECK(err["code"] == "insufficient_quota");
        e.inject_http_errors(1, 429);
        CHECK(call(e, req("GET", "/v1/batches", {}, "sk-right"), 429)["error"]["code"] == "rate_limit_exceeded");
        e.inject_http_errors(1, 503);
        CHECK(call(e, req("GET", "/v1/batches", {}, "sk-right"), 503)["error"]["type"] == "server_error");
        CHECK(call(e, req("GET", "/v1/batches", {}, "sk-right"))["data"].empty());
        CHECK(e.call_count() == 6);
    }

    TEST_CASE("OpenAIEmulator's Uploads API joins parts in the order given") {
        ManualClock clock;
        OpenAIEmulator e(clock);
        const std::string first = line("a", "x");
        const std::string second = line("b", "y");
        Json up = call(e, req("POST", "/v1/uploads",
                              Json{{"filename", "big.jsonl"}, {"purpose", "batch"}, {"bytes", first.size() + second.size()},
                                   {"mime_type", "text/jsonl"}}.dump()));
        CHECK(up["object"] == "upload");
        CHECK(up["status"] == "pending");
        CHECK(up["expires_at"].get<std::int64_t>() - up["created_at"].get<std::int64_t>() == 3600);
        const std::string uid = up["id"];
        CHECK(uid.rfind("upload_", 0) == 0);
        const auto part = [&](const std::string& bytes) {
            std::string type;
            HttpRequest r = req("POST", "/v1/uploads/" + uid + "/parts",
                                llmbatch::testing::build_multipart({}, "data", "blob", bytes, type));
            r.headers.set("Content-Type", type);
            const Json p = call(e, r);
            CHECK(p["object"] == "upload.part");
            CHECK(p["upload_id"] == uid);
            return p["id"].get<std::string>();
        };
        const std::string p2 = part(second);
        const std::string p1 = part(first);
        CHECK(call(e, req("POST", "/v1/uploads/" + uid + "/complete", Json{{"part_ids", {p1}}}.dump()), 400)["error"]["param"] ==
              "part_ids");
        up = call(e, req("POST", "/v1/uploads/" + uid + "/complete", Json{{"part_ids", {p1, p2}}}.dump()));
        CHECK(up["status"] == "completed");
        CHECK(up["file"]["purpose"] == "batch");
        CHECK(e.send(req("GET", "/v1/files/" + up["file"]["id"].get<std::string>() + "/content")).body == first + second);
        CHECK(e.requests()[e.requests().size() - 2].body.find("\"part_ids\"") != std::string::npos);
        CHECK(e.requests()[2].body.empty());  // a part's bytes are not logged
        const Json b = create(e, up["file"]["id"]);
        CHECK(b["request_counts"]["total"] == 2);

        const Json other = call(e, req("POST", "/v1/uploads",
                                       Json{{"filename", "x"}, {"purpose", "batch"}, {"bytes", 1}, {"mime_type", "text/plain"}}.dump()));
        CHECK(call(e, req("POST", "/v1/uploads/" + other["id"].get<std::string>() + "/cancel"))["status"] == "cancelled");
        CHECK(call(e, req("POST", "/v1/uploads/" + other["id"].get<std::string>() + "/cancel"), 400)["error"]["type"] ==
              "invalid_request_error");
    }

    TEST_CASE("OpenAIEmulator keeps jobs and files through to_json and restore, and streams in chunks") {
        ManualClock clock;
        OpenAIEmulator e(clock);
        const std::string file = upload(e, four_lines());
        const std::string id = create(e, file)["id"];
        const Json saved = e.to_json();

        ManualClock later;
        OpenAIEmulator copy = OpenAIEmulator::from_json(saved, later);
        CHECK(copy.job_count() == 1);
        CHECK(get(copy, id)["status"] == "validating");
        later.advance(2h);
        const Json done = get(copy, id);
        CHECK(done["status"] == "completed");
        clock.advance(2h);
        const auto mine = content_lines(e, get(e, id)["output_file_id"]);
        const auto theirs = content_lines(copy, done["output_file_id"]);
        CHECK(mine == theirs);

        const Json settled = copy.to_json();
        OpenAIEmulator third = OpenAIEmulator::from_json(settled, later);
        CHECK(get(third, id)["output_file_id"] == done["output_file_id"]);
        CHECK(content_lines(third, done["output_file_id"]) == theirs);
        CHECK_THROWS_AS(third.restore(Json{{"format", "llmbatch.gemini-emulator"}, {"version", 1}}), std::invalid_argument);
        CHECK(third.job_count() == 1);

        third.set_chunk_size(7);
        std::string joined;
        std::size_t pieces = 0;
        const auto head = third.send(req("GET", "/v1/files/" + done["output_file_id"].get<std::string>() + "/content"),
                                     [&](const HttpResponse& h, std::string_view chunk) {
                                         CHECK(h.status == 200);
                                         CHECK(chunk.size() <= 7);
                                         joined.append(chunk);
                                         ++pieces;
                                     });
        CHECK(head.status == 200);
        CHECK(pieces > 10);
        CHECK(joined == third.send(req("GET", "/v1/files/" + done["output_file_id"].get<std::string>() + "/content")).body);
        CHECK(call(third, req("DELETE", "/v1/files/" + file)) == Json{{"id", file}, {"object", "file"}, {"deleted", true}});
        CHECK(call(third, req("GET", "/v1/files/" + file), 404)["error"]["param"] == "id");
    }

    TEST_CASE("OpenAIEmulator answers a chat completion and honours a responder") {
        ManualClock clock;
        OpenAIEmulator e(clock);
        const Json body = {{"model", "gpt-4o-mini"},
                           {"response_format", {{"type", "json_object"}}},
                           {"messages", Json::array({{{"role", "user"}, {"content", "Biology GCSE"}}})}};
        Json c = call(e, req("POST", "/v1/chat/completions", body.dump()));
        CHECK(c["object"] == "chat.completion");
        CHECK(Json::parse(c["choices"][0]["message"]["content"].get<std::string>())["category"] == "STEM");
        e.set_responder([](const Json& r) { return "echo:" + r["messages"][0]["content"].get<std::string>(); });
        c = call(e, req("POST", "/v1/chat/completions", body.dump()));
        CHECK(c["choices"][0]["message"]["content"] == "echo:Biology GCSE");
        CHECK(call(e, req("POST", "/v1/chat/completions", Json{{"model", "m"}}.dump()), 400)["error"]["param"] == "messages");
    }

}

}  // namespace tests_testing_openai_emulator
