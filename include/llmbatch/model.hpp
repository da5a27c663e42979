#pragma once
/// @file model.hpp
/// The provider-neutral model: what goes into a batch job (`BatchRequest`, the document's
/// `BatchPayload`, `GenerationConfig`, `CreateOptions`), what a job looks like (`SubmittedJob`,
/// `BatchJob`, `JobState`) and what comes out of it (`RequestOutcome`, `BatchResults`; see
/// results.hpp). Nothing here is any one provider's: each provider's configuration holds its own
/// defaults.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/error.hpp"
#include "llmbatch/request.hpp"
#include "llmbatch/results.hpp"
#include "llmbatch/detail/config.hpp"

namespace llmbatch {

/// Generation settings of a provider, used by synchronous calls and as the job-wide settings of
/// batch requests (a request's own `RequestSettings` override them). Unset fields leave the
/// choice to the provider's API; each provider's configuration starts from its own defaults.
struct GenerationConfig {
    std::string model{};
    std::optional<double> temperature{};
    /// Thinking tokens per request, for providers with a thinking budget.
    std::optional<int> thinking_budget{};
    std::optional<int> max_output_tokens{};
    std::optional<SystemPrompt> system_prompt{};
    /// Default for `filter_json` when a call does not say.
    bool filter_json = false;
    /// Ask the model for JSON output (e.g. a JSON MIME type) when JSON is wanted.
    bool json_mime_type_when_filtering = true;
};

/// Per-call options of `create_batch_job`.
struct CreateOptions {
    /// Parse each answer as JSON; unset takes the provider's `GenerationConfig::filter_json`.
    std::optional<bool> filter_json{};
    /// A human-readable job name; empty lets the provider choose one.
    std::string display_name{};
    /// Send the requests as an uploaded input file even when they would fit inline (providers
    /// with a choice; large jobs use a file anyway).
    bool force_file_input = false;
    /// A token unique to this create (1 to 64 of `[A-Za-z0-9_-]`; empty: none), carried by the job
    /// where the provider can carry it (in its metadata or display name) and read back into
    /// `BatchJob::client_token`, so a job whose create reply was lost can be found by listing.
    /// See `client_token_valid` and tracked_create.hpp.
    std::string client_token{};
};

/// True when `token` can be a `CreateOptions::client_token`: 1 to 64 characters of
/// `[A-Za-z0-9_-]` (it is then safe in metadata, display names and file names).
[[nodiscard]] LLMBATCH_DECL bool client_token_valid(std::string_view token) noexcept;

/// @throws InvalidArgument when `options.client_token` is set but not `client_token_valid`.
LLMBATCH_DECL void check_client_token(const CreateOptions& options);

/// Per-call options of `fetch_batch_results` and `stream_batch_results`.
struct FetchOptions {
    /// Parse each answer as JSON; unset takes what the job recorded at creation, else the
    /// provider's default.
    std::optional<bool> filter_json{};
    /// The keys the requests were submitted under, in input order, when they were not their
    /// indices: results are put back in input order by them. Empty: keys are indices.
    std::vector<std::string> request_keys{};
    /// How many requests were submitted, when known and `request_keys` is empty (0: unknown).
    /// Results are expected for exactly these; the count the provider reports is then ignored.
    std::size_t request_count = 0;
};

/// A job's state, normalised across providers. The provider's own word is kept in
/// `BatchJob::raw_state`.
enum class JobState {
    unspecified,  ///< the provider gave no state or one this library does not know
    pending,      ///< accepted, not started
    running,      ///< in progress
    cancelling,   ///< cancellation requested, not finished
    succeeded,    ///< finished; results available (individual requests may still have failed)
    failed,       ///< the job as a whole failed
    cancelled,    ///< cancelled before finishing (requests finished before may have results)
    expired,      ///< not finished within the provider's window (finished requests may have results)
};

/// True for the states a job never leaves.
[[nodiscard]] constexpr bool is_terminal(JobState s) noexcept {
    return s == JobState::succeeded || s == JobState::failed || s == JobState::cancelled || s == JobState::expired;
}

/// The upper-case name of a state (`PENDING`, `RUNNING`, `SUCCEEDED`, ...).
[[nodiscard]] constexpr std::string_view to_string(JobState s) noexcept {
    switch (s) {
        case JobState::pending: return "PENDING";
        case JobState::running: return "RUNNING";
        case JobState::cancelling: return "CANCELLING";
        case JobState::succeeded: return "SUCCEEDED";
        case JobState::failed: return "FAILED";
        case JobState::cancelled: return "CANCELLED";
        case JobState::expired: return "EXPIRED";
        case JobState::unspecified: break;
    }
    return "UNSPECIFIED";
}

/// Request counters of a job. Providers that report no counter leave it at 0.
struct RequestCounts {
    std::int64_t total = 0;
    std::int64_t succeeded = 0;
    std::int64_t failed = 0;
    std::int64_t pending = 0;
    std::int64_t cancelled = 0;
    std::int64_t expired = 0;

