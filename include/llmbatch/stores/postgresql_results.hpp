#pragma once
/// @file stores/postgresql_results.hpp
/// `PostgresResultStore`: batch results kept in the PostgreSQL database of `PostgresJobStore`
/// (stores/postgresql.hpp) rather than in JSON Lines files, so that fetch workers on many machines
/// never write the same file; `export_results` then writes the usual files (result_store.hpp)
/// from it. Needs libpq (`<libpq-fe.h>`, link `pq`).
///
/// The database holds, per source, the jobs saved (in the order of their first save) and each
/// job's lines by request index: exactly the text `ResultStore` writes, so an export gives the
/// files a `ResultStore` would have written. Saves follow `ResultStore::save_streamed`: all or
/// nothing (one transaction), a refetch replaces the job's lines and keeps its place, other jobs
/// are untouched, and memory stays bounded (outcomes go to an unnamed temporary file, then into
/// the database a few hundred rows at a time). Both stores share one schema version
/// (stores/postgresql_schema.hpp): either migrates an older database, and a newer one is refused.
///
/// Example:
/// @code
/// llmbatch::PostgresJobStore jobs("postgresql://batch@db.internal/llmbatch");
/// llmbatch::PostgresResultStore results("postgresql://batch@db.internal/llmbatch");
/// llmbatch::fetch_tracked_jobs(service, jobs, results, selection, clock);   // on every worker
/// llmbatch::ResultStore files("Documents/results");
/// const auto report = llmbatch::export_results(results, files);           // once, anywhere
/// @endcode

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/detail/fast_json.hpp"
#include "llmbatch/detail/result_line.hpp"
#include "llmbatch/detail/spill_file.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/job_store.hpp"
#include "llmbatch/result_store.hpp"
#include "llmbatch/stores/postgresql_db.hpp"
#include "llmbatch/stores/postgresql_schema.hpp"
#include "llmbatch/tracked_job.hpp"

namespace llmbatch {

/// What the database holds for one job of a source.
struct StoredJobResults {
    std::string job_name{};
    std::size_t lines = 0;   ///< result lines
    std::size_t failed = 0;  ///< of which error lines
};

/// What `export_results` wrote for one source.
struct ExportedSource {
    std::string source{};
    std::filesystem::path path{};        ///< the results file written
    std::vector<std::string> jobs{};     ///< the jobs whose lines it now holds, in the database's order
    std::size_t lines = 0;               ///< lines written
};

/// What `export_results` wrote.
struct ResultsExport {
    std::vector<ExportedSource> sources{};
    std::size_t jobs = 0;   ///< jobs written, over all sources
    std::size_t lines = 0;  ///< lines written, over all sources
};

class PostgresResultStore;
inline ResultsExport export_results(const PostgresResultStore& from, ResultStore& to, const std::vector<std::string>& sources = {});

/// Results in a PostgreSQL database (see the file comment); a `ResultSaver` for the fetch workflow.
class PostgresResultStore {
public:
    /// The schema this build writes (that of `PostgresJobStore`); newer ones are refused.
    static constexpr int schema_version = detail::postgres_schema_version;
    /// A save sends its lines in statements of at most this many rows (or about `insert_bytes`).
    static constexpr std::size_t insert_rows = 500;
    static constexpr std::size_t insert_bytes = std::size_t{4} << 20;
    /// Reads take lines this many at a time.
    static constexpr std::size_t read_rows = 256;

    /// Connects with `conninfo` (`key=value` pairs or a `postgresql://` URI) and prepares the
    /// schema. Outcomes wait for their save in an unnamed temporary file in `spill_dir` (by
    /// default the system's temporary directory).
    /// @throws StoreError when the server cannot be reached; TrackingFileError for a newer schema.
    explicit PostgresResultStore(std::string conninfo, std::filesystem::path spill_dir = {})
        : db_(std::move(conninfo)), spill_dir_(std::move(spill_dir)) {
        db_.exec("SET client_encoding = 'UTF8'");
        detail::postgres_migrate(db_, "Result store");
        location_ = db_.location();
    }

