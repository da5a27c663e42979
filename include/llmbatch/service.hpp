#pragma once
/// @file service.hpp
/// `LLMService<Providers...>`: one facade over several providers.
///
/// - `create_batch_job` uses the first provider that supports batch jobs and is available, and
///   returns `{provider_name, job_name}` for later calls;
/// - `get_batch_job_status`, `fetch_batch_results`, `cancel_batch_job`, `delete_batch_job` and
///   `list_batch_jobs` take that provider name and dispatch to the provider at compile time
///   (a fold over the pack); an unknown name is an `InvalidArgument`, an operation the provider
///   lacks an `UnsupportedOperation`;
/// - the typed forms (`cancel_batch_job<P>(job)`, `provider<P>()`, ...) make an unsupported
///   operation a compile error instead;
/// - every provider is checked with `check_provider` (concepts.hpp): a type that is not a
///   `Provider` is a compile error whose first line names the capability and the member it lacks;
/// - `create_batch_job_on(provider_name, ...)` creates on that provider only;
/// - `batch_generate` creates, waits and fetches in one blocking call (see batch_generate.hpp);
/// - `health_check` reports, per provider, whether it can take calls;
/// - `generate` tries the providers in order and falls back to the next one on `QuotaError` only.
///
/// Example:
/// @code
/// llmbatch::LLMService service{llmbatch::GeminiProvider<MyTransport>(config)};
/// auto [provider_name, job_name] = service.create_batch_job(payload, {.filter_json = true});
/// while (!service.get_batch_job_status(provider_name, job_name).done) clock.sleep_for(10s);
/// auto results = service.fetch_batch_results(provider_name, job_name);
/// @endcode

#include <array>
#include <exception>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/batch_generate.hpp"
#include "llmbatch/concepts.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/polling.hpp"
#include "llmbatch/service_types.hpp"

namespace llmbatch {

/// A facade over `Providers...`, tried in the order given.
///
/// Requirements: each of `Providers` models `Provider`. The pack is not constrained in the
/// template head: each type is checked in the class body by `check_provider`, whose errors name
/// the missing member, where a constraint would only say that a fold expression was false.
template <class... Providers>
class LLMService {
    static_assert(sizeof...(Providers) > 0, "llmbatch: LLMService needs at least one provider");
    static_assert((check_provider<Providers>() && ...));
    static_assert(detail::provider_names_unique<Providers...>(),
                  "llmbatch: two providers of this LLMService share a name; each provider's 'name' must be unique");

public:
    explicit LLMService(Providers... providers) : providers_(std::move(providers)...) {}

    /// Installs a reporter: called after every provider attempt of `create_batch_job` and
    /// `generate` (success, quota, failure, unsupported), and for every `ProviderError` raised
    /// by a call addressed to a provider by name.
    void set_reporter(ProviderReporter reporter) { reporter_ = std::move(reporter); }

    /// Provider names in the order they are tried.
    [[nodiscard]] static constexpr std::array<std::string_view, sizeof...(Providers)> provider_order() noexcept {
        return {Providers::name...};
    }

    /// True when a provider of that name is in the service.
    [[nodiscard]] static constexpr bool has_provider(std::string_view provider_name) noexcept {
        return ((Providers::name == provider_name) || ...);
    }

    /// The provider of type `P` (a compile error when `P` is not in the pack).
    template <class P>
    [[nodiscard]] P& provider() noexcept {
        require_in_service<P>();
        return std::get<P>(providers_);
    }

    // ---- batch: by provider name (run-time dispatch) -------------------------------------------

    /// Creates a batch job on the first provider that supports batch jobs and is available.
    /// A provider answering with `QuotaError` or `UnsupportedOperation` is skipped; any other
    /// provider error is rethrown at once (a job may already exist there).
    /// @throws InvalidArgument for a bad payload; QuotaError when every batch provider was over
    ///         quota; UnsupportedOperation when no provider could take the job.
    [[nodiscard]] CreatedBatchJob create_batch_job(const BatchPayload& payload, const CreateOptions& options = {})
        requires(BatchProvider<Providers> || ...)
    {
        validate_payload(payload);
        return first_available<CreatedBatchJob>(
            "create_batch_job", []<class P>(std::type_identity<P>) { return BatchProvider<P>; },
            [&]<class P>(P& p) { return created<P>(p.create_batch_job(payload, options)); });
    }

