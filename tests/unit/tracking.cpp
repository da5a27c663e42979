// tracking.hpp: the job tracker's files, transitions, duplicate guard, refetch window, refusal
// of unusable files, crash safety and concurrent writers.
#include "llmbatch/tracking.hpp"

#include <doctest/doctest.h>

#include "../support/stress_child.hpp"
#include "../support/temp_dir.hpp"
#include "../support/tracked_jobs.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include "llmbatch/testing/faulty_files.hpp"

namespace tests_unit_tracking {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using llmbatch::DuplicateJobError;
using llmbatch::InvalidArgument;
using llmbatch::JobTracker;
using llmbatch::TrackedJob;
using llmbatch::TrackedStatus;
using llmbatch::TrackingFileError;
using SysTime = std::chrono::system_clock::time_point;
using llmbatch_test::at;
using llmbatch_test::make_job;
using llmbatch_test::names_of;

namespace {

/// A fresh directory, removed with its content at the end of the test. `in_memory` puts it on
/// tmpfs when there is one, which keeps tests that commit many transactions fast (every commit
/// syncs to disk otherwise).
struct TempDir : llmbatch_test::TempDir {
    explicit TempDir(bool in_memory = true) : llmbatch_test::TempDir("llmbatch-tracking", in_memory) {}
    [[nodiscard]] fs::path tracking() const { return path / "batch_jobs.json"; }
    [[nodiscard]] fs::path state() const { return path / "batch_state.json"; }
    [[nodiscard]] JobTracker tracker() const { return JobTracker(tracking(), state()); }
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_plain(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

std::set<std::string> names_in(const fs::path& dir) {
    std::set<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
    return out;
}

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_SUITE("unit") {
    TEST_CASE("TrackedStatus words round-trip and unknown words are refused") {
        for (auto s : {TrackedStatus::pending, TrackedStatus::completed, TrackedStatus::failed, TrackedStatus::cancelled})
            CHECK(llmbatch::parse_tracked_status(llmbatch::to_string(s)) == s);
        CHECK(llmbatch::to_string(TrackedStatus::cancelled) == "cancelled");
        CHECK(fmt::format("{}", TrackedStatus::completed) == "completed");
        CHECK_FALSE(llmbatch::parse_tracked_status("done").has_value());
        CHECK_FALSE(llmbatch::parse_tracked_status("Pending").has_value());
    }

    TEST_CASE("missing files read as an empty tracker and reading creates nothing") {
        TempDir dir;
        const auto tracker = dir.tracker();
        CHECK(tracker.jobs().empty());
        CHECK(tracker.pending().empty());
        CHECK_FALSE(tracker.find("batches/x").has_value());
        CHECK(tracker.completed_batches("History/gcse-history.md").empty());
        CHECK_FALSE(tracker.is_batch_completed("History/gcse-history.md", 0));
        CHECK(tracker.select_refetch(24, at()).empty());
        CHECK(names_in(dir.path).empty());
    }

    TEST_CASE("the tracker refuses empty paths and one file for both roles") {
        TempDir dir;
        CHECK_THROWS_AS(JobTracker("", dir.state()), InvalidArgument);
        CHECK_THROWS_AS(JobTracker(dir.tracking(), ""), InvalidArgument);
        CHECK_THROWS_AS(JobTracker(dir.tracking(), dir.path / "." / "batch_jobs.json"), InvalidArgument);
    }

    TEST_CASE("the tracking file is exactly the documented JSON, created_at in UTC RFC 3339 to the second") {
        TempDir dir;
        auto tracker = dir.tracker();
        auto job = make_job("batches/abc", "History/h.md", 2, at(15s + 999ms));
        job.labels = {{"subject", "History"}};
        job.request_keys = {"k0"};
        tracker.add(job);
        const std::string expected = R"({
  "format": "llmbatch-tracking",
  "version": 1,
  "jobs": {
    "batches/abc": {
      "provider": "gemini",
      "job_name": "batches/abc",
      "source": "History/h.md",
      "batch_index": 2,
      "created_at": "2025-03-01T09:30:15Z",
      "status": "pending",
      "error_message": null,
      "labels": {
        "subject": "History"
      },
      "request_keys": [
        "k0"
      ],
      "completed_at": null,
      "sequence": 0
    }
  }
}
)";
        CHECK(slurp(dir.tracking()) == expected);
        CHECK_FALSE(fs::exists(dir.state()));
    }

