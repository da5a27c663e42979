// Tests of the llmbatch command-line tool (examples/llmbatch), in process: the Gemini emulator
// on a manual clock stands in for the API, and every run's output is captured.
#include "cli.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support.hpp"

namespace {

std::string summary_block(std::initializer_list<std::string> lines) {
    std::string s = "\n" + std::string(60, '=') + "\nSummary:\n";
    for (const auto& l : lines) s += "  " + l + "\n";
    return s + std::string(60, '=') + "\n";
}

}  // namespace

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
    CHECK(contains(o.out, "Job " + b + " (B/b.md batch 0)\n  Status: EXPIRED\n  Error: Batch job failed - "));
    CHECK(contains(o.out, "Job " + c + " (C/c.md batch 0)\n  Status: CANCELLED\n"));
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

TEST_CASE("per-request failures are saved as error lines and can be resubmitted") {
    World w;
    std::string text;
    for (int i = 0; i < 6; ++i)
        text += Json{{"source", "Doc/d.md"}, {"prompt", fmt::format("Question {}", i)}, {"id", fmt::format("q{}", i)},
                     {"labels", {{"subject", "Physics"}}}}
                    .dump() +
                "\n";
    const auto p = w.write("p.jsonl", text);
    w.emulator.inject_request_error(1, 3, "Request contains an invalid argument.", "INVALID_ARGUMENT");
    w.emulator.inject_request_error(4, 3, "Request contains an invalid argument.", "INVALID_ARGUMENT");
    REQUIRE(w.run({"create", "--prompts", p.string()}).code == 0);
    const auto original = w.job_for("Doc/d.md", 0);
    CHECK(original.request_keys == std::vector<std::string>{"q0", "q1", "q2", "q3", "q4", "q5"});
    CHECK(original.labels == std::map<std::string, std::string>{{"subject", "Physics"}});
    w.clock.advance(job_finishes);

    auto o = w.run({"fetch", "--check-all-pending"});
    CHECK(o.code == 0);
    CHECK(contains(o.out, "  Saved 6 result(s) to "));
    CHECK(contains(o.out, "  Warning: 2 request(s) failed (indices 1, 4)"));
    CHECK(contains(o.out, fmt::format("2 request(s) of {0} failed; to retry them: llmbatch create --resubmit-failed {0} "
                                      "--prompts <the prompts file> --tracking-file ",
                                      original.job_name)));
    const auto lines = jsonl(w.results_of("Doc/d.md"));
    REQUIRE(lines.size() == 6);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        CAPTURE(i);
        CHECK(lines[i]["request_key"] == fmt::format("q{}", i));
        CHECK(lines[i]["status"] == ((i == 1 || i == 4) ? "error" : "ok"));
    }
    CHECK(lines[1]["error"]["message"] == "Request contains an invalid argument.");

    w.emulator.clear_injections();
    const auto jobs_before = w.emulator.job_count();
    o = w.run({"create", "--resubmit-failed", original.job_name, "--prompts", p.string()});
    CHECK(o.code == 0);
    CHECK(w.emulator.job_count() == jobs_before + 1);
    const auto created = w.created_requests();
    CHECK(created.back() == std::vector<std::string>{"Question 1", "Question 4"});
    const auto jobs = w.tracker().jobs();
    REQUIRE(jobs.size() == 2);
    const auto& retry = jobs.back();
    CHECK(retry.source == "Doc/d.md");
    CHECK(retry.batch_index == 0);
    CHECK(retry.status == TrackedStatus::pending);
    CHECK(retry.request_keys == std::vector<std::string>{"q1", "q4"});
    CHECK(retry.labels == std::map<std::string, std::string>{{"subject", "Physics"}, {"resubmit_of", original.job_name}});
    CHECK(o.out == fmt::format("Resubmitting 2 failed request(s) of {} (Doc/d.md batch 0)...\n"
                               "  Created job {} (request keys: q1, q4)\n",
                               original.job_name, retry.job_name));

    w.clock.advance(job_finishes);
    o = w.run({"fetch", "--check-all-pending"});
    CHECK(o.code == 0);
    const auto after = jsonl(w.results_of("Doc/d.md"));
    REQUIRE(after.size() == 8);  // the original six lines stay; the retry adds two
    CHECK(after[6]["job"] == retry.job_name);
    CHECK(after[6]["request_key"] == "q1");
    CHECK(after[7]["request_key"] == "q4");
    CHECK(after[7]["status"] == "ok");

    SUBCASE("a job without failures has nothing to resubmit") {
        o = w.run({"create", "--resubmit-failed", retry.job_name, "--prompts", p.string()});
        CHECK(o.code == 0);
        CHECK(o.out == "Job " + retry.job_name + " has no failed requests; nothing to resubmit.\n");
        CHECK(w.emulator.job_count() == jobs_before + 1);
    }
    SUBCASE("an unknown job or a job without results is bad input") {
        o = w.run({"create", "--resubmit-failed", "batches/unknown", "--prompts", p.string()});
        CHECK(o.code == 2);
        CHECK(contains(o.err, "Unknown job name"));
        const auto q = w.write("q.jsonl", prompts_text({{"E/e.md", 1}}));
        REQUIRE(w.run({"create", "--prompts", q.string()}).code == 0);
        o = w.run({"create", "--resubmit-failed", w.job_for("E/e.md", 0).job_name, "--prompts", q.string()});
        CHECK(o.code == 2);
        CHECK(contains(o.err, "has no saved results"));
    }
}

