#pragma once
/// @file model.hpp
/// The provider-neutral model: what goes into a batch job (`BatchPayload`, `GenerationConfig`,
/// `CreateOptions`), what a job looks like (`BatchJob`, `JobState`) and what comes out of it
/// (`BatchResults`, one `RequestOutcome` per input request, in input order).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/error.hpp"

namespace llmbatch {

using Json = nlohmann::json;

/// The prompts of one request; they are joined with `\n` into one user message.
using PromptSequence = std::vector<std::string>;

/// A sequence of prompt sequences: one element per request of the batch job.
/// `{{"prompt1"}, {"prompt2", "context"}}` makes a job of two requests.
using BatchPayload = std::vector<PromptSequence>;

/// Throws `InvalidArgument` when the payload is empty or holds an empty prompt sequence,
/// naming the offending index.
inline void validate_payload(const BatchPayload& payload) {
    if (payload.empty()) throw InvalidArgument("batch_payload must not be empty.");
    for (std::size_t i = 0; i < payload.size(); ++i)
        if (payload[i].empty())
            throw InvalidArgument(fmt::format(
                "Each prompt sequence in batch_payload must not be empty (request {} is empty).", i));
}

/// Joins the prompts of one request with `\n`, as the user message the model receives.
[[nodiscard]] inline std::string join_prompts(const PromptSequence& prompts) {
    std::string out;
    for (std::size_t i = 0; i < prompts.size(); ++i) {
        if (i) out += '\n';
        out += prompts[i];
    }
    return out;
}

/// The payload restricted to `indices` (in the order given); used to resubmit failed requests.
[[nodiscard]] inline BatchPayload select_requests(const BatchPayload& payload, const std::vector<std::size_t>& indices) {
    BatchPayload out;
    out.reserve(indices.size());
    for (auto i : indices) {
        if (i >= payload.size())
            throw InvalidArgument(fmt::format("request index {} is out of range for a payload of {} request(s)", i,
                                              payload.size()));
        out.push_back(payload[i]);
    }
    return out;
}

/// A system prompt given as literal text or as a file to read. Nothing is guessed from the
/// string's shape: say which one you mean.
class SystemPrompt {
public:
    /// The prompt is `text` itself.
    [[nodiscard]] static SystemPrompt from_text(std::string text) { return SystemPrompt(std::move(text)); }

    /// The prompt is the content of the file at `path`, read now.
    /// @throws InvalidArgument naming the path when it cannot be read.
    [[nodiscard]] static SystemPrompt from_file(const std::filesystem::path& path) {
        std::error_code ec;
        if (std::filesystem::is_directory(path, ec))
            throw InvalidArgument(fmt::format("cannot read system prompt file '{}': it is a directory", path.string()));
        std::ifstream in(path, std::ios::binary);
        if (!in) throw InvalidArgument(fmt::format("cannot read system prompt file '{}'", path.string()));
        std::ostringstream ss;
        ss << in.rdbuf();
        if (in.bad()) throw InvalidArgument(fmt::format("cannot read system prompt file '{}'", path.string()));
        return SystemPrompt(ss.str());
    }

    [[nodiscard]] const std::string& text() const noexcept { return text_; }

private:
    explicit SystemPrompt(std::string text) : text_(std::move(text)) {}
    std::string text_;
};

/// Generation settings shared by synchronous calls and batch requests.
/// The defaults are the user's document's: model `gemini-2.5-flash`, temperature 0.2,
/// thinking budget 24576 tokens.
struct GenerationConfig {
    static constexpr std::string_view default_model = "gemini-2.5-flash";
    static constexpr double default_temperature = 0.2;
    static constexpr int max_thinking_budget = 24576;

    std::string model{default_model};
    double temperature = default_temperature;
    /// Thinking tokens per request; `nullopt` leaves the choice to the model.
    std::optional<int> thinking_budget = max_thinking_budget;
    std::optional<int> max_output_tokens{};
    std::optional<SystemPrompt> system_prompt{};
    /// Default for `filter_json` when a call does not say.
    bool filter_json = false;
    /// Ask the model for `application/json` output when JSON is wanted.
    bool json_mime_type_when_filtering = true;
};

/// Per-call options of `create_batch_job`.
struct CreateOptions {
    /// Parse each answer as JSON; unset takes the provider's `GenerationConfig::filter_json`.
    std::optional<bool> filter_json{};
    /// A human-readable job name; empty lets the provider choose one.
    std::string display_name{};
};

/// Per-call options of `fetch_batch_results`.
struct FetchOptions {
    /// Parse each answer as JSON; unset takes what the job recorded at creation, else the
    /// provider's default.
    std::optional<bool> filter_json{};
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
    cancelled,    ///< cancelled before finishing
    expired,      ///< not finished within the provider's window
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

