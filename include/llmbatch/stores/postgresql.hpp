#pragma once
/// @file stores/postgresql.hpp
/// `PostgresJobStore`: the `JobStore` (job_store.hpp) in a PostgreSQL database, shared by many
/// processes on many machines. Needs libpq (`<libpq-fe.h>`, link `pq`).
///
/// Changes are transactions serialised by one transaction-level advisory lock, so the duplicate
/// guard holds across machines exactly as the file lock holds on one. Workers that split the
/// pending jobs between them claim them (`claim_pending`): each claim takes jobs no live claim
/// holds (`FOR UPDATE SKIP LOCKED`) for a lease; a worker that dies hands its jobs back when the
/// lease expires, and any status change releases a job's claim.
///
/// The schema is versioned (table `llmbatch_schema`, stores/postgresql_schema.hpp): an empty
/// database gets the current one, an older one is migrated; a newer one is refused
/// (`TrackingFileError`) and never altered. The database can also keep the results
/// (`PostgresResultStore`, stores/postgresql_results.hpp). Connection strings are never
/// printed with their password.
///
/// Example:
/// @code
/// llmbatch::PostgresJobStore store("postgresql://batch@db.internal/llmbatch");
/// for (const auto& job : store.claim_pending("worker-3", std::chrono::minutes(10), 50)) { ... }
/// @endcode

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/detail/store_rules.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/job_store.hpp"
#include "llmbatch/stores/postgresql_db.hpp"
#include "llmbatch/stores/postgresql_schema.hpp"
#include "llmbatch/tracked_job.hpp"

namespace llmbatch {

/// The job store in a PostgreSQL database (see the file comment).
class PostgresJobStore {
public:
    /// The schema this build writes (shared with `PostgresResultStore`, stores/postgresql_schema.hpp);
    /// newer ones are refused.
    static constexpr int schema_version = detail::postgres_schema_version;

    /// Connects with `conninfo` (`key=value` pairs or a `postgresql://` URI) and prepares the schema.
    /// @throws StoreError when the server cannot be reached; TrackingFileError for a newer schema.
    explicit PostgresJobStore(std::string conninfo) : db_(std::move(conninfo)) {
        detail::postgres_migrate(db_, "Job store");
    }

    /// What messages call this store: the server, without its password.
    [[nodiscard]] std::string description() const { return db_.name(); }

    // ----- reading -----

    [[nodiscard]] std::vector<TrackedJob> jobs() const { return select_jobs("", {}); }
    [[nodiscard]] std::vector<TrackedJob> pending() const { return select_jobs("WHERE status = 'pending'", {}); }
    [[nodiscard]] std::optional<TrackedJob> find(const std::string& job_name) const {
        auto found = select_jobs("WHERE job_name = $1", {job_name});
        if (found.empty()) return std::nullopt;
        return std::move(found.front());
    }
    [[nodiscard]] std::vector<TrackedJob> select_refetch(double hours, std::chrono::system_clock::time_point now) const {
        detail::check_refetch_hours(hours);
        auto out = select_jobs("WHERE status = 'completed'", {});
        std::erase_if(out, [&](const TrackedJob& job) { return !detail::within_refetch(job, hours, now); });
        return out;
    }
    [[nodiscard]] std::set<std::int64_t> completed_batches(const std::string& source) const {
        const auto r = db_.exec("SELECT batch_index FROM llmbatch_completed_batches WHERE source = $1", {source});
        std::set<std::int64_t> out;
        for (int i = 0; i < r.rows(); ++i) out.insert(r.integer(i, 0));
        return out;
    }
    [[nodiscard]] bool is_batch_completed(const std::string& source, std::int64_t index) const {
        return db_.exec("SELECT 1 FROM llmbatch_completed_batches WHERE source = $1 AND batch_index = $2",
                        {source, std::to_string(index)})
                   .rows() > 0;
    }
    [[nodiscard]] std::vector<CreateIntent> open_creates() const {
        const auto r = db_.exec(
            "SELECT token, provider, source, batch_index, created_at, labels, request_keys FROM llmbatch_open_creates "
            "ORDER BY created_at, token");
        std::vector<CreateIntent> out;
        for (int i = 0; i < r.rows(); ++i) {
            detail::JobRow row{r.text(i, 1), r.text(i, 2), r.integer(i, 3), r.text(i, 4), r.text(i, 5), r.text(i, 6),
                               {}, {}, {}, {}};
            out.push_back({r.text(i, 0), from_row(row, "open create '" + r.text(i, 0) + "'")});
        }
        return out;
    }