TEST_CASE("create refuses batches that already have a pending job, unless forced, and skips completed ones") {
    World w;
    const auto p = w.write("p.jsonl", prompts_text({{"A/a.md", 12}, {"B/b.md", 3}}));
    auto o = w.run({"create", "--prompts", p.string()});
    REQUIRE(o.code == 0);
    CHECK(w.emulator.job_count() == 3);
    const auto a0 = w.job_for("A/a.md", 0).job_name;

    o = w.run({"create", "--prompts", p.string()});
    CHECK(o.code == llmbatch::cli::exit_refused);  // nothing failed: only refused
    CHECK(o.code == 3);
    CHECK(w.emulator.job_count() == 3);
    CHECK(w.tracker().jobs().size() == 3);
    CHECK(contains(o.out, fmt::format("  Batch 0: Refused - Batch 0 of 'A/a.md' already has a pending job, '{}'; wait "
                                      "for it or cancel it, or use --force to create a second job.\n",
                                      a0)));
    CHECK(contains(o.out, "  Created jobs: 0\n  Refused (pending job exists): 3\n"));

    o = w.run({"create", "--prompts", p.string(), "--force", "--sources", "B/b.md"});
    CHECK(o.code == 0);
    CHECK(w.emulator.job_count() == 4);
    CHECK(w.tracker().jobs().size() == 4);
    CHECK(w.tracker().pending().size() == 4);

    w.clock.advance(job_finishes);
    REQUIRE(w.run({"fetch", "--check-all-pending"}).code == 0);
    o = w.run({"create", "--prompts", p.string()});
    CHECK(o.code == 0);
    CHECK(w.emulator.job_count() == 4);
    CHECK(contains(o.out, "Processing A/a.md (12 prompts)...\n  Batch 0: Already completed (skipping)\n"
                          "  Batch 1: Already completed (skipping)\n"));
    CHECK(contains(o.out, "  Skipped (already completed): 3\n  Created jobs: 0\n"));
}

