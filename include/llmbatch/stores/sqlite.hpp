#pragma once
/// @file stores/sqlite.hpp
/// `SqliteJobStore`: the `JobStore` (job_store.hpp) in one SQLite database file, for many jobs
/// and concurrent processes on one machine. Needs SQLite (`<sqlite3.h>`, link `sqlite3`).
///
/// Each change is one `BEGIN IMMEDIATE` transaction, so it costs the same whatever the number of
/// jobs (the JSON files rewrite everything on every change); concurrent processes wait for each
/// other (busy timeout) instead of failing. The database is in WAL mode. By default every commit
/// is synced (`synchronous=FULL`): a change that returned survives a crash or a power loss.
/// `SqliteStoreOptions::sync_each_change = false` (`synchronous=NORMAL`) is many times faster and
/// still survives a killed process, but a power loss may undo the last changes.
///
/// The schema is versioned (`PRAGMA user_version`): a new file gets the current schema; an older
/// one is migrated in one transaction; a newer one, or a database that is not an llmbatch store,
/// is refused (`TrackingFileError`) and never altered.
///
/// Example:
/// @code
/// llmbatch::SqliteJobStore store("data/jobs.sqlite");
/// store.add(job);
/// auto report = llmbatch::fetch_tracked_jobs(service, store, results, selection, clock);
/// @endcode

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/store_rules.hpp"
#include "llmbatch/detail/time.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/job_store.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/stores/sqlite_db.hpp"
#include "llmbatch/tracking.hpp"

namespace llmbatch {

/// Options of `SqliteJobStore`.
struct SqliteStoreOptions {
    /// How long a change waits for another process's change before failing with StoreError.
    std::chrono::milliseconds busy_timeout = std::chrono::minutes(2);
    /// Sync every commit to disk (see the file comment).
    bool sync_each_change = true;
};

/// The job store in one SQLite database (see the file comment).
class SqliteJobStore {
public:
    /// The schema this build writes; older schemas are migrated, newer ones refused.
    static constexpr int schema_version = 1;

    /// Opens (creating when missing, with its parent folders) the store at `file`.
    /// @throws TrackingFileError for a database that is not an llmbatch store or has a newer
    ///         schema; StoreError when SQLite fails.
    explicit SqliteJobStore(std::filesystem::path file, const SqliteStoreOptions& options = {})
        : db_(std::move(file), options.busy_timeout, options.sync_each_change) {
        migrate();
    }

    [[nodiscard]] const std::filesystem::path& file() const noexcept { return db_.file(); }
    /// What messages call this store: `sqlite:<path>`.
    [[nodiscard]] std::string description() const { return "sqlite:" + db_.file().string(); }

    // ----- reading -----

    [[nodiscard]] std::vector<TrackedJob> jobs() const { return select_jobs("", {}); }
    [[nodiscard]] std::vector<TrackedJob> pending() const { return select_jobs("WHERE status = 'pending'", {}); }

    [[nodiscard]] std::optional<TrackedJob> find(const std::string& job_name) const {
        auto found = select_jobs("WHERE job_name = ?1", {job_name});
        if (found.empty()) return std::nullopt;
        return std::move(found.front());
    }

    /// As `JobTracker::select_refetch`.
    [[nodiscard]] std::vector<TrackedJob> select_refetch(double hours, std::chrono::system_clock::time_point now) const {
        detail::check_refetch_hours(hours);
        auto out = select_jobs("WHERE status = 'completed'", {});
        std::erase_if(out, [&](const TrackedJob& job) { return !detail::within_refetch(job, hours, now); });
        return out;
    }

    [[nodiscard]] std::set<std::int64_t> completed_batches(const std::string& source) const {
        std::set<std::int64_t> out;
        auto q = db_.prepare("SELECT batch_index FROM completed_batches WHERE source = ?1");
        q.bind(1, source);
        while (q.step()) out.insert(q.integer(0));
        return out;
    }

    [[nodiscard]] bool is_batch_completed(const std::string& source, std::int64_t index) const {
        auto q = db_.prepare("SELECT 1 FROM completed_batches WHERE source = ?1 AND batch_index = ?2");
        q.bind(1, source);
        q.bind(2, index);
        return q.step();
    }

