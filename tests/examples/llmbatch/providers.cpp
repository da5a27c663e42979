// The llmbatch tool with several providers: `create --provider` sends jobs to Gemini, OpenAI or
// Mistral (each on its emulator here), the tracking file holds jobs of all three, and every other
// command works on them by the provider each job was created on.
#include "cli.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support.hpp"

TEST_SUITE("cli") {

TEST_CASE("create --provider sends jobs to OpenAI and Mistral; fetch, list and cancel follow each job's provider") {
    World w;
    std::string text;
    for (const auto* source : {"A/a.md", "B/b.md", "C/c.md", "D/d.md"})
        for (int i = 0; i < 3; ++i)
            text += Json{{"source", source}, {"prompt", fmt::format("Categorize {} part {}", source, i)},
                         {"id", fmt::format("{}-q{}", source[0], i)}}
                        .dump() +
                    "\n";
    const auto p = w.write("p.jsonl", text);
    w.backend.openai_emulator().set_out_of_order(true);  // answers in reverse: the keys restore the order
    w.backend.openai_emulator().inject_request_error(1, 400, "max_tokens is too large", "invalid_request_error");

    auto o = w.run({"create", "--prompts", p.string(), "--sources", "A/a.md", "--provider", "openai"});
    REQUIRE(o.code == 0);
    o = w.run({"create", "--prompts", p.string(), "--sources", "B/b.md", "D/d.md", "--provider", "mistral"});
    REQUIRE(o.code == 0);
    o = w.run({"create", "--prompts", p.string(), "--sources", "C/c.md"});
    REQUIRE(o.code == 0);
    const auto a = w.job_for("A/a.md", 0);
    const auto b = w.job_for("B/b.md", 0);
    const auto c = w.job_for("C/c.md", 0);
    const auto d = w.job_for("D/d.md", 0);
    CHECK(a.provider == "openai");
    CHECK(a.job_name.rfind("batch_", 0) == 0);
    CHECK(b.provider == "mistral");
    CHECK(d.provider == "mistral");
    CHECK(c.provider == "gemini");  // no --provider: the first available (every emulator is)
    CHECK(w.backend.openai_emulator().job_count() == 1);
    CHECK(w.backend.mistral_emulator().job_count() == 2);
    CHECK(w.emulator.job_count() == 1);

    o = w.run({"cancel", "--job-names", d.job_name});
    CHECK(o.code == 0);
    CHECK(w.tracker().find(d.job_name)->status == TrackedStatus::cancelled);

    w.clock.advance(job_finishes + 30s);  // OpenAI's batches also finalize
    o = w.run({"fetch", "--check-all-pending"});
    CHECK(o.code == 0);
    CHECK(contains(o.out, "  Warning: 1 request(s) failed (indices 1)"));
    for (const auto& job : {a, b, c}) CHECK(w.tracker().find(job.job_name)->status == TrackedStatus::completed);

    const auto lines = jsonl(w.results_of("A/a.md"));
    REQUIRE(lines.size() == 3);
    for (std::size_t i = 0; i < 3; ++i) {
        CAPTURE(i);
        CHECK(lines[i]["request_key"] == fmt::format("A-q{}", i));
        CHECK(lines[i]["status"] == (i == 1 ? "error" : "ok"));
    }
    CHECK(lines[1]["error"]["message"] == "max_tokens is too large");
    CHECK(lines[0]["value"]["category"].is_string());
    REQUIRE(jsonl(w.results_of("B/b.md")).size() == 3);
    CHECK(jsonl(w.results_of("B/b.md"))[2]["request_key"] == "B-q2");

    o = w.run({"list"});
    CHECK(o.code == 0);
    for (const auto& job : {a, b, c, d}) CHECK(contains(o.out, job.job_name));

    // A refetch reads each job again from its own provider.
    o = w.run({"fetch", "--refetch-hours", "1"});
    CHECK(o.code == 0);
    CHECK(jsonl(w.results_of("A/a.md")).size() == 3);
}

TEST_CASE("--provider names a known provider; --model goes to the provider the jobs go to") {
    World w;
    const auto p = w.write("p.jsonl", prompts_text({{"A/a.md", 2}}));
    auto o = w.run({"create", "--prompts", p.string(), "--provider", "cohere"});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "unknown provider 'cohere' (expected gemini, openai, mistral or anthropic)"));
    CHECK(w.tracker().jobs().empty());

    o = w.run({"create", "--prompts", p.string(), "--provider", "mistral", "--model", "mistral-large-latest"});
    REQUIRE(o.code == 0);
    const auto requests = w.backend.mistral_emulator().requests();
    bool seen = false;
    for (const auto& r : requests)
        if (r.method == "POST" && r.url.find("/v1/batch/jobs") != std::string::npos) {
            CHECK(Json::parse(r.body)["model"] == "mistral-large-latest");
            seen = true;
        }
    CHECK(seen);
}

