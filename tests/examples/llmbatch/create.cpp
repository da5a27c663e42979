// Tests of `llmbatch create` and the prompts file it reads (examples/llmbatch/commands/create.hpp,
// resubmit.hpp), in process on the emulators and a manual clock.
#include "cli.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "support.hpp"

TEST_SUITE("cli") {

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
    // The display name, then the create's client token (how a create whose reply is lost is found).
    const auto display = body["batch"]["displayName"].get<std::string>();
    CHECK(display.rfind("run1: Big/big.md batch 0 [", 0) == 0);
    CHECK(display.size() == std::string("run1: Big/big.md batch 0 []").size() + 32);
    CHECK(llmbatch::detail::gemini_client_token(display).size() == 32);
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

}  // TEST_SUITE