TEST_CASE("create cuts each source into batches of --batch-size requests, one job per batch") {
    World w;
    // Sources interleaved in the file: items are grouped by source, in order of first appearance.
    std::string text;
    for (int i = 0; i < 25; ++i) {
        text += Json{{"source", "Big/big.md"}, {"prompt", fmt::format("big {}", i)}}.dump() + "\n";
        if (i == 3) text += Json{{"source", "Small/s.md"}, {"prompts", {"small", "with context"}}, {"id", 7}}.dump() + "\n";
    }
    const auto p = w.write("p.jsonl", text);
    auto o = w.run({"create", "--prompts", p.string(), "--batch-size", "10", "--display-name-prefix", "run1: "});
    CHECK(o.code == 0);
    const auto created = w.created_requests();
    REQUIRE(created.size() == 4);
    CHECK(created[0].size() == 10);
    CHECK(created[0][0] == "big 0");
    CHECK(created[1].size() == 10);
    CHECK(created[2].size() == 5);
    CHECK(created[2][4] == "big 24");
    CHECK(created[3] == std::vector<std::string>{"small\nwith context"});
    CHECK(w.job_for("Big/big.md", 2).request_keys == std::vector<std::string>{"20", "21", "22", "23", "24"});
    CHECK(w.job_for("Small/s.md", 0).request_keys == std::vector<std::string>{"7"});
    CHECK(w.job_for("Big/big.md", 0).created_at == w.clock.utc_now());
    const auto body = Json::parse(w.emulator.requests().front().body);
    CHECK(body["batch"]["displayName"] == "run1: Big/big.md batch 0");
    CHECK(contains(o.out, "Processing Big/big.md (25 prompts)...\n"));
    CHECK(contains(o.out, "  Total sources: 2\n  Total batches: 4\n"));

    SUBCASE("a JSON array file works the same") {
        World v;
        const auto arr = v.write("p.json", R"([
  {"source": "X/x.md", "prompt": "one"},
  {"source": "X/x.md", "prompt": "two", "labels": {"k": "v"}}
])");
        o = v.run({"create", "--prompts", arr.string()});
        CHECK(o.code == 0);
        CHECK(v.created_requests() == std::vector<std::vector<std::string>>{{"one", "two"}});
        CHECK(v.job_for("X/x.md", 0).labels == std::map<std::string, std::string>{{"k", "v"}});
    }
}

