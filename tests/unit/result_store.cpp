// result_store.hpp: JSON Lines results per source, error lines kept, refetches replacing lines.
#include "llmbatch/result_store.hpp"

#include <doctest/doctest.h>

#include "../support/temp_dir.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

namespace tests_unit_result_store {

namespace fs = std::filesystem;
using llmbatch::BatchResults;
using llmbatch::ErrorStatus;
using llmbatch::InvalidArgument;
using llmbatch::Json;
using llmbatch::RequestOutcome;
using llmbatch::ResultFileError;
using llmbatch::ResultStore;
using llmbatch::TrackedJob;

namespace {

/// A fresh directory, removed with its content at the end of the test.
struct TempDir : llmbatch_test::TempDir {
    TempDir() : llmbatch_test::TempDir("llmbatch-results") {}
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

void write_plain(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

TrackedJob job_named(std::string name, std::int64_t batch = 0) {
    TrackedJob job;
    job.provider = "gemini";
    job.job_name = std::move(name);
    job.source = "History/gcse-history.md";
    job.batch_index = batch;
    return job;
}

RequestOutcome ok(std::size_t index, Json value, std::string key = {}) {
    RequestOutcome o;
    o.index = index;
    o.key = key.empty() ? std::to_string(index) : std::move(key);
    o.value = std::move(value);
    return o;
}

RequestOutcome failed(std::size_t index, ErrorStatus error) {
    RequestOutcome o;
    o.index = index;
    o.key = std::to_string(index);
    o.error = std::move(error);
    return o;
}

BatchResults results_of(const std::string& job, std::vector<RequestOutcome> outcomes) {
    return BatchResults("gemini", job, std::move(outcomes));
}

std::vector<std::string> jobs_in(const std::vector<Json>& lines) {
    std::vector<std::string> out;
    for (const auto& l : lines) out.push_back(l.at("job").get<std::string>());
    return out;
}

}  // namespace

TEST_SUITE("unit") {
    TEST_CASE("a source's file is <output_dir>/<source>.jsonl, subdirectories kept") {
        ResultStore store("out");
        CHECK(store.path_for("History/gcse-history.md") == fs::path("out/History/gcse-history.md.jsonl"));
        CHECK(store.path_for("plain") == fs::path("out/plain.jsonl"));
        CHECK(store.path_for("a.md") != store.path_for("a.txt"));
    }

    TEST_CASE("sources that would leave the output directory or are ambiguous are refused") {
        TempDir dir;
        ResultStore store(dir.path);
        const std::vector<std::string> sources = {"",   "/etc/passwd", "../escape", "a/../../b", "..", ".",
                                                  "./a", "a//b",     "a/",         std::string("a\0b", 3)};
        for (const auto& source : sources) {
            CAPTURE(source);
            CHECK_THROWS_AS((void)store.path_for(source), InvalidArgument);
            CHECK_THROWS_AS(store.save(source, job_named("j"), results_of("j", {ok(0, 1)})), InvalidArgument);
            CHECK_THROWS_AS((void)store.load(source), InvalidArgument);
        }
        CHECK(fs::is_empty(dir.path));
    }

    TEST_CASE("save writes one line per request in order, failures as error lines") {
        TempDir dir;
        ResultStore store(dir.path);
        auto job = job_named("batches/abc", 2);
        job.labels = {{"subject", "History"}};
        const auto path = store.save("History/gcse-history.md", job,
                                     results_of("batches/abc", {ok(0, Json{{"issue_id", 0}}),
                                                                failed(1, {3, "INVALID_ARGUMENT", "bad prompt", nullptr}),
                                                                ok(2, Json::array({1, 2}))}));
        CHECK(path == dir.path / "History" / "gcse-history.md.jsonl");
        const auto lines = lines_of(slurp(path));
        REQUIRE(lines.size() == 3);
        CHECK(lines[0] ==
              R"({"job":"batches/abc","provider":"gemini","source":"History/gcse-history.md","batch_index":2,)"
              R"("request_index":0,"request_key":"0","labels":{"subject":"History"},"status":"ok",)"
              R"("value":{"issue_id":0},"error":null})");
        CHECK(lines[1] ==
              R"({"job":"batches/abc","provider":"gemini","source":"History/gcse-history.md","batch_index":2,)"
              R"("request_index":1,"request_key":"1","labels":{"subject":"History"},"status":"error","value":null,)"
              R"("error":{"code":3,"status":"INVALID_ARGUMENT","message":"bad prompt"}})");

        const auto loaded = store.load("History/gcse-history.md");
        REQUIRE(loaded.size() == 3);
        CHECK(loaded[2]["value"] == Json::array({1, 2}));
        CHECK(loaded[1]["status"] == "error");
        CHECK(store.failed_request_indices("History/gcse-history.md", "batches/abc") == std::vector<std::size_t>{1});
    }

    TEST_CASE("error details are kept, and a request with neither value nor error is saved as an error") {
        TempDir dir;
        ResultStore store(dir.path);
        RequestOutcome empty;
        empty.index = 1;
        (void)store.save("s", job_named("j"),
                         results_of("j", {failed(0, {13, "INTERNAL", "oops", Json{{"retry", true}}}), empty}));
        const auto lines = store.load("s");
        REQUIRE(lines.size() == 2);
        CHECK(lines[0]["error"]["details"] == Json{{"retry", true}});
        CHECK(lines[1]["status"] == "error");
        CHECK_FALSE(lines[1]["error"]["message"].get<std::string>().empty());
        CHECK(store.failed_request_indices("s", "j") == std::vector<std::size_t>{0, 1});
    }

    TEST_CASE("request keys fall back to the tracked job's keys when the outcome has none") {
        TempDir dir;
        ResultStore store(dir.path);
        auto job = job_named("j");
        job.request_keys = {"issue-7", "issue-8"};
        RequestOutcome o;
        o.index = 1;
        o.value = "x";
        (void)store.save("s", job, results_of("j", {o}));
        CHECK(store.load("s").at(0)["request_key"] == "issue-8");
    }

    TEST_CASE("the tracked job's keys win over the provider's positional keys") {
        TempDir dir;
        ResultStore store(dir.path);
        auto job = job_named("j");
        job.request_keys = {"issue-7", "issue-8"};
        RequestOutcome a, b;
        a.index = 0;
        a.key = "0";  // as a provider fills it: the request's position in the job
        a.value = "x";
        b.index = 1;
        b.key = "1";
        b.value = "y";
        (void)store.save("s", job, results_of("j", {a, b}));
        const auto lines = store.load("s");
        CHECK(lines.at(0)["request_key"] == "issue-7");
        CHECK(lines.at(1)["request_key"] == "issue-8");
    }

    TEST_CASE("a refetch replaces the job's lines in place and leaves other jobs' lines untouched") {
        TempDir dir;
        ResultStore store(dir.path);
        const std::string source = "Geography/gcse-geography.md";
        (void)store.save(source, job_named("first"), results_of("first", {ok(0, "a0")}));
        (void)store.save(source, job_named("refetched", 1),
                         results_of("refetched", {ok(0, "old0"), failed(1, {14, "UNAVAILABLE", "try later", nullptr})}));
        (void)store.save(source, job_named("last", 2), results_of("last", {ok(0, "c0")}));
        const auto before = lines_of(slurp(store.path_for(source)));
        REQUIRE(before.size() == 4);
        CHECK(store.failed_request_indices(source, "refetched") == std::vector<std::size_t>{1});

        (void)store.save(source, job_named("refetched", 1), results_of("refetched", {ok(0, "new0"), ok(1, "new1")}));
        const auto after = lines_of(slurp(store.path_for(source)));
        REQUIRE(after.size() == 4);
        CHECK(after[0] == before[0]);
        CHECK(after[3] == before[3]);
        const auto loaded = store.load(source);
        CHECK(jobs_in(loaded) == std::vector<std::string>{"first", "refetched", "refetched", "last"});
        CHECK(loaded[1]["value"] == "new0");
        CHECK(loaded[2]["value"] == "new1");
        CHECK(store.failed_request_indices(source, "refetched").empty());

        // Saving the same results again changes nothing.
        const auto text = slurp(store.path_for(source));
        (void)store.save(source, job_named("refetched", 1), results_of("refetched", {ok(0, "new0"), ok(1, "new1")}));
        CHECK(slurp(store.path_for(source)) == text);
    }

    TEST_CASE("lines written by others keep their exact text") {
        TempDir dir;
        ResultStore store(dir.path);
        const std::string foreign = R"({"value": 1,   "job": "hand-made", "extra": [true]})";
        write_plain(store.path_for("s"), foreign + "\n\n");
        (void)store.save("s", job_named("j"), results_of("j", {ok(0, 2)}));
        const auto lines = lines_of(slurp(store.path_for("s")));
        REQUIRE(lines.size() == 2);
        CHECK(lines[0] == foreign);
        CHECK(jobs_in(store.load("s")) == std::vector<std::string>{"hand-made", "j"});
    }

    TEST_CASE("an unreadable line stops save and load, naming file and line, and the file stays as it was") {
        TempDir dir;
        ResultStore store(dir.path);
        const std::string good = R"({"job":"a","status":"ok","value":1})";
        for (const std::string& bad :
             std::vector<std::string>{R"({"job":"b","status":"ok","val)", "[1, 2]", R"({"status":"ok"})", R"({"job": 7})"}) {
            CAPTURE(bad);
            const std::string content = good + "\n" + bad + "\n";
            write_plain(store.path_for("s"), content);
            try {
                (void)store.save("s", job_named("j"), results_of("j", {ok(0, 1)}));
                FAIL("expected ResultFileError");
            } catch (const ResultFileError& e) {
                CHECK(e.line() == 2);
                CHECK(e.path() == store.path_for("s"));
                CHECK(std::string(e.what()).find(store.path_for("s").string()) != std::string::npos);
                CHECK(std::string(e.what()).find("line 2") != std::string::npos);
            }
            CHECK_THROWS_AS((void)store.load("s"), ResultFileError);
            CHECK_THROWS_AS((void)store.failed_request_indices("s", "a"), ResultFileError);
            CHECK(slurp(store.path_for("s")) == content);
        }
    }

    TEST_CASE("save refuses results that would erase or mislabel lines") {
        TempDir dir;
        ResultStore store(dir.path);
        (void)store.save("s", job_named("j"), results_of("j", {ok(0, 1)}));
        const auto content = slurp(store.path_for("s"));
        CHECK_THROWS_AS(store.save("s", job_named("j"), results_of("j", {})), InvalidArgument);
        CHECK_THROWS_AS(store.save("s", job_named("j"), results_of("other", {ok(0, 1)})), InvalidArgument);
        CHECK_THROWS_AS(store.save("s", job_named(""), results_of("", {ok(0, 1)})), InvalidArgument);
        CHECK(slurp(store.path_for("s")) == content);
    }

    TEST_CASE("a missing file loads as nothing, and saving leaves no temporary files") {
        TempDir dir;
        ResultStore store(dir.path / "results");
        CHECK(store.load("a/b.md").empty());
        CHECK(store.failed_request_indices("a/b.md", "j").empty());
        CHECK_FALSE(fs::exists(dir.path / "results"));
        (void)store.save("a/b.md", job_named("j"), results_of("j", {ok(0, 1)}));
        (void)store.save("a/b.md", job_named("j"), results_of("j", {ok(0, 2)}));
        std::set<std::string> names;
        for (const auto& e : fs::directory_iterator(dir.path / "results" / "a")) names.insert(e.path().filename().string());
        CHECK(names == std::set<std::string>{"b.md.jsonl", ".b.md.jsonl.lock"});
        CHECK(store.load("a/b.md").at(0)["value"] == 2);
    }
}

TEST_SUITE("unit") {

TEST_CASE("streamed outcomes in any order are saved in input order; a first save appends, no rewrite") {
    TempDir dir;
    ResultStore store(dir.path);
    const std::string foreign = R"({"job":"earlier","status":"ok","value":1})";
    write_plain(store.path_for("s"), foreign + "\n");
    const auto inode_before = fs::status(store.path_for("s")).permissions();
    struct ::stat before {};
    REQUIRE(::stat(store.path_for("s").c_str(), &before) == 0);
    auto outcome_with_usage = [](std::size_t i) {
        RequestOutcome o = ok(i, Json(static_cast<int>(i)));
        o.usage = llmbatch::TokenUsage{1, 2, 0, 0, 3};
        return o;
    };
    const auto saved = store.save_streamed("s", job_named("j"), "gemini", [&](const llmbatch::OutcomeSink& sink) {
        sink(outcome_with_usage(2));
        sink(failed(1, ErrorStatus{3, "INVALID_ARGUMENT", "bad", nullptr}));
        sink(outcome_with_usage(0));
    });
    CHECK(saved.saved == 3);
    CHECK(saved.failed_indices == std::vector<std::size_t>{1});
    CHECK(saved.usage == llmbatch::TokenUsage{2, 4, 0, 0, 6});
    struct ::stat after {};
    REQUIRE(::stat(store.path_for("s").c_str(), &after) == 0);
    CHECK(after.st_ino == before.st_ino);  // appended in place
    CHECK(fs::status(store.path_for("s")).permissions() == inode_before);
    const auto lines = store.load("s");
    REQUIRE(lines.size() == 4);
    CHECK(lines[0]["job"] == "earlier");
    for (std::size_t i = 0; i < 3; ++i) CHECK(lines[i + 1]["request_index"] == i);
    CHECK(lines[2]["status"] == "error");
    CHECK(lines_of(slurp(store.path_for("s")))[0] == foreign);
}

TEST_CASE("a save whose producer fails writes nothing; earlier lines stay") {
    TempDir dir;
    ResultStore store(dir.path);
    (void)store.save("s", job_named("j"), results_of("j", {ok(0, "old")}));
    const auto text = slurp(store.path_for("s"));
    CHECK_THROWS_AS((void)store.save_streamed("s", job_named("j"), "gemini",
                                              [&](const llmbatch::OutcomeSink& sink) {
                                                  sink(ok(0, "new"));
                                                  throw llmbatch::ProviderError("download broke", {});
                                              }),
                    llmbatch::ProviderError);
    CHECK(slurp(store.path_for("s")) == text);
    for (const auto& entry : fs::directory_iterator(store.path_for("s").parent_path()))
        CHECK(entry.path().filename().string().find(".tmp.") == std::string::npos);
}

TEST_CASE("an append cut short by a crash is trimmed by the next save, and blank tails too") {
    TempDir dir;
    ResultStore store(dir.path);
    (void)store.save("s", job_named("a"), results_of("a", {ok(0, 1)}));
    const auto good = slurp(store.path_for("s"));
    // A crash in the middle of appending job b's lines, then trailing blank lines on another run.
    write_plain(store.path_for("s"), good + R"({"job":"b","provider":"gemini","sou)");
    (void)store.save("s", job_named("b"), results_of("b", {ok(0, 2)}));
    const auto lines = store.load("s");
    REQUIRE(lines.size() == 2);
    CHECK(lines[1]["job"] == "b");
    write_plain(store.path_for("s"), slurp(store.path_for("s")) + "\n \n");
    (void)store.save("s", job_named("c"), results_of("c", {ok(0, 3)}));
    CHECK(lines_of(slurp(store.path_for("s"))).size() == 3);
    // A hand-edited last line without a newline is kept, and the new lines start on their own line.
    write_plain(store.path_for("s"), good + R"({"job":"hand","value":0})");
    (void)store.save("s", job_named("d"), results_of("d", {ok(0, 4)}));
    CHECK(jobs_in(store.load("s")) == std::vector<std::string>{"a", "hand", "d"});
}


TEST_CASE("a source named like another source's temporary file keeps its results, and so does the other") {
    TempDir dir;
    ResultStore store(dir.path);
    const std::string shadow = ".a.md.jsonl.tmp.1";
    (void)store.save(shadow, job_named("j1"), results_of("j1", {ok(0, "shadow")}));
    (void)store.save("a.md", job_named("j2"), results_of("j2", {ok(0, "a")}));
    (void)store.save("a.md", job_named("j2"), results_of("j2", {ok(0, "a again")}));
    REQUIRE(store.load(shadow).size() == 1);
    (void)store.save(shadow, job_named("j1"), results_of("j1", {ok(0, "shadow again")}));
    CHECK(store.load(shadow).at(0)["value"] == "shadow again");
    REQUIRE(store.load("a.md").size() == 1);
    CHECK(store.load("a.md").at(0)["value"] == "a again");
}

TEST_CASE("an answer nested 100,000 levels deep is saved as an error line, without recursing") {
    TempDir dir;
    ResultStore store(dir.path);
    Json deep = Json::array();
    for (int i = 0; i < 100000; ++i) {
        Json outer = Json::array();
        outer.push_back(std::move(deep));
        deep = std::move(outer);
    }
    RequestOutcome out;
    out.index = 0;
    out.value = std::move(deep);
    std::vector<RequestOutcome> outcomes;
    outcomes.push_back(std::move(out));
    outcomes.push_back(ok(1, "fine"));
    (void)store.save("s", job_named("j"), results_of("j", std::move(outcomes)));
    const auto lines = store.load("s");
    REQUIRE(lines.size() == 2);
    CHECK(lines[0]["status"] == "error");
    CHECK(lines[0]["error"]["status"] == "INVALID_JSON");
    CHECK(lines[1]["value"] == "fine");
    // As deep as is still written: saved as it is.
    Json allowed = Json::array();
    for (std::size_t i = 1; i < llmbatch::detail::max_json_depth; ++i) {
        Json outer = Json::array();
        outer.push_back(std::move(allowed));
        allowed = std::move(outer);
    }
    std::vector<RequestOutcome> kept;
    kept.push_back(ok(0, std::move(allowed)));
    (void)store.save("t", job_named("k"), results_of("k", std::move(kept)));
    CHECK(store.load("t").at(0)["status"] == "ok");
}

TEST_CASE("a number out of range in a results file is a ResultFileError naming the file and line") {
    TempDir dir;
    ResultStore store(dir.path);
    write_plain(store.path_for("s"), "{\"job\":\"j\",\"request_index\":1e999,\"status\":\"error\"}\n");
    try {
        (void)store.load("s");
        FAIL("expected ResultFileError");
    } catch (const ResultFileError& e) {
        CHECK(e.line() == 1);
        CHECK(std::string(e.what()).find(store.path_for("s").string()) != std::string::npos);
    }
    CHECK_THROWS_AS((void)store.failed_request_indices("s", "j"), ResultFileError);
}

TEST_CASE("a results line nested deeper than the store writes is a ResultFileError, not a stack overflow") {
    TempDir dir;
    ResultStore store(dir.path);
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    const std::string text = R"({"job":"a","status":"error","request_index":0,"value":null})" "\n"
                             R"({"job":"a","status":"ok","request_index":1,"value":)" + deep + "}\n";
    write_plain(store.path_for("s"), text);
    try {
        (void)store.load("s");
        FAIL("expected ResultFileError");
    } catch (const ResultFileError& e) {
        CHECK(e.line() == 2);
        CHECK(std::string(e.what()).find("nests deeper than 514 levels") != std::string::npos);
    }
    CHECK_THROWS_AS((void)store.failed_request_indices("s", "a"), ResultFileError);
    CHECK(slurp(store.path_for("s")) == text);
}
}  // TEST_SUITE

}  // namespace tests_unit_result_store
