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
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/file_io.hpp"
#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/detail/spill_file.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/tracking.hpp"

namespace llmbatch {

/// A results file holds a line that is not a JSON object with a string `"job"`. The file is left
/// as it was.
class ResultFileError : public Error {
public:
    ResultFileError(std::string message, std::filesystem::path path, std::size_t line)
        : Error(std::move(message)), path_(std::move(path)), line_(line) {}

    /// The results file.
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
    /// The offending line, counted from 1.
    [[nodiscard]] std::size_t line() const noexcept { return line_; }

private:
    std::filesystem::path path_;
    std::size_t line_;
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
/// Every save is a transaction under the file's lock (`<file>.lock`): a job's first save
/// appends, a refetch replaces the file atomically. Reads take no lock. Files of any size are
/// read and written in pieces.
/// What a save wrote.
struct SavedResults {
    std::filesystem::path path{};               ///< the results file
    std::size_t saved = 0;                      ///< result lines written
    std::vector<std::size_t> failed_indices{};  ///< requests saved as errors, ascending
    TokenUsage usage{};                         ///< tokens of the saved requests, added up
};

class ResultStore {
public:
    /// A store writing under `output_dir` (created on the first save).
    explicit ResultStore(std::filesystem::path output_dir) : output_dir_(std::move(output_dir)) {}

    [[nodiscard]] const std::filesystem::path& output_dir() const noexcept { return output_dir_; }

