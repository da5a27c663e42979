#pragma once
/// @file testing/emulator/lifecycle.hpp
/// A batch job's life on the clock, provider-neutral: the phases, the pace at which requests
/// complete, early ends, and the snapshot of a job at any instant. A provider emulator maps
/// `JobPhase` to its wire states and the snapshot's counters to its wire counters.
///
/// A job created at t0 is `pending` until t0 + pending_for, then `running` until
/// t0 + pending_for + running_for (requests complete one after another, in list order, at an even
/// pace), then `finalizing` for finalizing_for, then `succeeded` (or `failed` when
/// `fail_at_finish` is set). A job that would still be unfinished at t0 + expire_after ends
/// `expired` then. An early end (`end_at`) may lie in the future (an end later than the natural
/// one never comes); a cancellation requested before the natural end goes through `cancelling`
/// for `cancelling_for` before it ends `cancelled`, and no request completes after it was
/// requested. A cancelled or expired job keeps the requests that completed before its end (or its
/// cancellation request): `JobSnapshot::completed`, the first ones of the list; the others count
/// as cancelled or expired.
///
/// **Example**:
/// ```cpp
/// Lifecycle life{t0, JobTiming{}, 4};
/// JobSnapshot s = life.at(t0 + std::chrono::seconds(30));  // running, 1 of 4 completed
/// life.cancel(t0 + std::chrono::seconds(30));
/// ```

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/ids.hpp"

namespace llmbatch::testing {

/// The phases of an emulated job.
enum class JobPhase { pending, running, finalizing, cancelling, succeeded, failed, cancelled, expired };

/// The lowercase name of `phase` (`"cancelled"`).
[[nodiscard]] constexpr std::string_view phase_name(JobPhase phase) noexcept {
    switch (phase) {
        case JobPhase::pending: return "pending";
        case JobPhase::running: return "running";
        case JobPhase::finalizing: return "finalizing";
        case JobPhase::cancelling: return "cancelling";
        case JobPhase::succeeded: return "succeeded";
        case JobPhase::failed: return "failed";
        case JobPhase::cancelled: return "cancelled";
        case JobPhase::expired: return "expired";
    }
    return "pending";
}

/// The phase named `name`: its lowercase name, or a provider's state word ending in it, such as
/// `BATCH_STATE_CANCELLED` (any case).
/// @throws std::invalid_argument for anything else.
[[nodiscard]] inline JobPhase phase_from_name(std::string_view name) {
    std::string lower(name);
    for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    for (auto p : {JobPhase::pending, JobPhase::running, JobPhase::finalizing, JobPhase::cancelling,
                   JobPhase::succeeded, JobPhase::failed, JobPhase::cancelled, JobPhase::expired}) {
        const auto word = phase_name(p);
        if (lower == word) return p;
        if (lower.size() > word.size() && lower.compare(lower.size() - word.size(), word.size(), word) == 0 &&
            lower[lower.size() - word.size() - 1] == '_')
            return p;
    }
    throw std::invalid_argument(fmt::format("unknown job state '{}'", name));
}

/// Whether a job in `phase` has ended.
[[nodiscard]] constexpr bool is_final(JobPhase phase) noexcept {
    return phase == JobPhase::succeeded || phase == JobPhase::failed || phase == JobPhase::cancelled ||
           phase == JobPhase::expired;
}

/// An error status of a job or of one request: `status` is written only when non-empty.
struct JobError {
    int code = 0;
    std::string message;
    std::string status;

