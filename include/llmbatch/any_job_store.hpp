#pragma once
/// @file any_job_store.hpp
/// `AnyJobStore`, a job store chosen at run time (a tool's `--store` option) holding any
/// `JobStore`, and `copy_job_store`, which copies one store into another losing nothing (the
/// document's JSON files into SQLite, SQLite into PostgreSQL, ...).
///
/// Example:
/// @code
/// llmbatch::AnyJobStore store = llmbatch::AnyJobStore(llmbatch::JobTracker("jobs.json", "state.json"));
/// auto report = llmbatch::fetch_tracked_jobs(service, store, results, selection, clock);
/// @endcode

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "llmbatch/job_store.hpp"
#include "llmbatch/tracked_job.hpp"

namespace llmbatch {

/// Any `JobStore`, chosen at run time; itself a `JobStore`. Move-only.
class AnyJobStore {
public:
    template <JobStore S>
        requires(!std::is_same_v<std::remove_cvref_t<S>, AnyJobStore>)
    explicit AnyJobStore(S store) : self_(std::make_unique<Model<S>>(std::move(store))) {}

    [[nodiscard]] std::vector<TrackedJob> jobs() const { return self_->jobs(); }
    [[nodiscard]] std::vector<TrackedJob> pending() const { return self_->pending(); }
    [[nodiscard]] std::optional<TrackedJob> find(const std::string& name) const { return self_->find(name); }
    [[nodiscard]] std::vector<TrackedJob> select_refetch(double hours, std::chrono::system_clock::time_point now) const {
        return self_->select_refetch(hours, now);
    }
    [[nodiscard]] std::set<std::int64_t> completed_batches(const std::string& source) const {
        return self_->completed_batches(source);
    }
    [[nodiscard]] bool is_batch_completed(const std::string& source, std::int64_t index) const {
        return self_->is_batch_completed(source, index);
    }
    [[nodiscard]] std::vector<CreateIntent> open_creates() const { return self_->open_creates(); }
    [[nodiscard]] std::string description() const { return self_->description(); }

    void add(TrackedJob job, bool force = false) { self_->add(std::move(job), force); }
    void update(const std::string& name, const std::function<void(TrackedJob&)>& change) { self_->update(name, change); }
    void mark_completed(const std::string& name, std::chrono::system_clock::time_point time) {
        self_->mark_completed(name, time);
    }
    void mark_failed(const std::string& name, std::string message) { self_->mark_failed(name, std::move(message)); }
    void mark_cancelled(const std::string& name, std::string message = "Cancelled by user.") {
        self_->mark_cancelled(name, std::move(message));
    }
    void reset_to_pending(const std::string& name) { self_->reset_to_pending(name); }
    void unmark_completed(const std::string& source, std::int64_t index) { self_->unmark_completed(source, index); }
    void begin_create(const CreateIntent& intent, bool force = false) { self_->begin_create(intent, force); }
    TrackedJob finish_create(const std::string& token, const std::string& name) { return self_->finish_create(token, name); }
    void abandon_create(const std::string& token) { self_->abandon_create(token); }

    /// The store held, when it is an `S` (else null).
    template <class S>
    [[nodiscard]] S* get() noexcept {
        auto* model = dynamic_cast<Model<S>*>(self_.get());
        return model ? &model->store : nullptr;
    }

private:
    struct Interface {
        virtual ~Interface() = default;
        virtual std::vector<TrackedJob> jobs() const = 0;
        virtual std::vector<TrackedJob> pending() const = 0;
        virtual std::optional<TrackedJob> find(const std::string&) const = 0;
        virtual std::vector<TrackedJob> select_refetch(double, std::chrono::system_clock::time_point) const = 0;
        virtual std::set<std::int64_t> completed_batches(const std::string&) const = 0;
        virtual bool is_batch_completed(const std::string&, std::int64_t) const = 0;
        virtual std::vector<CreateIntent> open_creates() const = 0;
        virtual std::string description() const = 0;
        virtual void add(TrackedJob, bool) = 0;
        virtual void update(const std::string&, const std::function<void(TrackedJob&)>&) = 0;
        virtual void mark_completed(const std::string&, std::chrono::system_clock::time_point) = 0;
        virtual void mark_failed(const std::string&, std::string) = 0;
        virtual void mark_cancelled(const std::string&, std::string) = 0;
        virtual void reset_to_pending(const std::string&) = 0;
        virtual void unmark_completed(const std::string&, std::int64_t) = 0;
        virtual void begin_create(const CreateIntent&, bool) = 0;
        virtual TrackedJob finish_create(const std::string&, const std::string&) = 0;
        virtual void abandon_create(const std::string&) = 0;
    };