TEST_CASE("create --provider anthropic: keys the API would refuse are mapped and come back in input order") {
    World w;
    std::string text;
    for (int i = 0; i < 4; ++i)
        text += Json{{"source", "A/a.md"}, {"prompt", fmt::format("Categorize part {}", i)}, {"id", fmt::format("q.{}/x", i)}}
                    .dump() +
                "\n";
    const auto p = w.write("p.jsonl", text);
    REQUIRE(w.run({"create", "--prompts", p.string(), "--provider", "anthropic"}).code == 0);
    const auto job = w.job_for("A/a.md", 0);
    CHECK(job.provider == "anthropic");
    CHECK(w.backend.anthropic_emulator().job_count() == 1);
    w.clock.advance(job_finishes);
    const auto o = w.run({"fetch", "--check-all-pending"});
    CHECK(o.code == 0);
    const auto lines = jsonl(w.results_of("A/a.md"));
    REQUIRE(lines.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
        CAPTURE(i);
        CHECK(lines[i]["request_key"] == fmt::format("q.{}/x", i));
        CHECK(lines[i]["status"] == "ok");
    }
}

TEST_CASE("resubmitting a job's failed requests goes to the job's own provider") {
    World w;
    const auto p = w.write("p.jsonl", prompts_text({{"A/a.md", 4}}));
    w.backend.mistral_emulator().inject_request_error(2, 400, "bad request", "invalid_request_error");
    REQUIRE(w.run({"create", "--prompts", p.string(), "--provider", "mistral"}).code == 0);
    const auto original = w.job_for("A/a.md", 0);
    w.clock.advance(job_finishes);
    REQUIRE(w.run({"fetch", "--check-all-pending"}).code == 0);
    w.backend.mistral_emulator().clear_injections();

    auto o = w.run({"create", "--resubmit-failed", original.job_name, "--prompts", p.string()});
    CHECK(o.code == 0);
    CHECK(w.backend.mistral_emulator().job_count() == 2);
    CHECK(w.emulator.job_count() == 0);
    std::string resubmitted;
    for (const auto& job : w.tracker().jobs())
        if (job.job_name != original.job_name) resubmitted = job.provider;
    CHECK(resubmitted == "mistral");
}

TEST_CASE("the emulators' jobs of every provider outlive the backend through one state file") {
    TempDir dir;
    const auto tracking = (dir.path / "jobs.json").string();
    const auto prompts = (dir.path / "p.jsonl");
    std::ofstream(prompts) << prompts_text({{"A/a.md", 2}});
    const std::vector<std::string> files = {"--tracking-file", tracking, "--state-file", (dir.path / "state.json").string(),
                                            "--output-dir", (dir.path / "out").string()};
    ManualClock clock;
    auto run = [&](std::vector<std::string> args) {
        args.insert(args.end(), files.begin(), files.end());
        llmbatch::cli::EmulatorBackend<ManualClock> backend(GeminiEmulator(clock),
                                                            llmbatch::cli::EmulatorPersistence::state_file);
        std::ostringstream out, err;
        const int code = llmbatch::cli::run(args, backend, out, err);
        return Outcome{code, out.str(), err.str()};
    };
    REQUIRE(run({"create", "--prompts", prompts.string(), "--provider", "openai"}).code == 0);
    // One file, one section per provider; no file per provider beside it.
    const auto state = Json::parse(slurp(tracking + ".emulator.json"));
    CHECK(state.contains("openai"));
    const auto job = JobTracker(tracking, dir.path / "state.json").jobs().front().job_name;
    CHECK(state["openai"].dump().find(job) != std::string::npos);
    CHECK_FALSE(fs::exists(tracking + ".emulator.openai.json"));
    clock.advance(job_finishes + 30s);
    const auto o = run({"fetch", "--check-all-pending"});  // a new backend: the OpenAI job comes from the file
    CHECK(o.code == 0);
    CHECK(contains(o.out, "  Saved 2 result(s) to "));
}

TEST_CASE("the live backend's description never shows a key given in --base-url") {
    const std::string said =
        llmbatch::cli::describe_api("gemini", "https://user:SECRETKEY@gemini.test:8443/v1beta?key=SECRETKEY2#frag");
    CHECK(said.find("SECRET") == std::string::npos);
    CHECK(said == "the gemini API at https://gemini.test:8443/v1beta");
}

}  // TEST_SUITE
