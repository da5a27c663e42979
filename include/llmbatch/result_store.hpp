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
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/file_io.hpp"
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
/// Every save is a transaction under the file's lock (`<file>.lock`) and replaces the file
/// atomically. Reads take no lock.
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
    /// `source`, replacing every line that `job` already had there (they are replaced in place:
    /// the new lines go where the job's first old line was, or at the end). Other jobs' lines
    /// keep their text and order. Returns the file's path.
    /// @throws InvalidArgument for a bad source, a job without a name, results of another job,
    ///         or empty results (which would erase the job's earlier lines).
    /// @throws ResultFileError when the existing file holds an unreadable line (nothing written).
    /// @throws FileError for I/O failures.
    std::filesystem::path save(const std::string& source, const TrackedJob& job, const BatchResults& results) {
        const auto file = path_for(source);
        if (job.job_name.empty()) throw InvalidArgument("Results can only be saved for a job with a name.");
        if (!results.job_name().empty() && results.job_name() != job.job_name)
            throw InvalidArgument(fmt::format("The results are those of job '{}', not of job '{}'.", results.job_name(),
                                              job.job_name));
        if (results.empty())
            throw InvalidArgument(fmt::format(
                "Job '{}' returned no results; its earlier results in '{}' are kept.", job.job_name, file.string()));

        std::string fresh;
        for (const auto& outcome : results) fresh += make_line(source, job, results, outcome);

        detail::FileLock lock(file);
        detail::remove_stale_temporaries(file);
        const auto existing = detail::read_file_if_exists(file);
        std::string out;
        bool placed = false;
        if (existing) {
            for_each_line(file, *existing, [&](std::string_view text, const Json& line, std::size_t) {
                if (line.at("job").get_ref<const std::string&>() == job.job_name) {
                    if (!placed) out += fresh;
                    placed = true;
                    return;
                }
                out += text;
                out += '\n';
            });
        }
        if (!placed) out += fresh;
        detail::atomic_write_file(file, out);
        return file;
    }

    /// Every line of the file of `source`, in file order; empty when there is no file.
    /// @throws ResultFileError for an unreadable line; FileError for I/O failures.
    [[nodiscard]] std::vector<Json> load(const std::string& source) const {
        const auto file = path_for(source);
        std::vector<Json> out;
        const auto text = detail::read_file_if_exists(file);
        if (!text) return out;
        for_each_line(file, *text, [&](std::string_view, const Json& line, std::size_t) { out.push_back(line); });
        return out;
    }

    /// The request indices of `job_name`'s `error` lines in the file of `source`, ascending:
    /// feed them to `select_requests` to resubmit exactly the failures.
    [[nodiscard]] std::vector<std::size_t> failed_request_indices(const std::string& source,
                                                                  const std::string& job_name) const {
        const auto file = path_for(source);
        std::vector<std::size_t> out;
        const auto text = detail::read_file_if_exists(file);
        if (!text) return out;
        for_each_line(file, *text, [&](std::string_view, const Json& line, std::size_t number) {
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

    [[nodiscard]] static std::string make_line(const std::string& source, const TrackedJob& job,
                                               const BatchResults& results, const RequestOutcome& outcome) {
        Ordered line;
        line["job"] = job.job_name;
        line["provider"] = job.provider.empty() ? results.provider() : job.provider;
        line["source"] = source;
        line["batch_index"] = job.batch_index;
        line["request_index"] = outcome.index;
        // The caller's key for the request (tracked with the job) wins over the provider's own key,
        // which only says where the request sat in the job.
        std::string key = outcome.key;
        if (job.request_keys.size() == results.size() && outcome.index < job.request_keys.size())
            key = job.request_keys[outcome.index];
        else if (key.empty() && outcome.index < job.request_keys.size())
            key = job.request_keys[outcome.index];
        line["request_key"] = key;
        line["labels"] = Ordered::object();
        for (const auto& [k, v] : job.labels) line["labels"][k] = v;
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
            if (!err.details.is_null()) e["details"] = Ordered(err.details);
            line["error"] = std::move(e);
        }
        return line.dump(-1, ' ', false, Ordered::error_handler_t::replace) + '\n';
    }

    /// Calls `f(text, parsed, number)` for every non-blank line; throws ResultFileError for a line
    /// that is not a JSON object with a string "job".
    template <class F>
    static void for_each_line(const std::filesystem::path& file, std::string_view text, F&& f) {
        std::size_t number = 0;
        std::size_t start = 0;
        while (start < text.size()) {
            auto end = text.find('\n', start);
            if (end == std::string_view::npos) end = text.size();
            ++number;
            const auto line_text = text.substr(start, end - start);
            start = end + 1;
            if (line_text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
            Json line;
            try {
                line = Json::parse(line_text);
            } catch (const Json::parse_error& e) {
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
            f(line_text, line, number);
        }
    }

    std::filesystem::path output_dir_;
};

}  // namespace llmbatch
