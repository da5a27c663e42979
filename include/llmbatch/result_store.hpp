#pragma once
/// @file result_store.hpp
/// Saving batch results as JSON Lines, one file per source, one line per request, failures
/// included; a refetch replaces a job's lines instead of adding to them.
///
/// Example:
/// @code
/// llmbatch::ResultStore store("Documents/results");
/// auto results = service.fetch_batch_results(job.provider, job.job_name);
/// auto path = store.save(job.source, job, results);    // Documents/results/History/h.md.jsonl
/// tracker.mark_completed(job.job_name, clock.utc_now());
/// auto retry = store.failed_request_indices(job.source, job.job_name);
/// auto payload = llmbatch::select_requests(original_payload, retry);   // resubmit the failures
/// @endcode

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <concepts>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/file_io.hpp"
#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/detail/result_line.hpp"
#include "llmbatch/detail/spill_file.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/tracking.hpp"

namespace llmbatch {

/// What a save wrote.
struct SavedResults {
    std::filesystem::path path{};               ///< the results file; empty when the store keeps no files (a database)
    std::string where{};                        ///< where the lines went, for messages: the file, or the database and source
    std::size_t saved = 0;                      ///< result lines written
    std::vector<std::size_t> failed_indices{};  ///< requests saved as errors, ascending
    TokenUsage usage{};                         ///< tokens of the saved requests, added up
    std::map<std::string, TokenUsage> usage_by_model{};  ///< the same by the model that answered ("" unnamed)
};

namespace detail {
/// A producer of outcomes, as the workflow hands one (a lambda) to `save_streamed`: `ResultSaver`
/// is checked with this one's concrete type.
inline constexpr auto sample_producer = [](const OutcomeSink&) {};
}  // namespace detail

/// Where results are saved: anything whose `save_streamed(source, job, provider, produce)` takes
/// the outcomes that `produce(const OutcomeSink&)` hands over and saves them as result lines, all or
/// nothing, replacing the lines `job` already had for `source` (`ResultStore`, `PostgresResultStore`).
template <class R>
concept ResultSaver = requires(R& r, const std::string& source, const TrackedJob& job, std::string_view provider,
                               std::remove_const_t<decltype(detail::sample_producer)> produce) {
    { r.save_streamed(source, job, provider, produce) } -> std::same_as<SavedResults>;
};

/// JSON Lines result files under an output directory.
///
/// The file of a source is `<output_dir>/<source>.jsonl`: `.jsonl` is appended to the whole
/// source, so `History/gcse-history.md` is saved to `History/gcse-history.md.jsonl`. Appending
/// (rather than replacing the extension) keeps `a.md` and `a.txt` apart. A source is a relative
/// path of `/`-separated parts; empty, absolute, `.` or `..` parts are refused, so nothing is
/// written outside the output directory. Missing directories are created.
///
/// Each line describes one request of one job, in the order of the job's results:
/// @code
/// {"job": "batches/abc", "provider": "gemini", "source": "History/h.md", "batch_index": 0,
///  "request_index": 1, "request_key": "1", "labels": {}, "status": "error", "value": null,
///  "error": {"code": 3, "status": "INVALID_ARGUMENT", "message": "..."}}
/// @endcode
/// `status` is `ok` (with `value`, and `error` null) or `error` (with `error`, and `value`
/// null); `error` also carries `details` when the provider gave some.
///
/// Every save is a transaction under the file's lock (`.<file>.lock`, hidden beside it): a job's first save
/// appends, a refetch replaces the file atomically. Reads take no lock. Files of any size are
/// read and written in pieces.
class ResultStore {
public:
    /// A store writing under `output_dir` (created on the first save).
    explicit ResultStore(std::filesystem::path output_dir) : output_dir_(std::move(output_dir)) {}

    [[nodiscard]] const std::filesystem::path& output_dir() const noexcept { return output_dir_; }

    /// The results file of `source`: `<output_dir>/<source>.jsonl`.
    /// @throws InvalidArgument for an empty or absolute source, or one with an empty, `.` or
    ///         `..` part.
    [[nodiscard]] std::filesystem::path path_for(const std::string& source) const {
        detail::check_result_source(source);
        return output_dir_ / (source + ".jsonl");
    }

    /// Saves one line per outcome of `results` (failures as `error` lines) to the file of
    /// `source`, replacing every line that `job` already had there (see `save_streamed`).
    /// Returns the file's path.
    /// @throws InvalidArgument for a bad source, a job without a name, results of another job,
    ///         or empty results (which would erase the job's earlier lines).
    /// @throws ResultFileError when the existing file holds an unreadable line (nothing written).
    /// @throws FileError for I/O failures.
    std::filesystem::path save(const std::string& source, const TrackedJob& job, const BatchResults& results) {
        if (!results.job_name().empty() && results.job_name() != job.job_name)
            throw InvalidArgument(fmt::format("The results are those of job '{}', not of job '{}'.", results.job_name(),
                                              job.job_name));
        return save_streamed(source, job, results.provider(), [&](const OutcomeSink& sink) {
                   for (const auto& outcome : results)
                       sink(detail::is_too_deep(outcome) ? detail::too_deep(outcome) : RequestOutcome(outcome));
               }).path;
    }

