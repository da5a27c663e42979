#pragma once
/// @file testing/emulator/state.hpp
/// `JobBook`: the jobs an emulator holds, in creation order, with their numbers (job names
/// derive from them), and the checks of a saved state's envelope. A provider emulator stores its
/// own job type in it; `to_json`/`restore` of the emulator put the book, the `FaultPlan` and the
/// `FileStore` in one JSON document, so a tool keeps its jobs across processes.
///
/// **Example**:
/// ```cpp
/// JobBook<MyJob> book;
/// MyJob job;
/// job.sequence = book.take_number();
/// job.name = book.unique_name(job.sequence, [](std::uint64_t n, unsigned salt) { return fmt::format("batch_{}_{}", n, salt); });
/// book.add(std::move(job));
/// ```

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/model.hpp"

namespace llmbatch::testing {

/// What `JobBook` needs of a job: a creation number, a unique name and a JSON round trip.
template <class Job>
concept BookableJob = requires(Job& job, const Job& cjob, const Json& j) {
    { job.sequence } -> std::convertible_to<std::uint64_t>;
    { job.name } -> std::convertible_to<std::string>;
    { cjob.to_json() } -> std::convertible_to<Json>;
    { Job::from_json(j) } -> std::same_as<Job>;
};

/// The jobs of an emulator, oldest first, and the number the next job takes.
template <BookableJob Job>
class JobBook {
public:
    /// The number of the next job; moves the counter on.
    [[nodiscard]] std::uint64_t take_number() noexcept { return next_++; }
    /// The number the next job will take.
    [[nodiscard]] std::uint64_t next_number() const noexcept { return next_; }

    /// Numbers the jobs created afterwards from `number` on.
    /// @throws std::invalid_argument when `number` is 0 or not above every held job's number.
    void set_next_number(std::uint64_t number) {
        for (const auto& job : jobs_)
            if (number <= job.sequence)
                throw std::invalid_argument(fmt::format("set_next_job_number({}): job {} already has number {}", number,
                                                        job.name, job.sequence));
        if (number == 0) throw std::invalid_argument("set_next_job_number(0): job numbers start at 1");
        next_ = number;
    }

    /// The first name `make(number, salt)` gives, for salt 0, 1, ..., that no held job has.
    template <class MakeName>
    [[nodiscard]] std::string unique_name(std::uint64_t number, MakeName make) const {
        for (unsigned salt = 0;; ++salt) {
            std::string name = make(number, salt);
            if (!find(name)) return name;
        }
    }

    Job& add(Job job) {
        jobs_.push_back(std::move(job));
        return jobs_.back();
    }

    [[nodiscard]] Job* find(std::string_view name) {
        const auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.name == name; });
        return it == jobs_.end() ? nullptr : &*it;
    }
    [[nodiscard]] const Job* find(std::string_view name) const {
        const auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.name == name; });
        return it == jobs_.end() ? nullptr : &*it;
    }

    /// Forgets job `name`; false when there is none.
    bool erase(std::string_view name) {
        const auto it = std::find_if(jobs_.begin(), jobs_.end(), [&](const Job& j) { return j.name == name; });
        if (it == jobs_.end()) return false;
        jobs_.erase(it);
        return true;
    }

    [[nodiscard]] const std::vector<Job>& jobs() const noexcept { return jobs_; }
    [[nodiscard]] std::vector<Job>& jobs() noexcept { return jobs_; }
    [[nodiscard]] std::size_t size() const noexcept { return jobs_.size(); }

    /// The jobs as a JSON array, oldest first.
    [[nodiscard]] Json jobs_json() const {
        Json out = Json::array();
        for (const auto& job : jobs_) out.push_back(job.to_json());
        return out;
    }

    /// Replaces the jobs with those of `jobs` (any order) and the counter with `next_number`.
    /// @throws whatever `Job::from_json` throws; nothing changes then.
    void restore(const Json& jobs, std::uint64_t next_number) {
        std::vector<Job> loaded;
        for (const auto& j : jobs) loaded.push_back(Job::from_json(j));
        std::sort(loaded.begin(), loaded.end(), [](const Job& a, const Job& b) { return a.sequence < b.sequence; });
        jobs_ = std::move(loaded);
        next_ = next_number;
    }

private:
    std::vector<Job> jobs_;
    std::uint64_t next_ = 1;
};

/// Checks the envelope `{"format": format, "version": version, ...}` of a saved state.
/// @throws std::invalid_argument saying what is wrong.
inline void check_state_envelope(const Json& saved, std::string_view format, int version, std::string_view what) {
    if (!saved.is_object() || saved.value("format", std::string{}) != format)
        throw std::invalid_argument(fmt::format("it is not {} state", what));
    if (!saved.contains("version") || !saved.at("version").is_number_integer() || saved.at("version").get<int>() != version)
        throw std::invalid_argument(
            fmt::format("its version {} is not {}", saved.contains("version") ? saved.at("version").dump() : "(none)", version));
}

}  // namespace llmbatch::testing
