#pragma once
/// @file store_spec.hpp
/// The `llmbatch` tool's `--store` option: where jobs are tracked. `json:PATH` is the user's
/// document's tracking file (with `--state-file` beside it; the default, `json:llmbatch_jobs.json`),
/// `sqlite:PATH` one SQLite database file (built with SQLite: `LLMBATCH_HAVE_SQLITE`), and
/// `postgresql://...` (or `postgres://...`, or `postgresql:` followed by `key=value` pairs) a
/// PostgreSQL database shared by many machines (built with libpq: `LLMBATCH_HAVE_LIBPQ`).
/// A connection string is never printed with its password.

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "llmbatch/any_job_store.hpp"
#include "llmbatch/tracking.hpp"

#ifdef LLMBATCH_HAVE_SQLITE
#include "llmbatch/stores/sqlite.hpp"
#endif
#ifdef LLMBATCH_HAVE_LIBPQ
#include "llmbatch/stores/postgresql.hpp"
#include "llmbatch/stores/postgresql_results.hpp"
#endif

#include "backend.hpp"

namespace llmbatch::cli::detail {

/// `text` as one word of a shell command line: as it is when it needs no quoting, else in double quotes.
[[nodiscard]] inline std::string shell_word(const std::string& text) {
    const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               std::string_view("_-./:@=+,%").find(c) != std::string_view::npos;
    });
    if (plain) return text;
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\' || c == '$' || c == '`') out += '\\';
        out += c;
    }
    return out + '"';
}

/// A parsed `--store` value.
struct StoreSpec {
    enum class Kind { json, sqlite, postgresql };
    Kind kind = Kind::json;
    /// The tracking file, the database file, or the connection string (which may hold a password:
    /// never print it; `shown` is the form to print).
    std::string location = "llmbatch_jobs.json";

    /// The spec as a command line may repeat it, without any password.
    [[nodiscard]] std::string shown() const {
        switch (kind) {
            case Kind::json: return "json:" + location;
            case Kind::sqlite: return "sqlite:" + location;
            case Kind::postgresql: break;
        }
#ifdef LLMBATCH_HAVE_LIBPQ
        return ::llmbatch::detail::redacted_conninfo(location);  // "postgresql: key=value ..."
#else
        return "postgresql:(connection string)";
#endif
    }
};

/// Reads a `--store` value (`option` names the option in messages).
/// @throws UsageError for an unknown kind or an empty location, never repeating a password.
[[nodiscard]] inline StoreSpec parse_store_spec(std::string_view option, const std::string& text) {
    auto after = [&](std::string_view prefix) -> std::optional<std::string> {
        if (text.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
        return text.substr(prefix.size());
    };
    StoreSpec spec;
    if (auto rest = after("json:")) {
        spec = {StoreSpec::Kind::json, *rest};
    } else if (auto rest = after("sqlite:")) {
        spec = {StoreSpec::Kind::sqlite, *rest};
    } else if (after("postgresql://") || after("postgres://")) {
        spec = {StoreSpec::Kind::postgresql, text};
    } else if (auto rest = after("postgresql:")) {
        spec = {StoreSpec::Kind::postgresql, *rest};
    } else {
        // The text may be a connection string with a typo in its scheme: only its start is shown.
        const auto colon = text.find(':');
        throw UsageError(fmt::format("{} takes json:PATH, sqlite:PATH or a postgresql:// connection string (got '{}')",
                                     option, colon == std::string::npos ? text : text.substr(0, colon + 1) + "..."));
    }
    if (spec.location.empty()) throw UsageError(fmt::format("{} {} needs a location after the colon", option, text));
    return spec;
}

/// Opens the store `spec` names; a JSON store keeps its completed batches in `state_file`.
/// @throws UsageError when this build cannot open that kind of store; the stores' own errors
///         (TrackingFileError, StoreError) when it cannot be opened.
[[nodiscard]] inline AnyJobStore open_store(const StoreSpec& spec, const std::filesystem::path& state_file) {
    switch (spec.kind) {
        case StoreSpec::Kind::json: return AnyJobStore(JobTracker(spec.location, state_file));
        case StoreSpec::Kind::sqlite:
#ifdef LLMBATCH_HAVE_SQLITE
            return AnyJobStore(SqliteJobStore(spec.location));
#else
            throw UsageError("this llmbatch was built without SQLite (libsqlite3-dev): sqlite: stores are not available");
#endif
        case StoreSpec::Kind::postgresql: break;
    }
#ifdef LLMBATCH_HAVE_LIBPQ
    return AnyJobStore(PostgresJobStore(spec.location));
#else
    throw UsageError("this llmbatch was built without PostgreSQL (libpq-dev): postgresql stores are not available");
#endif
}

}  // namespace llmbatch::cli::detail
