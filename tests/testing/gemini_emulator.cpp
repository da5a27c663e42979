#include "llmbatch/testing/gemini_emulator.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "emulator/gemini_test_helpers.hpp"

namespace tests_testing_gemini_emulator {

using namespace gemini_test;

namespace {

/// A state written by the Gemini emulator before the emulator core: a job cancelled at 40 s and
/// two pending injections.
const char* const state_before_core =
    R"({"format":"llmbatch.gemini-emulator","injections":{"echoMetadata":true,"httpErrors":[{"httpStatus":503,"messag)"
    R"(e":"down","remaining":1,"retryAfter":"4","status":"UNAVAILABLE"}],"omitResults":[],"outOfOrder":false,"request)"
    R"(Errors":[{"code":3,"index":0,"message":"bad"}]},"jobs":[{"createTime":"2026-01-01T00:00:00.000000000Z","displa)"
    R"(yName":"old","echoMetadata":true,"end":{"error":{"code":1,"message":"The batch was cancelled."},"state":"BATCH)"
    R"(_STATE_CANCELLED","time":"2026-01-01T00:00:40.000000000Z"},"expireAfterNs":172800000000000,"items":[{"metadata)"
    R"(":{"key":"0"},"response":{"candidates":[{"content":{"parts":[{"text":"Here is the categorisation:\n```json\n{\)"
    R"("category\": \"STEM\", \"confidence\": 90}\n```\nLet me know if you need more."}],"role":"model"},"finishReaso)"
    R"(n":"STOP","index":0}],"modelVersion":"gemini-2.5-flash","responseId":"IDk7kHeSXfq1kajUrF-s0So","usageMetadata")"
    R"(:{"candidatesTokenCount":27,"promptTokenCount":2,"promptTokensDetails":[{"modality":"TEXT","tokenCount":2}],"t)"
    R"(otalTokenCount":29}}},{"metadata":{"key":"1"},"response":{"candidates":[{"content":{"parts":[{"text":"Here is )"
    R"(the categorisation:\n```json\n{\"category\": \"Arts\", \"confidence\": 50}\n```\nLet me know if you need more.)"
    R"("}],"role":"model"},"finishReason":"STOP","index":0}],"modelVersion":"gemini-2.5-flash","responseId":"KECXVHfz)"
    R"(TrjF0ZOM1U3-WeC","usageMetadata":{"candidatesTokenCount":27,"promptTokenCount":2,"promptTokensDetails":[{"moda)"
    R"(lity":"TEXT","tokenCount":2}],"totalTokenCount":29}}},{"metadata":{"key":"2"},"response":{"candidates":[{"cont)"
    R"(ent":{"parts":[{"text":"Here is the categorisation:\n```json\n{\"category\": \"Arts\", \"confidence\": 92}\n``)"
    R"(`\nLet me know if you need more."}],"role":"model"},"finishReason":"STOP","index":0}],"modelVersion":"gemini-2)"
    R"(.5-flash","responseId":"oG1iA50I-jLRzy3v9cNBz0-","usageMetadata":{"candidatesTokenCount":27,"promptTokenCount")"
    R"(:1,"promptTokensDetails":[{"modality":"TEXT","tokenCount":1}],"totalTokenCount":28}}},{"metadata":{"key":"3"},)"
    R"("response":{"candidates":[{"content":{"parts":[{"text":"Here is the categorisation:\n```json\n{\"category\": \)"
    R"("General\", \"confidence\": 71}\n```\nLet me know if you need more."}],"role":"model"},"finishReason":"STOP",")"
    R"(index":0}],"modelVersion":"gemini-2.5-flash","responseId":"poI5kEjsHbyyXATX36kJ6p4","usageMetadata":{"candidat)"
    R"(esTokenCount":28,"promptTokenCount":1,"promptTokensDetails":[{"modality":"TEXT","tokenCount":1}],"totalTokenCo)"
    R"(unt":29}}}],"model":"models/gemini-2.5-flash","name":"batches/5xyi43htvhbxwlb9iji7u9o7z8znnxcwaru1","outOfOrde)"
    R"(r":false,"pendingForNs":20000000000,"priority":0,"runningForNs":40000000000,"sequence":1}],"nextSequence":2,"v)"
    R"(ersion":1})";

/// The Operation that emulator answered for the job.
const char* const operation_before_core =
    R"({"done":true,"error":{"code":1,"message":"The batch was cancelled."},"metadata":{"@type":"type.googleapis.com/)"
    R"(google.ai.generativelanguage.v1main.GenerateContentBatch","batchStats":{"pendingRequestCount":"2","requestCoun)"
    R"(t":"4","successfulRequestCount":"2"},"createTime":"2026-01-01T00:00:00.000000000Z","displayName":"old","endTim)"
    R"(e":"2026-01-01T00:00:40.000000000Z","model":"models/gemini-2.5-flash","name":"batches/5xyi43htvhbxwlb9iji7u9o7)"
    R"(z8znnxcwaru1","state":"BATCH_STATE_CANCELLED","updateTime":"2026-01-01T00:00:40.000000000Z"},"name":"batches/5)"
    R"(xyi43htvhbxwlb9iji7u9o7z8znnxcwaru1"})";

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

TEST_CASE("emulator: a state written before the emulator core still loads and answers the same") {
    ManualClock clock(ManualClock::default_utc_start() + 5min);
    GeminiEmulator gemini = GeminiEmulator::from_json(Json::parse(state_before_core), clock);
    const std::string name = "batches/5xyi43htvhbxwlb9iji7u9o7z8znnxcwaru1";
    CHECK(gemini.job_names() == std::vector<std::string>{name});
    const HttpResponse unavailable = gemini.send(request("GET", "/v1beta/" + name));  // the pending 503
    CHECK(unavailable.status == 503);
    CHECK(unavailable.headers.get("Retry-After") == std::optional<std::string>("4"));
    CHECK(get(gemini, name) == Json::parse(operation_before_core));
    const std::string next = create(gemini, {"a"});  // the pending request error came along too
    clock.advance(1min);
    CHECK(items_of(get(gemini, next))[0]["error"]["code"] == 3);
}

}

}  // namespace tests_testing_gemini_emulator
