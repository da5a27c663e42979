#pragma once
/// @file tracking.hpp
/// The job tracker: which batch jobs were submitted for which part of which source, what became
/// of them, and which batches are done, kept in two JSON files that survive crashes and
/// concurrent runs.
///
/// - The **tracking file** lists every job: provider, job name, source and batch index, creation
///   time, status (`pending`, `completed`, `failed`, `cancelled`), error message, labels and
///   request keys.
/// - The **state file** lists, per source, the batch indices whose results are saved
///   (`completed_batches`). A batch-creating run skips those.
///
/// Every change is a read-modify-write transaction under an advisory lock (`.<file>.lock`, hidden beside it) that
/// re-reads the file inside the lock, so two processes never lose each other's updates, and every
/// write replaces the file atomically, so a crash never leaves it half-written. A file that cannot
/// be understood is reported (`TrackingFileError`) and never overwritten.
///
/// Example: the life of one job.
/// @code
/// llmbatch::JobTracker tracker("data/batch_jobs.json", "data/batch_state.json");
/// llmbatch::TrackedJob job;
/// job.provider = "gemini";
/// job.job_name = job_name;                       // from create_batch_job
/// job.source = "Geography/gcse-geography.md";
/// job.batch_index = 0;
/// job.created_at = clock.utc_now();
/// tracker.add(job);                              // throws DuplicateJobError if batch 0 is pending
/// // ... later, after the results are saved:
/// tracker.mark_completed(job_name, clock.utc_now());
/// for (const auto& j : tracker.select_refetch(6.0, clock.utc_now())) tracker.reset_to_pending(j.job_name);
/// @endcode

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/file_io.hpp"
#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/detail/time.hpp"
#include "llmbatch/detail/store_rules.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/tracked_job.hpp"

namespace llmbatch {

/// Tracks batch jobs in a tracking file and completed batches in a state file.
///
/// File formats (UTF-8 JSON, written with two-space indentation):
/// @code
/// {"format": "llmbatch-tracking", "version": 1, "jobs": {
///   "batches/abc": {"provider": "gemini", "job_name": "batches/abc", "source": "History/h.md",
///                   "batch_index": 0, "created_at": "2025-03-01T09:30:00Z", "status": "pending",
///                   "error_message": null, "labels": {}, "request_keys": ["0"],
///                   "completed_at": null, "sequence": 0}}}
/// {"format": "llmbatch-state", "version": 1, "sources": {"History/h.md": {"completed_batches": [0, 2]}}}
/// @endcode
/// While a create is in flight (`begin_create` to `finish_create` / `abandon_create`), the
/// tracking file also holds it under `"creating"`, keyed by its client token:
/// `"creating": {"k3v9...": {"provider": "gemini", "source": "History/h.md", "batch_index": 1,
/// "created_at": "2025-03-01T09:31:00Z", "labels": {}, "request_keys": ["10", "11"]}}`.
/// `sequence` numbers the jobs in creation order (jobs without one, e.g. written by hand, come
/// first, in file order). Fields this version does not know, in a job or
/// at the top level, are kept when the file is rewritten. Files are created on the first change
/// (with missing parent directories); a missing file reads as empty.
///
/// Concurrency and crashes: each change locks `.<file>.lock` (tracking before state when both are
/// needed), re-reads and validates the file(s), then replaces them atomically; reads take no lock
/// and see the last complete write. The change callback of `update` must not call into a tracker
/// over the same files (the lock is not re-entrant).
///
/// Errors: `TrackingFileError` for an unusable file (which is then never written),
/// `InvalidArgument` for bad arguments or unknown job names, `DuplicateJobError` from `add`,
/// `FileError` for I/O failures.
class JobTracker {
public:
    /// The file format version this build reads and writes.
    static constexpr int format_version = 1;

    /// A tracker over `tracking_file` (the jobs) and `state_file` (the completed batches). Nothing
    /// is read or created until used.
    /// @throws InvalidArgument when a path is empty or both name the same file.
    JobTracker(std::filesystem::path tracking_file, std::filesystem::path state_file)
        : tracking_file_(std::move(tracking_file)), state_file_(std::move(state_file)) {
        if (tracking_file_.empty() || state_file_.empty())
            throw InvalidArgument("The tracking file and the state file must both be named.");
        if (same_file(tracking_file_, state_file_))
            throw InvalidArgument(fmt::format("The tracking file and the state file must be different files (both are '{}').",
                                              tracking_file_.string()));
    }

