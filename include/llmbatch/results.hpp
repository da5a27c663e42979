#pragma once
/// @file results.hpp
/// What comes out of a batch job: one `RequestOutcome` per request (a value or an error, with
/// the request's token usage), handed to an `OutcomeSink` one at a time as a provider parses
/// them from a streamed download, or gathered in input order into `BatchResults`.
///
/// **Example** (streaming, memory bounded by one outcome):
/// ```cpp
/// provider.stream_batch_results(job, [&](llmbatch::RequestOutcome&& outcome) {
///     if (outcome.ok()) use(outcome.index, *outcome.value);
/// });
/// ```

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/error.hpp"

namespace llmbatch {

using Json = nlohmann::json;

/// An error status as providers report it (google.rpc.Status and its peers).
struct ErrorStatus {
    int code = 0;             ///< numeric code (gRPC code for Google, HTTP status for others)
    std::string status{};     ///< symbolic status, e.g. `INVALID_ARGUMENT`
    std::string message{};    ///< human-readable message
    Json details = nullptr;   ///< provider-specific details, if any

    friend bool operator==(const ErrorStatus&, const ErrorStatus&) = default;
};

/// Tokens a request (or a whole job) consumed, as the provider reports them; 0 when not reported.
struct TokenUsage {
    std::int64_t input = 0;     ///< prompt tokens (cached ones included)
    std::int64_t output = 0;    ///< generated tokens, thinking excluded
    std::int64_t thinking = 0;  ///< reasoning / thinking tokens
    std::int64_t cached = 0;    ///< prompt tokens served from a cache
    std::int64_t total = 0;     ///< the provider's total

    TokenUsage& operator+=(const TokenUsage& o) noexcept {
        input += o.input;
        output += o.output;
        thinking += o.thinking;
        cached += o.cached;
        total += o.total;
        return *this;
    }
    friend bool operator==(const TokenUsage&, const TokenUsage&) = default;
};

/// The outcome of one request of a finished job: a value, or an error (never both).
///
/// The provider's response is kept once: in `value` when no JSON was extracted from it, else in
/// `raw` (with the extracted JSON in `value`). `response()` gives it either way.
struct RequestOutcome {
    std::size_t index = 0;          ///< position in the submitted requests
    std::string key;                ///< the key the request was submitted under
    std::optional<Json> value;      ///< parsed JSON (filter_json) or the response object itself
    std::optional<ErrorStatus> error;
    Json raw = nullptr;             ///< the response object when `value` was extracted from it, else null
    std::optional<TokenUsage> usage;  ///< tokens this request consumed, when reported
    std::string model;              ///< the model that answered, as the response names it (empty: not named)

    [[nodiscard]] bool ok() const noexcept { return value.has_value(); }

    /// The provider's response object, or null when the request failed.
    [[nodiscard]] const Json& response() const noexcept {
        static const Json null_json = nullptr;
        if (!raw.is_null()) return raw;
        return value ? *value : null_json;
    }
};

/// Receives the outcomes of a job one at a time, in the order the provider's download yields
/// them (not necessarily input order; `RequestOutcome::index` says where each belongs). Every
/// submitted request gets exactly one outcome: requests the provider returned nothing for come
/// last, as errors (`MISSING_RESULT`, or `CANCELLED` / `EXPIRED` for a job that ended early).
using OutcomeSink = std::function<void(RequestOutcome&& outcome)>;

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

    /// The tokens of every request that reported usage, added up.
    [[nodiscard]] TokenUsage usage() const noexcept {
        TokenUsage sum;
        for (const auto& o : outcomes_)
            if (o.usage) sum += *o.usage;
        return sum;
    }

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

/// Gathers streamed outcomes into input order: a ready-made `OutcomeSink` target for building
/// `BatchResults` from a streaming fetch.
class OutcomeCollector {
public:
    /// Places one outcome at its index (later duplicates of an index replace earlier ones).
    void add(RequestOutcome&& outcome) {
        if (outcome.index >= slots_.size()) slots_.resize(outcome.index + 1);
        slots_[outcome.index] = std::move(outcome);
    }
    /// A sink that adds to this collector (which must outlive it).
    [[nodiscard]] OutcomeSink sink() {
        return [this](RequestOutcome&& o) { add(std::move(o)); };
    }
    /// The outcomes in input order; positions never filled become `MISSING_RESULT` errors.
    [[nodiscard]] BatchResults take(std::string provider, std::string job_name) && {
        std::vector<RequestOutcome> out;
        out.reserve(slots_.size());
        for (std::size_t i = 0; i < slots_.size(); ++i) {
            if (slots_[i]) {
                out.push_back(std::move(*slots_[i]));
            } else {
                RequestOutcome missing;
                missing.index = i;
                missing.key = std::to_string(i);
                missing.error = ErrorStatus{0, "MISSING_RESULT", "the service returned no result for this request", nullptr};
                out.push_back(std::move(missing));
            }
        }
        return BatchResults(std::move(provider), std::move(job_name), std::move(out));
    }

private:
    std::vector<std::optional<RequestOutcome>> slots_;
};

}  // namespace llmbatch