    /// `create_batch_job` for a braced payload: `create_batch_job({{"prompt1"}, {"prompt2"}})`.
    [[nodiscard]] CreatedBatchJob create_batch_job(std::initializer_list<PromptSequence> payload,
                                                   const CreateOptions& options = {})
        requires(BatchProvider<Providers> || ...)
    {
        return create_batch_job(BatchPayload(payload), options);
    }

    /// `create_batch_job` for neutral requests (keys, per-request settings); providers take them
    /// through their `create_batch_job(const std::vector<BatchRequest>&, const CreateOptions&)`.
    [[nodiscard]] CreatedBatchJob create_batch_job(const std::vector<BatchRequest>& requests,
                                                   const CreateOptions& options = {})
        requires(BatchProvider<Providers> || ...)
    {
        return first_available<CreatedBatchJob>(
            "create_batch_job",
            []<class P>(std::type_identity<P>) {
                return requires(P& p) { p.create_batch_job(requests, options); };
            },
            [&]<class P>(P& p) { return created<P>(p.create_batch_job(requests, options)); });
    }

    /// Creates a batch job on the provider called `provider_name` (no fallback to another).
    /// @throws InvalidArgument for an unknown name or a bad payload; UnsupportedOperation when
    ///         that provider has no batch jobs or is not available (nothing is sent then); the
    ///         provider's own errors otherwise.
    [[nodiscard]] CreatedBatchJob create_batch_job_on(std::string_view provider_name, const BatchPayload& payload,
                                                      const CreateOptions& options = {}) {
        validate_payload(payload);
        return with_provider<CreatedBatchJob>(provider_name, "create_batch_job", [&]<class P>(P& p) {
            if constexpr (BatchProvider<P>) return created<P>(available(p).create_batch_job(payload, options));
            else return throw_unsupported<P, CreatedBatchJob>("create_batch_job");
        });
    }

    /// `create_batch_job_on` for neutral requests (keys, per-request settings).
    [[nodiscard]] CreatedBatchJob create_batch_job_on(std::string_view provider_name,
                                                      const std::vector<BatchRequest>& requests,
                                                      const CreateOptions& options = {}) {
        return with_provider<CreatedBatchJob>(provider_name, "create_batch_job", [&]<class P>(P& p) {
            if constexpr (requires { p.create_batch_job(requests, options); })
                return created<P>(available(p).create_batch_job(requests, options));
            else return throw_unsupported<P, CreatedBatchJob>("create_batch_job with requests");
        });
    }

    /// The status of a job on the named provider.
    [[nodiscard]] BatchJob get_batch_job_status(std::string_view provider_name, const std::string& job_name) {
        return with_provider<BatchJob>(provider_name, "get_batch_job", [&]<class P>(P& p) -> BatchJob {
            if constexpr (BatchProvider<P>) return p.get_batch_job(job_name);
            else throw unsupported<P>("get_batch_job");
        });
    }

    /// The results of a finished job on the named provider (see the provider's `fetch_batch_results`).
    [[nodiscard]] BatchResults fetch_batch_results(std::string_view provider_name, const std::string& job_name,
                                                   const FetchOptions& options = {}) {
        return with_provider<BatchResults>(provider_name, "fetch_batch_results", [&]<class P>(P& p) -> BatchResults {
            if constexpr (BatchProvider<P>) return p.fetch_batch_results(job_name, options);
            else throw unsupported<P>("fetch_batch_results");
        });
    }

    /// The results of a job already read with `get_batch_job_status` (no second status call
    /// where the provider can fetch from the job it is given).
    [[nodiscard]] BatchResults fetch_batch_results(std::string_view provider_name, const BatchJob& job,
                                                   const FetchOptions& options = {}) {
        return with_provider<BatchResults>(provider_name, "fetch_batch_results", [&]<class P>(P& p) -> BatchResults {
            if constexpr (StreamingBatchProvider<P>) return p.fetch_batch_results(job, options);
            else if constexpr (BatchProvider<P>) return p.fetch_batch_results(job.name, options);
            else throw unsupported<P>("fetch_batch_results");
        });
    }