    // ----- changing -----

    void add(TrackedJob job, bool force = false) {
        detail::check_tracked_job(job);
        change([&] {
            if (const auto e = find(job.job_name)) throw detail::already_tracked(*e);
            if (!force) refuse_duplicate(job);
            insert_job(job);
        });
    }
    void update(const std::string& job_name, const std::function<void(TrackedJob&)>& f) {
        change([&] {
            auto job = existing(job_name);
            f(job);
            if (job.job_name != job_name) throw detail::renamed(job_name, job.job_name);
            detail::check_tracked_job(job);
            write_job(job);
        });
    }
    /// The batch mark and the job change commit together.
    void mark_completed(const std::string& job_name, std::chrono::system_clock::time_point time) {
        change([&] {
            auto job = existing(job_name);
            db_.exec("INSERT INTO llmbatch_completed_batches (source, batch_index) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                     {job.source, std::to_string(job.batch_index)});
            job.status = TrackedStatus::completed;
            job.completed_at = time;
            job.error_message.clear();
            write_job(job);
        });
    }
    void mark_failed(const std::string& job_name, std::string message) {
        set_status(job_name, TrackedStatus::failed, std::move(message));
    }
    void mark_cancelled(const std::string& job_name, std::string message = "Cancelled by user.") {
        set_status(job_name, TrackedStatus::cancelled, std::move(message));
    }
    void reset_to_pending(const std::string& job_name) {
        update(job_name, [](TrackedJob& job) { job.status = TrackedStatus::pending; });
    }
    void unmark_completed(const std::string& source, std::int64_t index) {
        change([&] {
            db_.exec("DELETE FROM llmbatch_completed_batches WHERE source = $1 AND batch_index = $2",
                     {source, std::to_string(index)});
        });
    }
    void begin_create(const CreateIntent& intent, bool force = false) {
        detail::check_create_intent(intent);
        change([&] {
            if (db_.exec("SELECT 1 FROM llmbatch_open_creates WHERE token = $1", {intent.token}).rows() > 0)
                throw detail::token_in_use(intent.token);
            if (!force) refuse_duplicate(intent.job);
            const auto row = detail::to_row(intent.job);
            db_.exec("INSERT INTO llmbatch_open_creates (token, provider, source, batch_index, created_at, labels, "
                     "request_keys) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                     {intent.token, row.provider, row.source, std::to_string(row.batch_index), row.created_at, row.labels,
                      row.request_keys});
        });
    }
    TrackedJob finish_create(const std::string& token, const std::string& job_name) {
        if (job_name.empty()) throw InvalidArgument("A tracked job needs a job name.");
        TrackedJob out;
        change([&] {
            auto intent = open_create(token);
            if (const auto e = find(job_name)) {
                detail::check_same_batch(*e, intent);
                out = *e;
            } else {
                intent.job.job_name = job_name;
                insert_job(intent.job);
                out = intent.job;
            }
            db_.exec("DELETE FROM llmbatch_open_creates WHERE token = $1", {token});
        });
        return out;
    }
    void abandon_create(const std::string& token) {
        change([&] { db_.exec("DELETE FROM llmbatch_open_creates WHERE token = $1", {token}); });
    }

    // ----- workers -----

    /// Claims up to `limit` pending jobs no live claim holds, for `worker`, until `lease` has
    /// passed (by the server's clock), oldest first. Concurrent claims never return the same job.
    /// @throws InvalidArgument for an empty worker name or a lease that is not positive.
    std::vector<TrackedJob> claim_pending(const std::string& worker, std::chrono::milliseconds lease, int limit) {
        if (worker.empty()) throw InvalidArgument("A claiming worker needs a name.");
        if (lease.count() <= 0 || limit <= 0) throw InvalidArgument("A claim needs a positive lease and limit.");
        // One statement claims the jobs and returns them (in creation order).
        return jobs_of(db_.exec(
            fmt::format("WITH claimed AS (UPDATE llmbatch_jobs SET claimed_by = $1, claim_expires = now() + $2::bigint * "
                        "interval '1 millisecond' WHERE sequence IN (SELECT sequence FROM llmbatch_jobs WHERE status = "
                        "'pending' AND (claim_expires IS NULL OR claim_expires < now()) ORDER BY sequence LIMIT $3::bigint "
                        "FOR UPDATE SKIP LOCKED) RETURNING sequence, {0}) SELECT {0} FROM claimed ORDER BY sequence",
                        job_columns),
            {worker, std::to_string(lease.count()), std::to_string(limit)}));
    }

