// PostgresResultStore against a real server: saves as ResultStore makes them (the export gives
// the same bytes), refetches, failed saves, large jobs, concurrent saves, and the export into files
// that hold other jobs. Run through tests/stores/with_postgres.sh (meson test suite
// "stores-postgresql"); each case's store lives in its own schema of that server.
#include "llmbatch/stores/postgresql_results.hpp"

#include <doctest/doctest.h>

#include "postgres_results_support.hpp"

#include <atomic>
#include <exception>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tests_stores_postgresql_results {

using namespace pg_results_test;
using llmbatch::InvalidArgument;
using llmbatch::PostgresResultStore;
using llmbatch::ResultStore;

/// The same saves made to a ResultStore's files and to the database, then compared through an export.
struct Twin {
    Place place;
    ResultStore files{place.dir.path / "direct"};
    PostgresResultStore db{place.conninfo};
    ResultStore exported{place.dir.path / "exported"};

    llmbatch::SavedResults save(const TrackedJob& job, const std::vector<RequestOutcome>& outcomes) {
        const auto direct = files.save_streamed(job.source, job, "gemini", producing(outcomes));
        const auto saved = db.save_streamed(job.source, job, "gemini", producing(outcomes));
        CHECK(saved.saved == direct.saved);
        CHECK(saved.failed_indices == direct.failed_indices);
        CHECK(saved.usage == direct.usage);
        CHECK(saved.path.empty());
        CHECK(saved.where == db.where(job.source));
        return saved;
    }

    /// Exports every source and checks each file against the one saved directly (and, unless
    /// the files hold other jobs too, what the database reads back).
    llmbatch::ResultsExport check_same(bool files_hold_only_these = true) {
        const auto report = llmbatch::export_results(db, exported);
        for (const auto& source : db.sources()) {
            CAPTURE(source);
            CHECK(slurp(exported.path_for(source)) == slurp(files.path_for(source)));
            if (files_hold_only_these) CHECK(db.load(source) == files.load(source));
        }
        return report;
    }
};

Json answer(int n) { return Json{{"issue_id", n}, {"text", "café ☕ \"quoted\"\nline"}}; }