    [[nodiscard]] Json to_json() const {
        Json j = {{"code", code}, {"message", message}};
        if (!status.empty()) j["status"] = status;
        return j;
    }
    [[nodiscard]] static JobError from_json(const Json& j) {
        return JobError{j.at("code").get<int>(), j.at("message").get<std::string>(), j.value("status", std::string{})};
    }
    friend bool operator==(const JobError&, const JobError&) = default;
};

/// The phase lengths of one job, copied from the emulator's options when it is created.
struct JobTiming {
    detail::Nanos pending_for = std::chrono::seconds(20);
    detail::Nanos running_for = std::chrono::seconds(40);
    detail::Nanos finalizing_for{0};
    detail::Nanos cancelling_for{0};
    detail::Nanos expire_after = std::chrono::hours(48);
};

/// How a job ends early: `phase` (failed, cancelled or expired) at `time`. A cancellation
/// requested at `requested` shows `cancelling` from then until `time`.
struct JobEnd {
    JobPhase phase = JobPhase::cancelled;
    detail::SysTime time;
    std::optional<JobError> error;
    std::optional<detail::SysTime> requested;
};

/// A job as seen at one instant. `succeeded + failed == completed`, and
/// `completed + pending + cancelled + expired == total`.
struct JobSnapshot {
    JobPhase phase = JobPhase::pending;
    detail::SysTime update_time;
    std::optional<detail::SysTime> end_time;
    std::optional<JobError> error;
    std::size_t total = 0;
    std::size_t completed = 0;  ///< the first `completed` requests of the list have their outcome
    std::size_t succeeded = 0;
    std::size_t failed = 0;
    std::size_t pending = 0;
    std::size_t cancelled = 0;
    std::size_t expired = 0;
};

/// The clock-driven life of one job of `total` requests (see the file comment).
struct Lifecycle {
    detail::SysTime create_time;
    JobTiming timing;
    std::size_t total = 0;
    std::optional<JobError> fail_at_finish;  ///< ends `failed` with this error instead of `succeeded`
    std::optional<JobEnd> end;

    /// How many requests (a prefix of the list) have completed at `t`, ignoring any end.
    [[nodiscard]] std::size_t completed_by(detail::SysTime t) const {
        const auto offset = std::chrono::duration_cast<detail::Nanos>(t - create_time);
        if (offset < timing.pending_for || total == 0) return 0;
        if (offset >= timing.pending_for + timing.running_for) return total;
        const auto fraction = static_cast<long double>((offset - timing.pending_for).count()) /
                              static_cast<long double>(timing.running_for.count());
        return std::min(total, static_cast<std::size_t>(std::floor(fraction * static_cast<long double>(total))));
    }

    /// The instant the `k`-th request (1-based) completes.
    [[nodiscard]] detail::SysTime completion_time(std::size_t k) const {
        const auto share = static_cast<long double>(timing.running_for.count()) * static_cast<long double>(k) /
                           static_cast<long double>(std::max<std::size_t>(1, total));
        return create_time + timing.pending_for + detail::Nanos(static_cast<std::int64_t>(std::ceil(share)));
    }

    /// The job at `now`. `failed_among(k)` tells how many of the first `k` requests failed
    /// (none when not given). A failed job reports no completed request: it has no results.
    [[nodiscard]] JobSnapshot at(detail::SysTime now,
                                 const std::function<std::size_t(std::size_t)>& failed_among = {}) const {
        JobSnapshot s;
        s.total = total;
        const auto count = [&](std::size_t k) {
            s.completed = k;
            s.failed = failed_among ? failed_among(k) : 0;
            s.succeeded = k - s.failed;
        };
        const auto finish = [&](JobPhase phase, detail::SysTime t, std::optional<JobError> error,
                                detail::SysTime work_end) {
            s.phase = phase;
            s.update_time = t;
            s.end_time = t;
            s.error = std::move(error);
            count(phase == JobPhase::failed ? 0 : completed_by(work_end));
            const std::size_t rest = total - s.completed;
            if (phase == JobPhase::cancelled) s.cancelled = rest;
            else if (phase == JobPhase::expired) s.expired = rest;
            else s.pending = rest;
            return s;
        };
        const detail::SysTime done_at = create_time + timing.pending_for + timing.running_for + timing.finalizing_for;
        const detail::SysTime expire_at = create_time + timing.expire_after;
        const bool expires = done_at > expire_at;
        const detail::SysTime natural_end = expires ? expire_at : done_at;
        // A cancellation requested before the natural end wins, however long it takes; no request
        // completes after it was requested.
        const bool ends_early = end && (end->requested ? *end->requested < natural_end : end->time <= natural_end);
        const detail::SysTime work_end = ends_early && end->requested ? *end->requested : detail::SysTime::max();
        if (ends_early) {
            if (now >= end->time) return finish(end->phase, end->time, end->error, std::min(end->time, work_end));
        } else if (now >= natural_end) {
            if (expires) return finish(JobPhase::expired, expire_at, std::nullopt, expire_at);
            return finish(fail_at_finish ? JobPhase::failed : JobPhase::succeeded, done_at, fail_at_finish, done_at);
        }
        const std::size_t k = completed_by(std::min(now, work_end));
        count(k);
        s.pending = total - k;
        const detail::SysTime run_end = create_time + timing.pending_for + timing.running_for;
        if (ends_early && end->requested && now >= *end->requested) {
            s.phase = JobPhase::cancelling;
            s.update_time = std::max(*end->requested, k == 0 ? create_time : completion_time(k));
        } else if (now < create_time + timing.pending_for) {
            s.phase = JobPhase::pending;
            s.update_time = create_time;
        } else if (now < run_end) {
            s.phase = JobPhase::running;
            s.update_time = k == 0 ? create_time + timing.pending_for : completion_time(k);
        } else {
            s.phase = JobPhase::finalizing;
            s.update_time = run_end;
        }
        return s;
    }