    /// What error messages call this store: the server, without its password.
    [[nodiscard]] std::string description() const { return db_.name(); }

    /// Where the lines of `source` go, as `SavedResults::where` says it:
    /// `postgresql://user@host:port/dbname#<source>` (no password).
    [[nodiscard]] std::string where(const std::string& source) const { return location_ + "#" + source; }

    /// Saves the outcomes that `produce(const OutcomeSink&)` hands over (in any order) as the lines
    /// of `job` for `source`, in request index order, replacing every line the job had there; a
    /// job saved for the first time goes after the source's other jobs, a refetched one keeps its
    /// place. All or nothing: nothing changes when `produce` throws or the server fails.
    /// `SavedResults::path` is empty; `where` names the database and source.
    /// @throws InvalidArgument for a source that cannot name a results file, a job without a name,
    ///         or no outcomes (which would erase the job's earlier lines).
    /// @throws StoreError when the server fails; FileError when the temporary file does;
    ///         anything `produce` throws propagates.
    template <class Produce>
    SavedResults save_streamed(const std::string& source, const TrackedJob& job, std::string_view provider,
                               Produce&& produce) {
        detail::check_result_source(source);
        if (job.job_name.empty()) throw InvalidArgument("Results can only be saved for a job with a name.");
        const std::string provider_name = job.provider.empty() ? std::string(provider) : job.provider;
        SavedResults saved;
        saved.where = where(source);
        detail::SpillFile spill(spill_dir() / "llmbatch-results");
        std::vector<bool> failed;  // by request index: is the line saved an error line
        produce(OutcomeSink([&](RequestOutcome&& outcome) {
            spill.put(outcome.index, detail::result_line(source, job, provider_name, outcome));
            if (outcome.index >= failed.size()) failed.resize(outcome.index + 1);
            failed[outcome.index] = !outcome.ok() || detail::is_too_deep(outcome);
            if (!outcome.ok()) saved.failed_indices.push_back(outcome.index);
            if (outcome.usage) {
                saved.usage += *outcome.usage;
                saved.usage_by_model[outcome.model] += *outcome.usage;
            }
        }));
        saved.saved = spill.count();
        if (saved.saved == 0)
            throw InvalidArgument(fmt::format("Job '{}' returned no results; its earlier results in {} are kept.",
                                              job.job_name, saved.where));
        std::sort(saved.failed_indices.begin(), saved.failed_indices.end());
        saved.failed_indices.erase(std::unique(saved.failed_indices.begin(), saved.failed_indices.end()),
                                   saved.failed_indices.end());
        const auto failed_lines = static_cast<std::size_t>(std::count(failed.begin(), failed.end(), true));
        db_.transaction([&] {
            // Taking the job's row also waits for any other save of the same job to finish.
            const auto id = db_.exec("INSERT INTO llmbatch_result_jobs (source, job_name, lines, failed) "
                                     "VALUES ($1, $2, $3, $4) ON CONFLICT (source, job_name) DO UPDATE SET "
                                     "lines = EXCLUDED.lines, failed = EXCLUDED.failed, saved_at = now() RETURNING sequence",
                                     {source, job.job_name, std::to_string(saved.saved), std::to_string(failed_lines)})
                                .text(0, 0);
            db_.exec("DELETE FROM llmbatch_results WHERE result_job = $1", {id});
            std::vector<std::optional<std::string>> params{id};
            std::size_t bytes = 0;
            auto send = [&] {
                if (params.size() == 1) return;
                std::string sql = "INSERT INTO llmbatch_results (result_job, request_index, failed, line) VALUES ";
                for (std::size_t p = 2; p < params.size(); p += 3)
                    sql += fmt::format("{}($1, ${}, ${}, ${})", p == 2 ? "" : ", ", p, p + 1, p + 2);
                db_.exec(sql, params);
                params.resize(1);
                bytes = 0;
            };
            spill.for_each_line_in_order([&](std::size_t index, std::string_view line) {
                line.remove_suffix(1);  // the newline
                params.emplace_back(std::to_string(index));
                params.emplace_back(failed[index] ? "t" : "f");
                params.emplace_back(std::string(line));
                bytes += line.size();
                if (params.size() > 3 * insert_rows || bytes >= insert_bytes) send();
            });
            send();
        });
        return saved;
    }