    /// Saves the outcomes that `produce(const OutcomeSink&)` hands over (in any order, e.g. as a
    /// provider streams them) to the file of `source`, one line each, in input order, replacing
    /// every line that `job` already had there: the new lines go where the job's first old line
    /// was, or at the end. Other jobs' lines keep their text and order.
    ///
    /// Memory stays bounded whatever the number of results: outcomes go to an unnamed temporary
    /// file as they come (16 bytes each are remembered), and the results file is read and
    /// written in pieces. A job's first save appends to the file (no rewrite); a refetch rewrites
    /// it atomically. Either way the save is all or nothing: if `produce` throws, or the process
    /// dies, the file keeps its earlier lines (an append cut short is trimmed on the next save).
    /// @throws as `save`; anything `produce` throws propagates, nothing written.
    template <class Produce>
    SavedResults save_streamed(const std::string& source, const TrackedJob& job, std::string_view provider,
                               Produce&& produce) {
        const auto file = path_for(source);
        if (job.job_name.empty()) throw InvalidArgument("Results can only be saved for a job with a name.");
        const std::string provider_name = job.provider.empty() ? std::string(provider) : job.provider;
        SavedResults saved;
        saved.path = file;
        saved.where = file.string();
        detail::SpillFile spill(file);
        produce(OutcomeSink([&](RequestOutcome&& outcome) {
            spill.put(outcome.index, detail::result_line(source, job, provider_name, outcome));
            if (!outcome.ok()) saved.failed_indices.push_back(outcome.index);
            if (outcome.usage) {
                saved.usage += *outcome.usage;
                saved.usage_by_model[outcome.model] += *outcome.usage;
            }
        }));
        saved.saved = spill.count();
        if (saved.saved == 0)
            throw InvalidArgument(fmt::format(
                "Job '{}' returned no results; its earlier results in '{}' are kept.", job.job_name, file.string()));
        std::sort(saved.failed_indices.begin(), saved.failed_indices.end());
        saved.failed_indices.erase(std::unique(saved.failed_indices.begin(), saved.failed_indices.end()),
                                   saved.failed_indices.end());

        detail::FileLock lock(file);
        detail::remove_stale_temporaries(file);
        const Scan scan = scan_file(file, job.job_name);
        if (!scan.has_job) {
            append(file, scan, spill);
            return saved;
        }
        rewrite(file, {job.job_name}, [&](const std::string&, const auto& put) { spill.for_each_in_order(put); });
        return saved;
    }

    /// Writes the lines of the jobs `job_names` to the file of `source` as saving each in turn
    /// would: a job's lines replace its old ones where the first of them was, jobs new to the file
    /// are added at the end in the order given, and other jobs' lines keep their text and order.
    /// `write(job_name, put)` calls `put(std::string_view)` (`put` is a
    /// `const std::function<void(std::string_view)>&`) with the job's whole lines, each a result
    /// line of that job ending with a newline, in order; several lines may come at once.
    /// The file is rewritten atomically under its lock: if `write` throws, it keeps its earlier
    /// lines. Used to write files from another store (see `export_results`). Returns the file.
    /// @throws InvalidArgument for a bad source or an empty job name.
    /// @throws ResultFileError when the existing file holds an unreadable line (nothing written).
    /// @throws FileError for I/O failures; anything `write` throws propagates.
    template <class Write>
    std::filesystem::path write_jobs(const std::string& source, const std::vector<std::string>& job_names, Write&& write) {
        const auto file = path_for(source);
        for (const auto& name : job_names)
            if (name.empty()) throw InvalidArgument("Results can only be saved for a job with a name.");
        if (job_names.empty()) return file;
        detail::FileLock lock(file);
        detail::remove_stale_temporaries(file);
        rewrite(file, job_names, write);
        return file;
    }

    /// Every line of the file of `source`, in file order; empty when there is no file.
    /// @throws ResultFileError for an unreadable line; FileError for I/O failures.
    [[nodiscard]] std::vector<Json> load(const std::string& source) const {
        const auto file = path_for(source);
        std::vector<Json> out;
        detail::for_each_result_line(file, [&](const Json& line, std::size_t) { out.push_back(line); });
        return out;
    }

    /// Calls `f(const Json& line)` with every line of the file of `source`, in file order, reading
    /// the file in pieces (none when there is no file).
    /// @throws ResultFileError for an unreadable line; FileError for I/O failures.
    template <class F>
    void for_each(const std::string& source, F&& f) const {
        detail::for_each_result_line(path_for(source), [&](const Json& line, std::size_t) { f(line); });
    }