    [[nodiscard]] std::vector<CreateIntent> open_creates() const {
        std::vector<CreateIntent> out;
        auto q = db_.prepare(
            "SELECT token, provider, source, batch_index, created_at, labels, request_keys FROM open_creates "
            "ORDER BY created_at, rowid");
        while (q.step()) {
            detail::JobRow row{q.text(1), q.text(2), q.integer(3), q.text(4), q.text(5), q.text(6), {}, {}, {}, {}};
            out.push_back({q.text(0), from_row(row, "open create '" + q.text(0) + "'")});
        }
        return out;
    }

    // ----- changing -----

    /// As `JobTracker::add`.
    void add(TrackedJob job, bool force = false) {
        detail::check_tracked_job(job);
        db_.transaction([&] {
            if (const auto e = find(job.job_name)) throw detail::already_tracked(*e);
            if (!force) refuse_duplicate(job);
            insert_job(job);
        });
    }

    /// As `JobTracker::update`.
    void update(const std::string& job_name, const std::function<void(TrackedJob&)>& change) {
        db_.transaction([&] {
            auto job = existing(job_name);
            change(job);
            if (job.job_name != job_name) throw detail::renamed(job_name, job.job_name);
            detail::check_tracked_job(job);
            write_job(job);
        });
    }

    /// As `JobTracker::mark_completed`: the batch mark and the job change commit together.
    void mark_completed(const std::string& job_name, std::chrono::system_clock::time_point time) {
        db_.transaction([&] {
            auto job = existing(job_name);
            auto q = db_.prepare("INSERT OR IGNORE INTO completed_batches (source, batch_index) VALUES (?1, ?2)");
            q.bind(1, job.source);
            q.bind(2, job.batch_index);
            q.run();
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
        db_.transaction([&] {
            auto q = db_.prepare("DELETE FROM completed_batches WHERE source = ?1 AND batch_index = ?2");
            q.bind(1, source);
            q.bind(2, index);
            q.run();
        });
    }

    /// As `JobTracker::begin_create`.
    void begin_create(const CreateIntent& intent, bool force = false) {
        detail::check_create_intent(intent);
        db_.transaction([&] {
            auto q = db_.prepare("SELECT 1 FROM open_creates WHERE token = ?1");
            q.bind(1, intent.token);
            if (q.step()) throw detail::token_in_use(intent.token);
            if (!force) refuse_duplicate(intent.job);
            auto ins = db_.prepare(
                "INSERT INTO open_creates (token, provider, source, batch_index, created_at, labels, request_keys) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
            ins.bind(1, intent.token);
            const auto row = detail::to_row(intent.job);
            ins.bind(2, row.provider);
            ins.bind(3, row.source);
            ins.bind(4, row.batch_index);
            ins.bind(5, row.created_at);
            ins.bind(6, row.labels);
            ins.bind(7, row.request_keys);
            ins.run();
        });
    }

    /// As `JobTracker::finish_create`.
    TrackedJob finish_create(const std::string& token, const std::string& job_name) {
        if (job_name.empty()) throw InvalidArgument("A tracked job needs a job name.");
        TrackedJob out;
        db_.transaction([&] {
            auto intent = open_create(token);
            if (const auto e = find(job_name)) {
                detail::check_same_batch(*e, intent);
                out = *e;
            } else {
                intent.job.job_name = job_name;
                insert_job(intent.job);
                out = intent.job;
            }
            close_create(token);
        });
        return out;
    }

    /// As `JobTracker::abandon_create`.
    void abandon_create(const std::string& token) {
        db_.transaction([&] { close_create(token); });
    }

private:
    using Statement = detail::SqliteStatement;

    static constexpr std::string_view job_columns =
        "provider, source, batch_index, created_at, labels, request_keys, job_name, status, error_message, completed_at";

    void migrate() {
        db_.transaction([&] {
            const int version = db_.user_version();
            if (version > schema_version)
                throw TrackingFileError(fmt::format("Job store '{}' was written by a newer llmbatch (schema {}); this "
                                                    "build reads schema {}. It was left unchanged.",
                                                    db_.file().string(), version, schema_version),
                                        db_.file());
            if (version == 0) {
                if (db_.has_tables())
                    throw TrackingFileError(fmt::format("'{}' is an SQLite database but not an llmbatch job store. It "
                                                        "was left unchanged.",
                                                        db_.file().string()),
                                            db_.file());
                db_.execute(R"sql(
CREATE TABLE jobs (
    sequence INTEGER PRIMARY KEY,
    job_name TEXT NOT NULL UNIQUE,
    provider TEXT NOT NULL,
    source TEXT NOT NULL,
    batch_index INTEGER NOT NULL CHECK (batch_index >= 0),
    created_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed', 'cancelled')),
    error_message TEXT,
    labels TEXT NOT NULL,
    request_keys TEXT NOT NULL,
    completed_at TEXT
);
CREATE INDEX jobs_by_batch ON jobs (source, batch_index);
CREATE INDEX jobs_by_status ON jobs (status);
CREATE TABLE completed_batches (
    source TEXT NOT NULL,
    batch_index INTEGER NOT NULL,
    PRIMARY KEY (source, batch_index)
) WITHOUT ROWID;
CREATE TABLE open_creates (
    token TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    source TEXT NOT NULL,
    batch_index INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    labels TEXT NOT NULL,
    request_keys TEXT NOT NULL
);
)sql");
                db_.set_user_version(schema_version);
            }
            // Migrations from older schemas go here, one step per version.
        });
    }

    [[nodiscard]] std::vector<TrackedJob> select_jobs(const std::string& where, const std::vector<std::string>& args) const {
        auto q = db_.prepare(fmt::format("SELECT {} FROM jobs {} ORDER BY sequence", job_columns, where));
        for (std::size_t i = 0; i < args.size(); ++i) q.bind(static_cast<int>(i + 1), args[i]);
        std::vector<TrackedJob> out;
        while (q.step()) {
            detail::JobRow row{q.text(0), q.text(1), q.integer(2), q.text(3), q.text(4), q.text(5), q.text(6), q.text(7),
                               std::nullopt, std::nullopt};
            if (!q.is_null(8)) row.error_message = q.text(8);
            if (!q.is_null(9)) row.completed_at = q.text(9);
            out.push_back(from_row(row, "job '" + row.job_name + "'"));
        }
        return out;
    }

    /// The job in a row; a row no store could have written makes the store unusable.
    [[nodiscard]] TrackedJob from_row(const detail::JobRow& row, const std::string& what) const {
        return detail::from_row(row, [&](const std::string& why) { corrupt(what, why); });
    }

    [[noreturn]] void corrupt(const std::string& what, const std::string& why) const {
        throw TrackingFileError(fmt::format("Job store '{}' cannot be used: {}: {}. It was left unchanged; fix or move it.",
                                            db_.file().string(), what, why),
                                db_.file());
    }

    /// Throws DuplicateJobError when `job`'s batch has a pending job or an open create.
    void refuse_duplicate(const TrackedJob& job) const {
        auto q = db_.prepare(
            "SELECT job_name FROM jobs WHERE source = ?1 AND batch_index = ?2 AND status = 'pending' ORDER BY sequence "
            "LIMIT 1");
        q.bind(1, job.source);
        q.bind(2, job.batch_index);
        if (q.step()) throw detail::pending_duplicate(job, q.text(0));
        for (const auto& open : open_creates())
            if (open.job.source == job.source && open.job.batch_index == job.batch_index)
                throw detail::open_create_duplicate(job, open);
    }

    void insert_job(const TrackedJob& job) {
        auto q = db_.prepare(fmt::format("INSERT INTO jobs ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)", job_columns));
        bind_all(q, job);
        q.run();
    }

    void write_job(const TrackedJob& job) {
        auto q = db_.prepare(
            "UPDATE jobs SET provider = ?1, source = ?2, batch_index = ?3, created_at = ?4, labels = ?5, request_keys = ?6, "
            "status = ?8, error_message = ?9, completed_at = ?10 WHERE job_name = ?7");
        bind_all(q, job);
        q.run();
    }

    static void bind_all(Statement& q, const TrackedJob& job) {
        const auto row = detail::to_row(job);
        q.bind(1, row.provider);
        q.bind(2, row.source);
        q.bind(3, row.batch_index);
        q.bind(4, row.created_at);
        q.bind(5, row.labels);
        q.bind(6, row.request_keys);
        q.bind(7, row.job_name);
        q.bind(8, row.status);
        if (row.error_message) q.bind(9, *row.error_message);
        else q.bind_null(9);
        if (row.completed_at) q.bind(10, *row.completed_at);
        else q.bind_null(10);
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

    void close_create(const std::string& token) {
        auto q = db_.prepare("DELETE FROM open_creates WHERE token = ?1");
        q.bind(1, token);
        q.run();
    }

    void set_status(const std::string& job_name, TrackedStatus status, std::string message) {
        update(job_name, [&](TrackedJob& job) {
            job.status = status;
            job.error_message = std::move(message);
        });
    }

    mutable detail::SqliteDatabase db_;
};

static_assert(JobStore<SqliteJobStore>);

}  // namespace llmbatch
