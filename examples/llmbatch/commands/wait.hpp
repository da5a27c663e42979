#pragma once
/// @file commands/wait.hpp
/// `llmbatch wait`: poll every job in turn until all have finished, showing each job's changes and
/// the overall progress (jobs done, requests done, time elapsed); on a timeout or Ctrl-C it says
/// how to resume.

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/model.hpp"
#include "llmbatch/polling.hpp"
#include "llmbatch/tracking.hpp"

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
            "Every job is checked in each round. Nothing is saved: run 'llmbatch fetch --check-all-pending'\n"
            "afterwards. After a timeout or Ctrl-C, run 'llmbatch wait' again to go on waiting (the jobs go on\n"
            "at the provider)."};
}

/// One job being waited for.
struct FollowedJob {
    TrackedJob job{};
    BatchJob status{};
    std::string last_line{};
};

/// "3 min 20 s", "45 s".
[[nodiscard]] inline std::string elapsed_text(std::chrono::seconds s) {
    if (s < std::chrono::minutes(1)) return fmt::format("{} s", s.count());
    return fmt::format("{} min {} s", s.count() / 60, s.count() % 60);
}

/// "1/2 job(s) done, 4/6 request(s), 1 min 0 s elapsed".
[[nodiscard]] inline std::string overall_line(const std::vector<FollowedJob>& jobs, std::chrono::seconds elapsed) {
    std::size_t done = 0;
    std::int64_t requests_done = 0, requests = 0;
    for (const auto& j : jobs) {
        done += j.status.done ? 1 : 0;
        requests_done += j.status.counts.succeeded + j.status.counts.failed;
        requests += j.status.counts.total;
    }
    return fmt::format("{}/{} job(s) done, {}/{} request(s), {} elapsed", done, jobs.size(), requests_done, requests,
                       elapsed_text(elapsed));
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
    std::vector<FollowedJob> jobs;
    for (auto& job : ctx.args.has("--job-names") ? ctx.named_jobs() : ctx.tracker.pending())
        jobs.push_back(FollowedJob{job, {}, {}});
    ctx.configure();
    auto& clock = ctx.backend.clock();
    const auto start = clock.now();
    const bool tty = ctx.run.out_is_terminal && !ctx.common.json;
    const auto elapsed = [&] { return duration_cast<seconds>(clock.now() - start); };

    if (jobs.empty()) ctx.say("No pending jobs to wait for");
    else ctx.say(fmt::format("Waiting for {} job(s)...", jobs.size()));
    std::size_t line_width = 0;
    auto show = [&](const std::string& line) {
        ctx.out << '\r' << line << std::string(line_width > line.size() ? line_width - line.size() : 0, ' ');
        ctx.out.flush();
        line_width = line.size();
    };
    auto end_line = [&] {
        if (tty && line_width > 0) ctx.out << '\n';
        line_width = 0;
    };
    PollSchedule schedule(policy);
    std::string stopped;  // why the wait ended early
    while (!jobs.empty()) {
        bool changed = false;
        for (auto& j : jobs) {
            if (j.status.done) continue;
            try {
                j.status = ctx.backend.service().get_batch_job_status(j.job.provider, j.job.job_name);
            } catch (const ProviderError& e) {
                if (!e.retryable()) {
                    end_line();
                    throw;
                }
                continue;  // checked again next round
            }
            const auto done_count = j.status.counts.succeeded + j.status.counts.failed;
            const auto line = fmt::format("{}: {} {}/{}", j.job.job_name, j.status.state, done_count, j.status.counts.total);
            if (line == j.last_line) continue;
            j.last_line = line;
            changed = true;
            if (!tty) ctx.say(line);
        }
        const bool all_done = std::all_of(jobs.begin(), jobs.end(), [](const FollowedJob& j) { return j.status.done; });
        // On a terminal one line is rewritten: the job's, or the overall progress of several.
        if (changed && tty) show(jobs.size() == 1 ? jobs.front().last_line : overall_line(jobs, elapsed()));
        if (changed && !tty && jobs.size() > 1) ctx.say("  " + overall_line(jobs, elapsed()));
        if (all_done) break;
        auto pause = duration_cast<typename std::remove_cvref_t<decltype(clock)>::duration>(schedule.next());
        if (timeout) {
            const auto left = duration_cast<decltype(pause)>(*timeout) - (clock.now() - start);
            if (left <= decltype(pause)::zero()) {
                stopped = fmt::format("Timed out after {} s", duration_cast<seconds>(*timeout).count());
                break;
            }
            pause = std::min(pause, left);
        }
        if (ctx.run.interrupted && *ctx.run.interrupted) {
            stopped = "Interrupted";
            break;
        }
        clock.sleep_for(pause);
        if (ctx.run.interrupted && *ctx.run.interrupted) {
            stopped = "Interrupted";
            break;
        }
    }
    end_line();

    nlohmann::ordered_json records = nlohmann::ordered_json::array();
    std::size_t succeeded = 0, unsuccessful = 0;
    for (const auto& j : jobs) {
        const auto& s = j.status;
        if (s.done && s.state == JobState::succeeded && !s.error) ++succeeded;
        else if (s.done) ++unsuccessful;
        records.push_back({{"job_name", j.job.job_name},
                           {"state", std::string(to_string(s.state))},
                           {"succeeded_requests", s.counts.succeeded},
                           {"failed_requests", s.counts.failed},
                           {"total_requests", s.counts.total},
                           {"error", s.error ? nlohmann::ordered_json(s.error->message) : nlohmann::ordered_json(nullptr)}});
    }
    if (!stopped.empty()) {
        for (const auto& j : jobs)
            if (!j.status.done)
                ctx.err << fmt::format("Error: {} waiting for batch job {}; last state: {}\n", stopped, j.job.job_name,
                                       j.status.state);
        ctx.err << fmt::format("{}. Nothing was lost: the jobs go on at the provider. Run 'llmbatch wait{}' to go on "
                               "waiting, or 'llmbatch fetch --check-all-pending{}' to save what has finished.\n",
                               overall_line(jobs, elapsed()), ctx.same_files(), ctx.same_files());
        if (ctx.common.json)
            ctx.emit({{"command", "wait"}, {"jobs", records}, {"error", stopped}, {"exit_code", exit_failure}});
        return stopped == "Interrupted" ? exit_interrupted : exit_failure;
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