    /// Hands the outcomes of a finished job to `sink` as the named provider parses them (see
    /// `StreamingBatchProvider`); a provider without streaming fetches in memory and hands its
    /// outcomes over in input order.
    void stream_batch_results(std::string_view provider_name, const BatchJob& job, const OutcomeSink& sink,
                              const FetchOptions& options = {}) {
        with_provider<void>(provider_name, "stream_batch_results", [&]<class P>(P& p) {
            if constexpr (StreamingBatchProvider<P>) {
                p.stream_batch_results(job, sink, options);
            } else if constexpr (BatchProvider<P>) {
                BatchResults results = p.fetch_batch_results(job.name, options);
                for (const auto& outcome : results) sink(RequestOutcome(outcome));
            } else {
                throw unsupported<P>("stream_batch_results");
            }
        });
    }

    /// Cancels a job on the named provider.
    /// @throws InvalidArgument for an unknown provider; UnsupportedOperation when it cannot
    ///         cancel; ProviderError when the provider refuses (e.g. the job already finished).
    void cancel_batch_job(std::string_view provider_name, const std::string& job_name) {
        with_provider<void>(provider_name, "cancel_batch_job", [&]<class P>(P& p) {
            if constexpr (CancellableBatchProvider<P>) p.cancel_batch_job(job_name);
            else throw unsupported<P>("cancel_batch_job");
        });
    }

    /// Deletes a job record on the named provider.
    void delete_batch_job(std::string_view provider_name, const std::string& job_name) {
        with_provider<void>(provider_name, "delete_batch_job", [&]<class P>(P& p) {
            if constexpr (DeletableBatchProvider<P>) p.delete_batch_job(job_name);
            else throw unsupported<P>("delete_batch_job");
        });
    }

    /// Every job of the named provider.
    [[nodiscard]] std::vector<BatchJob> list_batch_jobs(std::string_view provider_name) {
        return with_provider<std::vector<BatchJob>>(provider_name, "list_batch_jobs",
                                                    [&]<class P>(P& p) -> std::vector<BatchJob> {
                                                        if constexpr (ListableBatchProvider<P>) return p.list_batch_jobs();
                                                        else throw unsupported<P>("list_batch_jobs");
                                                    });
    }

    /// Whether the named provider's listed jobs carry their client token (see
    /// `provider_lists_client_tokens`).
    [[nodiscard]] bool lists_client_tokens(std::string_view provider_name) {
        return with_provider<bool>(provider_name, "lists_client_tokens",
                                   []<class P>(P&) { return provider_lists_client_tokens<P>(); });
    }

    /// Polls the named provider until the job finishes (see polling.hpp for the policy, the
    /// progress callback and the `WaitTimeout` error).
    template <Clock ClockT>
    [[nodiscard]] BatchJob wait_for_job(std::string_view provider_name, const std::string& job_name, ClockT& clock,
                                        const PollPolicy& policy = {}, const ProgressCallback& on_progress = {}) {
        if (!has_provider(provider_name))
            throw InvalidArgument(fmt::format("Provider '{}' not found in service (providers: {}) for wait_for_job",
                                              provider_name, fmt::join(provider_order(), ", ")));
        return wait_until_done([&] { return get_batch_job_status(provider_name, job_name); }, job_name, clock, policy,
                               on_progress);
    }

    // ---- batch: by provider type (compile-time checked) -----------------------------------------

    // `P` must be one of `Providers` and have the capability; otherwise the first error is a
    // sentence saying so, naming the member `P` lacks (the `if constexpr` keeps a second error
    // from following it). A provider in the pack passed check_provider, so having the member
    // means having the capability.

    template <class P>
    [[nodiscard]] BatchJob get_batch_job_status(const std::string& job_name) {
        require_in_service<P>();
        detail::require_get_batch_job<P>();
        if constexpr (BatchProvider<P>) return provider<P>().get_batch_job(job_name);
        else return {};
    }

    template <class P>
    [[nodiscard]] BatchResults fetch_batch_results(const std::string& job_name, const FetchOptions& options = {}) {
        require_in_service<P>();
        detail::require_fetch_batch_results<P>();
        if constexpr (BatchProvider<P>) return provider<P>().fetch_batch_results(job_name, options);
        else return {};
    }