    TEST_CASE("jobs come back in creation order, not name order, also after updates") {
        TempDir dir;
        auto tracker = dir.tracker();
        tracker.add(make_job("z-first", "s", 0));
        tracker.add(make_job("a-second", "s", 1));
        tracker.add(make_job("m-third", "s", 2));
        tracker.mark_failed("z-first", "boom");
        tracker.mark_completed("a-second", at(1h));
        CHECK(names_of(tracker.jobs()) == std::vector<std::string>{"z-first", "a-second", "m-third"});
        CHECK(names_of(tracker.pending()) == std::vector<std::string>{"m-third"});
        const auto raw = nlohmann::json::parse(slurp(dir.tracking()));
        CHECK(raw["jobs"]["z-first"]["sequence"] == 0);
        CHECK(raw["jobs"]["a-second"]["sequence"] == 1);
        CHECK(raw["jobs"]["m-third"]["sequence"] == 2);
    }

    TEST_CASE("add refuses a job name that is already tracked, even with force") {
        TempDir dir;
        auto tracker = dir.tracker();
        tracker.add(make_job("batches/abc", "s", 0));
        tracker.mark_completed("batches/abc", at());
        const auto before = slurp(dir.tracking());
        CHECK_THROWS_AS(tracker.add(make_job("batches/abc", "other", 5)), InvalidArgument);
        CHECK_THROWS_AS(tracker.add(make_job("batches/abc", "other", 5), true), InvalidArgument);
        CHECK(slurp(dir.tracking()) == before);
    }

    TEST_CASE("mark_completed sets status, time and the state file's completed batches") {
        TempDir dir;
        auto tracker = dir.tracker();
        tracker.add(make_job("j5", "History/h.md", 5));
        tracker.add(make_job("j1", "History/h.md", 1));
        tracker.add(make_job("m0", "Maths/m.md", 0));
        tracker.mark_failed("j5", "temporary network error");
        tracker.mark_completed("j5", at(2h));
        tracker.mark_completed("j1", at(3h));
        tracker.mark_completed("j1", at(4h));  // again: idempotent for the state file

        const auto j5 = *tracker.find("j5");
        CHECK(j5.status == TrackedStatus::completed);
        CHECK(j5.completed_at == at(2h));
        CHECK(j5.error_message.empty());
        CHECK(tracker.find("j1")->completed_at == at(4h));
        CHECK(tracker.completed_batches("History/h.md") == std::set<std::int64_t>{1, 5});
        CHECK(tracker.is_batch_completed("History/h.md", 5));
        CHECK_FALSE(tracker.is_batch_completed("History/h.md", 0));
        CHECK_FALSE(tracker.is_batch_completed("Maths/m.md", 0));
        CHECK(slurp(dir.state()) == R"({
  "format": "llmbatch-state",
  "version": 1,
  "sources": {
    "History/h.md": {
      "completed_batches": [
        1,
        5
      ]
    }
  }
}
)");
        const auto raw = nlohmann::json::parse(slurp(dir.tracking()));
        CHECK(raw["jobs"]["j5"]["completed_at"] == "2025-03-01T11:30:00Z");
        CHECK(raw["jobs"]["j5"]["error_message"].is_null());
        CHECK_THROWS_AS(tracker.mark_completed("missing", at()), InvalidArgument);
    }

    TEST_CASE("a crash between mark_completed's two writes leaves a pending job that completing again heals") {
        TempDir dir;
        auto tracker = dir.tracker();
        tracker.add(make_job("a", "s", 3));
        const auto tracking_before = slurp(dir.tracking());
        tracker.mark_completed("a", at(1h));
        // The state file is written first: put back the tracking file as it was before the
        // second write, which is what a crash at that point leaves.
        write_plain(dir.tracking(), tracking_before);
        CHECK(tracker.is_batch_completed("s", 3));                           // not submitted again
        CHECK(names_of(tracker.pending()) == std::vector<std::string>{"a"});  // fetched again
        CHECK_THROWS_AS(tracker.add(make_job("b", "s", 3)), DuplicateJobError);
        tracker.mark_completed("a", at(2h));
        CHECK(tracker.find("a")->status == TrackedStatus::completed);
        CHECK(tracker.completed_batches("s") == std::set<std::int64_t>{3});
    }

