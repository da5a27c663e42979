// Tracked jobs for tests of the job stores: a fixed time and jobs made at it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "llmbatch/tracked_job.hpp"

namespace llmbatch_test {

/// 2025-03-01T09:30:00Z plus `offset`.
inline std::chrono::system_clock::time_point at(std::chrono::system_clock::duration offset = {}) {
    using namespace std::chrono;
    return sys_days{year{2025} / March / 1} + 9h + 30min + offset;
}

/// A pending Gemini job of batch `index` of `source`.
inline llmbatch::TrackedJob make_job(std::string name, std::string source = "History/gcse-history.md",
                                     std::int64_t index = 0, std::chrono::system_clock::time_point created = at()) {
    llmbatch::TrackedJob job;
    job.provider = "gemini";
    job.job_name = std::move(name);
    job.source = std::move(source);
    job.batch_index = index;
    job.created_at = created;
    return job;
}

/// The jobs' names, in order.
inline std::vector<std::string> names_of(const std::vector<llmbatch::TrackedJob>& jobs) {
    std::vector<std::string> out;
    for (const auto& j : jobs) out.push_back(j.job_name);
    return out;
}

}  // namespace llmbatch_test