    /// The results file of `source`: `<output_dir>/<source>.jsonl`.
    /// @throws InvalidArgument for an empty or absolute source, or one with an empty, `.` or
    ///         `..` part.
    [[nodiscard]] std::filesystem::path path_for(const std::string& source) const {
        check_source(source);
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
                       sink(is_too_deep(outcome) ? too_deep(outcome) : RequestOutcome(outcome));
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
        detail::SpillFile spill(file);
        produce(OutcomeSink([&](RequestOutcome&& outcome) {
            spill.put(outcome.index, make_line(source, job, provider_name, outcome));
            if (!outcome.ok()) saved.failed_indices.push_back(outcome.index);
            if (outcome.usage) saved.usage += *outcome.usage;
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
        detail::AtomicFile out(file);
        bool placed = false;
        for_each_raw_line(file, [&](std::string_view text, std::size_t number, bool unterminated) {
            if (unterminated && scan.torn_tail) return;
            if (line_job(file, text, number) == job.job_name) {
                if (!placed) spill.for_each_in_order([&](std::string_view chunk) { out.write(chunk); });
                placed = true;
                return;
            }
            out.write(text);
            out.write("\n");
        });
        out.commit();
        return saved;
    }

    /// Every line of the file of `source`, in file order; empty when there is no file.
    /// @throws ResultFileError for an unreadable line; FileError for I/O failures.
    [[nodiscard]] std::vector<Json> load(const std::string& source) const {
        const auto file = path_for(source);
        std::vector<Json> out;
        for_each_line(file, [&](const Json& line, std::size_t) { out.push_back(line); });
        return out;
    }

    /// The request indices of `job_name`'s `error` lines in the file of `source`, ascending:
    /// feed them to `select_requests` to resubmit exactly the failures.
    [[nodiscard]] std::vector<std::size_t> failed_request_indices(const std::string& source,
                                                                  const std::string& job_name) const {
        const auto file = path_for(source);
        std::vector<std::size_t> out;
        for_each_line(file, [&](const Json& line, std::size_t number) {
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
    using Ordered = nlohmann::ordered_json;

    static void check_source(const std::string& source) {
        auto refuse = [&](std::string_view why) {
            throw InvalidArgument(fmt::format("Source '{}' cannot name a results file: {}.", source, why));
        };
        if (source.empty()) refuse("it is empty");
        if (source.front() == '/') refuse("it is an absolute path; give a path relative to the output directory");
        if (source.find('\0') != std::string::npos) refuse("it contains a NUL character");
        std::size_t start = 0;
        for (;;) {
            const auto end = source.find('/', start);
            const std::string_view part(source.data() + start, (end == std::string::npos ? source.size() : end) - start);
            if (part.empty()) refuse("it has an empty path part");
            if (part == "." || part == "..") refuse(fmt::format("it has a '{}' path part", part));
            if (end == std::string::npos) break;
            start = end + 1;
        }
    }

    /// True when the value of `outcome` nests deeper than `detail::max_json_depth`: copying,
    /// converting or writing it would recurse once per level.
    [[nodiscard]] static bool is_too_deep(const RequestOutcome& outcome) {
        return outcome.ok() && detail::nests_deeper_than(*outcome.value);
    }

    /// `outcome` as the error it is saved as when its value is too deep.
    [[nodiscard]] static RequestOutcome too_deep(const RequestOutcome& outcome) {
        RequestOutcome refused;
        refused.index = outcome.index;
        refused.key = outcome.key;
        refused.usage = outcome.usage;
        refused.error = ErrorStatus{0, "INVALID_JSON",
                                    fmt::format("the answer nests deeper than {} levels", detail::max_json_depth),
                                    nullptr};
        return refused;
    }

    [[nodiscard]] static std::string make_line(const std::string& source, const TrackedJob& job,
                                               const std::string& provider, const RequestOutcome& outcome) {
        Ordered line;
        line["job"] = job.job_name;
        line["provider"] = provider;
        line["source"] = source;
        line["batch_index"] = job.batch_index;
        line["request_index"] = outcome.index;
        // The caller's key for the request (tracked with the job) wins over the provider's own key,
        // which only says where the request sat in the job.
        std::string key = outcome.key;
        if (outcome.index < job.request_keys.size()) key = job.request_keys[outcome.index];
        line["request_key"] = key;
        line["labels"] = Ordered::object();
        for (const auto& [k, v] : job.labels) line["labels"][k] = v;
        if (is_too_deep(outcome)) return make_line(source, job, provider, too_deep(outcome));
        if (outcome.ok()) {
            line["status"] = "ok";
            line["value"] = Ordered(*outcome.value);
            line["error"] = nullptr;
        } else {
            const ErrorStatus err = outcome.error.value_or(
                ErrorStatus{0, "", "The provider reported neither a value nor an error for this request.", nullptr});
            line["status"] = "error";
            line["value"] = nullptr;
            Ordered e;
            e["code"] = err.code;
            e["status"] = err.status;
            e["message"] = err.message;
            if (!err.details.is_null())
                e["details"] = detail::nests_deeper_than(err.details) ? Ordered("(nested too deeply to be saved)")
                                                                      : Ordered(err.details);
            line["error"] = std::move(e);
        }
        return line.dump(-1, ' ', false, Ordered::error_handler_t::replace) + '\n';
    }

    /// What a save needs to know of the existing file.
    struct Scan {
        bool has_job = false;        ///< the job already has lines there
        bool torn_tail = false;      ///< the last line is an unfinished append (no newline, not JSON)
        bool unterminated = false;   ///< the last line has no newline (and is kept)
        std::uint64_t content_end = 0;  ///< the end of the last line holding something
    };

    /// Calls `f(text, number, unterminated)` for every line of `file` (without its newline),
    /// reading it in pieces; `unterminated` is true for a last line with no newline.
    template <class F>
    static void for_each_raw_line(const std::filesystem::path& file, F&& f) {
        std::string partial;
        std::size_t number = 0;
        detail::read_file_chunks(file, [&](std::string_view chunk) {
            while (!chunk.empty()) {
                const auto nl = chunk.find('\n');
                if (nl == std::string_view::npos) {
                    partial.append(chunk);
                    return;
                }
                ++number;
                if (partial.empty()) {
                    f(chunk.substr(0, nl), number, false);
                } else {
                    partial.append(chunk.substr(0, nl));
                    f(std::string_view(partial), number, false);
                    partial.clear();
                }
                chunk.remove_prefix(nl + 1);
            }
        });
        if (!partial.empty()) f(std::string_view(partial), number + 1, true);
    }

    static bool blank(std::string_view text) { return text.find_first_not_of(" \t\r") == std::string_view::npos; }

    /// The `job` of a result line: read straight from the `{"job":"...",` start this store
    /// writes, else from a full parse. @throws ResultFileError for a line that is not a result line.
    [[nodiscard]] static std::string line_job(const std::filesystem::path& file, std::string_view text, std::size_t number) {
        if (blank(text)) return {};
        constexpr std::string_view start = "{\"job\":\"";
        // A line this store wrote: its start and its closing brace are enough (a full parse of
        // every line would dominate the save of a large file).
        if (text.substr(0, start.size()) == start && text.back() == '}') {
            const auto end = text.find('"', start.size());
            if (end != std::string_view::npos && text.substr(start.size(), end - start.size()).find('\\') == std::string_view::npos)
                return std::string(text.substr(start.size(), end - start.size()));
        }
        return parse_line(file, text, number).at("job").get<std::string>();
    }

    /// Reads the existing file once: does `job_name` have lines, and how does the file end.
    [[nodiscard]] static Scan scan_file(const std::filesystem::path& file, const std::string& job_name) {
        Scan scan;
        std::uint64_t offset = 0;
        for_each_raw_line(file, [&](std::string_view text, std::size_t number, bool unterminated) {
            if (unterminated) {
                scan.unterminated = !blank(text);
                // A line cut short by an interrupted append: no newline, and not JSON.
                constexpr std::string_view start = "{\"job\":";
                if (text.substr(0, start.size()) == start && Json::parse(text, nullptr, false).is_discarded()) {
                    scan.torn_tail = true;
                    scan.unterminated = false;
                    return;
                }
            }
            offset += text.size() + (unterminated ? 0 : 1);
            if (blank(text)) return;
            scan.content_end = offset;
            if (line_job(file, text, number) == job_name) scan.has_job = true;
        });
        return scan;
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

    /// Parses one line. @throws ResultFileError when it is not a JSON object with a string "job".
    [[nodiscard]] static Json parse_line(const std::filesystem::path& file, std::string_view text, std::size_t number) {
        Json line;
        try {
            line = Json::parse(text);
        } catch (const Json::exception& e) {  // also numbers out of range, such as 1e999
            throw ResultFileError(fmt::format("Results file '{}', line {}, is not valid JSON ({}). The file was left "
                                              "unchanged; fix or move it.",
                                              file.string(), number, e.what()),
                                  file, number);
        }
        if (!line.is_object() || !line.contains("job") || !line.at("job").is_string())
            throw ResultFileError(fmt::format("Results file '{}', line {}, is not a result line (a JSON object with a "
                                              "string \"job\"). The file was left unchanged; fix or move it.",
                                              file.string(), number),
                                  file, number);
        // The store writes a value up to max_json_depth levels deep two levels down (error.details).
        if (detail::nests_deeper_than(line, detail::max_json_depth + 2))
            throw ResultFileError(fmt::format("Results file '{}', line {}, nests deeper than {} levels. The file was "
                                              "left unchanged; fix or move it.",
                                              file.string(), number, detail::max_json_depth + 2),
                                  file, number);
        return line;
    }

    /// Calls `f(parsed, number)` for every non-blank line of `file` (none when it does not exist).
    /// @throws ResultFileError for a line that is not a result line.
    template <class F>
    static void for_each_line(const std::filesystem::path& file, F&& f) {
        for_each_raw_line(file, [&](std::string_view text, std::size_t number, bool) {
            if (blank(text)) return;
            f(parse_line(file, text, number), number);
        });
    }

    std::filesystem::path output_dir_;
};

}  // namespace llmbatch
