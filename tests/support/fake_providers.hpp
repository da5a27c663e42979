// Fake providers for the LLMService tests: each records its calls and fails on demand, with
// every capability (FullProvider), batch jobs only (BasicBatchProvider) or generate only
// (SyncOnlyProvider); Alpha, Beta and Gamma give them names.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/concepts.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/results.hpp"
#include "llmbatch/service_types.hpp"

namespace fakes {

using llmbatch::BatchJob;
using llmbatch::BatchPayload;
using llmbatch::BatchResults;
using llmbatch::CreateOptions;
using llmbatch::FetchOptions;
using llmbatch::Json;
using llmbatch::PromptSequence;
using llmbatch::ProviderStatus;

/// What a fake provider does when called.
enum class Outcome { ok, quota, provider_error, not_found, unsupported, invalid_argument };

[[noreturn]] inline void raise(Outcome outcome, std::string_view provider, std::string_view operation) {
    const std::string who(provider);
    switch (outcome) {
        case Outcome::quota:
            throw llmbatch::QuotaError(fmt::format("{}: {}: quota exhausted", provider, operation),
                                       {who, 429, "RESOURCE_EXHAUSTED", "quota exhausted", true});
        case Outcome::provider_error:
            throw llmbatch::ProviderError(fmt::format("{}: {}: internal error", provider, operation),
                                          {who, 500, "INTERNAL", "internal error", true});
        case Outcome::not_found:
            throw llmbatch::NotFoundError(fmt::format("{}: {}: no such job", provider, operation),
                                          {who, 404, "NOT_FOUND", "no such job", false});
        case Outcome::unsupported:
            throw llmbatch::UnsupportedOperation(fmt::format("{}: {}: not offered", provider, operation));
        case Outcome::invalid_argument:
            throw llmbatch::InvalidArgument(fmt::format("{}: {}: bad input", provider, operation));
        case Outcome::ok: break;
    }
    throw std::logic_error("raise() called with Outcome::ok");
}

/// Records every call a fake provider receives, as `operation:argument`.
struct CallLog {
    std::vector<std::string> calls;
    std::optional<CreateOptions> last_create_options;
    std::optional<FetchOptions> last_fetch_options;
    std::optional<std::optional<bool>> last_generate_filter;
};

/// A provider with every batch capability and `generate`.
template <class Tag>
struct FullProvider {
    static constexpr std::string_view name = Tag::name;

    bool available = true;
    Outcome create_outcome = Outcome::ok;
    Outcome generate_outcome = Outcome::ok;
    Outcome cancel_outcome = Outcome::ok;
    CallLog log;

    bool is_available() const { return available; }

    std::string create_batch_job(const BatchPayload& payload, const CreateOptions& options) {
        log.calls.push_back(fmt::format("create:{}", payload.size()));
        log.last_create_options = options;
        if (create_outcome != Outcome::ok) raise(create_outcome, name, "create");
        return fmt::format("{}-job-{}", name, log.calls.size());
    }
    BatchJob get_batch_job(const std::string& job) {
        log.calls.push_back("get:" + job);
        BatchJob out;
        out.name = job;
        out.provider = std::string(name);
        out.state = llmbatch::JobState::running;
        return out;
    }
    BatchResults fetch_batch_results(const std::string& job, const FetchOptions& options) {
        log.calls.push_back("fetch:" + job);
        log.last_fetch_options = options;
        llmbatch::RequestOutcome outcome;
        outcome.value = Json{{"from", name}};
        return BatchResults(std::string(name), job, {outcome});
    }
    void cancel_batch_job(const std::string& job) {
        log.calls.push_back("cancel:" + job);
        if (cancel_outcome != Outcome::ok) raise(cancel_outcome, name, "cancel");
    }
    void delete_batch_job(const std::string& job) { log.calls.push_back("delete:" + job); }
    std::vector<BatchJob> list_batch_jobs() {
        log.calls.push_back("list");
        BatchJob job;
        job.name = fmt::format("{}-listed", name);
        job.provider = std::string(name);
        return {job};
    }
    Json generate(const PromptSequence& prompts, std::optional<bool> filter_json) {
        log.calls.push_back(fmt::format("generate:{}", prompts.size()));
        log.last_generate_filter = filter_json;
        if (generate_outcome != Outcome::ok) raise(generate_outcome, name, "generate");
        return Json{{"from", name}};
    }
};

/// A batch provider without cancel, delete, list or generate.
template <class Tag>
struct BasicBatchProvider {
    static constexpr std::string_view name = Tag::name;

