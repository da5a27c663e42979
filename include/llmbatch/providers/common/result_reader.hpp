#pragma once
/// @file providers/common/result_reader.hpp
/// `ResultJoin`: what every provider's result reader does the same way: find the input position
/// of a result by the key it carries (refusing unknown and repeated keys), and, once the results
/// are read, hand an outcome to every request that got none (`MISSING_RESULT`, or `CANCELLED` /
/// `EXPIRED` when the job ended early), so each request gets exactly one outcome.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/providers/common/credentials.hpp"
#include "llmbatch/providers/common/ordering.hpp"
#include "llmbatch/detail/config.hpp"

namespace llmbatch {

/// Throws `JobNotReady` (naming the job's state) unless `job` is finished.
LLMBATCH_DECL void require_finished(std::string_view provider, const BatchJob& job, const std::string& full);

/// Throws what a finished job without results means: `ResultsMissing` for a job that succeeded
/// without error, else `JobFailed` with the job's (already redacted) error message.
[[noreturn]] LLMBATCH_DECL void throw_job_without_results(std::string_view provider, const BatchJob& job,
                                                          const std::string& full, const std::string& message);

/// The error for results files that came back empty (not one byte) although the job has
/// results: the service's fault, worth retrying later, never a job without results.
[[nodiscard]] LLMBATCH_DECL ProviderError empty_results_error(std::string_view provider, std::string_view job);

/// Joins results to input positions by key, for one fetch of one job.
class ResultJoin {
public:
    /// The most requests a job is believed to hold on the provider's word alone, when the caller
    /// knows neither the keys nor the count it submitted (no provider takes more in one job).
    static constexpr std::int64_t max_unverified_total = 1'000'000;

    /// `provider` and `job` name the fetch in messages; `total` is the job's request count as the
    /// provider reports it (0 when unknown), used only when `options` gives neither the request
    /// keys nor their count, and then at most `max_unverified_total`; `state` is how the job ended.
    ResultJoin(std::string_view provider, std::string job, const FetchOptions& options, std::int64_t total,
               JobState state, const OutcomeSink& sink, Redactor redactor = {})
        : provider_(provider), job_(std::move(job)), state_(state), sink_(sink), redactor_(std::move(redactor)),
          order_(options.request_keys, options.request_count != 0
                                           ? options.request_count
                                           : static_cast<std::size_t>(std::clamp<std::int64_t>(total, 0, max_unverified_total))) {}

    /// The input position of the result on line `line` carrying `key`, marked as answered.
    /// @throws ProviderError when the key names no submitted request or was already answered.
    std::size_t claim(std::string_view key, std::size_t line) {
        const auto index = order_.index_of(key);
        if (!index)
            throw bad_reply(fmt::format("line {} has key '{}', which names no submitted request", line,
                                        detail::excerpt(key, 80)));
        if (!order_.mark(*index))
            throw bad_reply(fmt::format("line {} repeats the result of key '{}'", line, detail::excerpt(key, 80)));
        return *index;
    }

    /// Hands `outcome` to the sink, its error (message, status and details) redacted.
    void emit(RequestOutcome&& outcome) const {
        if (outcome.error) redactor_.redact_error(*outcome.error);
        sink_(std::move(outcome));
    }

    /// The provider reports `n` requests finished (succeeded or failed): fewer results than that
    /// means the download was cut short (at a line break, which no parse error reveals).
    void expect_answers(std::int64_t n) noexcept { expected_answers_ = static_cast<std::size_t>(std::max<std::int64_t>(n, 0)); }

    /// Hands an outcome to every request that had none (see `missing_outcome`).
    /// @throws ProviderError (retryable) when fewer results came than `expect_answers` said.
    void finish() {
        std::size_t missing = 0;
        order_.for_each_missing([&](std::size_t) { ++missing; });
        const std::size_t answered = order_.size() - missing;
        if (answered < expected_answers_)
            throw ProviderError(fmt::format("{}: download results of {}: {} result(s) came, but the job reports {} "
                                            "finished; the download was cut short, try again later",
                                            provider_, job_, answered, expected_answers_),
                                ProviderErrorInfo{provider_, 0, {}, "results download cut short", true});
        order_.for_each_missing([this](std::size_t i) { sink_(missing_outcome(i, order_.key_of(i), state_)); });
    }

    /// The error for a results download that is not what the API documents.
    [[nodiscard]] ProviderError bad_reply(std::string_view why) const {
        return ProviderError(fmt::format("{}: download results of {}: unexpected reply: {}", provider_, job_, why),
                             ProviderErrorInfo{std::string(provider_), 0, {}, std::string(why), false});
    }

    [[nodiscard]] ResultOrder& order() noexcept { return order_; }
    [[nodiscard]] const ResultOrder& order() const noexcept { return order_; }
    [[nodiscard]] const std::string& job() const noexcept { return job_; }
    [[nodiscard]] JobState state() const noexcept { return state_; }
    [[nodiscard]] const Redactor& redactor() const noexcept { return redactor_; }

private:
    std::size_t expected_answers_ = 0;
    std::string provider_;
    std::string job_;
    JobState state_;
    const OutcomeSink& sink_;
    Redactor redactor_;
    ResultOrder order_;
};

}  // namespace llmbatch

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/providers/common/impl/result_reader.ipp"
#endif