    /// The sources that have results, in byte order.
    [[nodiscard]] std::vector<std::string> sources() const {
        const auto r = db_.exec("SELECT DISTINCT source COLLATE \"C\" FROM llmbatch_result_jobs ORDER BY 1");
        std::vector<std::string> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
        return out;
    }

    /// The jobs with results for `source`, in the order of their first save (that of the file).
    [[nodiscard]] std::vector<StoredJobResults> jobs(const std::string& source) const {
        const auto r = db_.exec(
            "SELECT job_name, lines, failed FROM llmbatch_result_jobs WHERE source = $1 ORDER BY sequence", {source});
        std::vector<StoredJobResults> out;
        for (int i = 0; i < r.rows(); ++i)
            out.push_back({r.text(i, 0), static_cast<std::size_t>(r.integer(i, 1)), static_cast<std::size_t>(r.integer(i, 2))});
        return out;
    }

    /// The request indices of `job_name`'s error lines for `source`, ascending: feed them to
    /// `select_requests` to resubmit exactly the failures.
    /// @throws InvalidArgument for a source that cannot name a results file.
    [[nodiscard]] std::vector<std::size_t> failed_request_indices(const std::string& source,
                                                                  const std::string& job_name) const {
        detail::check_result_source(source);
        const auto r = db_.exec(
            "SELECT r.request_index FROM llmbatch_results r JOIN llmbatch_result_jobs j ON j.sequence = r.result_job "
            "WHERE j.source = $1 AND j.job_name = $2 AND r.failed ORDER BY r.request_index",
            {source, job_name});
        std::vector<std::size_t> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(static_cast<std::size_t>(r.integer(i, 0)));
        return out;
    }

    /// Calls `f(const std::string& job_name, std::string_view line)` with every line of `source`
    /// (without its newline) in the order of its file: jobs in the order of their first save, each
    /// job's lines by request index. One consistent snapshot, read a few hundred lines at a time.
    /// @throws InvalidArgument for a bad source; StoreError when the server fails.
    template <class F>
    void for_each_line(const std::string& source, F&& f) const {
        detail::check_result_source(source);
        snapshot([&] {
            for (const auto& entry : job_ids(source))
                read_lines(entry.first, [&](std::string_view line) { f(entry.second, line); });
        });
    }

    /// Every line of `source` in the order of its file, parsed (empty when it has none).
    /// @throws InvalidArgument for a bad source; StoreError for an unreadable line or a server failure.
    [[nodiscard]] std::vector<Json> load(const std::string& source) const {
        std::vector<Json> out;
        for_each_line(source, [&](const std::string& job, std::string_view line) {
            auto parsed = detail::parse_json(line);
            if (parsed.is_discarded() || !parsed.is_object() || detail::nests_deeper_than(parsed, detail::max_json_depth + 2))
                throw StoreError(fmt::format("Result store {} holds a line of job '{}' ({}) that is not a result line.",
                                             db_.name(), job, source),
                                 db_.name());
            out.push_back(std::move(parsed));
        });
        return out;
    }

private:
    friend ResultsExport export_results(const PostgresResultStore&, ResultStore&, const std::vector<std::string>&);

    [[nodiscard]] std::filesystem::path spill_dir() const {
        return spill_dir_.empty() ? std::filesystem::temp_directory_path() : spill_dir_;
    }

