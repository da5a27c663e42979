#pragma once
/// @file commands/submit.hpp
/// Sending one batch to the provider and tracking the job it becomes (`submit_batch`), shared by
/// `create` and `create --resubmit-failed`, and settling the creates an earlier run left in flight.

#include <cstdint>
#include <exception>
#include <utility>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/model.hpp"
#include "llmbatch/service_types.hpp"
#include "llmbatch/tracked_create.hpp"
#include "llmbatch/tracking.hpp"

#include "../context.hpp"

namespace llmbatch::cli::detail {

[[nodiscard]] inline std::string duplicate_message(std::int64_t index, const std::string& source, const std::string& job) {
    return fmt::format("Batch {} of '{}' already has a pending job, '{}'; wait for it or cancel it, or use --force to "
                       "create a second job.",
                       index, source, job);
}

[[nodiscard]] inline std::string display_name(const std::string& prefix, const std::string& source, std::int64_t index,
                                              std::string_view suffix = {}) {
    std::string name = fmt::format("{}{} batch {}{}", prefix, source, index, suffix);
    if (name.size() > 128) name.resize(128);
    return name;
}

/// What became of one batch sent to the provider.
struct Submission {
    TrackedJob job{};      ///< as tracked (its job_name is empty when no job is tracked)
    std::string error{};   ///< why no job is tracked
    std::string note{};    ///< how a job whose create reply was lost was found
    bool tracked = false;  ///< a job exists at the provider and is tracked
    bool refused = false;  ///< the batch is taken: a pending job, or a create in flight
    /// The create may have made a job that is not tracked yet (a lost reply, a job that could not
    /// be recorded): nothing more should be created before it is settled.
    bool in_doubt = false;
};

/// Creates one job at the provider with `payload` and tracks `job` for it, the create recorded
/// before it is sent (`create_tracked_job`), so no job is ever orphaned or created twice.
template <class B>
Submission submit_batch(Context<B>& ctx, const BatchPayload& payload, const CreateOptions& options, TrackedJob job,
                        bool force) {
    Submission s;
    TrackedCreateOptions o;
    o.create = options;
    o.force = force;
    const std::string provider = ctx.backend.target_provider();
    try {
        auto created = create_tracked_job(ctx.backend.service(), ctx.tracker, ctx.backend.clock(), provider,
                                          std::move(job), payload, o);
        s.job = std::move(created.job);
        s.tracked = true;
        if (created.adopted)
            s.note = fmt::format("the reply to its create was lost ({}); the job was found at {} by its client token",
                                 created.lost_reply, provider);
    } catch (const CreateInDoubt& e) {
        s.error = e.what();
        s.in_doubt = true;
    } catch (const DuplicateJobError& e) {
        s.error = e.what();
        s.refused = true;
    } catch (const std::exception& e) {
        s.error = e.what();
    }
    return s;
}

/// Settles the creates an earlier run left in flight (a lost reply, a crash), saying what became
/// of each; returns them for `--json`.
template <class B>
nlohmann::ordered_json settle_earlier_creates(Context<B>& ctx) {
    auto out = nlohmann::ordered_json::array();
    if (ctx.tracker.open_creates().empty()) return out;
    for (const auto& s : resolve_open_creates(ctx.backend.service(), ctx.tracker, ctx.backend.clock())) {
        const std::string_view outcome = s.settlement == CreateSettlement::adopted       ? "adopted"
                                         : s.settlement == CreateSettlement::not_created ? "not_created"
                                                                                          : "in_doubt";
        ctx.say(fmt::format("An earlier create: {}", s.detail));
        out.push_back({{"token", s.intent.token},
                       {"source", s.intent.job.source},
                       {"batch_index", s.intent.job.batch_index},
                       {"outcome", outcome},
                       {"job_name", s.job.job_name.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s.job.job_name)},
                       {"detail", s.detail}});
    }
    return out;
}

}  // namespace llmbatch::cli::detail