    [[nodiscard]] const std::filesystem::path& tracking_file() const noexcept { return tracking_file_; }
    [[nodiscard]] const std::filesystem::path& state_file() const noexcept { return state_file_; }
    /// What messages call this store: the tracking file's path.
    [[nodiscard]] std::string description() const { return tracking_file_.string(); }

    // ----- reading -----

    /// Every tracked job, in creation order.
    [[nodiscard]] std::vector<TrackedJob> jobs() const { return read_tracking().jobs; }

    /// The job named `job_name`, or `nullopt`.
    [[nodiscard]] std::optional<TrackedJob> find(const std::string& job_name) const {
        for (auto& job : jobs())
            if (job.job_name == job_name) return std::move(job);
        return std::nullopt;
    }

    /// The jobs whose status is `pending`, in creation order.
    [[nodiscard]] std::vector<TrackedJob> pending() const { return with_status(TrackedStatus::pending); }

    /// The completed jobs created within the last `hours` hours before `now`, in creation order:
    /// those with `now - created_at <= hours` (the boundary is included; a creation time after
    /// `now` counts as within). `0.5` is thirty minutes. Selection is by creation time, as in
    /// the user's document.
    /// @throws InvalidArgument when `hours` is not a finite number greater than zero.
    [[nodiscard]] std::vector<TrackedJob> select_refetch(double hours, std::chrono::system_clock::time_point now) const {
        detail::check_refetch_hours(hours);
        auto out = with_status(TrackedStatus::completed);
        std::erase_if(out, [&](const TrackedJob& job) { return !detail::within_refetch(job, hours, now); });
        return out;
    }

    /// The batch indices of `source` marked completed in the state file.
    [[nodiscard]] std::set<std::int64_t> completed_batches(const std::string& source) const {
        const auto doc = read_state();
        const auto& sources = doc.at("sources");
        const auto it = sources.find(source);
        if (it == sources.end()) return {};
        std::set<std::int64_t> out;
        for (const auto& v : it->at("completed_batches")) out.insert(v.get<std::int64_t>());
        return out;
    }

    /// True when batch `index` of `source` is marked completed in the state file.
    [[nodiscard]] bool is_batch_completed(const std::string& source, std::int64_t index) const {
        return completed_batches(source).count(index) != 0;
    }

    // ----- changing -----

    /// Starts tracking `job` (its `sequence` is assigned here).
    /// @throws InvalidArgument when `job.job_name` is empty, `job.batch_index` is negative or the
    ///         name is already tracked.
    /// @throws DuplicateJobError when a pending job exists for the same source and batch index,
    ///         unless `force`.
    void add(TrackedJob job, bool force = false) {
        detail::check_tracked_job(job);
        detail::FileLock lock(tracking_file_);
        auto [doc, existing] = read_tracking_for_change();
        for (const auto& e : existing)
            if (e.job_name == job.job_name) throw detail::already_tracked(e);
        if (!force) refuse_duplicate(doc, existing, job);
        insert_job(doc, existing, std::move(job));
        write(tracking_file_, doc);
    }

    // ----- creates in flight -----

    /// The creates recorded by `begin_create` and not yet finished or abandoned, oldest first.
    [[nodiscard]] std::vector<CreateIntent> open_creates() const { return parse_intents(read_tracking().doc); }

    /// Records, before a create is sent, that batch `intent.job.batch_index` of `intent.job.source`
    /// is being created with client token `intent.token`. Until `finish_create` or
    /// `abandon_create`, the batch counts as taken: `add` and other `begin_create` calls for it
    /// are refused (unless forced), so two processes sharing the file never create it twice.
    /// @throws DuplicateJobError when the batch has a pending job or an open create, unless
    ///         `force`; InvalidArgument for a token that is not `client_token_valid` or already
    ///         open, or a negative batch index.
    void begin_create(const CreateIntent& intent, bool force = false) {
        detail::check_create_intent(intent);
        detail::FileLock lock(tracking_file_);
        auto [doc, existing] = read_tracking_for_change();
        if (doc.contains("creating") && doc["creating"].contains(intent.token))
            throw detail::token_in_use(intent.token);
        if (!force) refuse_duplicate(doc, existing, intent.job);
        if (!doc.contains("creating")) doc["creating"] = Ordered::object();
        Ordered raw = Ordered::object();
        store_job(intent.job, raw);
        for (const auto* key : {"job_name", "status", "error_message", "completed_at"}) raw.erase(key);
        doc["creating"][intent.token] = std::move(raw);
        write(tracking_file_, doc);
    }