    friend bool operator==(const RequestCounts&, const RequestCounts&) = default;
};

/// Where a finished job's results are.
enum class ResultsLocation {
    none,     ///< no results (yet, or at all)
    inline_,  ///< inside the job object itself
    file,     ///< in a provider file (`BatchJob::results_ref` is its id)
    url,      ///< at a URL (`BatchJob::results_ref`)
};

/// Results a job object carried inline, kept as the text they came in until they are read:
/// `json` (the provider's array of results) lies inside `text` (the whole reply), which is
/// shared, so copying the `BatchJob` that holds it copies none of it.
struct InlineResultsText {
    std::shared_ptr<const std::string> text{};
    std::string_view json{};

    [[nodiscard]] explicit operator bool() const noexcept { return text != nullptr; }
};

/// The outcome of a request the service returned nothing for, by how the job ended.
[[nodiscard]] LLMBATCH_DECL RequestOutcome missing_outcome(std::size_t index, std::string key, JobState state);

/// A batch job as last reported by its provider.
struct BatchJob {
    using TimePoint = std::chrono::system_clock::time_point;

    std::string name;          ///< provider's job name, e.g. `batches/abc123`
    std::string provider;      ///< provider name, e.g. `gemini`
    std::string display_name;
    /// The `CreateOptions::client_token` the job was created with, when the provider carries it
    /// (empty otherwise).
    std::string client_token;
    std::string model;
    JobState state = JobState::unspecified;
    std::string raw_state;     ///< the provider's own state word, e.g. `BATCH_STATE_RUNNING`
    bool done = false;         ///< finished (succeeded, failed, cancelled or expired)
    RequestCounts counts;
    /// True when the provider reports the counters only once the job has ended (they read 0
    /// before).
    bool counts_final_only_at_end = false;
    std::optional<TimePoint> create_time;
    std::optional<TimePoint> update_time;
    std::optional<TimePoint> end_time;
    std::optional<TimePoint> expire_time;  ///< when the provider gives up on an unfinished job
    std::optional<ErrorStatus> error;  ///< job-level error, when the job failed
    ResultsLocation results_location = ResultsLocation::none;
    std::string results_ref;   ///< the results file id or URL (see `results_location`)
    std::string input_file;    ///< the uploaded input file, for file-input jobs
    std::optional<TokenUsage> usage;  ///< tokens of the whole job, when the provider reports them
    /// The provider's job object as received, results left out: a job read by `get` holds its
    /// inline results in `inline_results` instead (their arrays here are empty).
    Json raw = nullptr;
    /// Inline results as text, read by `fetch` / `stream_batch_results` one result at a time
    /// (empty when there are none, or when they are in `raw`: a job built from a parsed object).
    InlineResultsText inline_results{};
};

/// A file in a provider's file store (an uploaded input file, a results file).
struct FileInfo {
    using TimePoint = std::chrono::system_clock::time_point;

    std::string name;          ///< the provider's id, e.g. `files/abc123` or `file-abc123`
    std::string display_name;
    std::string mime_type;
    std::int64_t size_bytes = 0;
    std::string state;         ///< the provider's word, e.g. `ACTIVE`, `processed`
    std::optional<TimePoint> create_time;
    std::optional<TimePoint> expire_time;
    Json raw = nullptr;        ///< the provider's file object as received
};

/// What `create_batch_job` made: the job's name (the object itself is that name, so it can be
/// used wherever a name is wanted) and the files uploaded for it, to delete once the job is done.
struct SubmittedJob : std::string {
    SubmittedJob() = default;
    explicit SubmittedJob(std::string job_name, std::vector<std::string> files = {})
        : std::string(std::move(job_name)), input_files(std::move(files)) {}

    /// Ids of the files uploaded for this job (e.g. its input file).
    std::vector<std::string> input_files{};

    /// The provider's job name.
    [[nodiscard]] const std::string& name() const noexcept { return *this; }
};

}  // namespace llmbatch

template <>
struct fmt::formatter<llmbatch::JobState> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(llmbatch::JobState s, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(llmbatch::to_string(s), ctx);
    }
};

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/impl/model.ipp"
#endif
