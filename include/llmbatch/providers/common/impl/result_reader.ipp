#pragma once
/// @file providers/common/impl/result_reader.ipp
/// The definitions of `llmbatch/providers/common/result_reader.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

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
#include "llmbatch/providers/common/result_reader.hpp"

namespace llmbatch {

LLMBATCH_DECL void require_finished(std::string_view provider, const BatchJob& job, const std::string& full) {
    if (!job.done)
        throw JobNotReady(fmt::format("Batch job {} ({}) is not completed yet. Current state: {}", full, provider,
                                      job.state),
                          full, std::string(to_string(job.state)));
}

[[noreturn]] LLMBATCH_DECL void throw_job_without_results(std::string_view provider, const BatchJob& job,
                                                          const std::string& full, const std::string& message) {
    if (job.state == JobState::succeeded && !job.error)
        throw ResultsMissing(fmt::format(
            "Batch job {} ({}) has no results. This may indicate the job failed or was cancelled.", full, provider));
    const ErrorStatus err = job.error.value_or(ErrorStatus{});
    const auto state = job.state == JobState::succeeded ? JobState::failed : job.state;
    throw JobFailed(fmt::format("Batch job {} ({}) {}: {}", full, provider,
                                state == JobState::cancelled ? "was cancelled"
                                : state == JobState::expired ? "expired"
                                                             : "failed",
                                message.empty() ? std::string("no error message given") : message),
                    ProviderErrorInfo{std::string(provider), 0, err.status, message, false}, full,
                    std::string(to_string(state)));
}

LLMBATCH_DECL ProviderError empty_results_error(std::string_view provider, std::string_view job) {
    return ProviderError(fmt::format("{}: download results of {}: the results file came back empty; try again later",
                                     provider, job),
                         ProviderErrorInfo{std::string(provider), 0, {}, "empty results file", true});
}

}  // namespace llmbatch
