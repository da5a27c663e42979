#pragma once
/// @file stores/sqlite_db.hpp
/// A thin RAII layer over the SQLite C API for `SqliteJobStore`: a connection opened in WAL mode
/// with a busy timeout, prepared statements, and transactions that roll back on any exception.
/// Every SQLite failure becomes a `StoreError` naming the file and what was being done.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include <sqlite3.h>

#include <fmt/format.h>

#include "llmbatch/job_store.hpp"

namespace llmbatch::detail {

/// One prepared statement; `step` returns true while there is a row.
class SqliteStatement {
public:
    SqliteStatement(sqlite3* db, sqlite3_stmt* stmt, const std::filesystem::path* file)
        : db_(db), stmt_(stmt), file_(file) {}
    SqliteStatement(const SqliteStatement&) = delete;
    SqliteStatement& operator=(const SqliteStatement&) = delete;
    SqliteStatement(SqliteStatement&& o) noexcept
        : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)), file_(o.file_) {}
    SqliteStatement& operator=(SqliteStatement&&) = delete;
    ~SqliteStatement() { sqlite3_finalize(stmt_); }

    void bind(int i, std::string_view text) {
        check(sqlite3_bind_text64(stmt_, i, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8), "bind");
    }
    void bind(int i, const std::string& text) { bind(i, std::string_view(text)); }
    void bind(int i, const char* text) { bind(i, std::string_view(text)); }
    void bind(int i, std::int64_t value) { check(sqlite3_bind_int64(stmt_, i, value), "bind"); }
    void bind_null(int i) { check(sqlite3_bind_null(stmt_, i), "bind"); }

    /// Advances to the next row: true when there is one, false when done.
    bool step() {
        const int rc = sqlite3_step(stmt_);
        if (rc == SQLITE_ROW) return true;
        if (rc == SQLITE_DONE) return false;
        fail(rc, "run a statement");
    }
    /// Runs a statement that returns no rows.
    void run() {
        while (step()) {
        }
    }

    [[nodiscard]] bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
    [[nodiscard]] std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
    [[nodiscard]] std::string text(int column) const {
        const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
    }

private:
    void check(int rc, std::string_view what) const {
        if (rc != SQLITE_OK) fail(rc, what);
    }
    [[noreturn]] void fail(int rc, std::string_view what) const {
        throw StoreError(fmt::format("SQLite could not {} in '{}': {} ({})", what, file_->string(), sqlite3_errmsg(db_),
                                     sqlite3_errstr(rc)),
                         *file_);
    }

    sqlite3* db_;
    sqlite3_stmt* stmt_;
    const std::filesystem::path* file_;
};

/// A connection to one database file (created with its parent folders when missing).
class SqliteDatabase {
public:
    SqliteDatabase(std::filesystem::path file, std::chrono::milliseconds busy_timeout, bool sync_each_commit)
        : file_(std::move(file)) {
        if (file_.has_parent_path()) {
            std::error_code ec;
            std::filesystem::create_directories(file_.parent_path(), ec);
        }
        const int rc = sqlite3_open_v2(file_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW,
                                       nullptr);
        if (rc != SQLITE_OK) {
            const std::string why = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
            sqlite3_close(db_);
            throw StoreError(fmt::format("SQLite could not open '{}': {}", file_.string(), why), file_);
        }
        sqlite3_busy_timeout(db_, static_cast<int>(busy_timeout.count()));
        sqlite3_extended_result_codes(db_, 1);
        execute(sync_each_commit ? "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                                 : "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;");
    }
    SqliteDatabase(const SqliteDatabase&) = delete;
    SqliteDatabase& operator=(const SqliteDatabase&) = delete;
    SqliteDatabase(SqliteDatabase&& o) noexcept : file_(std::move(o.file_)), db_(std::exchange(o.db_, nullptr)) {}
    SqliteDatabase& operator=(SqliteDatabase&&) = delete;
    ~SqliteDatabase() { sqlite3_close(db_); }

    [[nodiscard]] const std::filesystem::path& file() const noexcept { return file_; }

    [[nodiscard]] SqliteStatement prepare(std::string_view sql) {
        sqlite3_stmt* stmt = nullptr;
        const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
        SqliteStatement out(db_, stmt, &file_);
        if (rc != SQLITE_OK)
            throw StoreError(fmt::format("SQLite could not prepare a statement for '{}': {}", file_.string(), sqlite3_errmsg(db_)),
                             file_);
        return out;
    }

    /// Runs one or more statements without results.
    void execute(const char* sql) {
        char* message = nullptr;
        if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
            const std::string why = message ? message : sqlite3_errmsg(db_);
            sqlite3_free(message);
            throw StoreError(fmt::format("SQLite failed on '{}': {}", file_.string(), why), file_);
        }
    }

    /// Runs `change` in a `BEGIN IMMEDIATE` transaction: committed when it returns, rolled back
    /// when it throws (the exception then propagates).
    template <class F>
    void transaction(F&& change) {
        execute("BEGIN IMMEDIATE");
        try {
            change();
            execute("COMMIT");
        } catch (...) {
            sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    }

    [[nodiscard]] int user_version() {
        auto q = prepare("PRAGMA user_version");
        return q.step() ? static_cast<int>(q.integer(0)) : 0;
    }
    void set_user_version(int version) { execute(fmt::format("PRAGMA user_version = {}", version).c_str()); }
    /// True when the database holds any table.
    [[nodiscard]] bool has_tables() {
        auto q = prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' LIMIT 1");
        return q.step();
    }

private:
    std::filesystem::path file_;
    sqlite3* db_ = nullptr;
};

}  // namespace llmbatch::detail
