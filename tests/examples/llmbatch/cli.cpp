// Tests of the llmbatch tool's other commands (list, cancel, refresh-errors, wait), --json, --help
// and the emulators' state file (examples/llmbatch/), in process on a manual clock.
#include "cli.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "support.hpp"

TEST_SUITE("cli") {

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
