#pragma once
/// @file tracked_job.hpp
/// What a job store (job_store.hpp) keeps: `TrackedJob` (one provider job and the batch it
/// covers), its `TrackedStatus`, `CreateIntent` (a create in flight), and the stores' errors.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/error.hpp"

namespace llmbatch {

/// What became of a tracked job, as far as this program is concerned (not the provider's state).
enum class TrackedStatus {
    pending,    ///< submitted; results not yet saved
    completed,  ///< results saved
    failed,     ///< the job or the fetch failed; see `TrackedJob::error_message`
    cancelled,  ///< cancelled by the user
};

/// The lower-case word stored in the tracking file: `pending`, `completed`, `failed`, `cancelled`.
[[nodiscard]] constexpr std::string_view to_string(TrackedStatus s) noexcept {
    switch (s) {
        case TrackedStatus::pending: return "pending";
        case TrackedStatus::completed: return "completed";
        case TrackedStatus::failed: return "failed";
        case TrackedStatus::cancelled: return "cancelled";
    }
    return "pending";
}

/// The status named by `word` (exactly as `to_string` writes it), or `nullopt`.
[[nodiscard]] constexpr std::optional<TrackedStatus> parse_tracked_status(std::string_view word) noexcept {
    for (auto s : {TrackedStatus::pending, TrackedStatus::completed, TrackedStatus::failed, TrackedStatus::cancelled})
        if (to_string(s) == word) return s;
    return std::nullopt;
}

/// One tracked batch job. `source` and `batch_index` say which batch of work it carries, e.g.
/// batch 2 of `Geography/gcse-geography.md`.
struct TrackedJob {
    using TimePoint = std::chrono::system_clock::time_point;

    std::string provider{};        ///< provider name, e.g. `gemini`
    std::string job_name{};        ///< the provider's job name; unique in a tracking file
    std::string source{};          ///< what the batch was cut from, e.g. `History/gcse-history.md`
    std::int64_t batch_index = 0;  ///< which batch of `source` (0-based)
    /// When the job was created; stored in UTC to the second (a fraction is dropped).
    TimePoint created_at{};
    TrackedStatus status = TrackedStatus::pending;
    std::string error_message{};   ///< why it failed or was cancelled; empty otherwise
    std::map<std::string, std::string> labels{};  ///< free-form caller data, e.g. `{"subject": "History"}`
    std::vector<std::string> request_keys{};      ///< the key of each request, in payload order
    /// When results were last saved (`mark_completed`); stored to the second.
    std::optional<TimePoint> completed_at{};

    friend bool operator==(const TrackedJob&, const TrackedJob&) = default;
};

/// A create recorded before it was sent (`JobTracker::begin_create`) whose outcome is not recorded
/// yet: the job it is to become and the client token sent with it. An open create that outlives
/// its process (a lost reply, a crash) is settled by `resolve_open_creates` (tracked_create.hpp).
struct CreateIntent {
    std::string token{};  ///< the `CreateOptions::client_token` sent with the create
    /// The job to track once created: `job_name` empty, `created_at` when the create was sent.
    TrackedJob job{};

    friend bool operator==(const CreateIntent&, const CreateIntent&) = default;
};

/// The tracking or state file cannot be used: not JSON, not an llmbatch file, a field of the
/// wrong type, a missing field, an unknown status, or a newer format version. The file is left
/// exactly as it was.
class TrackingFileError : public Error {
public:
    TrackingFileError(std::string message, std::filesystem::path path)
        : Error(std::move(message)), path_(std::move(path)) {}

    /// The file that could not be used.
    [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
};

/// `JobTracker::add` refused a job because a pending job already covers the same batch
/// (re-running a batch-creating command would otherwise pay twice).
class DuplicateJobError : public InvalidArgument {
public:
    DuplicateJobError(std::string message, std::string existing_job)
        : InvalidArgument(std::move(message)), existing_job_(std::move(existing_job)) {}

    /// The pending job that covers the batch.
    [[nodiscard]] const std::string& existing_job() const noexcept { return existing_job_; }

private:
    std::string existing_job_;
};

}  // namespace llmbatch

template <>
struct fmt::formatter<llmbatch::TrackedStatus> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(llmbatch::TrackedStatus s, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(llmbatch::to_string(s), ctx);
    }
};
