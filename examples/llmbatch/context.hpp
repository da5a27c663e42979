#pragma once
/// @file context.hpp
/// One `llmbatch` command being run (`Context`): its backend, output streams, options, tracker and
/// results store, and the small pieces of output every command shares.

#include <algorithm>
#include <charconv>
#include <csignal>
#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/any_job_store.hpp"
#include "llmbatch/detail/time.hpp"
#include "llmbatch/result_store.hpp"
#include "llmbatch/workflow.hpp"

#include "backend.hpp"
#include "options.hpp"
#include "progress_line.hpp"
#include "store_spec.hpp"

namespace llmbatch::cli {

/// What `run` needs to know about the process it runs in.
struct RunOptions {
    /// `out` is a terminal: `wait` rewrites one progress line with `\r` instead of printing a
    /// line per change. The program's `main` passes `isatty(STDOUT_FILENO)`.
    bool out_is_terminal = false;
    /// `err` is a terminal: a long upload or download rewrites one progress line there instead of
    /// printing a line when it starts and one when it ends. `main` passes `isatty(STDERR_FILENO)`.
    bool err_is_terminal = false;
    /// Set (by a signal handler) when the user pressed Ctrl-C: `wait` stops at its next check and
    /// says how to resume. Null: never.
    const volatile std::sig_atomic_t* interrupted = nullptr;
};

namespace detail {

/// The options every command shares, with their defaults.
struct CommonOptions {
    /// `--store`, or `json:` + `--tracking-file`.
    StoreSpec store{};
    /// The JSON store's tracking file; the emulators' state file is named after it whatever the store.
    std::filesystem::path tracking_file = "llmbatch_jobs.json";
    std::filesystem::path state_file = "llmbatch_state.json";
    std::filesystem::path output_dir = "results";
    std::filesystem::path emulator_state{};
    std::string provider{};
    std::string base_url{};
    bool json = false;
    EmulatorFaults emulator_faults{};
};

/// One command being run.
template <class B>
struct Context {
    B& backend;
    std::ostream& out;
    std::ostream& err;
    const RunOptions& run;
    const CommonOptions& common;
    const ParsedArgs& args;
    AnyJobStore tracker;
    ResultStore store;
    ProgressLine progress;

    Context(B& b, std::ostream& o, std::ostream& e, const RunOptions& r, const CommonOptions& c, const ParsedArgs& a)
        : backend(b), out(o), err(e), run(r), common(c), args(a), tracker(open_store(c.store, c.state_file)),
          store(c.output_dir), progress(e, r.err_is_terminal) {}

    /// A line of text output (nothing in JSON mode).
    void say(std::string_view line) {
        if (!common.json) out << line << '\n';
    }

    /// Prints `doc`; invalid UTF-8 (e.g. in a server's message) is replaced, never thrown on.
    void emit(const nlohmann::ordered_json& doc) {
        out << doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
    }

    void configure(const BackendSettings& extra = {}) {
        BackendSettings s = extra;
        s.tracking_file = common.tracking_file;
        s.emulator_state = common.emulator_state;
        s.base_url = common.base_url;
        s.emulator_faults = common.emulator_faults;
        s.on_retry = [this](const RetryNotice& notice) { err << retry_line(notice) << '\n'; };
        s.on_transfer = [this](const TransferProgress& p) { progress(p); };
        if (!common.provider.empty()) s.provider = common.provider;  // --provider wins
        backend.configure(s);
    }

    /// The options a follow-up command needs to see the same files, e.g. ` --tracking-file x.json`
    /// (a database store's connection string without its password).
    [[nodiscard]] std::string same_files() const {
        const CommonOptions defaults;
        std::string s;
        if (common.store.kind != StoreSpec::Kind::json) {
            s += " --store " + shell_word(common.store.shown());
        } else {
            if (common.tracking_file != defaults.tracking_file) s += " --tracking-file " + common.tracking_file.string();
            if (common.state_file != defaults.state_file) s += " --state-file " + common.state_file.string();
        }
        if (common.output_dir != defaults.output_dir) s += " --output-dir " + common.output_dir.string();
        return s;
    }

    /// The tracked jobs named by `--job-names`, in the order given (duplicates once).
    /// @throws UsageError listing the names that are not tracked.
    [[nodiscard]] std::vector<TrackedJob> named_jobs() {
        std::vector<TrackedJob> out_jobs;
        std::vector<std::string> unknown;
        for (const auto& name : args.values("--job-names")) {
            if (std::any_of(out_jobs.begin(), out_jobs.end(), [&](const TrackedJob& j) { return j.job_name == name; }))
                continue;
            if (auto job = tracker.find(name)) out_jobs.push_back(std::move(*job));
            else unknown.push_back(name);
        }
        if (!unknown.empty())
            throw UsageError(fmt::format("Unknown job name(s), not in {}: {}", tracker.description(),
                                         fmt::join(unknown, ", ")));
        return out_jobs;
    }
};

/// The emulator faults a command line asks for (see `EmulatorFaults`).
/// @throws UsageError naming the option and the text it could not read.
[[nodiscard]] inline EmulatorFaults emulator_faults(const ParsedArgs& args) {
    EmulatorFaults faults;
    const auto whole = [](std::string_view text, auto& out) {
        const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
        return !text.empty() && ec == std::errc{} && ptr == text.data() + text.size();
    };
    if (const auto v = args.value("--emulator-fail-requests")) {
        std::string_view rest = *v;
        while (true) {
            const auto comma = rest.find(',');
            std::size_t index = 0;
            if (!whole(rest.substr(0, comma), index))
                throw UsageError(fmt::format("--emulator-fail-requests takes request indexes from 0, separated by "
                                             "commas, e.g. 1,4 (got '{}')", *v));
            faults.failed_requests.push_back(index);
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
    }
    faults.fail_job = args.flag("--emulator-fail-job");
    if (const auto v = args.value("--emulator-http-errors")) {
        const std::string_view text = *v;
        const auto colon = text.find(':');
        if (!whole(text.substr(0, colon), faults.http_errors) || faults.http_errors == 0 ||
            (colon != std::string_view::npos &&
             (!whole(text.substr(colon + 1), faults.http_status) || faults.http_status < 400 || faults.http_status > 599)))
            throw UsageError(fmt::format("--emulator-http-errors takes a count of at least 1 and an optional HTTP "
                                         "status from 400 to 599, e.g. 2 or 3:429 (got '{}')", text));
    }
    return faults;
}

[[nodiscard]] inline std::string frame(char c, std::size_t n) { return std::string(n, c); }


[[nodiscard]] inline nlohmann::ordered_json job_json(const TrackedJob& job) {
    nlohmann::ordered_json j;
    j["job_name"] = job.job_name;
    j["provider"] = job.provider;
    j["source"] = job.source;
    j["batch_index"] = job.batch_index;
    j["status"] = to_string(job.status);
    j["created_at"] = ::llmbatch::detail::format_rfc3339(job.created_at, false);
    j["completed_at"] = job.completed_at ? nlohmann::ordered_json(::llmbatch::detail::format_rfc3339(*job.completed_at, false))
                                         : nlohmann::ordered_json(nullptr);
    j["error_message"] = job.error_message.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(job.error_message);
    j["labels"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : job.labels) j["labels"][k] = v;
    j["request_keys"] = job.request_keys;
    return j;
}

}  // namespace detail
}  // namespace llmbatch::cli
