#include "llmbatch/testing/emulator/openai_service.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "openai_test_helpers.hpp"

namespace tests_testing_emulator_openai_service {

using namespace openai_test;

TEST_SUITE("testing") {
    TEST_CASE("OpenAIEmulator with a file directory keeps uploads and results on disk, not in its state") {
        const auto dir = std::filesystem::temp_directory_path() / "llmbatch-openai-emulator-test";
        std::filesystem::remove_all(dir);
        ManualClock clock;
        OpenAIEmulatorOptions o;
        o.file_directory = dir;
        OpenAIEmulator e(clock, o);
        const std::string file = upload(e, four_lines());
        CHECK(std::filesystem::file_size(dir / file) == four_lines().size());
        const std::string id = create(e, file)["id"];
        clock.advance(2h);
        const Json done = get(e, id);
        const std::string out = done["output_file_id"];
        CHECK(std::filesystem::exists(dir / out));
        CHECK(content_lines(e, done["output_file_id"]).size() == 4);
        const Json saved = e.to_json();
        for (const auto& f : saved["files"]["files"]) CHECK_FALSE(f.contains("bytes"));
        OpenAIEmulator again = OpenAIEmulator::from_json(saved, clock, o);
        CHECK(content_lines(again, done["output_file_id"]).size() == 4);
        std::filesystem::remove_all(dir);
    }

    TEST_CASE("OpenAIEmulator expires an unfinished batch at the end of its 24 h window") {
        ManualClock clock;
        OpenAIEmulatorOptions o;
        o.running_for = 30h;
        OpenAIEmulator e(clock, o);
        const Json b = create(e, upload(e, line("a", "x") + line("b", "y")));
        clock.advance(23h);
        CHECK(get(e, b["id"])["status"] == "in_progress");
        clock.advance(1h);
        const Json x = get(e, b["id"]);
        CHECK(x["status"] == "expired");
        CHECK(x["expired_at"] == x["expires_at"]);
        const auto lines = content_lines(e, x["error_file_id"]);
        REQUIRE(lines.size() == 1);  // the first request finished in time
        CHECK(lines[0]["custom_id"] == "b");
        CHECK(content_lines(e, x["output_file_id"]).size() == 1);
    }

    TEST_CASE("OpenAIEmulator without partial results reports every request of a cancelled batch as cancelled") {
        ManualClock clock;
        OpenAIEmulatorOptions o;
        o.partial_results = false;
        o.cancelling_for = 0s;
        OpenAIEmulator e(clock, o);
        const Json b = create(e, upload(e, four_lines()));
        clock.advance(50s);
        e.cancel_job(b["id"]);
        const Json c = get(e, b["id"]);
        CHECK(c["status"] == "cancelled");
        CHECK(c["output_file_id"].is_null());
        CHECK(c["request_counts"] == Json{{"total", 4}, {"completed", 0}, {"failed", 4}});
        const auto lines = content_lines(e, c["error_file_id"]);
        REQUIRE(lines.size() == 4);
        for (const auto& l : lines) CHECK(l["error"]["code"] == "batch_cancelled");
    }

    TEST_CASE("OpenAIEmulator cuts the next bodies short when asked") {
        ManualClock clock;
        OpenAIEmulator e(clock);
        const std::string file = upload(e, four_lines());
        e.truncate_bodies(1, 10);
        CHECK(e.send(req("GET", "/v1/files/" + file + "/content")).body == four_lines().substr(0, 10));
        CHECK(e.send(req("GET", "/v1/files/" + file + "/content")).body == four_lines());
    }
}

}  // namespace tests_testing_emulator_openai_service
