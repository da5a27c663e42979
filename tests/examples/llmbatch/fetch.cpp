// Tests of `llmbatch fetch` (examples/llmbatch/commands/fetch.hpp), in process: the Gemini emulator
// on a manual clock stands in for the API, and every run's output is captured.
#include "cli.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "support.hpp"

TEST_SUITE("cli") {

TEST_CASE("the document's refetch example, end to end") {
    World w;
    // An earlier run, long ago: batch 0 of History was created and completed then.
    const auto history_first = w.write("history-first.jsonl", prompts_text({{"History/gcse-history.md", 15}}));
    auto o = w.run({"create", "--prompts", history_first.string(), "--batch-size", "15"});
    REQUIRE(o.code == 0);
    w.clock.advance(job_finishes);
    REQUIRE(w.run({"fetch", "--check-all-pending"}).code == 0);
    w.clock.advance(10h);

    // Today: the three batches of the document (10, 15 and 8 requests).
    const auto prompts = w.write("prompts.jsonl", prompts_text({{"Geography/gcse-geography.md", 10},
                                                                {"History/gcse-history.md", 30},
                                                                {"Math/gcse-math.md", 8}}));
    o = w.run({"create", "--prompts", prompts.string(), "--batch-size", "15"});
    REQUIRE(o.code == 0);
    const auto geo = w.job_for("Geography/gcse-geography.md", 0).job_name;
    const auto hist = w.job_for("History/gcse-history.md", 1).job_name;
    const auto math = w.job_for("Math/gcse-math.md", 0).job_name;
    CHECK(o.out == fmt::format("Loaded 48 prompt(s) from 3 source(s) in {}\n"
                               "\nProcessing Geography/gcse-geography.md (10 prompts)...\n"
                               "  Batch 0: Created job {}\n"
                               "\nProcessing History/gcse-history.md (30 prompts)...\n"
                               "  Batch 0: Already completed (skipping)\n"
                               "  Batch 1: Created job {}\n"
                               "\nProcessing Math/gcse-math.md (8 prompts)...\n"
                               "  Batch 0: Created job {}\n",
                               prompts.string(), geo, hist, math) +
                       summary_block({"Total sources: 3", "Total batches: 4", "Skipped (already completed): 1",
                                      "Created jobs: 3", "Refused (pending job exists): 0", "Failed: 0"}) +
                       "Next: 'llmbatch wait --tracking-file " + w.tracking_file().string() + " --state-file " +
                       w.state_file().string() + " --output-dir " + w.output_dir().string() +
                       "' to follow the jobs, then 'llmbatch fetch --check-all-pending --tracking-file " +
                       w.tracking_file().string() + " --state-file " + w.state_file().string() + " --output-dir " +
                       w.output_dir().string() + "' to save their results.\n");
    CHECK(w.emulator.job_count() == 4);
    const auto sizes = w.created_requests();
    REQUIRE(sizes.size() == 4);
    CHECK(sizes[1].size() == 10);
    CHECK(sizes[2].size() == 15);
    CHECK(sizes[2][0] == "Categorize History/gcse-history.md part 15");
    CHECK(sizes[3].size() == 8);
    CHECK(w.job_for("History/gcse-history.md", 1).request_keys.front() == "15");

    w.clock.advance(job_finishes);
    o = w.run({"fetch", "--check-all-pending"});
    REQUIRE(o.code == 0);
    CHECK(contains(o.out, "  Completed: 3\n"));
    w.clock.advance(2h);

    o = w.run({"fetch", "--refetch-hours", "6"});
    CHECK(o.code == 0);
    const std::string out_dir = w.output_dir().string();
    const std::string expected =
        fmt::format("Found 3 job(s) completed within last 6.0 hour(s)\n"
                    "Reset {0} (Geography/gcse-geography.md batch 0) to pending\n"
                    "Reset {1} (History/gcse-history.md batch 1) to pending\n"
                    "Reset {2} (Math/gcse-math.md batch 0) to pending\n"
                    "\n"
                    "Checking 3 job(s)...\n"
                    "\n"
                    "Job {0} (Geography/gcse-geography.md batch 0)\n"
                    "  Status: SUCCEEDED\n"
                    "  Saved 10 result(s) to {3}/Geography/gcse-geography.md.jsonl\n"
                    "\n"
                    "Job {1} (History/gcse-history.md batch 1)\n"
                    "  Status: SUCCEEDED\n"
                    "  Saved 15 result(s) to {3}/History/gcse-history.md.jsonl\n"
                    "\n"
                    "Job {2} (Math/gcse-math.md batch 0)\n"
                    "  Status: SUCCEEDED\n"
                    "  Saved 8 result(s) to {3}/Math/gcse-math.md.jsonl\n",
                    geo, hist, math, out_dir) +
        summary_block({"Checked: 3", "Completed: 3", "Failed: 0", "Still pending: 0", "Refetched: 3"});
    CHECK(o.out == expected);
    CHECK(o.err.empty());

    // No job was created by the refetch; every job is completed again, with a fresh completion time.
    CHECK(w.emulator.job_count() == 4);
    for (const auto& job : w.tracker().jobs()) {
        CHECK(job.status == TrackedStatus::completed);
        REQUIRE(job.completed_at.has_value());
        if (job.job_name != w.job_for("History/gcse-history.md", 0).job_name)
            CHECK(*job.completed_at == w.clock.utc_now());
    }
    CHECK(w.tracker().completed_batches("History/gcse-history.md") == std::set<std::int64_t>{0, 1});

    // Each job's lines are in its results file exactly once, in request order, keyed by position.
    auto count_lines = [](const std::vector<Json>& lines, const std::string& job) {
        std::vector<std::string> keys;
        for (const auto& l : lines)
            if (l["job"] == job) keys.push_back(l["request_key"].get<std::string>());
        return keys;
    };
    const auto geo_lines = jsonl(w.results_of("Geography/gcse-geography.md"));
    CHECK(geo_lines.size() == 10);
    CHECK(count_lines(geo_lines, geo).size() == 10);
    const auto hist_lines = jsonl(w.results_of("History/gcse-history.md"));
    CHECK(hist_lines.size() == 30);
    const auto hist_keys = count_lines(hist_lines, hist);
    REQUIRE(hist_keys.size() == 15);
    CHECK(hist_keys.front() == "15");
    CHECK(hist_keys.back() == "29");
    CHECK(count_lines(hist_lines, w.job_for("History/gcse-history.md", 0).job_name).size() == 15);
    CHECK(jsonl(w.results_of("Math/gcse-math.md")).size() == 8);
    for (const auto& l : hist_lines) CHECK(l["status"] == "ok");
}

TEST_CASE("the refetch window is measured from creation, in fractional hours") {
    World w;
    const auto a = w.write("a.jsonl", prompts_text({{"A/a.md", 2}}));
    const auto b = w.write("b.jsonl", prompts_text({{"B/b.md", 2}}));
    const auto c = w.write("c.jsonl", prompts_text({{"C/c.md", 2}}));
    REQUIRE(w.run({"create", "--prompts", a.string()}).code == 0);
    w.clock.advance(job_finishes);
    REQUIRE(w.run({"fetch", "--check-all-pending"}).code == 0);
    w.clock.advance(7h - job_finishes - 25min);
    REQUIRE(w.run({"create", "--prompts", b.string()}).code == 0);  // created 6 h 35 min after A
    w.clock.advance(15min);
    REQUIRE(w.run({"create", "--prompts", c.string()}).code == 0);
    w.clock.advance(job_finishes);
    REQUIRE(w.run({"fetch", "--check-all-pending"}).code == 0);
    w.clock.advance(10min - job_finishes);
    // Now A is 7 h old, B 25 min, C 10 min.
    const auto job_a = w.job_for("A/a.md", 0).job_name;
    const auto job_b = w.job_for("B/b.md", 0).job_name;
    const auto job_c = w.job_for("C/c.md", 0).job_name;

    auto o = w.run({"fetch", "--refetch-hours", "6"});
    CHECK(o.code == 0);
    CHECK(contains(o.out, "Found 2 job(s) completed within last 6.0 hour(s)\n"));
    CHECK_FALSE(contains(o.out, job_a));
    CHECK(contains(o.out, "Reset " + job_b));
    CHECK(contains(o.out, "Reset " + job_c));

    w.clock.advance(10min);  // B 35 min, C 20 min
    o = w.run({"fetch", "--refetch-hours", "0.5"});
    CHECK(o.code == 0);
    CHECK(contains(o.out, "Found 1 job(s) completed within last 0.5 hour(s)\n"));
    CHECK(contains(o.out, "Reset " + job_c + " (C/c.md batch 0) to pending\n"));
    CHECK_FALSE(contains(o.out, job_b));
    CHECK(contains(o.out, "  Refetched: 1\n"));

    w.clock.advance(1h);
    o = w.run({"fetch", "--refetch-hours", "0.5"});
    CHECK(o.code == 0);
    CHECK(o.out == "No jobs to refetch\nNo jobs to check\n" +
                       summary_block({"Checked: 0", "Completed: 0", "Failed: 0", "Still pending: 0", "Refetched: 0"}));
}

TEST_CASE("fetch refuses bad selections and changes nothing") {
    World w;
    const auto p = w.write("p.jsonl", prompts_text({{"A/a.md", 3}}));
    REQUIRE(w.run({"create", "--prompts", p.string()}).code == 0);
    const auto job = w.job_for("A/a.md", 0).job_name;
    const auto before = slurp(w.tracking_file());
    const auto calls = w.emulator.call_count();

    struct Case {
        std::vector<std::string> args;
        std::string message;
    };
    const std::vector<Case> cases = {
        {{"fetch", "--refetch-hours", "6", "--job-names", job},
         "--refetch-hours cannot be combined with --job-names or --check-all-pending"},
        {{"fetch", "--refetch-hours", "6", "--check-all-pending"},
         "--refetch-hours cannot be combined with --job-names or --check-all-pending"},
        {{"fetch"}, "No jobs specified. Use --job-names, --check-all-pending, or --refetch-hours"},
        {{"fetch", "--job-names", "batches/nope", job}, "Unknown job name(s), not in " + w.tracking_file().string() +
                                                            ": batches/nope"},
        {{"fetch", "--refetch-hours", "abc"}, "--refetch-hours takes a number of hours greater than zero (got 'abc')"},
        {{"fetch", "--refetch-hours", "-1"}, "--refetch-hours takes a number of hours greater than zero (got '-1')"},
        {{"fetch", "--refetch-hours", "0"}, "--refetch-hours takes a number of hours greater than zero (got '0')"},
        {{"fetch", "--refetch-hours", "nan"}, "--refetch-hours takes a number of hours greater than zero (got 'nan')"},
        {{"fetch", "--refetch-hours", "6h"}, "--refetch-hours takes a number of hours greater than zero (got '6h')"},
        {{"fetch", "--refetch-hours"}, "option --refetch-hours needs a value"},
        {{"fetch", "--job-names"}, "option --job-names needs at least one value"},
        {{"fetch", "--check-all-pending", "--bogus"}, "unknown option '--bogus' for 'fetch'"},
    };
    for (const auto& c : cases) {
        CAPTURE(fmt::format("{}", fmt::join(c.args, " ")));
        const auto o = w.run(c.args);
        CHECK(o.code == 2);
        CHECK(contains(o.err, "Error: " + c.message));
        CHECK(contains(o.err, "Run 'llmbatch fetch --help' for usage."));
        CHECK(o.out.empty());
    }
    CHECK(slurp(w.tracking_file()) == before);
    CHECK(w.emulator.call_count() == calls);
}

TEST_CASE("a transient failure keeps a job pending until a later fetch completes it") {
    World w;
    const auto p = w.write("p.jsonl", prompts_text({{"A/a.md", 4}}));
    REQUIRE(w.run({"create", "--prompts", p.string()}).code == 0);
    const auto job = w.job_for("A/a.md", 0).job_name;
    w.clock.advance(job_finishes);
    // More 503s than the provider's five attempts.
    w.emulator.inject_http_errors(6, 503, "UNAVAILABLE", "The service is currently unavailable.");

    auto o = w.run({"fetch", "--check-all-pending"});
    CHECK(o.code == 1);
    CHECK(contains(o.out, "Job " + job + " (A/a.md batch 0)\n  Error checking job: "));
    CHECK(contains(o.out, "UNAVAILABLE"));
    CHECK(contains(o.out, "(still pending)\n"));
    CHECK(contains(o.out, summary_block({"Checked: 1", "Completed: 0", "Failed: 0", "Still pending: 1"})));
    CHECK(w.tracker().find(job)->status == TrackedStatus::pending);
    CHECK_FALSE(fs::exists(w.results_of("A/a.md")));
    // Each retry is said on stderr as it happens: what failed, how, and when the next try is.
    CHECK(contains(o.err, "gemini: GET https://generativelanguage.googleapis.com/v1beta/" + job +
                              " failed (HTTP 503); retrying in "));
    CHECK(contains(o.err, " s (attempt 2 of 5)\n"));
    CHECK(contains(o.err, " s (attempt 5 of 5)\n"));
    CHECK_FALSE(contains(o.err, "emulator-key"));

    o = w.run({"fetch", "--check-all-pending"});
    CHECK(o.code == 0);
    CHECK(contains(o.out, "  Saved 4 result(s) to "));
    CHECK(w.tracker().find(job)->status == TrackedStatus::completed);
    CHECK(jsonl(w.results_of("A/a.md")).size() == 4);
}

TEST_CASE("failed, expired and cancelled jobs are recorded with their messages") {
    World w;
    const auto p = w.write("p.jsonl", prompts_text({{"A/a.md", 2}, {"B/b.md", 2}, {"C/c.md", 2}, {"D/d.md", 2}}));
    REQUIRE(w.run({"create", "--prompts", p.string()}).code == 0);
    const auto a = w.job_for("A/a.md", 0).job_name;
    const auto b = w.job_for("B/b.md", 0).job_name;
    const auto c = w.job_for("C/c.md", 0).job_name;
    const auto d = w.job_for("D/d.md", 0).job_name;
    w.emulator.fail_job(a, 13, "Internal error encountered.");
    w.emulator.expire_job(b);
    llmbatch::HttpRequest cancel{"POST", "https://generativelanguage.googleapis.com/v1beta/" + c + ":cancel",
                                 {{"x-goog-api-key", "k"}}, {}};
    REQUIRE(w.emulator.send(cancel).status == 200);
    w.clock.advance(job_finishes);

    auto o = w.run({"fetch", "--check-all-pending"});
    CHECK(o.code == 1);
    CHECK(contains(o.out, "Job " + a + " (A/a.md batch 0)\n  Status: FAILED\n  Error: Batch job failed - Internal error encountered.\n"));
    // Expired and cancelled before any request finished: each request is saved as such, and the
    // job is reported as expired or cancelled.
    CHECK(contains(o.out, "Job " + b + " (B/b.md batch 0)\n  Status: EXPIRED\n  Saved 2 result(s) to " +
                              w.results_of("B/b.md").string() + "\n  Error: Batch job expired - "));
    CHECK(contains(o.out, "Job " + c + " (C/c.md batch 0)\n  Status: CANCELLED\n  Saved 2 result(s) to " +
                              w.results_of("C/c.md").string() + "\n  Error: Batch job cancelled - The batch was cancelled.\n"));
    for (const auto& [source, word] : {std::pair{"B/b.md", "EXPIRED"}, std::pair{"C/c.md", "CANCELLED"}}) {
        const auto lines = jsonl(w.results_of(source));
        REQUIRE(lines.size() == 2);
        for (const auto& line : lines) CHECK(line["error"]["status"] == word);
    }
    CHECK_FALSE(fs::exists(w.results_of("A/a.md")));
    CHECK(contains(o.out, summary_block({"Checked: 4", "Completed: 1", "Failed: 3", "Still pending: 0"})));
    const auto tracker = w.tracker();
    CHECK(tracker.find(a)->status == TrackedStatus::failed);
    CHECK(tracker.find(a)->error_message == "Internal error encountered.");
    CHECK(tracker.find(b)->status == TrackedStatus::failed);
    CHECK_FALSE(tracker.find(b)->error_message.empty());
    CHECK(tracker.find(c)->status == TrackedStatus::cancelled);
    CHECK(tracker.find(c)->error_message == "The batch was cancelled.");
    CHECK(tracker.find(d)->status == TrackedStatus::completed);
    // Nothing was marked completed for the failed batches.
    CHECK(tracker.completed_batches("A/a.md").empty());

    SUBCASE("the requests of the cancelled job can be resubmitted") {
        o = w.run({"create", "--resubmit-failed", c, "--prompts", p.string()});
        CHECK(o.code == 0);
        CHECK(contains(o.out, "Resubmitting 2 failed request(s) of " + c + " (C/c.md batch 0)...\n"));
        CHECK(w.tracker().jobs().back().labels.at("resubmit_of") == c);
    }

    SUBCASE("list shows them, with or without their errors") {
        o = w.run({"list"});
        CHECK(o.code == 0);
        CHECK(contains(o.out, "Total: 4 job(s)\nNote: 2 job(s) have failed. Use --show-errors to see error details.\n"));
        CHECK_FALSE(contains(o.out, "Error:"));
        o = w.run({"list", "--show-errors", "--status", "failed"});
        CHECK(o.code == 0);
        CHECK(contains(o.out, a + "  failed     A/a.md  0\n  Error: Internal error encountered.\n"));
        CHECK_FALSE(contains(o.out, c));
        CHECK(contains(o.out, "Total: 2 job(s)\n"));
        CHECK_FALSE(contains(o.out, "Note:"));
    }
}

}  // TEST_SUITE