    /// The request indices of `job_name`'s `error` lines in the file of `source`, ascending:
    /// feed them to `select_requests` to resubmit exactly the failures.
    [[nodiscard]] std::vector<std::size_t> failed_request_indices(const std::string& source,
                                                                  const std::string& job_name) const {
        const auto file = path_for(source);
        std::vector<std::size_t> out;
        detail::for_each_result_line(file, [&](const Json& line, std::size_t number) {
            if (line.at("job").get_ref<const std::string&>() != job_name) return;
            const auto status = line.find("status");
            if (status == line.end() || *status != "error") return;
            const auto index = line.find("request_index");
            if (index == line.end() || !index->is_number_unsigned())
                throw ResultFileError(fmt::format("Results file '{}', line {}: an error line has no valid "
                                                  "\"request_index\". The file was left unchanged.",
                                                  file.string(), number),
                                      file, number);
            out.push_back(index->get<std::size_t>());
        });
        std::sort(out.begin(), out.end());
        out.erase(std::unique(out.begin(), out.end()), out.end());
        return out;
    }

private:
    /// What a save needs to know of the existing file.
    struct Scan {
        bool has_job = false;        ///< the job already has lines there
        bool torn_tail = false;      ///< the last line is an unfinished append (no newline, not JSON)
        bool unterminated = false;   ///< the last line has no newline (and is kept)
        std::uint64_t content_end = 0;  ///< the end of the last line holding something
    };

    /// Reads the existing file once: does `job_name` have lines, and how does the file end.
    [[nodiscard]] static Scan scan_file(const std::filesystem::path& file, const std::string& job_name) {
        Scan scan;
        std::uint64_t offset = 0;
        detail::for_each_raw_line(file, [&](std::string_view text, std::size_t number, bool unterminated) {
            if (unterminated) {
                scan.unterminated = !detail::is_blank_line(text);
                if (detail::is_torn_line(text)) {
                    scan.torn_tail = true;
                    scan.unterminated = false;
                    return;
                }
            }
            offset += text.size() + (unterminated ? 0 : 1);
            if (detail::is_blank_line(text)) return;
            scan.content_end = offset;
            if (detail::result_line_job(file, text, number) == job_name) scan.has_job = true;
        });
        return scan;
    }

    /// Rewrites `file` atomically, the lines that `write(name, put)` gives for each of
    /// `job_names` taking the place of that job's old lines (where the first was, else at the end
    /// in the order given). A torn last line is dropped, and so are trailing blank lines when a
    /// job goes at the end, as an append does. The caller holds the file's lock.
    template <class Write>
    static void rewrite(const std::filesystem::path& file, const std::vector<std::string>& job_names, Write&& write) {
        const std::set<std::string> wanted(job_names.begin(), job_names.end());
        std::set<std::string> placed;
        detail::AtomicFile out(file);
        const std::function<void(std::string_view)> put = [&](std::string_view bytes) { out.write(bytes); };
        std::string blanks;  // blank lines, held back until a line with content follows
        auto keep_blanks = [&] {
            out.write(blanks);
            blanks.clear();
        };
        detail::for_each_raw_line(file, [&](std::string_view text, std::size_t number, bool unterminated) {
            if (unterminated && detail::is_torn_line(text)) return;
            if (detail::is_blank_line(text)) {
                blanks.append(text).append("\n");
                return;
            }
            keep_blanks();
            const auto job = detail::result_line_job(file, text, number);
            if (wanted.count(job) == 0) {
                out.write(text);
                out.write("\n");
            } else if (placed.insert(job).second) {
                write(job, put);
            }
        });
        for (const auto& name : job_names) {
            if (!placed.insert(name).second) continue;
            blanks.clear();
            write(name, put);
        }
        keep_blanks();
        out.commit();
    }

    /// Appends the spilled lines to `file` (created when missing), after trimming a torn tail
    /// and trailing blank lines.
    static void append(const std::filesystem::path& file, const Scan& scan, detail::SpillFile& spill) {
        std::error_code ec;
        if (!std::filesystem::exists(file, ec)) {
            detail::AtomicFile out(file);
            spill.for_each_in_order([&](std::string_view chunk) { out.write(chunk); });
            out.commit();
            return;
        }
        const int fd = ::open(file.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) fail_io("append to", file, errno);
        detail::file_io_impl::Fd guard(fd);
        struct ::stat st {};
        if (::fstat(fd, &st) != 0) fail_io("append to", file, errno);
        if (static_cast<std::uint64_t>(st.st_size) > scan.content_end &&
            ::ftruncate(fd, static_cast<::off_t>(scan.content_end)) != 0)
            fail_io("trim", file, errno);
        auto write = [&](std::string_view bytes) {
            if (const int err = detail::file_io_impl::write_all(fd, bytes)) fail_io("append to", file, err);
        };
        if (scan.unterminated) write("\n");
        spill.for_each_in_order(write);
        if (::fsync(fd) != 0) fail_io("flush", file, errno);
        if (const int err = guard.close_now()) fail_io("append to", file, err);
    }

    [[noreturn]] static void fail_io(std::string_view what, const std::filesystem::path& file, int err) {
        detail::file_io_impl::fail(what, file, err);
    }

    std::filesystem::path output_dir_;
};

static_assert(ResultSaver<ResultStore>);

}  // namespace llmbatch