    /// Records that the create with client token `token` made job `job_name`: the job is tracked
    /// (as `add` would, with no duplicate check: the batch was reserved) and the create closed, in
    /// one write. When `job_name` is already tracked for the same batch, the create is just closed.
    /// @returns the job as tracked.
    /// @throws InvalidArgument when no create is open under `token`, `job_name` is empty, or it
    ///         is tracked for another batch (the create then stays open).
    TrackedJob finish_create(const std::string& token, const std::string& job_name) {
        if (job_name.empty()) throw InvalidArgument("A tracked job needs a job name.");
        detail::FileLock lock(tracking_file_);
        auto [doc, existing] = read_tracking_for_change();
        auto intent = intent_in(doc, token);
        doc["creating"].erase(token);
        if (doc["creating"].empty()) doc.erase("creating");
        for (const auto& e : existing)
            if (e.job_name == job_name) {
                detail::check_same_batch(e, intent);
                write(tracking_file_, doc);
                return e;
            }
        intent.job.job_name = job_name;
        insert_job(doc, existing, intent.job);
        write(tracking_file_, doc);
        return intent.job;
    }

    /// Records that the create with client token `token` made no job (no effect when no create
    /// is open under `token`).
    void abandon_create(const std::string& token) {
        detail::FileLock lock(tracking_file_);
        auto doc = read_tracking_for_change().doc;
        if (!doc.contains("creating") || !doc["creating"].contains(token)) return;
        doc["creating"].erase(token);
        if (doc["creating"].empty()) doc.erase("creating");
        write(tracking_file_, doc);
    }


    /// Applies `change` to the job named `job_name` and saves it. Nothing is saved when `change`
    /// throws. `change` must not rename the job.
    /// @throws InvalidArgument for an unknown job, a renamed job or a negative batch index.
    void update(const std::string& job_name, const std::function<void(TrackedJob&)>& change) {
        detail::FileLock lock(tracking_file_);
        auto doc = read_tracking_for_change().doc;
        auto job = job_in(doc, job_name);
        change(job);
        if (job.job_name != job_name) throw detail::renamed(job_name, job.job_name);
        detail::check_tracked_job(job);
        store_job(job, doc["jobs"][job_name]);
        write(tracking_file_, doc);
    }

    /// Marks the job completed at `time` (clearing its error message) and adds its batch index to
    /// the state file's completed batches of its source. Call it after the results are saved.
    ///
    /// Crash order: the state file is written first, the tracking file second. A crash between
    /// the two leaves the batch marked completed and the job still pending: the next fetch of
    /// pending jobs fetches it again, saves the same results again (`ResultStore::save` replaces
    /// the job's lines) and completes it, so the state heals itself and no batch is submitted
    /// twice. The opposite order could leave a completed job whose batch is not marked, which a
    /// batch-creating run would pay for again.
    /// @throws InvalidArgument for an unknown job.
    void mark_completed(const std::string& job_name, std::chrono::system_clock::time_point time) {
        detail::FileLock tracking_lock(tracking_file_);
        detail::FileLock state_lock(state_file_);
        auto doc = read_tracking_for_change().doc;
        auto job = job_in(doc, job_name);
        auto state = read_state_for_change();
        auto& sources = state["sources"];
        if (!sources.contains(job.source)) sources[job.source] = Ordered{{"completed_batches", Ordered::array()}};
        auto& entry = sources[job.source];
        auto set = batches_of(entry);
        if (set.insert(job.batch_index).second) {
            entry["completed_batches"] = Ordered(std::vector<std::int64_t>(set.begin(), set.end()));
            write(state_file_, state);
        }
        job.status = TrackedStatus::completed;
        job.completed_at = time;
        job.error_message.clear();
        store_job(job, doc["jobs"][job_name]);
        write(tracking_file_, doc);
    }