    TEST_CASE("an unusable tracking file is reported with its path and never overwritten") {
        TempDir dir;
        const std::string good_job = R"("provider": "gemini", "job_name": "j", "source": "s", "batch_index": 0,
            "created_at": "2025-03-01T09:30:00Z", "status": "pending")";
        auto file_with_job = [&](const std::string& job_body) {
            return R"({"format": "llmbatch-tracking", "version": 1, "jobs": {"j": {)" + job_body + "}}}";
        };
        struct Case {
            std::string name;
            std::string content;
            std::string expected_phrase;
        };
        const std::vector<Case> cases = {
            {"truncated JSON", file_with_job(good_job).substr(0, 60), "not valid JSON"},
            {"empty file", "", "empty"},
            {"not an object", "[1, 2]", "not a JSON object"},
            {"a seed-project file", R"({"version": "1.0", "subjects": {}})", "not an llmbatch file"},
            {"the state format", R"({"format": "llmbatch-state", "version": 1, "sources": {}})", "not an llmbatch file"},
            {"no jobs", R"({"format": "llmbatch-tracking", "version": 1})", "\"jobs\""},
            {"jobs not an object", R"({"format": "llmbatch-tracking", "version": 1, "jobs": []})", "\"jobs\""},
            {"string version", R"({"format": "llmbatch-tracking", "version": "1", "jobs": {}})", "version"},
            {"old version", R"({"format": "llmbatch-tracking", "version": 0, "jobs": {}})", "version 0 is not supported"},
            {"job not an object", R"({"format": "llmbatch-tracking", "version": 1, "jobs": {"j": 3}})", "job 'j'"},
            {"batch_index as string", file_with_job(R"("provider": "gemini", "job_name": "j", "source": "s",
                "batch_index": "0", "created_at": "2025-03-01T09:30:00Z", "status": "pending")"),
             "\"batch_index\" must be an integer"},
            {"negative batch_index", file_with_job(R"("provider": "gemini", "job_name": "j", "source": "s",
                "batch_index": -1, "created_at": "2025-03-01T09:30:00Z", "status": "pending")"),
             "\"batch_index\""},
            {"missing status", file_with_job(R"("provider": "gemini", "job_name": "j", "source": "s",
                "batch_index": 0, "created_at": "2025-03-01T09:30:00Z")"),
             "\"status\" is missing"},
            {"unknown status", file_with_job(R"("provider": "gemini", "job_name": "j", "source": "s",
                "batch_index": 0, "created_at": "2025-03-01T09:30:00Z", "status": "done")"),
             "unknown status \"done\""},
            {"bad created_at", file_with_job(R"("provider": "gemini", "job_name": "j", "source": "s",
                "batch_index": 0, "created_at": "yesterday", "status": "pending")"),
             "\"created_at\" is not an RFC 3339 time"},
            {"labels of numbers", file_with_job(good_job + R"(, "labels": {"a": 1})"), "label \"a\""},
            {"request_keys not strings", file_with_job(good_job + R"(, "request_keys": [1])"), "\"request_keys\""},
            {"error_message a number", file_with_job(good_job + R"(, "error_message": 5)"), "\"error_message\""},
            {"bad completed_at", file_with_job(good_job + R"(, "completed_at": 17)"), "\"completed_at\""},
            {"job_name differs from its key", file_with_job(R"("provider": "gemini", "job_name": "other",
                "source": "s", "batch_index": 0, "created_at": "2025-03-01T09:30:00Z", "status": "pending")"),
             "\"job_name\" is 'other'"},
            {"a number out of range", file_with_job(R"("provider": "gemini", "job_name": "j", "source": "s",
                "batch_index": 1e999, "created_at": "2025-03-01T09:30:00Z", "status": "pending")"),
             "not valid JSON"},
            {"a NUL byte", file_with_job(good_job) + std::string("\0{", 2), "NUL byte"},
            {"created_at before 1677", file_with_job(R"("provider": "gemini", "job_name": "j", "source": "s",
                "batch_index": 0, "created_at": "1500-03-01T09:30:00Z", "status": "pending")"),
             "\"created_at\" is not an RFC 3339 time"},
            {"created_at after 2262", file_with_job(R"("provider": "gemini", "job_name": "j", "source": "s",
                "batch_index": 0, "created_at": "2300-03-01T09:30:00Z", "status": "pending")"),
             "\"created_at\" is not an RFC 3339 time"},
        };
        for (const auto& c : cases) {
            CAPTURE(c.name);
            write_plain(dir.tracking(), c.content);
            auto tracker = dir.tracker();
            try {
                (void)tracker.jobs();
                FAIL("expected TrackingFileError");
            } catch (const TrackingFileError& e) {
                CHECK(e.path() == dir.tracking());
                CHECK(contains(e.what(), dir.tracking().string()));
                CHECK(contains(e.what(), c.expected_phrase));
                CHECK(contains(e.what(), "left unchanged"));
            }
            CHECK_THROWS_AS((void)tracker.find("j"), TrackingFileError);
            CHECK_THROWS_AS((void)tracker.pending(), TrackingFileError);
            CHECK_THROWS_AS((void)tracker.select_refetch(1, at()), TrackingFileError);
            CHECK_THROWS_AS(tracker.add(make_job("new", "s", 9)), TrackingFileError);
            CHECK_THROWS_AS(tracker.add(make_job("new", "s", 9), true), TrackingFileError);
            CHECK_THROWS_AS(tracker.mark_failed("j", "x"), TrackingFileError);
            CHECK_THROWS_AS(tracker.mark_completed("j", at()), TrackingFileError);
            CHECK_THROWS_AS(tracker.reset_to_pending("j"), TrackingFileError);
            CHECK_THROWS_AS(tracker.update("j", [](TrackedJob&) {}), TrackingFileError);
            CHECK(slurp(dir.tracking()) == c.content);
            CHECK_FALSE(fs::exists(dir.state()));
        }
    }