TEST_CASE("create rejects a bad prompts file, naming the file and line, and creates nothing") {
    World w;
    struct Case {
        std::string name;
        std::string text;
        std::string message;
    };
    const std::vector<Case> cases = {
        {"bad-json.jsonl", "{\"source\": \"A\", \"prompt\": \"x\"}\n\n{\"source\": \"A\", \"prompt\": }\n",
         "', line 3: invalid JSON"},
        {"no-source.jsonl", "{\"prompt\": \"x\"}\n", "', line 1: \"source\" is missing"},
        {"no-prompt.jsonl", "{\"source\": \"A\"}\n", "', line 1: \"prompt\" (or \"prompts\") is missing"},
        {"empty-prompt.jsonl", "{\"source\": \"A\", \"prompt\": \"\"}\n", "', line 1: \"prompt\" must be a non-empty string"},
        {"empty-prompts.jsonl", "{\"source\": \"A\", \"prompts\": []}\n",
         "', line 1: \"prompts\" must be a non-empty array of strings"},
        {"both.jsonl", "{\"source\": \"A\", \"prompt\": \"x\", \"prompts\": [\"y\"]}\n", "', line 1: give \"prompt\" or \"prompts\", not both"},
        {"typo.jsonl", "{\"source\": \"A\", \"promt\": \"x\"}\n", "', line 1: unknown field \"promt\""},
        {"dup-id.jsonl", "{\"source\": \"A\", \"prompt\": \"x\", \"id\": \"k\"}\n{\"source\": \"A\", \"prompt\": \"y\", \"id\": \"k\"}\n",
         "', line 2: request key 'k' of source 'A' is already used on line 1"},
        {"escape.jsonl", "{\"source\": \"../outside.md\", \"prompt\": \"x\"}\n", "', line 1: Source '../outside.md'"},
        {"labels.jsonl", "{\"source\": \"A\", \"prompt\": \"x\", \"labels\": {\"k\": \"1\"}}\n{\"source\": \"A\", \"prompt\": \"y\", \"labels\": {\"k\": \"2\"}}\n",
         "', line 2: label \"k\" is \"2\" but line 1"},
        {"empty.jsonl", "\n  \n", "': it holds no prompts"},
        {"array.json", "[\n  {\"source\": \"A\", \"prompt\": \"x\"},\n  {\"source\": \"A\"}\n]\n", "', line 3 (item 2): \"prompt\""},
        {"bad-array.json", "[\n  {\"source\": \"A\", \"prompt\": \"x\"},\n  {\"source\": \n]\n", "', line 4: invalid JSON"},
        {"newline-source.jsonl", "{\"source\": \"A\", \"prompt\": \"x\"}\n{\"source\": \"B\\nC\", \"prompt\": \"y\"}\n",
         "', line 2: \"source\" must not contain control characters"},
        {"tab-source.json", "[\n  {\"source\": \"A\\tB\", \"prompt\": \"x\"}\n]\n",
         "', line 2 (item 1): \"source\" must not contain control characters"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.name);
        const auto p = w.write(c.name, c.text);
        const auto o = w.run({"create", "--prompts", p.string()});
        CHECK(o.code == 2);
        CHECK(contains(o.err, "Error: Prompts file '" + p.string() + c.message));
        CHECK(o.out.empty());
    }
    const auto missing = w.run({"create", "--prompts", (w.dir.path / "nope.jsonl").string()});
    CHECK(missing.code == 2);
    CHECK(contains(missing.err, "Error: Prompts file '" + (w.dir.path / "nope.jsonl").string() + "' not found."));

    const auto good = w.write("good.jsonl", prompts_text({{"A/a.md", 2}}));
    for (const auto& bad : {"0", "-3", "abc", "2.5"}) {
        const auto o = w.run({"create", "--prompts", good.string(), "--batch-size", bad});
        CHECK(o.code == 2);
        CHECK(contains(o.err, fmt::format("--batch-size takes a whole number of at least 1 (got '{}')", bad)));
    }
    auto o = w.run({"create", "--prompts", good.string(), "--sources", "Nope/n.md"});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "Source(s) not in prompts file"));
    o = w.run({"create"});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "create needs --prompts FILE"));

    CHECK(w.emulator.job_count() == 0);
    CHECK_FALSE(fs::exists(w.tracking_file()));
}

TEST_CASE("a JSON-array prompts file of 40,000 items loads in linear time, each item's line kept") {
    World w;
    std::string text = "[\n";
    constexpr int count = 40000;
    for (int i = 0; i < count; ++i)
        text += fmt::format("  {{\"source\": \"S/s{}.md\", \"prompt\": \"Question {}\"}}{}\n", i % 1000, i,
                            i + 1 < count ? "," : "");
    text += "]\n";
    const auto p = w.write("big.json", text);
    const auto start = std::chrono::steady_clock::now();
    const auto file = llmbatch::cli::load_prompts(p);
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(file.prompt_count() == count);
    CHECK(file.sources.size() == 1000);
    CHECK(file.sources.back().items.back().where == fmt::format("line {} (item {})", count + 1, count));
    CHECK(took < std::chrono::seconds(20));  // quadratic, it took minutes
}

