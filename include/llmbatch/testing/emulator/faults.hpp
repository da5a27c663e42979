#pragma once
/// @file testing/emulator/faults.hpp
/// `FaultPlan`: the faults an emulator injects, shared by every provider emulator. It holds what
/// is waiting for later calls (HTTP errors, truncated bodies) and for jobs created later
/// (per-request errors, omitted results, out-of-order answers, a job failure). Faults aimed at
/// one existing job (fail, cancel, expire it) act on its `Lifecycle` directly.
///
/// The provider emulator decides the wire shape: an `HttpFault` carries a status word and a
/// message that the emulator renders in its own error format, or a pre-rendered `body`.
///
/// **Example**:
/// ```cpp
/// FaultPlan faults;
/// faults.add_http_fault(HttpFault{2, 429, "RESOURCE_EXHAUSTED", "Slow down.", "7"});
/// faults.truncate_bodies(1, 100);  // the next response body stops after 100 bytes
/// if (auto fault = faults.take_http_fault()) { /* answer with *fault */ }
/// ```

#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/lifecycle.hpp"

namespace llmbatch::testing {

/// An HTTP error served to the next `remaining` calls.
struct HttpFault {
    std::size_t remaining = 1;
    int http_status = 429;
    std::string status;   ///< the provider's status word (`RESOURCE_EXHAUSTED`, `rate_limit_error`...)
    std::string message;
    std::optional<std::string> retry_after;  ///< the `Retry-After` header, when set
    std::string body;     ///< a pre-rendered body; empty: the emulator renders status and message

    [[nodiscard]] Json to_json() const {
        Json j = {{"remaining", remaining}, {"httpStatus", http_status}, {"status", status}, {"message", message}};
        if (retry_after) j["retryAfter"] = *retry_after;
        if (!body.empty()) j["body"] = body;
        return j;
    }
    [[nodiscard]] static HttpFault from_json(const Json& j) {
        HttpFault f{j.at("remaining").get<std::size_t>(), j.at("httpStatus").get<int>(),
                    j.value("status", std::string{}), j.value("message", std::string{}), std::nullopt,
                    j.value("body", std::string{})};
        if (j.contains("retryAfter")) f.retry_after = j.at("retryAfter").get<std::string>();
        return f;
    }
};

/// The next `remaining` response bodies stop after `keep_bytes` bytes (a broken download).
struct BodyTruncation {
    std::size_t remaining = 1;
    std::size_t keep_bytes = 0;
};

class FaultPlan;

/// What a new job takes from the plan when it is created.
struct JobFaults {
    bool out_of_order = false;
    bool echo_metadata = true;
    std::optional<JobError> fail_at_finish;
    /// The request errors meant for this job only (`FaultPlan::fail_request_of_next_job`).
    std::map<std::size_t, JobError> request_errors{};

    /// The error of request `index` of this job: its own, else the one every new job takes from `plan`.
    [[nodiscard]] const JobError* request_error(std::size_t index, const FaultPlan& plan) const;
};

/// The faults waiting for later calls and later jobs (see the file comment).
class FaultPlan {
public:
    /// Request `index` of every job created afterwards fails with `error`.
    void fail_request(std::size_t index, JobError error) { request_errors_[index] = std::move(error); }
    /// Request `index` of the next job created (only that one) fails with `error`.
    void fail_request_of_next_job(std::size_t index, JobError error) { next_job_errors_[index] = std::move(error); }
    /// Request `index` of every job created afterwards is missing from the results.
    void omit_result(std::size_t index) { omitted_.insert(index); }
    /// Jobs created afterwards list their results in reverse order.
    void set_out_of_order(bool reversed) noexcept { out_of_order_ = reversed; }
    /// Whether the results of jobs created afterwards echo each request's metadata or key.
    void set_echo_metadata(bool echo) noexcept { echo_metadata_ = echo; }
    /// The next job created ends failed with `error` when it would have succeeded.
    void fail_next_job(JobError error) { fail_next_job_ = std::move(error); }
    /// The next `fault.remaining` calls get this HTTP error (queued after earlier ones).
    void add_http_fault(HttpFault fault) {
        if (fault.remaining > 0) http_faults_.push_back(std::move(fault));
    }
    /// The next `count` response bodies stop after `keep_bytes` bytes.
    void truncate_bodies(std::size_t count, std::size_t keep_bytes) {
        if (count > 0) truncations_.push_back(BodyTruncation{count, keep_bytes});
    }
    /// Withdraws every fault not yet used.
    void clear() { *this = FaultPlan{}; }