    template <class P>
    void cancel_batch_job(const std::string& job_name) {
        require_in_service<P>();
        detail::require_cancel_batch_job<P>();
        if constexpr (CancellableBatchProvider<P>) provider<P>().cancel_batch_job(job_name);
    }

    template <class P>
    void delete_batch_job(const std::string& job_name) {
        require_in_service<P>();
        detail::require_delete_batch_job<P>();
        if constexpr (DeletableBatchProvider<P>) provider<P>().delete_batch_job(job_name);
    }

    template <class P>
    [[nodiscard]] std::vector<BatchJob> list_batch_jobs() {
        require_in_service<P>();
        detail::require_list_batch_jobs<P>();
        if constexpr (ListableBatchProvider<P>) return provider<P>().list_batch_jobs();
        else return {};
    }

    // ---- synchronous -------------------------------------------------------------------------------

    /// Generates with the first available synchronous provider, falling back to the next one on
    /// `QuotaError` only; any other error is rethrown.
    /// @throws QuotaError("All providers exceeded quota") when every provider was over quota.
    [[nodiscard]] Json generate(const PromptSequence& prompts, std::optional<bool> filter_json = std::nullopt)
        requires(SyncProvider<Providers> || ...)
    {
        return first_available<Json>(
            "generate", []<class P>(std::type_identity<P>) { return SyncProvider<P>; },
            [&]<class P>(P& p) { return p.generate(prompts, filter_json); });
    }

    // ---- blocking batch and health ------------------------------------------------------------

    /// Runs a whole batch as one blocking call: creates the job on the first available batch
    /// provider (falling back on `QuotaError` as `create_batch_job` does), waits for it on that
    /// provider's clock (its `clock()`, else the system clock) with `options.poll`, and fetches
    /// its results in input order. Once the job exists, nothing falls back to another provider
    /// (that would pay twice).
    /// @throws what `create_batch_job` throws; WaitTimeout when the deadline passed or the
    ///         progress callback stopped the wait (the job is cancelled first, unless
    ///         `cancel_on_abandon` is false; the message names the job either way); JobFailed
    ///         when the job failed, or was cancelled or expired without results.
    [[nodiscard]] BatchResults batch_generate(const BatchPayload& payload, const BatchGenerateOptions& options = {})
        requires(BatchProvider<Providers> || ...)
    {
        const CreatedBatchJob job = create_batch_job(payload, options.create);
        return with_provider<BatchResults>(job.provider_name, "batch_generate", [&]<class P>(P& p) -> BatchResults {
            if constexpr (BatchProvider<P>) return finish_batch_job(p, job.job_name, options);
            else return throw_unsupported<P, BatchResults>("batch_generate");
        });
    }

    /// Each provider, in order, with whether it can take calls now: its own `health_check()`
    /// when it has one (an `llmbatch::Error` from it reads as unavailable), else
    /// `is_available()` (an API key is configured). Nothing is sent unless a provider's own
    /// check sends something.
    [[nodiscard]] std::vector<ProviderHealth> health_check() {
        std::vector<ProviderHealth> out;
        out.reserve(sizeof...(Providers));
        auto check = [&]<class P>(P& p) {
            bool ok = false;
            if constexpr (requires { { p.health_check() } -> std::convertible_to<bool>; }) {
                try {
                    ok = static_cast<bool>(p.health_check());
                } catch (const Error&) {
                    ok = false;
                }
            } else {
                ok = p.is_available();
            }
            out.push_back(ProviderHealth{std::string(P::name), ok});
        };
        std::apply([&](auto&... ps) { (check(ps), ...); }, providers_);
        return out;
    }

private:
    /// `p`, checked to be available.
    /// @throws UnsupportedOperation naming the provider when it is not.
    template <class P>
    static P& available(P& p) {
        if (!p.is_available())
            throw UnsupportedOperation(
                fmt::format("Provider '{}' is not available (no API key is configured for it)", P::name));
        return p;
    }

    template <class P, class R>
    [[noreturn]] static R throw_unsupported(std::string_view operation) {
        throw unsupported<P>(operation);
    }