    friend bool operator==(const RequestCounts&, const RequestCounts&) = default;
};

/// An error status as providers report it (google.rpc.Status and its peers).
struct ErrorStatus {
    int code = 0;             ///< numeric code (gRPC code for Google, HTTP status for others)
    std::string status{};     ///< symbolic status, e.g. `INVALID_ARGUMENT`
    std::string message{};    ///< human-readable message
    Json details = nullptr;   ///< provider-specific details, if any

    friend bool operator==(const ErrorStatus&, const ErrorStatus&) = default;
};

/// A batch job as last reported by its provider.
struct BatchJob {
    using TimePoint = std::chrono::system_clock::time_point;

    std::string name;          ///< provider's job name, e.g. `batches/abc123`
    std::string provider;      ///< provider name, e.g. `gemini`
    std::string display_name;
    std::string model;
    JobState state = JobState::unspecified;
    std::string raw_state;     ///< the provider's own state word, e.g. `BATCH_STATE_RUNNING`
    bool done = false;         ///< finished (succeeded, failed, cancelled or expired)
    RequestCounts counts;
    std::optional<TimePoint> create_time;
    std::optional<TimePoint> update_time;
    std::optional<TimePoint> end_time;
    std::optional<ErrorStatus> error;  ///< job-level error, when the job failed
};

/// The outcome of one request of a finished job: a value, or an error (never both).
struct RequestOutcome {
    std::size_t index = 0;          ///< position in the submitted payload
    std::string key;                ///< the key the request was submitted under
    std::optional<Json> value;      ///< parsed JSON (filter_json) or the raw response object
    std::optional<ErrorStatus> error;
    Json raw = nullptr;             ///< the provider's response object, as received

    [[nodiscard]] bool ok() const noexcept { return value.has_value(); }
};

/// The results of a finished job: one outcome per submitted request, in input order.
/// Failed requests are data here; `values()` is the strict accessor that throws on the first.
class BatchResults {
public:
    using const_iterator = std::vector<RequestOutcome>::const_iterator;

    BatchResults() = default;
    BatchResults(std::string provider, std::string job_name, std::vector<RequestOutcome> outcomes)
        : provider_(std::move(provider)), job_name_(std::move(job_name)), outcomes_(std::move(outcomes)) {}

    [[nodiscard]] const std::string& provider() const noexcept { return provider_; }
    [[nodiscard]] const std::string& job_name() const noexcept { return job_name_; }
    [[nodiscard]] std::size_t size() const noexcept { return outcomes_.size(); }
    [[nodiscard]] bool empty() const noexcept { return outcomes_.empty(); }
    [[nodiscard]] const RequestOutcome& operator[](std::size_t i) const { return outcomes_[i]; }
    [[nodiscard]] const RequestOutcome& at(std::size_t i) const { return outcomes_.at(i); }
    [[nodiscard]] const_iterator begin() const noexcept { return outcomes_.begin(); }
    [[nodiscard]] const_iterator end() const noexcept { return outcomes_.end(); }
    [[nodiscard]] const std::vector<RequestOutcome>& outcomes() const noexcept { return outcomes_; }

    [[nodiscard]] bool all_succeeded() const noexcept { return failed_count() == 0; }
    [[nodiscard]] std::size_t failed_count() const noexcept {
        std::size_t n = 0;
        for (const auto& o : outcomes_) n += o.ok() ? 0 : 1;
        return n;
    }
    [[nodiscard]] std::size_t succeeded_count() const noexcept { return size() - failed_count(); }

    /// Positions of the failed requests, ascending; feed them to `select_requests` to resubmit.
    [[nodiscard]] std::vector<std::size_t> failed_indices() const {
        std::vector<std::size_t> out;
        for (const auto& o : outcomes_)
            if (!o.ok()) out.push_back(o.index);
        return out;
    }

    /// Every value in input order.
    /// @throws RequestFailed for the first failed request (naming the job, provider and index).
    [[nodiscard]] std::vector<Json> values() const {
        std::vector<Json> out;
        out.reserve(outcomes_.size());
        for (const auto& o : outcomes_) {
            if (!o.ok()) {
                const ErrorStatus err = o.error.value_or(ErrorStatus{});
                throw RequestFailed(
                    fmt::format("Request {} in batch job {} ({}) failed: {}{}{}", o.index, job_name_, provider_,
                                err.status.empty() ? "" : err.status + ": ", err.message,
                                err.code ? fmt::format(" (code {})", err.code) : std::string{}),
                    ProviderErrorInfo{provider_, 0, err.status, err.message, false}, job_name_, o.index);
            }
            out.push_back(*o.value);
        }
        return out;
    }

private:
    std::string provider_;
    std::string job_name_;
    std::vector<RequestOutcome> outcomes_;
};

}  // namespace llmbatch

template <>
struct fmt::formatter<llmbatch::JobState> : fmt::formatter<std::string_view> {
    template <class FormatContext>
    auto format(llmbatch::JobState s, FormatContext& ctx) const {
        return fmt::formatter<std::string_view>::format(llmbatch::to_string(s), ctx);
    }
};
