#pragma once
/// @file context.hpp
/// One `llmbatch` command being run (`Context`): its backend, output streams, options, tracker and
/// results store, and the small pieces of output every command shares.

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>
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
#include "store_spec.hpp"

namespace llmbatch::cli {

/// What `run` needs to know about the process it runs in.
struct RunOptions {
    /// `out` is a terminal: `wait` rewrites one progress line with `\r` instead of printing a
    /// line per change. The program's `main` passes `isatty(STDOUT_FILENO)`.
    bool out_is_terminal = false;
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

    Context(B& b, std::ostream& o, std::ostream& e, const RunOptions& r, const CommonOptions& c, const ParsedArgs& a)
        : backend(b), out(o), err(e), run(r), common(c), args(a), tracker(open_store(c.store, c.state_file)),
          store(c.output_dir) {}

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
        s.on_retry = [this](const RetryNotice& notice) { err << retry_line(notice) << '\n'; };
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
