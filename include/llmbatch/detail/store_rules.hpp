#pragma once
/// @file detail/store_rules.hpp
/// What every job store (job_store.hpp) checks and says the same way: the argument checks, the
/// duplicate guard's errors, the refetch window, and the text row a database keeps a job in.

#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/detail/time.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/tracked_job.hpp"

namespace llmbatch::detail {

/// @throws InvalidArgument when the job has no name or a negative batch index.
inline void check_tracked_job(const TrackedJob& job) {
    if (job.job_name.empty()) throw InvalidArgument("A tracked job needs a job name.");
    if (job.batch_index < 0)
        throw InvalidArgument(fmt::format("Job '{}' has batch index {}; batch indices start at 0.", job.job_name,
                                          job.batch_index));
}

/// @throws InvalidArgument when the intent's token is not a client token or its batch index is negative.
inline void check_create_intent(const CreateIntent& intent) {
    if (!client_token_valid(intent.token))
        throw InvalidArgument("A create needs a client token of 1 to 64 characters of [A-Za-z0-9_-].");
    if (intent.job.batch_index < 0)
        throw InvalidArgument(fmt::format("Batch index {} of '{}': batch indices start at 0.", intent.job.batch_index,
                                          intent.job.source));
}

/// @throws InvalidArgument when `hours` is not a finite number greater than zero.
inline void check_refetch_hours(double hours) {
    if (!std::isfinite(hours) || !(hours > 0))
        throw InvalidArgument(fmt::format("The refetch window must be a finite number of hours greater than zero (got {}).", hours));
}

/// True when `job` was created within `hours` before `now` (a creation after `now` counts as within).
[[nodiscard]] inline bool within_refetch(const TrackedJob& job, double hours, std::chrono::system_clock::time_point now) {
    const std::chrono::duration<double, std::ratio<3600>> age = now - job.created_at;
    return age.count() <= hours;
}

[[nodiscard]] inline InvalidArgument already_tracked(const TrackedJob& existing) {
    return InvalidArgument(fmt::format("Job '{}' is already tracked (batch {} of '{}', {}).", existing.job_name,
                                       existing.batch_index, existing.source, to_string(existing.status)));
}

[[nodiscard]] inline DuplicateJobError pending_duplicate(const TrackedJob& job, const std::string& pending_job) {
    return DuplicateJobError(fmt::format("Batch {} of '{}' already has a pending job, '{}'; wait for it or cancel it, or "
                                         "force a second job.",
                                         job.batch_index, job.source, pending_job),
                             pending_job);
}

[[nodiscard]] inline DuplicateJobError open_create_duplicate(const TrackedJob& job, const CreateIntent& open) {
    return DuplicateJobError(fmt::format("Batch {} of '{}' is being created (client token '{}', sent {}) and its outcome "
                                         "is not recorded yet; settle it first (it is looked up at {} when batches are "
                                         "created again), or force a second job.",
                                         job.batch_index, job.source, open.token,
                                         format_rfc3339(open.job.created_at, false), open.job.provider),
                             std::string());
}

[[nodiscard]] inline InvalidArgument token_in_use(const std::string& token) {
    return InvalidArgument(fmt::format("A create with client token '{}' is already open.", token));
}

[[nodiscard]] inline InvalidArgument no_open_create(const std::string& token, const std::string& store) {
    return InvalidArgument(fmt::format("No create with client token '{}' is open in '{}'.", token, store));
}

[[nodiscard]] inline InvalidArgument not_tracked(const std::string& job_name, const std::string& store) {
    return InvalidArgument(fmt::format("Job '{}' is not tracked in '{}'.", job_name, store));
}

[[nodiscard]] inline InvalidArgument renamed(const std::string& job_name, const std::string& to) {
    return InvalidArgument(fmt::format("An update may not rename job '{}' (to '{}').", job_name, to));
}

/// @throws InvalidArgument when `existing` (tracked under the name a create made) is another batch's.
inline void check_same_batch(const TrackedJob& existing, const CreateIntent& intent) {
    if (existing.source != intent.job.source || existing.batch_index != intent.job.batch_index)
        throw InvalidArgument(fmt::format("Job '{}' is already tracked for batch {} of '{}', not for batch {} of '{}' "
                                          "(client token '{}').",
                                          existing.job_name, existing.batch_index, existing.source, intent.job.batch_index,
                                          intent.job.source, intent.token));
}

/// A job as text columns, the way the database stores keep it (times in RFC 3339 to the second,
/// labels and request keys as JSON).
struct JobRow {
    std::string provider, source;
    std::int64_t batch_index = 0;
    std::string created_at, labels, request_keys;
    std::string job_name, status;
    std::optional<std::string> error_message, completed_at;
};

/// @throws InvalidArgument when a label or request key is not valid UTF-8.
[[nodiscard]] inline JobRow to_row(const TrackedJob& job) {
    nlohmann::json labels = nlohmann::json::object();
    for (const auto& [k, v] : job.labels) labels[k] = v;
    JobRow row{job.provider, job.source, job.batch_index, format_rfc3339(job.created_at, false), {}, {},
               job.job_name, std::string(to_string(job.status)), std::nullopt, std::nullopt};
    try {
        row.labels = labels.dump();
        row.request_keys = nlohmann::json(job.request_keys).dump();
    } catch (const nlohmann::json::type_error& e) {
        throw InvalidArgument(fmt::format("A label or request key of job '{}' is not valid UTF-8 ({}).", job.job_name, e.what()));
    }
    if (!job.error_message.empty()) row.error_message = job.error_message;
    if (job.completed_at) row.completed_at = format_rfc3339(*job.completed_at, false);
    return row;
}

/// The job a row holds; `bad(why)` is called (and must throw) for a row no store could have written.
[[nodiscard]] inline TrackedJob from_row(const JobRow& row, const std::function<void(const std::string&)>& bad) {
    auto time = [&](const std::string& text, std::string_view what) {
        const auto t = parse_rfc3339(text);
        if (!t) bad(fmt::format("{} \"{}\" is not an RFC 3339 time of the years 1678 to 2261", what, excerpt(text, 80)));
        return *t;
    };
    auto json = [&](const std::string& text, std::string_view what) {
        auto j = nlohmann::json::parse(text, nullptr, false);
        if (j.is_discarded()) bad(fmt::format("its {} are not valid JSON", what));
        return j;
    };
    TrackedJob job;
    job.provider = row.provider;
    job.source = row.source;
    job.job_name = row.job_name;
    job.batch_index = row.batch_index;
    if (job.batch_index < 0) bad("its batch index is negative");
    job.created_at = time(row.created_at, "created_at");
    const auto labels = json(row.labels, "labels");
    if (!labels.is_object()) bad("its labels are not an object");
    for (const auto& [k, v] : labels.items()) {
        if (!v.is_string()) bad("a label is not a string");
        job.labels.emplace(k, v.get<std::string>());
    }
    const auto keys = json(row.request_keys, "request keys");
    if (!keys.is_array()) bad("its request keys are not an array");
    for (const auto& k : keys) {
        if (!k.is_string()) bad("a request key is not a string");
        job.request_keys.push_back(k.get<std::string>());
    }
    if (!row.status.empty()) {
        const auto status = parse_tracked_status(row.status);
        if (!status) bad(fmt::format("unknown status \"{}\"", excerpt(row.status, 40)));
        job.status = *status;
    }
    if (row.error_message) job.error_message = *row.error_message;
    if (row.completed_at) job.completed_at = time(*row.completed_at, "completed_at");
    return job;
}

}  // namespace llmbatch::detail