    TEST_CASE("a job whose sequence is at its maximum refuses a new job instead of overflowing") {
        TempDir dir;
        write_plain(dir.tracking(), R"({"format": "llmbatch-tracking", "version": 1, "jobs": {"j": {"provider": "gemini",
            "job_name": "j", "source": "s", "batch_index": 0, "created_at": "2025-03-01T09:30:00Z",
            "status": "pending", "sequence": 9223372036854775807}}})");
        auto tracker = dir.tracker();
        CHECK(tracker.jobs().size() == 1);
        CHECK_THROWS_AS(tracker.add(make_job("new", "s", 9)), TrackingFileError);
        CHECK(tracker.jobs().size() == 1);
    }

    TEST_CASE("a tracking file from a newer llmbatch is refused by version and left alone") {
        TempDir dir;
        const std::string content = R"({"format": "llmbatch-tracking", "version": 2, "jobs": {"j": {"new": true}}})";
        write_plain(dir.tracking(), content);
        auto tracker = dir.tracker();
        try {
            (void)tracker.jobs();
            FAIL("expected TrackingFileError");
        } catch (const TrackingFileError& e) {
            CHECK(contains(e.what(), "written by a newer llmbatch (version 2); this build reads version 1"));
            CHECK(contains(e.what(), dir.tracking().string()));
        }
        CHECK_THROWS_AS(tracker.add(make_job("x", "s", 0)), TrackingFileError);
        CHECK(slurp(dir.tracking()) == content);
    }

    TEST_CASE("an unusable state file stops mark_completed before either file is written") {
        TempDir dir;
        auto tracker = dir.tracker();
        tracker.add(make_job("a", "s", 0));
        const auto tracking_before = slurp(dir.tracking());
        const std::vector<std::string> bad_states = {
            R"({"format": "llmbatch-state", "version": 1, "sources": {"s": {"completed_batches": "0"}}})",
            R"({"format": "llmbatch-state", "version": 1, "sources": {"s": {"completed_batches": [0.5]}}})",
            R"({"format": "llmbatch-state", "version": 1, "sources": {"s": []}})",
            R"({"format": "llmbatch-state", "version": 9, "sources": {}})",
            R"({"format": "llmbatch-state", "version": 1, "sources": {"s": {"completed_batches": [1,)",
        };
        for (const auto& content : bad_states) {
            CAPTURE(content);
            write_plain(dir.state(), content);
            try {
                tracker.mark_completed("a", at());
                FAIL("expected TrackingFileError");
            } catch (const TrackingFileError& e) {
                CHECK(e.path() == dir.state());
                CHECK(contains(e.what(), "State file"));
                CHECK(contains(e.what(), dir.state().string()));
            }
            CHECK_THROWS_AS((void)tracker.completed_batches("s"), TrackingFileError);
            CHECK_THROWS_AS(tracker.unmark_completed("s", 0), TrackingFileError);
            CHECK(slurp(dir.state()) == content);
            CHECK(slurp(dir.tracking()) == tracking_before);
        }
    }

    TEST_CASE("fields this version does not know are kept when the file is rewritten") {
        TempDir dir;
        write_plain(dir.tracking(), R"({"format": "llmbatch-tracking", "version": 1, "comment": "hand-edited",
            "jobs": {"old": {"provider": "gemini", "job_name": "old", "source": "s", "batch_index": 0,
                             "created_at": "2025-03-01T09:30:00+01:00", "status": "pending", "reviewer": {"name": "Ann"}}}})");
        write_plain(dir.state(), R"({"format": "llmbatch-state", "version": 1, "owner": "me",
            "sources": {"s": {"completed_batches": [4], "total": 10}}})");
        auto tracker = dir.tracker();
        const auto old = *tracker.find("old");
        CHECK(old.created_at == at(-1h));
        tracker.mark_completed("old", at());
        tracker.add(make_job("new", "s", 1));
        const auto raw = nlohmann::json::parse(slurp(dir.tracking()));
        CHECK(raw["comment"] == "hand-edited");
        CHECK(raw["jobs"]["old"]["reviewer"]["name"] == "Ann");
        CHECK(raw["jobs"]["old"]["status"] == "completed");
        CHECK(raw["jobs"]["old"]["created_at"] == "2025-03-01T08:30:00Z");
        const auto state = nlohmann::json::parse(slurp(dir.state()));
        CHECK(state["owner"] == "me");
        CHECK(state["sources"]["s"]["total"] == 10);
        CHECK(state["sources"]["s"]["completed_batches"] == nlohmann::json::array({0, 4}));
        // A job without a sequence number (hand-written) keeps its place before newer jobs.
        CHECK(names_of(tracker.jobs()) == std::vector<std::string>{"old", "new"});
    }

    TEST_CASE("changes leave no temporary files behind (on disk)") {
        TempDir dir(false);
        auto tracker = dir.tracker();
        tracker.add(make_job("a", "s", 0));
        tracker.mark_completed("a", at());
        tracker.reset_to_pending("a");
        tracker.unmark_completed("s", 0);
        CHECK(names_in(dir.path) ==
              std::set<std::string>{"batch_jobs.json", ".batch_jobs.json.lock", "batch_state.json", ".batch_state.json.lock"});
    }

    TEST_CASE("a writer killed at random moments never loses a committed job nor corrupts the file") {
        TempDir dir;
        std::mt19937 rng(std::random_device{}());
        std::set<std::string> committed;
        int killed_mid_run = 0;
        for (int round = 0; round < 10; ++round) {
            auto child = llmbatch_test::spawn_stress(dir.tracking().string(), dir.state().string(), round * 100000L, 100000L);
            std::this_thread::sleep_for(std::chrono::milliseconds(2 + static_cast<int>(rng() % 8) + round * 4));
            REQUIRE(::kill(child.pid, SIGKILL) == 0);
            int status = 0;
            const auto reported = llmbatch_test::finish(child, &status);
            if (WIFSIGNALED(status)) ++killed_mid_run;
            committed.insert(reported.begin(), reported.end());

            const auto tracker = dir.tracker();
            std::vector<TrackedJob> jobs;
            REQUIRE_NOTHROW(jobs = tracker.jobs());
            std::set<std::string> present;
            for (const auto& j : jobs) present.insert(j.job_name);
            for (const auto& name : committed) {
                CAPTURE(name);
                CHECK(present.count(name) == 1);
            }
        }
        CHECK(killed_mid_run == 10);
        MESSAGE(committed.size(), " job(s) reported committed before the kills");

        // A run to completion reports every job, and its first change clears a killed writer's
        // leftover temporary file.
        auto child = llmbatch_test::spawn_stress(dir.tracking().string(), dir.state().string(), 900000000L, 5);
        int status = 0;
        const auto reported = llmbatch_test::finish(child, &status);
        CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
        CHECK(reported.size() == 5);
        const auto tracker = dir.tracker();
        for (const auto& name : reported) CHECK(tracker.find(name).has_value());
        for (const auto& name : names_in(dir.path)) CHECK_FALSE(contains(name, ".tmp."));
    }

    TEST_CASE("two processes adding 200 jobs each at the same time lose nothing") {
        TempDir dir;
        auto first = llmbatch_test::spawn_stress(dir.tracking().string(), dir.state().string(), 0, 200);
        auto second = llmbatch_test::spawn_stress(dir.tracking().string(), dir.state().string(), 1000, 200);
        int status1 = 0;
        int status2 = 0;
        const auto reported1 = llmbatch_test::finish(first, &status1);
        const auto reported2 = llmbatch_test::finish(second, &status2);
        CHECK((WIFEXITED(status1) && WEXITSTATUS(status1) == 0));
        CHECK((WIFEXITED(status2) && WEXITSTATUS(status2) == 0));
        CHECK(reported1.size() == 200);
        CHECK(reported2.size() == 200);

        const auto jobs = dir.tracker().jobs();
        CHECK(jobs.size() == 400);
        std::set<std::string> present;
        for (const auto& j : jobs) present.insert(j.job_name);
        for (const auto& name : reported1) CHECK(present.count(name) == 1);
        for (const auto& name : reported2) CHECK(present.count(name) == 1);
        std::set<std::int64_t> sequences;
        const auto raw = nlohmann::json::parse(slurp(dir.tracking()));
        for (const auto& [name, job] : raw["jobs"].items())
            sequences.insert(job["sequence"].get<std::int64_t>());
        CHECK(sequences.size() == 400);
    }
}