TEST_CASE("list prints a framed table of every tracked job") {
    World w;
    auto o = w.run({"list"});
    CHECK(o.code == 0);
    CHECK(o.out == "No jobs in " + w.tracking_file().string() + "\n");

    const auto p = w.write("p.jsonl", prompts_text({{"Geography/gcse-geography.md", 2}, {"Math/m.md", 2}}));
    REQUIRE(w.run({"create", "--prompts", p.string()}).code == 0);
    const auto g = w.job_for("Geography/gcse-geography.md", 0).job_name;
    const auto m = w.job_for("Math/m.md", 0).job_name;
    w.tracker().mark_failed(m, "404 NOT_FOUND");
    const std::string rule(80, '=');
    const std::string pad(g.size() - 8, ' ');
    o = w.run({"list"});
    CHECK(o.code == 0);
    CHECK(o.out == rule + "\n" +                                                 //
                       "Job Name" + pad + "  Status     Source                       Batch\n" +  //
                       rule + "\n" +                                             //
                       g + "  pending    Geography/gcse-geography.md  0\n" +     //
                       m + "  failed     Math/m.md                    0\n" +     //
                       rule + "\n" +                                             //
                       "Total: 2 job(s)\n"
                       "Note: 1 job(s) have failed. Use --show-errors to see error details.\n");
    o = w.run({"list", "--show-errors"});
    CHECK(contains(o.out, m + "  failed     Math/m.md                    0\n  Error: 404 NOT_FOUND\n"));
    o = w.run({"list", "--status", "pending"});
    CHECK(contains(o.out, g));
    CHECK_FALSE(contains(o.out, m));
    CHECK(contains(o.out, "Total: 1 job(s)\n"));
    o = w.run({"list", "--status", "done"});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "--status takes pending, completed, failed or cancelled (got 'done')"));
}

TEST_CASE("cancel cancels pending jobs at the provider and skips the others") {
    World w;
    const auto p = w.write("p.jsonl", prompts_text({{"A/a.md", 2}, {"B/b.md", 2}, {"C/c.md", 2}}));
    REQUIRE(w.run({"create", "--prompts", p.string()}).code == 0);
    const auto a = w.job_for("A/a.md", 0).job_name;
    const auto b = w.job_for("B/b.md", 0).job_name;
    const auto c = w.job_for("C/c.md", 0).job_name;
    w.tracker().mark_completed(c, w.clock.utc_now());

    auto o = w.run({"cancel"});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "Error: Must specify either --job-names or --cancel-all-pending\n"));

    o = w.run({"cancel", "--job-names", a, c});
    CHECK(o.code == 0);
    CHECK(o.out == fmt::format("Cancelling 2 job(s)...\n\nJob {} (A/a.md batch 0)\n  Cancelled\n\n"
                               "Job {} (C/c.md batch 0)\n  Skipped: Job status is 'completed', not 'pending'\n",
                               a, c) +
                       summary_block({"Cancelled: 1", "Failed to cancel: 0", "Skipped (not pending): 1"}));
    CHECK(w.emulator_state(a) == "BATCH_STATE_CANCELLED");
    CHECK(w.emulator_state(b) == "BATCH_STATE_PENDING");
    CHECK(w.tracker().find(a)->status == TrackedStatus::cancelled);
    CHECK(w.tracker().find(a)->error_message == "Cancelled by user.");

    // B finished at the provider before the cancel arrived: the refusal is reported, B stays pending.
    w.clock.advance(job_finishes);
    o = w.run({"cancel", "--cancel-all-pending"});
    CHECK(o.code == 1);
    CHECK(contains(o.out, "Job " + b + " (B/b.md batch 0)\n  Failed to cancel: "));
    CHECK(contains(o.out, "FAILED_PRECONDITION"));
    CHECK(contains(o.out, "  Cancelled: 0\n  Failed to cancel: 1\n"));
    CHECK(w.tracker().find(b)->status == TrackedStatus::pending);
    CHECK(w.run({"fetch", "--job-names", b}).code == 0);

    o = w.run({"cancel", "--job-names", "batches/zzz"});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "batches/zzz"));
}