    /// Gives back `worker`'s claim on `job_name` (no effect when it holds none).
    void release(const std::string& worker, const std::string& job_name) {
        db_.exec("UPDATE llmbatch_jobs SET claimed_by = NULL, claim_expires = NULL WHERE job_name = $1 AND claimed_by = $2",
                 {job_name, worker});
    }

private:
    static constexpr const char* job_columns =
        "provider, source, batch_index, created_at, labels, request_keys, job_name, status, error_message, completed_at";

    /// One change: a transaction holding the store's advisory lock.
    template <class F>
    void change(F&& f) {
        detail::postgres_change(db_, f);
    }

    [[nodiscard]] std::vector<TrackedJob> select_jobs(const std::string& where, const std::vector<std::optional<std::string>>& args) const {
        return jobs_of(db_.exec(fmt::format("SELECT {} FROM llmbatch_jobs {} ORDER BY sequence", job_columns, where), args));
    }

    /// The jobs of a result whose columns are `job_columns`.
    [[nodiscard]] std::vector<TrackedJob> jobs_of(const detail::PgResult& r) const {
        std::vector<TrackedJob> out;
        for (int i = 0; i < r.rows(); ++i) {
            detail::JobRow row{r.text(i, 0), r.text(i, 1), r.integer(i, 2), r.text(i, 3), r.text(i, 4), r.text(i, 5),
                               r.text(i, 6), r.text(i, 7), std::nullopt, std::nullopt};
            if (!r.is_null(i, 8)) row.error_message = r.text(i, 8);
            if (!r.is_null(i, 9)) row.completed_at = r.text(i, 9);
            out.push_back(from_row(row, "job '" + row.job_name + "'"));
        }
        return out;
    }

    [[nodiscard]] TrackedJob from_row(const detail::JobRow& row, const std::string& what) const {
        return detail::from_row(row, [&](const std::string& why) {
            throw TrackingFileError(fmt::format("Job store {} cannot be used: {}: {}. It was left unchanged.", db_.name(),
                                                what, why),
                                    db_.name());
        });
    }

    void refuse_duplicate(const TrackedJob& job) const {
        const auto r = db_.exec(
            "SELECT job_name FROM llmbatch_jobs WHERE source = $1 AND batch_index = $2 AND status = 'pending' "
            "ORDER BY sequence LIMIT 1",
            {job.source, std::to_string(job.batch_index)});
        if (r.rows() > 0) throw detail::pending_duplicate(job, r.text(0, 0));
        for (const auto& open : open_creates())
            if (open.job.source == job.source && open.job.batch_index == job.batch_index)
                throw detail::open_create_duplicate(job, open);
    }

    [[nodiscard]] static std::vector<std::optional<std::string>> params_of(const TrackedJob& job) {
        const auto row = detail::to_row(job);
        return {row.provider,     row.source,   std::to_string(row.batch_index), row.created_at, row.labels,
                row.request_keys, row.job_name, row.status,                      row.error_message, row.completed_at};
    }

    void insert_job(const TrackedJob& job) {
        db_.exec(fmt::format("INSERT INTO llmbatch_jobs ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)", job_columns),
                 params_of(job));
    }

    /// Writes the job; a status other than pending ends any claim on it.
    void write_job(const TrackedJob& job) {
        db_.exec("UPDATE llmbatch_jobs SET provider = $1, source = $2, batch_index = $3, created_at = $4, labels = $5, "
                 "request_keys = $6, status = $8, error_message = $9, completed_at = $10, "
                 "claimed_by = CASE WHEN $8 = 'pending' THEN claimed_by END, "
                 "claim_expires = CASE WHEN $8 = 'pending' THEN claim_expires END WHERE job_name = $7",
                 params_of(job));
    }

    [[nodiscard]] TrackedJob existing(const std::string& job_name) const {
        auto job = find(job_name);
        if (!job) throw detail::not_tracked(job_name, description());
        return std::move(*job);
    }

    [[nodiscard]] CreateIntent open_create(const std::string& token) const {
        for (auto& intent : open_creates())
            if (intent.token == token) return std::move(intent);
        throw detail::no_open_create(token, description());
    }

    void set_status(const std::string& job_name, TrackedStatus status, std::string message) {
        update(job_name, [&](TrackedJob& job) {
            job.status = status;
            job.error_message = std::move(message);
        });
    }

    mutable detail::PgConnection db_;
};

static_assert(JobStore<PostgresJobStore>);

}  // namespace llmbatch
