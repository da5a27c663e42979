#pragma once
/// @file tracked_create.hpp
/// Creating tracked batch jobs so that no paid job is ever orphaned or created twice.
///
/// A create whose reply is lost (a timeout after sending, a 5xx after the provider took it, a
/// truncated reply, the process killed before it recorded the job) may have made a job that runs
/// and is billed. `create_tracked_job` therefore:
/// 1. records the create in the tracking file *before* sending it (`JobTracker::begin_create`),
///    with a fresh client token that the job carries where the provider can carry one (Gemini:
///    the display name; OpenAI, Mistral: metadata). The record also reserves the batch: a second
///    process creating the same batch is refused;
/// 2. sends the create; on success tracks the job and closes the record in one write;
/// 3. on a failure that surely made no job (nothing sent, or a 4xx answer) closes the record and
///    rethrows; on any other failure looks the job up at once (`resolve_open_creates`) and tracks
///    it when found, else leaves the record open and throws `CreateInDoubt`.
///
/// `resolve_open_creates` settles every open record, e.g. at the start of a batch-creating run
/// after a crash: it lists the provider's jobs and tracks the one carrying the record's token
/// (for providers whose jobs carry none, such as Anthropic's Message Batches: the one job created
/// within the settling window with the same request count), or, once `settle_time` has passed
/// since the create was sent and the provider still shows no such job, closes the record as "not
/// created" so the batch can be created again. Until then the batch stays reserved.
///
/// Example:
/// @code
/// for (const auto& s : llmbatch::resolve_open_creates(service, tracker, clock))
///     if (s.settlement == llmbatch::CreateSettlement::in_doubt) std::cerr << s.detail << '\n';
/// llmbatch::TrackedJob job;
/// job.source = "History/h.md";
/// job.batch_index = 0;
/// job.request_keys = {"0", "1"};
/// auto created = llmbatch::create_tracked_job(service, tracker, clock, "gemini", job, payload);
/// @endcode

#include <chrono>
#include <cstdint>
#include <exception>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/clock.hpp"
#include "llmbatch/detail/time.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/service_types.hpp"
#include "llmbatch/job_store.hpp"
#include "llmbatch/tracking.hpp"

namespace llmbatch {

/// Options of `create_tracked_job` and `resolve_open_creates`.
struct TrackedCreateOptions {
    /// Passed to the provider; an empty `client_token` gets a fresh one (`make_client_token`).
    CreateOptions create{};
    /// Create even when the batch has a pending job or an open create.
    bool force = false;
    /// How long after a create was sent a provider that shows no job for it is believed: a create
    /// still being processed when its reply was lost can take a while to show in the listing.
    std::chrono::seconds settle_time = std::chrono::minutes(10);
};

/// A create may have made a job that could not be found (yet), or the provider could not be
/// asked. The create stays recorded in the tracking file (`intent()`), its batch reserved, until
/// `resolve_open_creates` settles it.
class CreateInDoubt : public Error {
public:
    CreateInDoubt(std::string message, CreateIntent intent, std::optional<std::chrono::system_clock::time_point> after)
        : Error(std::move(message)), intent_(std::move(intent)), decidable_after_(after) {}