TEST_CASE("refresh-errors asks the provider again about failed jobs") {
    World w;
    const auto p = w.write("p.jsonl", prompts_text({{"A/a.md", 2}, {"B/b.md", 2}, {"C/c.md", 2}}));
    REQUIRE(w.run({"create", "--prompts", p.string()}).code == 0);
    const auto a = w.job_for("A/a.md", 0).job_name;
    const auto b = w.job_for("B/b.md", 0).job_name;
    const auto c = w.job_for("C/c.md", 0).job_name;
    w.emulator.fail_job(b, 8, "Quota exceeded for the batch.");
    w.clock.advance(job_finishes);
    // A succeeded but was marked failed by an older tool; B failed with an old message.
    w.tracker().mark_failed(a, "Error processing job: connection reset");
    w.tracker().mark_failed(b, "old message");

    auto o = w.run({"refresh-errors"});
    CHECK(o.code == 0);
    CHECK(o.out == fmt::format("Refreshing 2 job(s)...\n\nJob {} (A/a.md batch 0)\n"
                               "  Job actually succeeded! Resetting to pending...\n\n"
                               "Job {} (B/b.md batch 0)\n  Updated error: Quota exceeded for the batch.\n",
                               a, b) +
                       summary_block({"Updated with errors: 1", "Actually succeeded (reset to pending): 1", "Skipped: 0"}) +
                       "Run 'llmbatch fetch --check-all-pending --tracking-file " + w.tracking_file().string() +
                       " --state-file " + w.state_file().string() + " --output-dir " + w.output_dir().string() +
                       "' to save their results.\n");
    CHECK(w.tracker().find(a)->status == TrackedStatus::pending);
    CHECK(w.tracker().find(b)->status == TrackedStatus::failed);
    CHECK(w.tracker().find(b)->error_message == "Quota exceeded for the batch.");

    o = w.run({"refresh-errors", "--job-names", c});
    CHECK(o.code == 0);
    CHECK(contains(o.out, "  Skipped: Job status is 'pending', not 'failed'\n"));
    CHECK(contains(o.out, "  Skipped: 1\n"));

    o = w.run({"fetch", "--check-all-pending"});
    CHECK(o.code == 0);
    CHECK(w.tracker().find(a)->status == TrackedStatus::completed);
}

TEST_CASE("wait polls until the jobs finish and shows their progress") {
    World w;
    const auto p = w.write("p.jsonl", prompts_text({{"A/a.md", 4}, {"B/b.md", 2}}));
    REQUIRE(w.run({"create", "--prompts", p.string()}).code == 0);
    const auto a = w.job_for("A/a.md", 0).job_name;
    const auto b = w.job_for("B/b.md", 0).job_name;

    SUBCASE("one line per change when out is not a terminal, every job followed at once") {
        const auto o = w.run({"wait", "--poll-interval", "10"});
        CHECK(o.code == 0);
        CAPTURE(o.out);
        CHECK(o.out.rfind(fmt::format("Waiting for 2 job(s)...\n"
                                      "{0}: PENDING 0/4\n"
                                      "{1}: PENDING 0/2\n"
                                      "  0/2 job(s) done, 0/6 request(s), 0 s elapsed\n"
                                      "{0}: RUNNING 0/4\n"
                                      "{1}: RUNNING 0/2\n"
                                      "  0/2 job(s) done, 0/6 request(s), 20 s elapsed\n",
                                      a, b),
                          0) == 0);
        for (const auto* line : {"{0}: RUNNING 1/4\n", "{0}: RUNNING 2/4\n", "{0}: RUNNING 3/4\n", "{1}: RUNNING 1/2\n"})
            CHECK(contains(o.out, fmt::format(fmt::runtime(line), a, b)));
        CHECK(contains(o.out, fmt::format("{0}: SUCCEEDED 4/4\n"
                                          "{1}: SUCCEEDED 2/2\n"
                                          "  2/2 job(s) done, 6/6 request(s), 1 min 0 s elapsed\n"
                                          "\n"
                                          "All 2 job(s) finished: 2 succeeded, 0 did not.\n"
                                          "Run 'llmbatch fetch --check-all-pending --tracking-file {2} --state-file {3} "
                                          "--output-dir {4}' to save the results.\n",
                                          a, b, w.tracking_file().string(), w.state_file().string(),
                                          w.output_dir().string())));
        CHECK(w.clock.elapsed() == 60s);
        for (auto s : w.clock.sleeps()) CHECK(s == 10s);
        // wait saves nothing.
        CHECK(w.tracker().pending().size() == 2);
    }
    SUBCASE("one rewritten line on a terminal") {
        const auto o = w.run({"wait", "--poll-interval", "10", "--job-names", a}, true);
        CHECK(o.code == 0);
        CHECK(o.out.rfind(fmt::format("Waiting for 1 job(s)...\n\r{0}: PENDING 0/4\r{0}: RUNNING 0/4", a), 0) == 0);
        CHECK(contains(o.out, fmt::format("\r{0}: SUCCEEDED 4/4\n\nAll 1 job(s) finished", a)));
    }
    SUBCASE("a timeout names the job and its last state") {
        const auto o = w.run({"wait", "--poll-interval", "10", "--timeout", "30"});
        CHECK(o.code == 1);
        CHECK(contains(o.err, "Error: Timed out after 30 s waiting for batch job " + a + "; last state: RUNNING"));
        CHECK(contains(o.err, "Error: Timed out after 30 s waiting for batch job " + b + "; last state: RUNNING"));
        CHECK(contains(o.err, "0/2 job(s) done, "));
        CHECK(contains(o.err, "Run 'llmbatch wait --tracking-file "));
        CHECK(w.clock.elapsed() == 30s);
    }
    SUBCASE("a job that fails makes the exit code 1") {
        w.emulator.fail_job(b, 13, "Internal error encountered.");
        const auto o = w.run({"wait", "--poll-interval", "10", "--job-names", b});
        CHECK(o.code == 1);
        CHECK(contains(o.out, b + ": FAILED 0/2\n"));
        CHECK(contains(o.out, "0 succeeded, 1 did not."));
    }
    SUBCASE("bad values are usage errors") {
        CHECK(w.run({"wait", "--poll-interval", "0"}).code == 2);
        CHECK(w.run({"wait", "--timeout", "x"}).code == 2);
        CHECK(w.clock.elapsed() == 0s);
    }
}