    /// Marks the job failed with `message`. The state file is not touched.
    /// @throws InvalidArgument for an unknown job.
    void mark_failed(const std::string& job_name, std::string message) {
        set_status(job_name, TrackedStatus::failed, std::move(message));
    }

    /// Marks the job cancelled with `message`. The state file is not touched.
    /// @throws InvalidArgument for an unknown job.
    void mark_cancelled(const std::string& job_name, std::string message = "Cancelled by user.") {
        set_status(job_name, TrackedStatus::cancelled, std::move(message));
    }

    /// Sets the job back to pending (to fetch it again), keeping its error message and last
    /// completion time. The state file's completion mark is left alone: the batch stays
    /// completed, with its earlier results, until new results are saved and `mark_completed`
    /// runs again, so a refetch that fails loses nothing.
    /// @throws InvalidArgument for an unknown job.
    void reset_to_pending(const std::string& job_name) {
        update(job_name, [](TrackedJob& job) { job.status = TrackedStatus::pending; });
    }

    /// Removes batch `index` of `source` from the state file's completed batches (no effect
    /// when it is not there).
    void unmark_completed(const std::string& source, std::int64_t index) {
        detail::FileLock lock(state_file_);
        auto state = read_state_for_change();
        auto& sources = state["sources"];
        const auto it = sources.find(source);
        if (it == sources.end()) return;
        auto set = batches_of(*it);
        if (set.erase(index) == 0) return;
        (*it)["completed_batches"] = Ordered(std::vector<std::int64_t>(set.begin(), set.end()));
        write(state_file_, state);
    }

private:
    using Ordered = nlohmann::ordered_json;

    static constexpr std::string_view tracking_format = "llmbatch-tracking";
    static constexpr std::string_view state_format = "llmbatch-state";

    /// True when `a` and `b` name the same file (after resolving `.`, `..` and symbolic links
    /// as far as they exist).
    [[nodiscard]] static bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
        std::error_code ec_a, ec_b;
        const auto ca = std::filesystem::weakly_canonical(a, ec_a);
        const auto cb = std::filesystem::weakly_canonical(b, ec_b);
        if (ec_a || ec_b) return std::filesystem::absolute(a, ec_a).lexically_normal() ==
                                 std::filesystem::absolute(b, ec_b).lexically_normal();
        return ca == cb;
    }

    /// `j[key]` when `j` is an object holding `key`, else `nullptr`.
    [[nodiscard]] static const Ordered* member_of(const Ordered& j, std::string_view key) {
        if (!j.is_object()) return nullptr;
        const auto it = j.find(key);
        return it == j.end() ? nullptr : &*it;
    }

    // ----- errors -----

    [[noreturn]] static void corrupt(std::string_view kind, const std::filesystem::path& file, const std::string& what) {
        throw TrackingFileError(fmt::format("{} '{}' cannot be used: {}. It was left unchanged; fix or move it.", kind,
                                            file.string(), what),
                                file);
    }

    // ----- whole files -----

