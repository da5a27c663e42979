// The llmbatch tool's emulator options (examples/llmbatch/emulator_backend.hpp): failures injected
// from the command line reach the emulator of the provider jobs go to, hit only the next job, and
// are refused when unreadable.
#include "cli.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support.hpp"

TEST_SUITE("cli") {

namespace {

std::filesystem::path three_prompts(World& w) {
    std::string text;
    for (int i = 0; i < 3; ++i)
        text += Json{{"source", "A/a.md"}, {"prompt", fmt::format("Question {}", i)}, {"id", fmt::format("q{}", i)}}
                    .dump() +
                "\n";
    return w.write("p.jsonl", text);
}

}  // namespace

TEST_CASE("--emulator-fail-requests fails those requests of the next job only, so the resubmit succeeds") {
    for (const std::string provider : {"gemini", "openai", "mistral", "anthropic"}) {
        CAPTURE(provider);
        World w;
        const auto p = three_prompts(w);
        auto o = w.run({"create", "--prompts", p.string(), "--provider", provider, "--emulator-fail-requests", "0,2"});
        REQUIRE(o.code == 0);
        const auto original = w.job_for("A/a.md", 0);
        w.clock.advance(job_finishes + 30s);
        o = w.run({"fetch", "--check-all-pending"});
        CHECK(o.code == 0);
        CHECK(contains(o.out, "  Warning: 2 request(s) failed (indices 0, 2)"));
        CHECK(contains(o.out, "llmbatch create --resubmit-failed " + original.job_name));
        auto lines = jsonl(w.results_of("A/a.md"));
        REQUIRE(lines.size() == 3);
        CHECK(lines[0]["status"] == "error");
        CHECK(lines[1]["status"] == "ok");
        CHECK(lines[2]["status"] == "error");

        o = w.run({"list"});
        CHECK(contains(o.out, fmt::format("  2 of 3 request(s) failed; to retry them: llmbatch create --resubmit-failed "
                                          "{} --prompts <the prompts file> --tracking-file ",
                                          original.job_name)));

        o = w.run({"create", "--resubmit-failed", original.job_name, "--prompts", p.string()});
        REQUIRE(o.code == 0);
        const auto retry = w.tracker().jobs().back();
        o = w.run({"list"});
        CHECK(contains(o.out, fmt::format("  2 of 3 request(s) failed; resubmitted as {}\n", retry.job_name)));
        CHECK(contains(o.out, fmt::format("  Resubmits the failed requests of {}\n", original.job_name)));
        o = w.run({"list", "--json"});
        const auto listed = Json::parse(o.out)["jobs"];
        REQUIRE(listed.size() == 2);
        CHECK(listed[0]["failed_requests"] == 2);
        CHECK(listed[0]["resubmitted_by"] == Json::array({retry.job_name}));
        CHECK_FALSE(listed[1].contains("failed_requests"));  // still pending
        w.clock.advance(job_finishes + 30s);
        o = w.run({"fetch", "--check-all-pending"});
        CHECK(o.code == 0);
        CHECK_FALSE(contains(o.out, "Warning"));
        lines = jsonl(w.results_of("A/a.md"));
        REQUIRE(lines.size() == 5);  // the original's three, then the resubmit's two, both ok
        CHECK(lines[3]["status"] == "ok");
        CHECK(lines[4]["status"] == "ok");
    }
}

TEST_CASE("--emulator-fail-job fails the next job as a whole; --emulator-http-errors are retried and said") {
    World w;
    const auto p = three_prompts(w);
    auto o = w.run({"create", "--prompts", p.string(), "--provider", "openai", "--emulator-fail-job"});
    REQUIRE(o.code == 0);
    CHECK(w.backend.openai_emulator().job_count() == 1);
    w.clock.advance(job_finishes + 30s);
    // The errors go to the emulator of --provider; the fetch's calls are retried through them.
    o = w.run({"fetch", "--check-all-pending", "--provider", "openai", "--emulator-http-errors", "2:503"});
    CHECK(contains(o.err, "(HTTP 503); retrying in "));
    CHECK(contains(o.err, "(attempt 3 of "));
    CHECK(o.code == 1);
    CHECK(w.tracker().jobs().front().status == TrackedStatus::failed);

    // The job failure was used up: the next job succeeds.
    o = w.run({"create", "--prompts", p.string(), "--provider", "openai", "--force"});
    REQUIRE(o.code == 0);
    w.clock.advance(job_finishes + 30s);
    o = w.run({"fetch", "--check-all-pending"});
    CHECK(o.code == 0);
}

TEST_CASE("emulator fault options refuse what they cannot read, naming the option") {
    World w;
    const auto p = three_prompts(w);
    for (const std::vector<std::string>& bad : {std::vector<std::string>{"--emulator-fail-requests", "1,x"},
                                               {"--emulator-fail-requests", ""},
                                               {"--emulator-fail-requests", "-1"},
                                               {"--emulator-http-errors", "0"},
                                               {"--emulator-http-errors", "2:200"},
                                               {"--emulator-http-errors", "2:"}}) {
        CAPTURE(bad[1]);
        std::vector<std::string> args{"create", "--prompts", p.string()};
        args.insert(args.end(), bad.begin(), bad.end());
        const auto o = w.run(args);
        CHECK(o.code == 2);
        CHECK(contains(o.err, "Error: " + bad[0] + " takes "));
    }
    CHECK(w.emulator.job_count() == 0);
}

}