    /// The error of request `index` of a new job, if any.
    [[nodiscard]] const JobError* request_error(std::size_t index) const {
        const auto it = request_errors_.find(index);
        return it == request_errors_.end() ? nullptr : &it->second;
    }
    /// Whether request `index` of a new job is omitted from its results.
    [[nodiscard]] bool omitted(std::size_t index) const { return omitted_.count(index) != 0; }
    /// The faults a new job takes; the pending job failure and the next job's request errors are used up.
    [[nodiscard]] JobFaults take_job_faults() {
        return JobFaults{out_of_order_, echo_metadata_, std::exchange(fail_next_job_, std::nullopt),
                         std::exchange(next_job_errors_, {})};
    }
    /// The HTTP error for this call, if one is waiting; uses it up.
    [[nodiscard]] std::optional<HttpFault> take_http_fault() {
        if (http_faults_.empty()) return std::nullopt;
        HttpFault fault = http_faults_.front();
        if (--http_faults_.front().remaining == 0) http_faults_.pop_front();
        fault.remaining = 1;
        return fault;
    }
    /// How many bytes of this response's body to keep, if a truncation is waiting; uses it up.
    [[nodiscard]] std::optional<std::size_t> take_truncation() {
        if (truncations_.empty()) return std::nullopt;
        const std::size_t keep = truncations_.front().keep_bytes;
        if (--truncations_.front().remaining == 0) truncations_.pop_front();
        return keep;
    }

    [[nodiscard]] Json to_json() const {
        Json j = {{"requestErrors", Json::array()}, {"omitResults", omitted_},   {"outOfOrder", out_of_order_},
                  {"echoMetadata", echo_metadata_}, {"httpErrors", Json::array()}};
        for (const auto& [index, error] : request_errors_) {
            Json e = error.to_json();
            e["index"] = index;
            j["requestErrors"].push_back(std::move(e));
        }
        if (fail_next_job_) j["failNextJob"] = fail_next_job_->to_json();
        if (!next_job_errors_.empty()) {
            j["nextJobRequestErrors"] = Json::array();
            for (const auto& [index, error] : next_job_errors_) {
                Json e = error.to_json();
                e["index"] = index;
                j["nextJobRequestErrors"].push_back(std::move(e));
            }
        }
        for (const auto& f : http_faults_) j["httpErrors"].push_back(f.to_json());
        if (!truncations_.empty()) {
            j["truncations"] = Json::array();
            for (const auto& t : truncations_)
                j["truncations"].push_back({{"remaining", t.remaining}, {"keepBytes", t.keep_bytes}});
        }
        return j;
    }
    /// @throws nlohmann::json::exception when `j` is not what `to_json` wrote.
    [[nodiscard]] static FaultPlan from_json(const Json& j) {
        FaultPlan plan;
        for (const auto& e : j.value("requestErrors", Json::array()))
            plan.request_errors_[e.at("index").get<std::size_t>()] = JobError::from_json(e);
        for (const auto& i : j.value("omitResults", Json::array())) plan.omitted_.insert(i.get<std::size_t>());
        plan.out_of_order_ = j.value("outOfOrder", false);
        plan.echo_metadata_ = j.value("echoMetadata", true);
        if (j.contains("failNextJob")) plan.fail_next_job_ = JobError::from_json(j.at("failNextJob"));
        for (const auto& e : j.value("nextJobRequestErrors", Json::array()))
            plan.next_job_errors_[e.at("index").get<std::size_t>()] = JobError::from_json(e);
        for (const auto& f : j.value("httpErrors", Json::array())) plan.http_faults_.push_back(HttpFault::from_json(f));
        for (const auto& t : j.value("truncations", Json::array()))
            plan.truncations_.push_back(
                BodyTruncation{t.at("remaining").get<std::size_t>(), t.at("keepBytes").get<std::size_t>()});
        return plan;
    }

private:
    std::map<std::size_t, JobError> request_errors_;
    std::set<std::size_t> omitted_;
    bool out_of_order_ = false;
    bool echo_metadata_ = true;
    std::optional<JobError> fail_next_job_;
    std::map<std::size_t, JobError> next_job_errors_;
    std::deque<HttpFault> http_faults_;
    std::deque<BodyTruncation> truncations_;
};

inline const JobError* JobFaults::request_error(std::size_t index, const FaultPlan& plan) const {
    const auto it = request_errors.find(index);
    return it != request_errors.end() ? &it->second : plan.request_error(index);
}

}  // namespace llmbatch::testing