    /// The parsed and checked document, or an empty one when the file does not exist.
    [[nodiscard]] static Ordered read_document(const std::filesystem::path& file, std::string_view kind,
                                               std::string_view format, std::string_view collection) {
        const auto text = detail::read_file_if_exists(file);
        if (!text) return Ordered{{"format", format}, {"version", format_version}, {collection, Ordered::object()}};
        if (const auto nul = text->find('\0'); nul != std::string::npos)
            corrupt(kind, file, fmt::format("it holds a NUL byte (at byte {})", nul));
        Ordered doc;
        try {
            doc = Ordered::parse(*text);
        } catch (const Ordered::exception& e) {  // also numbers out of range, such as 1e999
            corrupt(kind, file, text->empty() ? std::string("it is empty") : fmt::format("it is not valid JSON ({})", e.what()));
        }
        if (!doc.is_object()) corrupt(kind, file, "it is not a JSON object");
        if (detail::nests_deeper_than(doc))  // copying or writing it back would recurse once per level
            corrupt(kind, file, fmt::format("it nests deeper than {} levels", detail::max_json_depth));
        const auto* fmt_field = member_of(doc, "format");
        if (!fmt_field || !fmt_field->is_string() || fmt_field->get<std::string>() != format)
            corrupt(kind, file, fmt::format("it is not an llmbatch file (\"format\" should be \"{}\")", format));
        const auto* version = member_of(doc, "version");
        if (!version || !version->is_number_integer())
            corrupt(kind, file, "\"version\" is missing or not an integer");
        if (version->is_number_unsigned() ? version->get<std::uint64_t>() > static_cast<std::uint64_t>(format_version)
                                          : version->get<std::int64_t>() > format_version)
            throw TrackingFileError(
                fmt::format("{} '{}' was written by a newer llmbatch (version {}); this build reads version {}. It was "
                            "left unchanged.",
                            kind, file.string(), version->dump(), format_version),
                file);
        if (version->get<std::int64_t>() != format_version)
            corrupt(kind, file, fmt::format("version {} is not supported; this build reads version {}", version->dump(),
                                            format_version));
        const auto* items = member_of(doc, collection);
        if (!items || !items->is_object()) corrupt(kind, file, fmt::format("\"{}\" is missing or not an object", collection));
        return doc;
    }

    /// The tracking document and its jobs (every job checked: a broken file is never half-used).
    struct Snapshot {
        Ordered doc;
        std::vector<TrackedJob> jobs;
    };

    [[nodiscard]] Snapshot read_tracking() const {
        Snapshot snap{read_document(tracking_file_, "Tracking file", tracking_format, "jobs"), {}};
        snap.jobs = parse_jobs(snap.doc);
        return snap;
    }

    /// For a change: the lock is held; clears leftovers of writers that died.
    [[nodiscard]] Snapshot read_tracking_for_change() const {
        detail::remove_stale_temporaries(tracking_file_);
        return read_tracking();
    }

