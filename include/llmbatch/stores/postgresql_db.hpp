#pragma once
/// @file stores/postgresql_db.hpp
/// A thin RAII layer over libpq for the PostgreSQL stores: one connection, statements with text
/// parameters, results read by row and column, and transactions that roll back on any
/// exception. Every failure becomes a `StoreError` naming the server without its password.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <libpq-fe.h>

#include <fmt/format.h>

#include "llmbatch/job_store.hpp"

namespace llmbatch::detail {

/// `conninfo` (key=value pairs or a postgresql:// URI) with its password left out, for messages.
[[nodiscard]] inline std::string redacted_conninfo(const std::string& conninfo) {
    char* error = nullptr;
    PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
    if (!options) {
        PQfreemem(error);
        return "postgresql (an unreadable connection string)";
    }
    std::string out = "postgresql:";
    for (const PQconninfoOption* o = options; o->keyword; ++o)
        if (o->val && *o->val && std::string_view(o->keyword) != "password")
            out += fmt::format(" {}={}", o->keyword, o->val);
    PQconninfoFree(options);
    return out;
}

/// The rows of one statement's result.
class PgResult {
public:
    explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
    [[nodiscard]] ExecStatusType status() const { return PQresultStatus(r_.get()); }
    [[nodiscard]] int rows() const { return PQntuples(r_.get()); }
    [[nodiscard]] bool is_null(int row, int column) const { return PQgetisnull(r_.get(), row, column) != 0; }
    [[nodiscard]] std::string text(int row, int column) const {
        return std::string(PQgetvalue(r_.get(), row, column), static_cast<std::size_t>(PQgetlength(r_.get(), row, column)));
    }
    /// The text of a field, valid while this result lives.
    [[nodiscard]] std::string_view view(int row, int column) const {
        return {PQgetvalue(r_.get(), row, column), static_cast<std::size_t>(PQgetlength(r_.get(), row, column))};
    }
    [[nodiscard]] std::int64_t integer(int row, int column) const { return std::stoll(text(row, column)); }

private:
    std::unique_ptr<PGresult, decltype(&PQclear)> r_;
};

/// One connection to a PostgreSQL server.
class PgConnection {
public:
    explicit PgConnection(std::string conninfo)
        : name_(redacted_conninfo(conninfo)), conn_(PQconnectdb(conninfo.c_str()), &PQfinish) {
        if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK)
            throw StoreError(fmt::format("Cannot connect to {}: {}", name_, message()), name_);
        exec("SET client_min_messages = warning");
    }

    /// The server as messages name it (no password).
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

    /// The database connected to, as a URI with no password: `postgresql://user@host:port/dbname`,
    /// or `postgresql://user@/dbname?host=/dir&port=5432` through a Unix socket in `/dir`.
    [[nodiscard]] std::string location() const {
        auto get = [](const char* s) { return std::string(s ? s : ""); };
        const auto user = get(PQuser(conn_.get())), host = get(PQhost(conn_.get()));
        const auto port = get(PQport(conn_.get())), db = get(PQdb(conn_.get()));
        const bool socket = !host.empty() && host.front() == '/';
        std::string out = "postgresql://";
        if (!user.empty()) out += user + "@";
        if (!socket) out += host + (port.empty() ? "" : ":" + port);
        out += "/" + db;
        if (socket) out += "?host=" + host + (port.empty() ? "" : "&port=" + port);
        return out;
    }

    /// Runs `sql` with text parameters (`nullopt`: SQL NULL).
    PgResult exec(std::string_view sql, const std::vector<std::optional<std::string>>& params = {}) {
        std::vector<const char*> values;
        for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
        const std::string text(sql);
        PgResult result(PQexecParams(conn_.get(), text.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                     nullptr, nullptr, 0));
        const auto status = result.status();
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
            throw StoreError(fmt::format("{} failed: {}", name_, message()), name_);
        return result;
    }

    /// Runs `change` in a transaction: committed when it returns, rolled back when it throws.
    template <class F>
    void transaction(F&& change) {
        exec("BEGIN");
        try {
            change();
            exec("COMMIT");
        } catch (...) {
            PQclear(PQexec(conn_.get(), "ROLLBACK"));
            throw;
        }
    }

private:
    [[nodiscard]] std::string message() const {
        std::string m = conn_ ? PQerrorMessage(conn_.get()) : "out of memory";
        while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
        return m;
    }
    std::string name_;
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

}  // namespace llmbatch::detail