TEST_SUITE("stores-postgresql") {

TEST_CASE("postgresql results: a save then an export gives the bytes ResultStore writes") {
    Twin t;
    auto job = job_named("batches/abc", "History/h.md", 2);
    job.labels = {{"subject", "History"}, {"level", "gcse"}};
    job.request_keys = {"q-0", "q-1", "q-2", "q-3"};
    // Out of order, a failure, a value too deep to save, and an index given twice (the last wins).
    const auto saved = t.save(job, {ok(2, answer(2)), failed(1, "bad request"), ok(0, answer(0)), ok(3, too_deep()),
                                    ok(2, answer(22))});
    CHECK(saved.saved == 4);
    CHECK(saved.failed_indices == std::vector<std::size_t>{1});
    t.save(job_named("batches/def", "Maths/m.md"), {ok(0, "plain"), ok(1, nullptr)});
    const auto report = t.check_same();
    CHECK(report.sources.size() == 2);
    CHECK(report.jobs == 2);
    CHECK(report.lines == 6);
    CHECK(t.db.sources() == std::vector<std::string>{"History/h.md", "Maths/m.md"});
    // Failures as the files say them, the value too deep included.
    CHECK(t.db.failed_request_indices("History/h.md", "batches/abc") == std::vector<std::size_t>{1, 3});
    CHECK(t.db.failed_request_indices("History/h.md", "batches/abc") ==
          t.files.failed_request_indices("History/h.md", "batches/abc"));
    CHECK(t.db.failed_request_indices("History/h.md", "batches/none").empty());
    const auto jobs = t.db.jobs("History/h.md");
    REQUIRE(jobs.size() == 1);
    CHECK(jobs[0].lines == 4);
    CHECK(jobs[0].failed == 2);
    CHECK(t.db.where("History/h.md").rfind("postgresql://", 0) == 0);
    CHECK(t.db.where("History/h.md").find("#History/h.md") != std::string::npos);
}

TEST_CASE("postgresql results: a refetch replaces its job's lines in place; other jobs keep theirs") {
    Twin t;
    t.save(job_named("j1"), {ok(0, 1), ok(1, 2), failed(2, "x")});
    t.save(job_named("j2"), {ok(0, 3), ok(1, 4)});
    t.save(job_named("j3", "Other/o.md"), {ok(0, 5)});
    t.save(job_named("j1"), {ok(1, 20), ok(0, 10)});  // fewer lines, no failure now
    t.save(job_named("j4"), {failed(0, "y")});
    t.save(job_named("j5", "b.md"), {ok(0, 6)});
    t.check_same();
    CHECK(t.db.sources() == std::vector<std::string>{"History/h.md", "Other/o.md", "b.md"});  // byte order
    std::vector<std::string> order;
    for (const auto& j : t.db.jobs("History/h.md")) order.push_back(j.job_name);
    CHECK(order == std::vector<std::string>{"j1", "j2", "j4"});
    CHECK(t.db.failed_request_indices("History/h.md", "j1").empty());
    CHECK(t.db.load("History/h.md").size() == 5);
    CHECK(t.db.load("Other/o.md").size() == 1);
    CHECK(t.db.load("Nothing/here.md").empty());
}

TEST_CASE("postgresql results: a failed save writes nothing") {
    Twin t;
    t.save(job_named("j1"), {ok(0, 1), ok(1, 2)});
    const auto before = t.db.load("History/h.md");
    auto throwing = [](const OutcomeSink& sink) {
        sink(ok(0, 100));
        throw llmbatch::TransportError("connection reset");
    };
    CHECK_THROWS_AS(t.db.save_streamed("History/h.md", job_named("j1"), "gemini", throwing), llmbatch::TransportError);
    CHECK_THROWS_AS(t.db.save_streamed("History/h.md", job_named("j2"), "gemini", throwing), llmbatch::TransportError);
    CHECK_THROWS_AS(t.db.save_streamed("History/h.md", job_named("j1"), "gemini", [](const OutcomeSink&) {}),
                    InvalidArgument);  // no results: the earlier ones are kept
    CHECK(t.db.load("History/h.md") == before);
    CHECK(t.db.jobs("History/h.md").size() == 1);
    for (const std::string source : {"", "/etc/x", "a/../b", "a//b"}) {
        CAPTURE(source);
        CHECK_THROWS_AS(t.db.save_streamed(source, job_named("j1"), "gemini", producing({ok(0, 1)})), InvalidArgument);
        CHECK_THROWS_AS((void)t.db.load(source), InvalidArgument);
    }
    CHECK_THROWS_AS(t.db.save_streamed("History/h.md", job_named(""), "gemini", producing({ok(0, 1)})), InvalidArgument);
    CHECK(t.db.sources() == std::vector<std::string>{"History/h.md"});
}

TEST_CASE("postgresql results: large jobs go in and out in pieces, in request order") {
    Twin t;
    std::vector<RequestOutcome> outcomes;
    const std::string filler(900, 'x');
    for (std::size_t i = 1234; i-- > 0;)
        outcomes.push_back(i % 97 == 0 ? failed(i, "boom") : ok(i, Json{{"i", i}, {"filler", filler}}));
    const auto saved = t.save(job_named("big"), outcomes);
    CHECK(saved.saved == 1234);
    CHECK(saved.failed_indices.size() == 13);
    t.save(job_named("small"), {ok(0, 1)});
    const auto report = t.check_same();
    CHECK(report.lines == 1235);
    std::size_t expected = 0;
    bool in_order = true;
    t.db.for_each_line("History/h.md", [&](const std::string& job, std::string_view line) {
        if (job != "big") return;
        in_order = in_order && Json::parse(line).at("request_index") == expected++;
    });
    CHECK(in_order);
    CHECK(expected == 1234);
}

TEST_CASE("postgresql results: the export keeps other jobs' lines and is idempotent") {
    Twin t;
    // The exported file already holds lines of other jobs, and old lines of a job the database has.
    const auto file = t.exported.path_for("History/h.md");
    t.exported.save("History/h.md", job_named("local"), llmbatch::BatchResults("gemini", "local", {ok(0, 7)}));
    t.files.save("History/h.md", job_named("local"), llmbatch::BatchResults("gemini", "local", {ok(0, 7)}));
    t.exported.save("History/h.md", job_named("j1"), llmbatch::BatchResults("gemini", "j1", {ok(0, 0), ok(1, 0), ok(2, 0)}));
    t.files.save("History/h.md", job_named("j1"), llmbatch::BatchResults("gemini", "j1", {ok(0, 0), ok(1, 0), ok(2, 0)}));
    t.exported.save("History/h.md", job_named("after"), llmbatch::BatchResults("gemini", "after", {ok(0, 8)}));
    t.files.save("History/h.md", job_named("after"), llmbatch::BatchResults("gemini", "after", {ok(0, 8)}));
    t.save(job_named("j0"), {ok(0, 1)});
    t.save(job_named("j1"), {ok(0, 1), failed(1, "z")});
    t.check_same(false);  // j1 where it was, j0 after "after"
    const auto first = slurp(file);
    const auto again = llmbatch::export_results(t.db, t.exported, {"History/h.md"});
    CHECK(slurp(file) == first);
    REQUIRE(again.sources.size() == 1);
    CHECK(again.sources[0].path == file);
    CHECK(again.sources[0].jobs == std::vector<std::string>{"j0", "j1"});
    CHECK(again.sources[0].lines == 3);
    CHECK_THROWS_AS(llmbatch::export_results(t.db, t.exported, {"Unknown/u.md"}), InvalidArgument);

    // A line in the database that is not one of its job's result lines: the file is left as it was.
    PgConnection(t.place.conninfo).exec("UPDATE llmbatch_results SET line = '{\"job\":\"other\"}' WHERE request_index = 1");
    CHECK_THROWS_AS(llmbatch::export_results(t.db, t.exported), llmbatch::StoreError);
    CHECK(slurp(file) == first);
}

TEST_CASE("postgresql results: saves of one source from several connections at once") {
    Place place;
    PostgresResultStore{place.conninfo};  // the schema, once
    std::vector<std::thread> workers;
    std::atomic<int> errors{0};
    for (int w = 0; w < 4; ++w)
        workers.emplace_back([&, w] {
            try {
                PostgresResultStore db(place.conninfo);
                for (int round = 0; round < 5; ++round) {
                    // Every worker saves its own job, and all of them save "shared" again and again.
                    db.save_streamed("s.md", job_named(fmt::format("w{}", w), "s.md"), "gemini",
                                     producing({ok(0, round), ok(1, round)}));
                    std::vector<RequestOutcome> shared;
                    for (std::size_t i = 0; i < 50; ++i) shared.push_back(ok(i, w * 100 + round));
                    db.save_streamed("s.md", job_named("shared", "s.md"), "gemini", producing(shared));
                }
            } catch (const std::exception& e) {
                MESSAGE(e.what());
                ++errors;
            }
        });
    for (auto& t : workers) t.join();
    CHECK(errors == 0);
    PostgresResultStore db(place.conninfo);
    CHECK(db.jobs("s.md").size() == 5);
    std::set<Json> values;
    std::size_t lines = 0;
    for (const auto& line : db.load("s.md"))
        if (line.at("job") == "shared") {
            values.insert(line.at("value"));
            ++lines;
        }
    CHECK(lines == 50);
    CHECK(values.size() == 1);  // the lines of one save, never a mix
}

}  // TEST_SUITE

}  // namespace tests_stores_postgresql_results