TEST_SUITE("unit") {
    TEST_CASE("a tracking or state file nested deeper than the library handles is refused, not a stack overflow") {
        TempDir dir;
        const std::string deep = std::string(100000, '[') + std::string(100000, ']');
        const std::string tracking = R"({"format": "llmbatch-tracking", "version": 1, "note": )" + deep + R"(, "jobs": {}})";
        write_plain(dir.tracking(), tracking);
        auto tracker = dir.tracker();
        CHECK_THROWS_WITH_AS((void)tracker.jobs(), doctest::Contains("nests deeper than 512 levels"), TrackingFileError);
        CHECK_THROWS_AS(tracker.add(make_job("j")), TrackingFileError);
        CHECK(slurp(dir.tracking()) == tracking);

        fs::remove(dir.tracking());
        const std::string state = R"({"format": "llmbatch-state", "version": 1, "sources": {"s": )" + deep + "}}";
        write_plain(dir.state(), state);
        CHECK_THROWS_AS((void)tracker.completed_batches("s"), TrackingFileError);
        CHECK(slurp(dir.state()) == state);

        // As deep as is handled: an unknown field 511 levels deep in a 512-level file is read and kept.
        fs::remove(dir.state());
        const std::string kept = std::string(511, '[') + std::string(511, ']');
        write_plain(dir.tracking(), R"({"format": "llmbatch-tracking", "version": 1, "note": )" + kept + R"(, "jobs": {}})");
        tracker.add(make_job("j"));
        CHECK(names_of(tracker.jobs()) == std::vector<std::string>{"j"});
        CHECK(nlohmann::json::parse(slurp(dir.tracking()))["note"].dump() == kept);
    }
}

