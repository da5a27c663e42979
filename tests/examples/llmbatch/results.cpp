// Tests of the llmbatch tool's views of saved results: `show JOB` and `export --format csv|jsonl`,
// in process on the Gemini emulator.
#include "cli.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support.hpp"

TEST_SUITE("cli") {

namespace {

/// Six questions of one source, two of which fail the first time; after a resubmit and a fetch
/// every request has succeeded once. Returns the original job and the resubmit's.
std::pair<std::string, std::string> failed_then_resubmitted(World& w) {
    std::string text;
    for (int i = 0; i < 6; ++i)
        text += Json{{"source", "Doc/d.md"}, {"prompt", fmt::format("Question {}, with a comma", i)},
                     {"id", fmt::format("q{}", i)}}
                    .dump() +
                "\n";
    const auto p = w.write("p.jsonl", text);
    w.emulator.inject_request_error(1, 3, "Request contains an \"invalid\" argument.", "INVALID_ARGUMENT");
    w.emulator.inject_request_error(4, 3, "Request contains an \"invalid\" argument.", "INVALID_ARGUMENT");
    REQUIRE(w.run({"create", "--prompts", p.string()}).code == 0);
    const auto original = w.job_for("Doc/d.md", 0).job_name;
    w.clock.advance(job_finishes);
    REQUIRE(w.run({"fetch", "--check-all-pending"}).code == 0);
    w.emulator.clear_injections();
    REQUIRE(w.run({"create", "--resubmit-failed", original, "--prompts", p.string()}).code == 0);
    const auto retry = w.tracker().jobs().back().job_name;
    w.clock.advance(job_finishes);
    REQUIRE(w.run({"fetch", "--check-all-pending"}).code == 0);
    return {original, retry};
}

}  // namespace

TEST_CASE("show prints a job as tracked, at the provider, and its saved results") {
    World w;
    const auto [original, retry] = failed_then_resubmitted(w);
    auto o = w.run({"show", original, "--results", "2"});
    CHECK(o.code == 0);
    CHECK(contains(o.out, "Job " + original + "\n  Provider: gemini\n  Source: Doc/d.md (batch 0, 6 request(s))\n"));
    CHECK(contains(o.out, "  Tracked status: completed (completed "));
    CHECK(contains(o.out, "  At the provider: SUCCEEDED (4 succeeded, 2 failed, 0 pending, 0 cancelled, 0 expired of 6)\n"));
    CHECK(contains(o.out, "  Saved results: 6 line(s) in " + w.results_of("Doc/d.md").string() + ", 2 failed\n"));
    CHECK(contains(o.out, "    [1] q1: INVALID_ARGUMENT Request contains an \"invalid\" argument.\n    ... and 4 more\n"));
    // The tokens the provider reported are saved with each line and added up.
    const auto first = jsonl(w.results_of("Doc/d.md")).front();
    REQUIRE(first.contains("usage"));
    CHECK(first["usage"]["input"].get<std::int64_t>() > 0);
    CHECK(contains(o.out, "  Tokens: "));

    o = w.run({"show", "--job-names", retry, "--json"});
    CHECK(o.code == 0);
    const auto doc = Json::parse(o.out);
    CHECK(doc["jobs"][0]["job_name"] == retry);
    CHECK(doc["jobs"][0]["labels"]["resubmit_of"] == original);
    CHECK(doc["jobs"][0]["saved_results"] == 2);
    CHECK(doc["jobs"][0]["failed_results"] == 0);
    CHECK(doc["jobs"][0]["results"].size() == 2);
    CHECK(doc["jobs"][0]["usage"]["output"].get<std::int64_t>() > 0);

    // The provider cannot be reached: the tracked record and the results are still shown.
    w.emulator.inject_http_errors(40, 503, "UNAVAILABLE", "The service is currently unavailable.");
    o = w.run({"show", retry});
    CHECK(o.code == 1);
    CHECK(contains(o.out, "  At the provider: could not be checked: "));
    CHECK(contains(o.out, "  Saved results: 2 line(s)"));
    w.emulator.clear_injections();

    o = w.run({"show", "batches/nope"});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "Unknown job name(s), not in " + w.tracking_file().string() + ": batches/nope"));
}

TEST_CASE("export --format csv writes the newest outcome of each request, --all every line") {
    World w;
    const auto [original, retry] = failed_then_resubmitted(w);
    auto o = w.run({"export", "--format", "csv"});
    CHECK(o.code == 0);
    std::vector<std::string> rows;
    for (std::size_t at = 0; at < o.out.size();) {
        const auto end = o.out.find("\r\n", at);
        REQUIRE(end != std::string::npos);
        rows.push_back(o.out.substr(at, end - at));
        at = end + 2;
    }
    REQUIRE(rows.size() == 7);
    CHECK(rows[0] == "source,request_key,status,text,job,batch_index,request_index,error_status,error_message");
    for (int i = 0; i < 6; ++i) {
        CAPTURE(i);
        const auto& job = (i == 1 || i == 4) ? retry : original;
        CHECK(rows[static_cast<std::size_t>(i) + 1].rfind(fmt::format("Doc/d.md,q{},ok,", i), 0) == 0);
        CHECK(contains(rows[static_cast<std::size_t>(i) + 1], "," + job + ",0,"));
    }

    o = w.run({"export", "--format", "jsonl", "--all", "--out", (w.dir.path / "all.jsonl").string()});
    CHECK(o.code == 0);
    CHECK(o.out == "Wrote 8 row(s) of 1 source(s) to " + (w.dir.path / "all.jsonl").string() + "\n");
    const auto all = jsonl(w.dir.path / "all.jsonl");
    REQUIRE(all.size() == 8);
    CHECK(all[1]["status"] == "error");
    CHECK(all[1]["error_status"] == "INVALID_ARGUMENT");
    CHECK(all[1]["error_message"] == "Request contains an \"invalid\" argument.");
    CHECK(all[6]["job"] == retry);
    CHECK_FALSE(fs::exists(w.dir.path / "all.jsonl.partial"));

    // CSV quoting: a field with quotes is quoted and its quotes doubled.
    o = w.run({"export", "--format", "csv", "--all", "--sources", "Doc/d.md"});
    CHECK(contains(o.out, ",INVALID_ARGUMENT,\"Request contains an \"\"invalid\"\" argument.\"\r\n"));

    o = w.run({"export", "--format", "xlsx"});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "--format takes csv or jsonl (got 'xlsx')"));
    o = w.run({"export", "--format", "csv", "--sources", "../x"});
    CHECK(o.code == 2);
}

}  // TEST_SUITE