    [[nodiscard]] Ordered read_state() const {
        auto doc = read_document(state_file_, "State file", state_format, "sources");
        for (const auto& [source, entry] : doc.at("sources").items()) {
            if (!entry.is_object()) corrupt("State file", state_file_, fmt::format("source '{}' is not an object", source));
            const auto* list = member_of(entry, "completed_batches");
            if (!list || !list->is_array())
                corrupt("State file", state_file_,
                        fmt::format("source '{}': \"completed_batches\" is missing or not an array", source));
            for (const auto& v : *list)
                if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX) ||
                    v.get<std::int64_t>() < 0)
                    corrupt("State file", state_file_,
                            fmt::format("source '{}': completed batch {} is not a batch index", source, v.dump()));
        }
        return doc;
    }

    [[nodiscard]] Ordered read_state_for_change() const {
        detail::remove_stale_temporaries(state_file_);
        return read_state();
    }

    static void write(const std::filesystem::path& file, const Ordered& doc) {
        std::string text;
        try {
            text = doc.dump(2);
        } catch (const Ordered::type_error& e) {
            throw InvalidArgument(fmt::format("Cannot write '{}': a string is not valid UTF-8 ({}).", file.string(), e.what()));
        }
        text += '\n';
        detail::atomic_write_file(file, text);
    }

    // ----- creates in flight -----

    /// Throws DuplicateJobError when `job`'s batch has a pending job or an open create.
    void refuse_duplicate(const Ordered& doc, const std::vector<TrackedJob>& existing, const TrackedJob& job) const {
        for (const auto& e : existing)
            if (e.status == TrackedStatus::pending && e.source == job.source && e.batch_index == job.batch_index)
                throw detail::pending_duplicate(job, e.job_name);
        for (const auto& open : parse_intents(doc))
            if (open.job.source == job.source && open.job.batch_index == job.batch_index)
                throw detail::open_create_duplicate(job, open);
    }

    /// Adds `job` to `doc` with the next sequence number (the lock is held).
    void insert_job(Ordered& doc, const std::vector<TrackedJob>& existing, TrackedJob job) const {
        std::int64_t next_sequence = 0;
        for (const auto& [name, raw] : doc.at("jobs").items())
            if (const auto seq = sequence_of(raw)) {
                if (*seq == INT64_MAX)
                    corrupt("Tracking file", tracking_file_,
                            fmt::format("job '{}': \"sequence\" is {}, so no job can follow it", name, *seq));
                next_sequence = std::max(next_sequence, *seq + 1);
            }
        next_sequence = std::max(next_sequence, static_cast<std::int64_t>(existing.size()));
        Ordered raw = Ordered::object();
        store_job(job, raw);
        raw["sequence"] = next_sequence;
        doc["jobs"][job.job_name] = std::move(raw);
    }

    /// The open create `token` of `doc`.
    /// @throws InvalidArgument when there is none.
    [[nodiscard]] CreateIntent intent_in(const Ordered& doc, const std::string& token) const {
        for (auto& intent : parse_intents(doc))
            if (intent.token == token) return std::move(intent);
        throw detail::no_open_create(token, tracking_file_.string());
    }

    /// The open creates of a document, oldest first (checked: a broken entry is a corrupt file).
    [[nodiscard]] std::vector<CreateIntent> parse_intents(const Ordered& doc) const {
        std::vector<CreateIntent> out;
        const auto* creating = member_of(doc, "creating");
        if (!creating || creating->is_null()) return out;
        if (!creating->is_object()) corrupt("Tracking file", tracking_file_, "\"creating\" is not an object");
        for (const auto& [token, raw] : creating->items()) {
            if (!client_token_valid(token))
                corrupt("Tracking file", tracking_file_, fmt::format("open create '{}': not a client token", detail::excerpt(token, 80)));
            Ordered named = raw;
            if (named.is_object()) {
                named["job_name"] = "";
                named["status"] = "pending";
            }
            CreateIntent intent{token, parse_job("", named, "open create '" + token + "'")};
            out.push_back(std::move(intent));
        }
        std::stable_sort(out.begin(), out.end(),
                         [](const CreateIntent& a, const CreateIntent& b) { return a.job.created_at < b.job.created_at; });
        return out;
    }


    // ----- jobs -----

    [[nodiscard]] static std::optional<std::int64_t> sequence_of(const Ordered& raw) {
        const auto* seq = member_of(raw, "sequence");
        if (!seq) return std::nullopt;
        return seq->get<std::int64_t>();
    }

    /// Every job of a checked document, in creation order: by `sequence`, after the jobs that have
    /// none (written by hand or imported, so older), which keep their file order.
    [[nodiscard]] std::vector<TrackedJob> parse_jobs(const Ordered& doc) const {
        struct Entry {
            std::int64_t sequence;
            std::size_t position;
            TrackedJob job;
        };
        std::vector<Entry> entries;
        std::size_t position = 0;
        for (const auto& [name, raw] : doc.at("jobs").items()) {
            auto job = parse_job(name, raw);
            const auto seq = sequence_of(raw);
            entries.push_back({seq.value_or(-1), position++, std::move(job)});
        }
        std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
            return a.sequence != b.sequence ? a.sequence < b.sequence : a.position < b.position;
        });
        std::vector<TrackedJob> out;
        out.reserve(entries.size());
        for (auto& e : entries) out.push_back(std::move(e.job));
        return out;
    }

    /// Reads one job entry (`what` names it in errors; default: `job '<name>'`).
    [[nodiscard]] TrackedJob parse_job(const std::string& name, const Ordered& raw, std::string what_entry = {}) const {
        if (what_entry.empty()) what_entry = fmt::format("job '{}'", name);
        auto bad = [&](const std::string& what) { corrupt("Tracking file", tracking_file_, fmt::format("{}: {}", what_entry, what)); };
        if (!raw.is_object()) bad("it is not an object");
        auto required_string = [&](std::string_view key) -> std::string {
            const auto* v = member_of(raw, key);
            if (!v) bad(fmt::format("\"{}\" is missing", key));
            if (!v->is_string()) bad(fmt::format("\"{}\" must be a string", key));
            return v->get<std::string>();
        };
        auto time_field = [&](std::string_view key, const std::string& text) {
            const auto t = detail::parse_rfc3339(text);
            if (!t) bad(fmt::format("\"{}\" is not an RFC 3339 time of the years 1678 to 2261 (\"{}\")", key, text));
            return *t;
        };
        auto index_field = [&](std::string_view key, bool required) -> std::optional<std::int64_t> {
            const auto* v = member_of(raw, key);
            if (!v) {
                if (required) bad(fmt::format("\"{}\" is missing", key));
                return std::nullopt;
            }
            if (!v->is_number_integer() || (v->is_number_unsigned() && v->get<std::uint64_t>() > INT64_MAX) ||
                v->get<std::int64_t>() < 0)
                bad(fmt::format("\"{}\" must be an integer of 0 or more", key));
            return v->get<std::int64_t>();
        };

        TrackedJob job;
        job.provider = required_string("provider");
        job.job_name = required_string("job_name");
        if (job.job_name != name) bad(fmt::format("its \"job_name\" is '{}'", job.job_name));
        job.source = required_string("source");
        job.batch_index = *index_field("batch_index", true);
        job.created_at = time_field("created_at", required_string("created_at"));
        const auto status_word = required_string("status");
        const auto status = parse_tracked_status(status_word);
        if (!status) bad(fmt::format("unknown status \"{}\" (expected pending, completed, failed or cancelled)", status_word));
        job.status = *status;
        if (const auto* v = member_of(raw, "error_message"); v && !v->is_null()) {
            if (!v->is_string()) bad("\"error_message\" must be a string or null");
            job.error_message = v->get<std::string>();
        }
        if (const auto* v = member_of(raw, "labels"); v && !v->is_null()) {
            if (!v->is_object()) bad("\"labels\" must be an object of strings");
            for (const auto& [key, value] : v->items()) {
                if (!value.is_string()) bad(fmt::format("label \"{}\" must be a string", key));
                job.labels.emplace(key, value.get<std::string>());
            }
        }
        if (const auto* v = member_of(raw, "request_keys"); v && !v->is_null()) {
            if (!v->is_array()) bad("\"request_keys\" must be an array of strings");
            for (const auto& key : *v) {
                if (!key.is_string()) bad("\"request_keys\" must be an array of strings");
                job.request_keys.push_back(key.get<std::string>());
            }
        }
        if (const auto* v = member_of(raw, "completed_at"); v && !v->is_null()) {
            if (!v->is_string()) bad("\"completed_at\" must be a string or null");
            job.completed_at = time_field("completed_at", v->get<std::string>());
        }
        (void)index_field("sequence", false);
        return job;
    }

    /// Writes the fields of `job` into `raw`, keeping any other fields `raw` has.
    static void store_job(const TrackedJob& job, Ordered& raw) {
        raw["provider"] = job.provider;
        raw["job_name"] = job.job_name;
        raw["source"] = job.source;
        raw["batch_index"] = job.batch_index;
        raw["created_at"] = detail::format_rfc3339(job.created_at, false);
        raw["status"] = to_string(job.status);
        raw["error_message"] = job.error_message.empty() ? Ordered(nullptr) : Ordered(job.error_message);
        raw["labels"] = Ordered::object();
        for (const auto& [key, value] : job.labels) raw["labels"][key] = value;
        raw["request_keys"] = job.request_keys;
        raw["completed_at"] = job.completed_at ? Ordered(detail::format_rfc3339(*job.completed_at, false)) : Ordered(nullptr);
    }

    [[nodiscard]] TrackedJob job_in(const Ordered& doc, const std::string& job_name) const {
        const auto& jobs = doc.at("jobs");
        const auto it = jobs.find(job_name);
        if (it == jobs.end())
            throw detail::not_tracked(job_name, tracking_file_.string());
        return parse_job(job_name, *it);
    }

    [[nodiscard]] std::vector<TrackedJob> with_status(TrackedStatus status) const {
        auto all = jobs();
        std::erase_if(all, [&](const TrackedJob& j) { return j.status != status; });
        return all;
    }

    void set_status(const std::string& job_name, TrackedStatus status, std::string message) {
        update(job_name, [&](TrackedJob& job) {
            job.status = status;
            job.error_message = std::move(message);
        });
    }

    [[nodiscard]] static std::set<std::int64_t> batches_of(const Ordered& entry) {
        std::set<std::int64_t> out;
        if (const auto* list = member_of(entry, "completed_batches"))
            for (const auto& v : *list) out.insert(v.get<std::int64_t>());
        return out;
    }

    std::filesystem::path tracking_file_;
    std::filesystem::path state_file_;
};

}  // namespace llmbatch