    template <class S>
    struct Model final : Interface {
        explicit Model(S s) : store(std::move(s)) {}
        std::vector<TrackedJob> jobs() const override { return store.jobs(); }
        std::vector<TrackedJob> pending() const override { return store.pending(); }
        std::optional<TrackedJob> find(const std::string& n) const override { return store.find(n); }
        std::vector<TrackedJob> select_refetch(double h, std::chrono::system_clock::time_point t) const override {
            return store.select_refetch(h, t);
        }
        std::set<std::int64_t> completed_batches(const std::string& s) const override { return store.completed_batches(s); }
        bool is_batch_completed(const std::string& s, std::int64_t i) const override { return store.is_batch_completed(s, i); }
        std::vector<CreateIntent> open_creates() const override { return store.open_creates(); }
        std::string description() const override { return store.description(); }
        void add(TrackedJob j, bool f) override { store.add(std::move(j), f); }
        void update(const std::string& n, const std::function<void(TrackedJob&)>& c) override { store.update(n, c); }
        void mark_completed(const std::string& n, std::chrono::system_clock::time_point t) override { store.mark_completed(n, t); }
        void mark_failed(const std::string& n, std::string m) override { store.mark_failed(n, std::move(m)); }
        void mark_cancelled(const std::string& n, std::string m) override { store.mark_cancelled(n, std::move(m)); }
        void reset_to_pending(const std::string& n) override { store.reset_to_pending(n); }
        void unmark_completed(const std::string& s, std::int64_t i) override { store.unmark_completed(s, i); }
        void begin_create(const CreateIntent& i, bool f) override { store.begin_create(i, f); }
        TrackedJob finish_create(const std::string& t, const std::string& n) override { return store.finish_create(t, n); }
        void abandon_create(const std::string& t) override { store.abandon_create(t); }
        S store;
    };

    std::unique_ptr<Interface> self_;
};

static_assert(JobStore<AnyJobStore>);

/// What `copy_job_store` did.
struct StoreCopyReport {
    std::size_t jobs_copied = 0;
    std::size_t jobs_already_there = 0;  ///< same name in the target: left as the target has it
    std::size_t completed_batches = 0;   ///< completion marks copied
    std::size_t open_creates = 0;        ///< creates in flight copied
};

/// Copies every job (in creation order, every field and status), every completion mark of the
/// sources those jobs cover, and every create in flight from `from` into `to`. Jobs whose name
/// `to` already tracks are left as they are there, so a copy interrupted half-way can be run
/// again. Completion marks of sources no job covers are not seen and not copied.
/// @throws whatever the stores throw; what was copied before stays copied.
template <JobStore From, JobStore To>
StoreCopyReport copy_job_store(const From& from, To& to) {
    StoreCopyReport report;
    const auto jobs = from.jobs();
    // Each batch's first job, through which its completion mark is set.
    std::map<std::pair<std::string, std::int64_t>, const TrackedJob*> job_of_batch;
    std::set<std::string> sources;
    for (const auto& job : jobs) {
        job_of_batch.emplace(std::make_pair(job.source, job.batch_index), &job);
        sources.insert(job.source);
        if (to.find(job.job_name)) {
            ++report.jobs_already_there;
            continue;
        }
        to.add(job, true);
        ++report.jobs_copied;
    }
    for (const auto& source : sources) {
        const auto marked = to.completed_batches(source);
        for (const auto index : from.completed_batches(source)) {
            if (marked.count(index)) continue;
            // A mark is set through a job of its batch; the job is then put back as it was.
            const auto it = job_of_batch.find(std::make_pair(source, index));
            if (it == job_of_batch.end()) continue;
            const auto before = *to.find(it->second->job_name);
            to.mark_completed(before.job_name, before.completed_at.value_or(before.created_at));
            to.update(before.job_name, [&](TrackedJob& j) { j = before; });
            ++report.completed_batches;
        }
    }
    const auto existing = to.open_creates();
    for (const auto& intent : from.open_creates()) {
        if (std::any_of(existing.begin(), existing.end(), [&](const CreateIntent& i) { return i.token == intent.token; }))
            continue;
        to.begin_create(intent, true);
        ++report.open_creates;
    }
    return report;
}

}  // namespace llmbatch