    /// Ends the job as `phase` at `time` (which may lie in the future).
    /// @throws std::logic_error when the job has already ended at `now`.
    void end_at(JobPhase phase, detail::SysTime now, detail::SysTime time, std::optional<JobError> error = std::nullopt) {
        require_unfinished(now);
        end = JobEnd{phase, std::max(now, time), std::move(error), std::nullopt};
    }

    /// Cancels the job at `now`: `cancelling` for `timing.cancelling_for`, then `cancelled`.
    /// A second cancellation while cancelling changes nothing.
    /// @throws std::logic_error when the job has already ended at `now`.
    void cancel(detail::SysTime now, std::optional<JobError> error = std::nullopt) {
        const JobSnapshot s = require_unfinished(now);
        if (s.phase == JobPhase::cancelling) return;
        end = JobEnd{JobPhase::cancelled, now + timing.cancelling_for, std::move(error), now};
    }

    /// Writes the lifecycle's fields into the job object `j` (flat, camelCase).
    void write_to(Json& j) const {
        j["createTime"] = detail::format_timestamp(create_time);
        j["pendingForNs"] = timing.pending_for.count();
        j["runningForNs"] = timing.running_for.count();
        j["expireAfterNs"] = timing.expire_after.count();
        if (timing.finalizing_for.count()) j["finalizingForNs"] = timing.finalizing_for.count();
        if (timing.cancelling_for.count()) j["cancellingForNs"] = timing.cancelling_for.count();
        if (fail_at_finish) j["failAtFinish"] = fail_at_finish->to_json();
        if (end) {
            Json e = {{"state", phase_name(end->phase)}, {"time", detail::format_timestamp(end->time)}};
            if (end->error) e["error"] = end->error->to_json();
            if (end->requested) e["requestTime"] = detail::format_timestamp(*end->requested);
            j["end"] = std::move(e);
        }
    }

    /// Reads what `write_to` wrote (end states may be neutral names or provider state words).
    [[nodiscard]] static Lifecycle read_from(const Json& j, std::size_t total) {
        Lifecycle life;
        life.total = total;
        life.create_time = detail::parse_timestamp(j.at("createTime").get<std::string>());
        life.timing.pending_for = detail::Nanos(j.at("pendingForNs").get<std::int64_t>());
        life.timing.running_for = detail::Nanos(j.at("runningForNs").get<std::int64_t>());
        life.timing.expire_after = detail::Nanos(j.at("expireAfterNs").get<std::int64_t>());
        life.timing.finalizing_for = detail::Nanos(j.value("finalizingForNs", std::int64_t{0}));
        life.timing.cancelling_for = detail::Nanos(j.value("cancellingForNs", std::int64_t{0}));
        if (j.contains("failAtFinish")) life.fail_at_finish = JobError::from_json(j.at("failAtFinish"));
        if (j.contains("end")) {
            const Json& e = j.at("end");
            JobEnd end{phase_from_name(e.at("state").get<std::string>()),
                       detail::parse_timestamp(e.at("time").get<std::string>()), std::nullopt, std::nullopt};
            if (e.contains("error")) end.error = JobError::from_json(e.at("error"));
            if (e.contains("requestTime")) end.requested = detail::parse_timestamp(e.at("requestTime").get<std::string>());
            life.end = std::move(end);
        }
        return life;
    }

private:
    JobSnapshot require_unfinished(detail::SysTime now) const {
        JobSnapshot s = at(now);
        if (is_final(s.phase))
            throw std::logic_error(fmt::format("the job has already ended ({})", phase_name(s.phase)));
        return s;
    }
};

}  // namespace llmbatch::testing