    bool available = true;
    Outcome create_outcome = Outcome::ok;
    CallLog log;

    bool is_available() const { return available; }
    std::string create_batch_job(const BatchPayload&, const CreateOptions&) {
        log.calls.push_back("create");
        if (create_outcome != Outcome::ok) raise(create_outcome, name, "create");
        return fmt::format("{}-job", name);
    }
    BatchJob get_batch_job(const std::string& job) {
        log.calls.push_back("get:" + job);
        BatchJob out;
        out.name = job;
        out.provider = std::string(name);
        return out;
    }
    BatchResults fetch_batch_results(const std::string& job, const FetchOptions&) {
        log.calls.push_back("fetch:" + job);
        return BatchResults(std::string(name), job, {});
    }
};

/// A provider with `generate` only.
template <class Tag>
struct SyncOnlyProvider {
    static constexpr std::string_view name = Tag::name;

    bool available = true;
    Outcome generate_outcome = Outcome::ok;
    CallLog log;

    bool is_available() const { return available; }
    Json generate(const PromptSequence& prompts, std::optional<bool>) {
        log.calls.push_back(fmt::format("generate:{}", prompts.size()));
        if (generate_outcome != Outcome::ok) raise(generate_outcome, name, "generate");
        return Json{{"from", name}};
    }
};

struct Alpha {
    static constexpr std::string_view name = "alpha";
};
struct Beta {
    static constexpr std::string_view name = "beta";
};
struct Gamma {
    static constexpr std::string_view name = "gamma";
};

static_assert(llmbatch::CancellableBatchProvider<FullProvider<Alpha>>);
static_assert(llmbatch::DeletableBatchProvider<FullProvider<Alpha>>);
static_assert(llmbatch::ListableBatchProvider<FullProvider<Alpha>>);
static_assert(llmbatch::SyncProvider<FullProvider<Alpha>>);
static_assert(llmbatch::BatchProvider<BasicBatchProvider<Alpha>>);
static_assert(!llmbatch::CancellableBatchProvider<BasicBatchProvider<Alpha>>);
static_assert(!llmbatch::SyncProvider<BasicBatchProvider<Alpha>>);
static_assert(llmbatch::SyncProvider<SyncOnlyProvider<Alpha>>);
static_assert(!llmbatch::BatchProvider<SyncOnlyProvider<Alpha>>);

inline const BatchPayload payload{{"Categorise: Geography GCSE"}, {"Categorise: Maths A-level", "context"}};

/// Installs a reporter that records `name:status` for each attempt.
template <class Service>
std::shared_ptr<std::vector<std::string>> record_reports(Service& service) {
    auto seen = std::make_shared<std::vector<std::string>>();
    service.set_reporter([seen](std::string_view provider, ProviderStatus status, const std::exception* error) {
        const bool error_expected = status == ProviderStatus::quota || status == ProviderStatus::failure;
        seen->push_back(fmt::format("{}:{}{}", provider, llmbatch::to_string(status),
                                    error_expected && error == nullptr ? " (no error given)" : ""));
    });
    return seen;
}

/// `items` joined with ", " (so a failed check shows the whole list).
inline std::string joined(const std::vector<std::string>& items) { return fmt::format("{}", fmt::join(items, ", ")); }

/// The message of the exception `f` throws.
template <class F>
std::string message_of(F&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "(nothing thrown)";
}

}  // namespace fakes