TEST_CASE("--json prints exactly one JSON document for every subcommand") {
    World w;
    const auto p = w.write("p.jsonl", prompts_text({{"A/a.md", 3}, {"B/b.md", 1}}));
    auto doc = [](const Outcome& o) {
        Json j;
        REQUIRE_NOTHROW(j = Json::parse(o.out));
        return j;
    };
    auto o = w.run({"create", "--prompts", p.string(), "--json"});
    CHECK(o.code == 0);
    auto j = doc(o);
    CHECK(j["command"] == "create");
    CHECK(j["summary"]["created"] == 2);
    CHECK(j["jobs"].size() == 2);
    const std::string a = j["jobs"][0]["job_name"];
    CHECK(a == w.job_for("A/a.md", 0).job_name);

    o = w.run({"wait", "--json", "--poll-interval", "10"});
    CHECK(o.code == 0);
    j = doc(o);
    CHECK(j["command"] == "wait");
    CHECK(j["jobs"][0]["state"] == "SUCCEEDED");

    o = w.run({"fetch", "--check-all-pending", "--json"});
    CHECK(o.code == 0);
    j = doc(o);
    CHECK(j["summary"]["completed"] == 2);
    CHECK(j["jobs"][0]["saved"] == 3);
    CHECK(j["jobs"][0]["saved_to"] == w.results_of("A/a.md").string());

    o = w.run({"list", "--json"});
    j = doc(o);
    CHECK(j["total"] == 2);
    CHECK(j["jobs"][0]["status"] == "completed");
    CHECK(j["jobs"][0]["request_keys"] == Json::array({"0", "1", "2"}));

    o = w.run({"cancel", "--cancel-all-pending", "--json"});
    j = doc(o);
    CHECK(j["command"] == "cancel");
    CHECK(j["summary"]["cancelled"] == 0);

    o = w.run({"refresh-errors", "--json"});
    j = doc(o);
    CHECK(j["command"] == "refresh-errors");

    o = w.run({"fetch", "--refetch-hours", "1", "--json"});
    j = doc(o);
    CHECK(j["summary"]["refetched"] == 2);

    o = w.run({"fetch", "--json"});
    CHECK(o.code == 2);
    j = doc(o);
    CHECK(j["exit_code"] == 2);
    CHECK(j["command"] == "fetch");
    CHECK(contains(j["error"].get<std::string>(), "No jobs specified"));
}

