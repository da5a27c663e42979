#include "llmbatch/testing/emulator/gemini_service.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "gemini_test_helpers.hpp"

namespace tests_testing_emulator_gemini_service {

using namespace gemini_test;

TEST_SUITE("testing") {
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
}

}  // namespace tests_testing_emulator_gemini_service