TEST_SUITE("unit") {
    TEST_CASE("a kill anywhere in mark_completed never leaves a completed job whose batch is not marked") {
        using llmbatch::testing::FaultyFiles;
        using llmbatch::testing::FileFault;
        std::size_t tried = 0;
        for (std::size_t n = 1;; ++n) {
            CAPTURE(n);
            TempDir dir;
            TrackedJob job;
            job.provider = "gemini";
            job.job_name = "batches/k";
            job.source = "s.md";
            job.batch_index = 3;
            dir.tracker().add(job);
            bool killed = false;
            {
                FaultyFiles files;
                files.fail_at(n, FileFault::kill);
                try {
                    dir.tracker().mark_completed("batches/k", SysTime{} + 1h);
                } catch (const llmbatch::testing::SimulatedKill&) {
                    killed = true;
                }
                if (!files.fired()) break;
            }
            ++tried;
            CHECK(killed);
            // What the next run reads: either nothing changed, or the batch is marked and the
            // job still pending (a fetch completes it), or both are done; never a completed job
            // whose batch a create would submit again.
            auto after = dir.tracker();
            const bool completed = after.find("batches/k")->status == TrackedStatus::completed;
            const bool marked = after.is_batch_completed("s.md", 3);
            CHECK((!completed || marked));
            // A run after the crash finishes the job.
            if (!after.pending().empty()) after.mark_completed("batches/k", SysTime{} + 2h);
            CHECK(after.find("batches/k")->status == TrackedStatus::completed);
            CHECK(after.is_batch_completed("s.md", 3));
        }
        CHECK(tried >= 10);  // both files' locks, reads, writes, renames and syncs
    }
}

}  // namespace tests_unit_tracking