    /// The open create.
    [[nodiscard]] const CreateIntent& intent() const noexcept { return intent_; }
    /// When not finding the job will settle the create as "not created"; empty when finding it
    /// is not enough (the provider could not be asked, or several jobs match).
    [[nodiscard]] const std::optional<std::chrono::system_clock::time_point>& decidable_after() const noexcept {
        return decidable_after_;
    }

private:
    CreateIntent intent_;
    std::optional<std::chrono::system_clock::time_point> decidable_after_;
};

/// A fresh client token: 32 lower-case hexadecimal characters from `std::random_device`.
[[nodiscard]] inline std::string make_client_token() {
    std::random_device device;
    std::string token;
    for (int i = 0; i < 4; ++i) token += fmt::format("{:08x}", static_cast<std::uint32_t>(device()));
    return token;
}

/// How `resolve_open_creates` settled an open create.
enum class CreateSettlement {
    adopted,      ///< the job was found at the provider and is now tracked
    not_created,  ///< the provider shows no such job after the settling time: the record is closed
    in_doubt,     ///< still open (not found yet, several candidates, or the provider could not be asked)
};

/// One open create and what became of it.
struct SettledCreate {
    CreateIntent intent{};
    CreateSettlement settlement = CreateSettlement::in_doubt;
    TrackedJob job{};       ///< adopted: the job as now tracked
    std::string detail{};   ///< a sentence saying what was found
    /// in_doubt: when not finding the job will mean it was not created (see `CreateInDoubt`).
    std::optional<std::chrono::system_clock::time_point> decidable_after{};
};

/// What `create_tracked_job` made.
struct TrackedCreate {
    TrackedJob job{};                       ///< the job as tracked
    std::vector<std::string> input_files{};  ///< files uploaded for it (when the reply was received)
    /// The reply was lost (`lost_reply` says how) and the job was then found at the provider.
    bool adopted = false;
    std::string lost_reply{};
};

namespace detail {

/// True when a failed create surely made no job: nothing was sent, the provider answered with a
/// 4xx, or the call was refused before sending (bad arguments, unsupported).
[[nodiscard]] inline bool create_surely_failed(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const TransportError& e) {
        return !e.request_may_have_been_sent();
    } catch (const ProviderError& e) {
        return e.http_status() >= 400 && e.http_status() < 500;
    } catch (const Error&) {
        return true;
    } catch (...) {
        return false;
    }
}

/// Settles `intents` (all of provider `provider`) against one listing of its jobs.
template <class Service, JobStore Store, Clock C>
std::vector<SettledCreate> settle_creates(Service& service, Store& tracker, C& clock, const std::string& provider,
                                          const std::vector<CreateIntent>& intents, const TrackedCreateOptions& options) {
    std::vector<SettledCreate> out;
    std::vector<BatchJob> listed;
    std::string list_error;
    try {
        listed = service.list_batch_jobs(provider);
    } catch (const Error& e) {
        list_error = e.what();
    }
    const bool by_token = list_error.empty() && service.lists_client_tokens(provider);
    std::set<std::string> taken;
    for (const auto& job : tracker.jobs()) taken.insert(job.job_name);
    const auto now = clock.utc_now();
    for (const auto& intent : intents) {
        SettledCreate s{intent, CreateSettlement::in_doubt, {}, {}, {}};
        const auto& want = intent.job;
        const std::string what = fmt::format("the create of batch {} of '{}' sent at {} with client token '{}'",
                                             want.batch_index, want.source, format_rfc3339(want.created_at, false),
                                             intent.token);
        if (!list_error.empty()) {
            s.detail = fmt::format("{}: {} could not be asked whether it made a job ({}).", what, provider, list_error);
            out.push_back(std::move(s));
            continue;
        }
        std::vector<const BatchJob*> matches;
        for (const auto& job : listed) {
            if (by_token) {
                if (job.client_token == intent.token) matches.push_back(&job);
            } else if (!taken.count(job.name) && job.create_time && *job.create_time >= want.created_at - std::chrono::minutes(5) &&
                       *job.create_time <= want.created_at + options.settle_time &&
                       job.counts.total == static_cast<std::int64_t>(want.request_keys.size())) {
                matches.push_back(&job);
            }
        }
        if (matches.size() == 1) {
            s.job = tracker.finish_create(intent.token, matches.front()->name);
            s.settlement = CreateSettlement::adopted;
            s.detail = fmt::format("{} made job {}; it is now tracked.", what, s.job.job_name);
            taken.insert(s.job.job_name);
        } else if (matches.size() > 1) {
            std::vector<std::string> names;
            for (const auto* m : matches) names.push_back(m->name);
            s.detail = fmt::format("{}: {} jobs at {} could be the one it made ({}); track the right one by hand.", what,
                                   matches.size(), provider, fmt::join(names, ", "));
        } else if (now >= want.created_at + options.settle_time) {
            tracker.abandon_create(intent.token);
            s.settlement = CreateSettlement::not_created;
            s.detail = fmt::format("{} made no job ({} shows none); the batch can be created again.", what, provider);
        } else {
            s.decidable_after = want.created_at + options.settle_time;
            s.detail = fmt::format("{}: {} shows no job for it yet; if it still shows none at {}, the create made no job.",
                                   what, provider, format_rfc3339(*s.decidable_after, false));
        }
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace detail

/// Settles every open create of `tracker` (see the file comment), one listing per provider.
/// Errors reaching a provider leave its creates open (`in_doubt`); file errors are thrown.
template <class Service, JobStore Store, Clock C>
std::vector<SettledCreate> resolve_open_creates(Service& service, Store& tracker, C& clock,
                                                const TrackedCreateOptions& options = {}) {
    std::map<std::string, std::vector<CreateIntent>> by_provider;
    for (auto& intent : tracker.open_creates()) by_provider[intent.job.provider].push_back(std::move(intent));
    std::vector<SettledCreate> out;
    for (const auto& [provider, intents] : by_provider) {
        auto settled = detail::settle_creates(service, tracker, clock, provider, intents, options);
        out.insert(out.end(), std::make_move_iterator(settled.begin()), std::make_move_iterator(settled.end()));
    }
    return out;
}

/// Creates a job for `job`'s batch on `provider` and tracks it, recording the create first (see
/// the file comment). `job` gives the source, batch index, labels and request keys; its name,
/// provider, status and creation time are set here.
/// @throws DuplicateJobError when the batch has a pending job or an open create (unless
///         `options.force`); the provider's error when the create surely made no job;
///         `CreateInDoubt` when it may have made one that was not found, or made one that could
///         not be recorded (the create stays open and is settled by the next resolve); the
///         store's error when the create could not be recorded before sending (nothing was sent).
template <class Service, JobStore Store, Clock C, class Payload>
TrackedCreate create_tracked_job(Service& service, Store& tracker, C& clock, std::string_view provider, TrackedJob job,
                                 const Payload& payload, const TrackedCreateOptions& options = {}) {
    CreateOptions create = options.create;
    if (create.client_token.empty()) create.client_token = make_client_token();
    check_client_token(create);
    job.provider = std::string(provider);
    job.job_name.clear();
    job.status = TrackedStatus::pending;
    job.created_at = std::chrono::floor<std::chrono::seconds>(clock.utc_now());
    const CreateIntent intent{create.client_token, job};
    try {
        tracker.begin_create(intent, options.force);
    } catch (const DuplicateJobError&) {
        throw;
    } catch (const Error&) {
        // Nothing was sent; the record may have been written all the same (e.g. only the final
        // directory sync failed): close it, or it would hold the batch until the settling time.
        try {
            tracker.abandon_create(intent.token);
        } catch (const Error&) {
        }
        throw;
    }

    CreatedBatchJob created;
    try {
        created = service.create_batch_job_on(provider, payload, create);
    } catch (...) {
        const auto error = std::current_exception();
        if (detail::create_surely_failed(error)) {
            tracker.abandon_create(intent.token);
            throw;
        }
        std::string reason;
        try {
            throw;
        } catch (const std::exception& e) {
            reason = e.what();
        } catch (...) {
            reason = "an unknown error";
        }
        auto settled = detail::settle_creates(service, tracker, clock, job.provider, {intent}, options).front();
        if (settled.settlement == CreateSettlement::adopted) return {std::move(settled.job), {}, true, std::move(reason)};
        if (settled.settlement == CreateSettlement::not_created) throw;
        throw CreateInDoubt(
            fmt::format("The reply to the create of batch {} of '{}' was lost ({}), so it may have made a job at {}. {} "
                        "The create stays recorded in {} under client token '{}': creating batches again first looks "
                        "for its job and tracks it, or creates the batch when {} shows no such job after the settling "
                        "time.",
                        job.batch_index, job.source, reason, provider, settled.detail, tracker.description(),
                        intent.token, provider),
            intent, settled.decidable_after);
    }
    try {
        return {tracker.finish_create(intent.token, created.job_name), std::move(created.input_files), false, {}};
    } catch (const Error& e) {
        throw CreateInDoubt(fmt::format("Job {} was created at {} for batch {} of '{}', but it could not be recorded in {} "
                                        "({}). The create stays recorded there under client token '{}': once the store "
                                        "can be written again, creating batches again tracks the job.",
                                        created.job_name, provider, job.batch_index, job.source, tracker.description(),
                                        e.what(), intent.token),
                            intent, std::nullopt);
    }
}

}  // namespace llmbatch