    template <class P, class Submitted>
    [[nodiscard]] static CreatedBatchJob created(Submitted&& submitted) {
        CreatedBatchJob out{std::string(P::name), {}, {}};
        if constexpr (std::is_same_v<std::remove_cvref_t<Submitted>, SubmittedJob>) {
            out.input_files = std::move(submitted.input_files);
            out.job_name = std::move(static_cast<std::string&>(submitted));
        } else {
            out.job_name = std::string(std::forward<Submitted>(submitted));
        }
        return out;
    }

    template <class P>
    static constexpr void require_in_service() {
        static_assert(detail::is_one_of<P, Providers...>,
                      "llmbatch: the provider type is not one of this LLMService's providers");
    }

    void report(std::string_view provider_name, ProviderStatus status, const std::exception* error = nullptr) const {
        if (reporter_) reporter_(provider_name, status, error);
    }

    template <class P>
    [[nodiscard]] static UnsupportedOperation unsupported(std::string_view operation) {
        return UnsupportedOperation(fmt::format("Provider '{}' does not support {}", P::name, operation));
    }

    /// Runs `f(provider)` on the provider called `provider_name`; reports a ProviderError as a failure.
    template <class R, class F>
    R with_provider(std::string_view provider_name, std::string_view operation, F&& f) {
        std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> result;
        bool found = false;
        auto run = [&]<class P>(P& p) {
            if (found || P::name != provider_name) return;
            found = true;
            try {
                if constexpr (std::is_void_v<R>) {
                    f(p);
                    result = true;
                } else {
                    result = f(p);
                }
            } catch (const ProviderError& e) {
                report(P::name, ProviderStatus::failure, &e);
                throw;
            }
        };
        std::apply([&](auto&... ps) { (run(ps), ...); }, providers_);
        if (!found)
            throw InvalidArgument(fmt::format("Provider '{}' not found in service (providers: {}) for {}", provider_name,
                                              fmt::join(provider_order(), ", "), operation));
        if constexpr (!std::is_void_v<R>) return std::move(*result);
    }

    /// Runs `invoke(provider)` on the first provider that `Supports` accepts and that is available,
    /// moving on after `QuotaError` or `UnsupportedOperation`; any other provider error is rethrown.
    /// @throws QuotaError when every candidate was over quota; UnsupportedOperation when none could.
    template <class R, class Supports, class Invoke>
    R first_available(std::string_view operation, Supports, Invoke&& invoke) {
        std::optional<R> result;
        std::optional<QuotaError> last_quota;
        std::vector<std::string> skipped;
        auto attempt = [&]<class P>(P& p) {
            if (result) return;
            if constexpr (!Supports{}(std::type_identity<P>{})) {
                skipped.push_back(fmt::format("{}: no support", P::name));
                report(P::name, ProviderStatus::unsupported);
            } else if (!p.is_available()) {
                skipped.push_back(fmt::format("{}: not available", P::name));
                report(P::name, ProviderStatus::unsupported);
            } else {
                try {
                    result = invoke(p);
                } catch (const QuotaError& e) {
                    report(P::name, ProviderStatus::quota, &e);
                    skipped.push_back(fmt::format("{}: over quota", P::name));
                    last_quota = e;
                    return;
                } catch (const UnsupportedOperation& e) {
                    report(P::name, ProviderStatus::unsupported, &e);
                    skipped.push_back(fmt::format("{}: {}", P::name, e.what()));
                    return;
                } catch (const ProviderError& e) {
                    report(P::name, ProviderStatus::failure, &e);
                    throw;
                }
                report(P::name, ProviderStatus::success);
            }
        };
        std::apply([&](auto&... ps) { (attempt(ps), ...); }, providers_);
        if (result) return std::move(*result);
        if (last_quota)
            throw QuotaError(fmt::format("All providers exceeded quota for {} (last: {})", operation, last_quota->what()),
                             last_quota->info());
        throw UnsupportedOperation(
            fmt::format("No available provider supports {} ({})", operation, fmt::join(skipped, "; ")));
    }

    std::tuple<Providers...> providers_;
    ProviderReporter reporter_;
};

}  // namespace llmbatch
