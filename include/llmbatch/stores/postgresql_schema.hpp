#pragma once
/// @file stores/postgresql_schema.hpp
/// The one schema of the PostgreSQL stores (`PostgresJobStore`, `PostgresResultStore`), which
/// share a database: its version in table `llmbatch_schema`, and the migrations that bring any
/// older database to it. Either store, opened first, migrates the whole database.
///
/// | version | adds                                                                   |
/// |---------|------------------------------------------------------------------------|
/// | 1       | `llmbatch_jobs`, `llmbatch_completed_batches`, `llmbatch_open_creates` |
/// | 2       | `llmbatch_result_jobs`, `llmbatch_results` (results kept in the database) |

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "llmbatch/stores/postgresql_db.hpp"
#include "llmbatch/tracked_job.hpp"

namespace llmbatch::detail {

/// The schema this build writes; newer ones are refused.
inline constexpr int postgres_schema_version = 2;

/// Runs `f` as one change of a PostgreSQL store: a transaction holding the stores' advisory lock,
/// so changes (and migrations) of every process on every machine come one at a time.
template <class F>
void postgres_change(PgConnection& db, F&& f) {
    db.transaction([&] {
        db.exec("SELECT pg_advisory_xact_lock(7346010453122010)");
        f();
    });
}

/// Brings the database of `db` to `postgres_schema_version` in one change: an empty one gets
/// every table, an older one the tables added since. `what` names the store in messages.
/// @throws TrackingFileError for a newer schema (the database is left unchanged); StoreError
///         when the server fails.
inline void postgres_migrate(PgConnection& db, std::string_view what) {
    postgres_change(db, [&] {
        db.exec("CREATE TABLE IF NOT EXISTS llmbatch_schema (version INTEGER NOT NULL)");
        const auto r = db.exec("SELECT max(version) FROM llmbatch_schema");
        const int version = r.is_null(0, 0) ? 0 : static_cast<int>(r.integer(0, 0));
        if (version > postgres_schema_version)
            throw TrackingFileError(fmt::format("{} {} was written by a newer llmbatch (schema {}); this build reads "
                                                "schema {}. It was left unchanged.",
                                                what, db.name(), version, postgres_schema_version),
                                    db.name());
        if (version == postgres_schema_version) return;
        if (version < 1) {
            db.exec(R"sql(
CREATE TABLE llmbatch_jobs (
    sequence BIGSERIAL PRIMARY KEY,
    job_name TEXT NOT NULL UNIQUE,
    provider TEXT NOT NULL,
    source TEXT NOT NULL,
    batch_index BIGINT NOT NULL CHECK (batch_index >= 0),
    created_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed', 'cancelled')),
    error_message TEXT,
    labels TEXT NOT NULL,
    request_keys TEXT NOT NULL,
    completed_at TEXT,
    claimed_by TEXT,
    claim_expires TIMESTAMPTZ
))sql");
            db.exec("CREATE INDEX llmbatch_jobs_by_batch ON llmbatch_jobs (source, batch_index)");
            db.exec("CREATE INDEX llmbatch_jobs_by_status ON llmbatch_jobs (status)");
            db.exec("CREATE TABLE llmbatch_completed_batches (source TEXT NOT NULL, batch_index BIGINT NOT NULL, "
                    "PRIMARY KEY (source, batch_index))");
            db.exec("CREATE TABLE llmbatch_open_creates (token TEXT PRIMARY KEY, provider TEXT NOT NULL, source TEXT "
                    "NOT NULL, batch_index BIGINT NOT NULL, created_at TEXT NOT NULL, labels TEXT NOT NULL, "
                    "request_keys TEXT NOT NULL)");
        }
        if (version < 2) {
            // One row per job and source saved, in the order of first saves (a refetch keeps its
            // place, as in a results file); its lines by request index.
            db.exec(R"sql(
CREATE TABLE llmbatch_result_jobs (
    sequence BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,
    job_name TEXT NOT NULL,
    lines BIGINT NOT NULL,
    failed BIGINT NOT NULL,
    saved_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (source, job_name)
))sql");
            db.exec(R"sql(
CREATE TABLE llmbatch_results (
    result_job BIGINT NOT NULL REFERENCES llmbatch_result_jobs (sequence) ON DELETE CASCADE,
    request_index BIGINT NOT NULL CHECK (request_index >= 0),
    failed BOOLEAN NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (result_job, request_index)
))sql");
        }
        db.exec("DELETE FROM llmbatch_schema");
        db.exec("INSERT INTO llmbatch_schema (version) VALUES ($1)", {std::to_string(postgres_schema_version)});
    });
}

}  // namespace llmbatch::detail