TEST_CASE("--help works for the tool and every subcommand; bad usage exits 2") {
    World w;
    for (const auto* command : {"create", "fetch", "list", "cancel", "refresh-errors", "wait"}) {
        CAPTURE(command);
        const auto o = w.run({command, "--help"});
        CHECK(o.code == 0);
        CHECK(o.out.rfind(std::string("Usage: llmbatch ") + command, 0) == 0);
        CHECK(contains(o.out, "--tracking-file PATH"));
    }
    auto o = w.run({"--help"});
    CHECK(o.code == 0);
    CHECK(contains(o.out, "refresh-errors"));
    o = w.run({"-h"});
    CHECK(o.code == 0);

    std::ostringstream out, err;
    CHECK(llmbatch::cli::run({}, w.backend, out, err) == 2);
    CHECK(contains(err.str(), "no command given"));
    o = w.run({"frobnicate"});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "unknown command 'frobnicate'"));
    o = w.run({"list", "--tracking-file"});
    CHECK(o.code == 2);
    o = w.run({"list", "extra"});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "unexpected argument 'extra' for 'list'"));
    o = w.run({"--json", "list", "--show-errors"});
    CHECK(o.code == 0);
    CHECK(Json::parse(o.out)["total"] == 0);
}

TEST_CASE("the emulator's jobs outlive the backend through its state file") {
    World w;
    const auto p = w.write("p.jsonl", prompts_text({{"A/a.md", 3}}));
    std::string job;
    {
        GeminiEmulator first(w.clock);
        Backend process1(first, llmbatch::cli::EmulatorPersistence::state_file);
        const auto o = w.run_on(process1, {"create", "--prompts", p.string()});
        REQUIRE(o.code == 0);
        job = w.job_for("A/a.md", 0).job_name;
        CHECK(contains(o.err, "emulator.json"));
    }
    const auto state = fs::path(w.tracking_file().string() + ".emulator.json");
    REQUIRE(fs::exists(state));
    CHECK(contains(slurp(state), job));

    w.clock.advance(job_finishes);
    GeminiEmulator second(w.clock);
    CHECK(second.job_count() == 0);
    Backend process2(second, llmbatch::cli::EmulatorPersistence::state_file);
    auto o = w.run_on(process2, {"fetch", "--check-all-pending"});
    CHECK(o.code == 0);
    CHECK(contains(o.out, "  Saved 3 result(s) to "));
    CHECK(second.job_count() == 1);
    CHECK(w.tracker().find(job)->status == TrackedStatus::completed);

    SUBCASE("a custom state file") {
        const auto custom = w.dir.path / "emu" / "state.json";
        GeminiEmulator third(w.clock);
        Backend process3(third, llmbatch::cli::EmulatorPersistence::state_file);
        const auto q = w.write("q.jsonl", prompts_text({{"B/b.md", 1}}));
        const auto created = w.run_on(process3, {"create", "--prompts", q.string(), "--emulator-state", custom.string()});
        CAPTURE(created.out);
        CAPTURE(created.err);
        REQUIRE(created.code == 0);
        CHECK(fs::exists(custom));
        CHECK_FALSE(contains(slurp(state), w.job_for("B/b.md", 0).job_name));
    }
    SUBCASE("an unusable state file is reported and left alone") {
        std::ofstream(state, std::ios::binary | std::ios::trunc) << "{not json";
        GeminiEmulator fourth(w.clock);
        Backend process4(fourth, llmbatch::cli::EmulatorPersistence::state_file);
        o = w.run_on(process4, {"fetch", "--check-all-pending"});
        CHECK(o.code == 1);
        CHECK(contains(o.err, "Emulator state file '" + state.string() + "' cannot be used"));
        CHECK(slurp(state) == "{not json");
    }
}

}  // TEST_SUITE