    /// Runs `f` in a read-only transaction that sees one snapshot of the database.
    template <class F>
    void snapshot(F&& f) const {
        db_.transaction([&] {
            db_.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            f();
        });
    }

    /// The jobs of `source` as (row id, job name), in the order of their first save.
    [[nodiscard]] std::vector<std::pair<std::string, std::string>> job_ids(const std::string& source) const {
        const auto r = db_.exec("SELECT sequence, job_name FROM llmbatch_result_jobs WHERE source = $1 ORDER BY sequence",
                                {source});
        std::vector<std::pair<std::string, std::string>> out;
        for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0), r.text(i, 1));
        return out;
    }

    /// Calls `f(std::string_view line)` with the lines of the job row `id` by request index,
    /// `read_rows` at a time (keyed on the index, so each query is an index range scan).
    template <class F>
    void read_lines(const std::string& id, F&& f) const {
        std::string after = "-1";
        for (;;) {
            const auto r = db_.exec("SELECT request_index, line FROM llmbatch_results WHERE result_job = $1 AND "
                                    "request_index > $2 ORDER BY request_index LIMIT $3",
                                    {id, after, std::to_string(read_rows)});
            for (int i = 0; i < r.rows(); ++i) f(r.view(i, 1));
            if (static_cast<std::size_t>(r.rows()) < read_rows) return;
            after = r.text(r.rows() - 1, 0);
        }
    }

    mutable detail::PgConnection db_;
    std::filesystem::path spill_dir_;
    std::string location_;
};

static_assert(ResultSaver<PostgresResultStore>);

/// Writes the results file of each of `sources` (by default every source with results) from the
/// database `from` into `to`, as saving each job there in turn would: a job's lines replace the
/// lines it had in the file, jobs new to the file go at the end in the database's order, and the
/// lines of jobs the database does not hold stay. So running it again changes nothing, and a file
/// that already holds other jobs keeps them. Each file is written atomically from one snapshot of
/// the database, a few hundred lines at a time.
/// @throws InvalidArgument for a source without results in the database (nothing written).
/// @throws StoreError when the server fails or holds a line that is not one of its job's result
///         lines (that file is left as it was); ResultFileError, FileError as `ResultStore`.
inline ResultsExport export_results(const PostgresResultStore& from, ResultStore& to,
                                    const std::vector<std::string>& sources) {
    auto chosen = sources.empty() ? from.sources() : sources;
    if (!sources.empty()) {
        const auto known = from.sources();
        for (const auto& source : chosen)
            if (std::find(known.begin(), known.end(), source) == known.end())
                throw InvalidArgument(
                    fmt::format("Result store {} holds no results for source '{}'.", from.description(), source));
    }
    ResultsExport report;
    for (const auto& source : chosen) {
        ExportedSource done;
        done.source = source;
        from.snapshot([&] {
            std::map<std::string, std::string> id_of;
            for (auto& [id, job] : from.job_ids(source)) {
                done.jobs.push_back(job);
                id_of.emplace(std::move(job), std::move(id));
            }
            done.path = to.write_jobs(source, done.jobs, [&](const std::string& job, const auto& put) {
                const auto prefix = detail::result_line_prefix(job);
                std::string text;
                from.read_lines(id_of.at(job), [&](std::string_view line) {
                    if (line.substr(0, prefix.size()) != prefix || line.find('\n') != std::string_view::npos)
                        throw StoreError(fmt::format("Result store {} holds a line of job '{}' ({}) that is not one of "
                                                     "its result lines; '{}' was left as it was.",
                                                     from.description(), job, source, to.path_for(source).string()),
                                         from.description());
                    text.append(line).append("\n");
                    ++done.lines;
                    if (text.size() >= (std::size_t{1} << 20)) {
                        put(text);
                        text.clear();
                    }
                });
                put(text);
            });
        });
        report.jobs += done.jobs.size();
        report.lines += done.lines;
        report.sources.push_back(std::move(done));
    }
    return report;
}

}  // namespace llmbatch
