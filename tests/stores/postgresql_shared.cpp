// The two PostgreSQL stores in one database: the schema version they share, the migration of a
// version 1 (jobs only) database, the password kept out of what they say, and the fetch workflow
// saving into the database. Run through tests/stores/with_postgres.sh (meson test suite
// "stores-postgresql"); each case's stores live in their own schema of that server.
#include "llmbatch/stores/postgresql_results.hpp"

#include <doctest/doctest.h>

#include "postgres_results_support.hpp"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "llmbatch/detail/store_rules.hpp"
#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/service.hpp"
#include "llmbatch/stores/postgresql.hpp"
#include "llmbatch/testing/gemini_emulator.hpp"
#include "llmbatch/testing/manual_clock.hpp"
#include "llmbatch/workflow.hpp"

namespace tests_stores_postgresql_shared {

using namespace pg_results_test;
using namespace std::chrono_literals;
using llmbatch::PostgresJobStore;
using llmbatch::PostgresResultStore;
using llmbatch::ResultStore;

TEST_SUITE("stores-postgresql") {

TEST_CASE("postgresql results: the stores share one schema; version 1 is migrated, a newer one refused") {
    CHECK(PostgresResultStore::schema_version == 2);
    CHECK(PostgresJobStore::schema_version == PostgresResultStore::schema_version);
    const auto version = [](PgConnection& db) { return db.exec("SELECT max(version) FROM llmbatch_schema").integer(0, 0); };
    SUBCASE("a version 1 database, as the job store made it before results were kept, keeps its jobs") {
        Place place;
        PgConnection db(place.conninfo);
        run_script(db, R"sql(
CREATE TABLE llmbatch_schema (version INTEGER NOT NULL);
CREATE TABLE llmbatch_jobs (sequence BIGSERIAL PRIMARY KEY, job_name TEXT NOT NULL UNIQUE, provider TEXT NOT NULL,
    source TEXT NOT NULL, batch_index BIGINT NOT NULL CHECK (batch_index >= 0), created_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed', 'cancelled')), error_message TEXT,
    labels TEXT NOT NULL, request_keys TEXT NOT NULL, completed_at TEXT, claimed_by TEXT, claim_expires TIMESTAMPTZ);
CREATE INDEX llmbatch_jobs_by_batch ON llmbatch_jobs (source, batch_index);
CREATE INDEX llmbatch_jobs_by_status ON llmbatch_jobs (status);
CREATE TABLE llmbatch_completed_batches (source TEXT NOT NULL, batch_index BIGINT NOT NULL, PRIMARY KEY (source, batch_index));
CREATE TABLE llmbatch_open_creates (token TEXT PRIMARY KEY, provider TEXT NOT NULL, source TEXT NOT NULL,
    batch_index BIGINT NOT NULL, created_at TEXT NOT NULL, labels TEXT NOT NULL, request_keys TEXT NOT NULL);
INSERT INTO llmbatch_schema (version) VALUES (1))sql");
        auto job = job_named("batches/old", "a.md", 3);
        job.labels = {{"k", "v"}};
        const auto row = llmbatch::detail::to_row(job);
        db.exec("INSERT INTO llmbatch_jobs (job_name, provider, source, batch_index, created_at, status, labels, "
                "request_keys) VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)",
                {row.job_name, row.provider, row.source, "3", row.created_at, row.labels, row.request_keys});
        PostgresResultStore results(place.conninfo);  // either store migrates
        CHECK(version(db) == 2);
        results.save_streamed("a.md", job, "gemini", producing({ok(0, 1)}));
        PostgresJobStore jobs(place.conninfo);
        CHECK(jobs.jobs() == std::vector<TrackedJob>{job});
        CHECK(jobs.claim_pending("w", 1min, 5).size() == 1);
        CHECK(version(db) == 2);
        CHECK(results.load("a.md").size() == 1);
    }
    SUBCASE("a newer schema is refused by both stores and left as it was") {
        Place place;
        PgConnection db(place.conninfo);
        run_script(db, "CREATE TABLE llmbatch_schema (version INTEGER NOT NULL); INSERT INTO llmbatch_schema VALUES (3)");
        CHECK_THROWS_AS(PostgresResultStore{place.conninfo}, llmbatch::TrackingFileError);
        CHECK_THROWS_AS(PostgresJobStore{place.conninfo}, llmbatch::TrackingFileError);
        CHECK(version(db) == 3);
        CHECK(db.exec("SELECT to_regclass('llmbatch_results')").is_null(0, 0));
        CHECK(db.exec("SELECT to_regclass('llmbatch_jobs')").is_null(0, 0));
    }
    SUBCASE("an empty database gets every table from either store") {
        Place place;
        PostgresJobStore jobs(place.conninfo);
        PgConnection db(place.conninfo);
        CHECK(version(db) == 2);
        CHECK_FALSE(db.exec("SELECT to_regclass('llmbatch_results')").is_null(0, 0));
        PostgresResultStore results(place.conninfo);
        CHECK(version(db) == 2);
    }
}

TEST_CASE("postgresql results: what the store says about itself never holds the password") {
    Place place;
    PostgresResultStore db(place.conninfo + " password=s3cret-pw");
    CHECK(db.description().find("s3cret-pw") == std::string::npos);
    CHECK(db.where("a.md").find("s3cret-pw") == std::string::npos);
    try {
        PostgresResultStore unreachable("postgresql://batch:s3cret-pw@127.0.0.1:1/jobs?connect_timeout=2");
        FAIL("nothing listens on port 1");
    } catch (const llmbatch::StoreError& e) {
        CHECK(std::string(e.what()).find("s3cret-pw") == std::string::npos);
    }
}

using Gemini = llmbatch::GeminiProvider<llmbatch::testing::GeminiEmulator, llmbatch::testing::ManualClock>;

TEST_CASE("postgresql results: fetch workers save into the database; the export writes the files") {
    Place place;
    llmbatch::testing::ManualClock clock;
    llmbatch::testing::GeminiEmulator emulator{clock};
    llmbatch::GeminiConfig config;
    config.api_key = "k";
    llmbatch::LLMService<Gemini> service{Gemini(config, emulator, clock)};
    PostgresJobStore jobs(place.conninfo);
    PostgresResultStore results(place.conninfo);
    std::vector<std::string> names;
    for (int b = 0; b < 3; ++b) {
        llmbatch::BatchPayload payload;
        for (int i = 0; i < 3; ++i) payload.push_back({fmt::format("Categorise item {} of batch {}", i, b)});
        auto [provider, name] = service.create_batch_job(payload, {.filter_json = true});
        auto job = job_named(name, b < 2 ? "History/h.md" : "Maths/m.md", b);
        job.provider = provider;
        job.created_at = clock.utc_now();
        jobs.add(job);
        names.push_back(name);
    }
    clock.advance(2h);
    std::vector<std::string> lines;
    llmbatch::FetchSelection selection;
    selection.all_pending = true;
    selection.worker = llmbatch::FetchWorker{.name = "worker-1", .lease = std::chrono::minutes(5), .claim_size = 2};
    const auto report = llmbatch::fetch_tracked_jobs(service, jobs, results, selection, clock,
                                                     [&](std::string_view l) { lines.emplace_back(l); });
    CHECK(report.summary.completed == 3);
    REQUIRE(report.jobs.size() == 3);
    CHECK(report.jobs[0].saved_to == results.where("History/h.md"));
    CHECK(std::find(lines.begin(), lines.end(), "  Saved 3 result(s) to " + results.where("History/h.md")) != lines.end());
    for (const auto& name : names) CHECK(jobs.find(name)->status == llmbatch::TrackedStatus::completed);

    ResultStore files(place.dir.path / "results");
    const auto exported = llmbatch::export_results(results, files);
    CHECK(exported.sources.size() == 2);
    CHECK(exported.jobs == 3);
    CHECK(exported.lines == 9);
    const auto history = files.load("History/h.md");
    REQUIRE(history.size() == 6);
    CHECK(history[0].at("job") == names[0]);
    CHECK(history[3].at("job") == names[1]);
    CHECK(files.load("Maths/m.md").size() == 3);
}

}  // TEST_SUITE

}  // namespace tests_stores_postgresql_shared
