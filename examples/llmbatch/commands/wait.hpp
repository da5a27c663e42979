#pragma once
/// @file commands/wait.hpp
/// `llmbatch wait`: poll jobs until they finish, showing their progress.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/model.hpp"
#include "llmbatch/tracking.hpp"
#include <chrono>

#include "llmbatch/polling.hpp"

#include "../context.hpp"

namespace llmbatch::cli::detail {

/// `llmbatch wait`: its options and help.
[[nodiscard]] inline CommandSpec wait_spec() {
    return {"wait",
         "wait [--job-names N...] [--poll-interval SECONDS] [--timeout SECONDS]",
         "Wait until jobs finish, showing their progress",
         {{"--job-names", Arity::many, "N...", "these jobs (default: every pending job)"},
          {"--poll-interval", Arity::one, "SECONDS", "time between checks (default: 5 s, growing to 60 s)"},
          {"--timeout", Arity::one, "SECONDS", "give up after this long"}},
         "Nothing is saved: run 'llmbatch fetch --check-all-pending' afterwards."};
}

template <class B>
int wait(Context<B>& ctx) {
    using namespace std::chrono;
    PollPolicy policy;
    policy.initial_interval = seconds(5);
    policy.max_interval = seconds(60);
    if (const auto v = ctx.args.value("--poll-interval")) {
        policy.initial_interval = milliseconds(static_cast<std::int64_t>(positive_number("--poll-interval", *v, "seconds") * 1000));
        policy.max_interval = policy.initial_interval;
        policy.multiplier = 1.0;
        policy.jitter = 0.0;
    }
    std::optional<milliseconds> timeout;
    if (const auto v = ctx.args.value("--timeout"))
        timeout = milliseconds(static_cast<std::int64_t>(positive_number("--timeout", *v, "seconds") * 1000));
    const auto jobs = ctx.args.has("--job-names") ? ctx.named_jobs() : ctx.tracker.pending();
    ctx.configure();
    auto& clock = ctx.backend.clock();
    const auto start = clock.now();
    const bool tty = ctx.run.out_is_terminal && !ctx.common.json;

    if (jobs.empty()) ctx.say("No pending jobs to wait for");
    else ctx.say(fmt::format("Waiting for {} job(s)...", jobs.size()));
    nlohmann::ordered_json records = nlohmann::ordered_json::array();
    std::size_t succeeded = 0, unsuccessful = 0;
    std::size_t line_width = 0;
    for (const auto& job : jobs) {
        std::string last_line;
        auto progress = [&](const BatchJob& status) {
            const auto done_count = status.counts.succeeded + status.counts.failed;
            const std::string line = fmt::format("{}: {} {}/{}", job.job_name, status.state, done_count, status.counts.total);
            if (line == last_line) return WaitControl::keep_waiting;
            last_line = line;
            if (tty) {
                ctx.out << '\r' << line << std::string(line_width > line.size() ? line_width - line.size() : 0, ' ');
                ctx.out.flush();
                line_width = line.size();
            } else {
                ctx.say(line);
            }
            return WaitControl::keep_waiting;
        };
        if (timeout) {
            const auto left = *timeout - duration_cast<milliseconds>(clock.now() - start);
            policy.deadline = std::max(left, milliseconds(0));
        }
        BatchJob final_status;
        try {
            final_status = ctx.backend.service().wait_for_job(job.provider, job.job_name, clock, policy, progress);
        } catch (...) {
            if (tty && line_width > 0) ctx.out << '\n';
            throw;
        }
        if (tty) {
            ctx.out << '\n';
            line_width = 0;
        }
        if (final_status.state == JobState::succeeded && !final_status.error) ++succeeded;
        else ++unsuccessful;
        records.push_back({{"job_name", job.job_name},
                           {"state", std::string(to_string(final_status.state))},
                           {"succeeded_requests", final_status.counts.succeeded},
                           {"failed_requests", final_status.counts.failed},
                           {"total_requests", final_status.counts.total},
                           {"error", final_status.error ? nlohmann::ordered_json(final_status.error->message)
                                                        : nlohmann::ordered_json(nullptr)}});
    }
    if (!jobs.empty()) {
        ctx.say("");
        ctx.say(fmt::format("All {} job(s) finished: {} succeeded, {} did not.", jobs.size(), succeeded, unsuccessful));
        ctx.say(fmt::format("Run 'llmbatch fetch --check-all-pending{}' to save the results.", ctx.same_files()));
    }
    if (ctx.common.json) ctx.emit({{"command", "wait"}, {"jobs", records}});
    return unsuccessful > 0 ? exit_failure : exit_success;
}

}  // namespace llmbatch::cli::detail
