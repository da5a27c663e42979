#pragma once
/// @file concepts.hpp
/// The policies and provider capabilities llmbatch is written against.
///
/// Big concepts are built from small named ones, so a failed check names the missing part:
///
/// | concept                    | requirement (for `P& p`, `const std::string& n`)                         |
/// |----------------------------|---------------------------------------------------------------------------|
/// | `HttpTransport<T>`         | `t.send(const HttpRequest&) -> HttpResponse`                               |
/// | `Clock<C>`                 | see clock.hpp                                                              |
/// | `NamedProvider<P>`         | `static constexpr std::string_view P::name` (also the opt-in marker)       |
/// | `BatchProvider<P>`         | `p.is_available() -> bool`, `p.create_batch_job(payload, CreateOptions)    |
/// |                            | -> SubmittedJob or std::string`, `p.get_batch_job(n) -> BatchJob`,         |
/// |                            | `p.fetch_batch_results(n, FetchOptions) -> BatchResults`                   |
/// | `StreamingBatchProvider`   | `BatchProvider` and, for a `const BatchJob& j` already read,               |
/// |                            | `p.stream_batch_results(j, OutcomeSink, FetchOptions)` and                 |
/// |                            | `p.fetch_batch_results(j, FetchOptions) -> BatchResults`                    |
/// | `CancellableBatchProvider` | `BatchProvider` and `p.cancel_batch_job(n)`                                |
/// | `DeletableBatchProvider`   | `BatchProvider` and `p.delete_batch_job(n)`                                |
/// | `ListableBatchProvider`    | `BatchProvider` and `p.list_batch_jobs() -> std::vector<BatchJob>`         |
/// | `SyncProvider<P>`          | `NamedProvider`, `p.is_available()`,                                      |
/// |                            | `p.generate(prompts, std::optional<bool> filter_json) -> Json`            |

#include <concepts>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "llmbatch/clock.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"

namespace llmbatch {

/// An HTTP transport. `send` performs one exchange: any HTTP status is a successful send
/// (returned in `HttpResponse::status`); only a failed exchange (connect, TLS, timeout)
/// throws, as `TransportError`.
template <class T>
concept HttpTransport = requires(T& t, const HttpRequest& request) {
    { t.send(request) } -> std::same_as<HttpResponse>;
};

namespace detail {
template <std::string_view const*>
struct constant_name {};
}  // namespace detail

/// A provider type that names itself with `static constexpr std::string_view name`.
/// The name is the run-time id used by `LLMService` to dispatch `(provider_name, job_name)`.
template <class P>
concept NamedProvider = requires {
    { P::name } -> std::convertible_to<std::string_view>;
    typename detail::constant_name<&P::name>;  // a static data member, not a function
    typename std::integral_constant<std::size_t, std::string_view(P::name).size()>;  // usable at compile time
};

/// A provider that can report whether it is configured (e.g. has an API key).
template <class P>
concept AvailabilityReporting = requires(const P& p) {
    { p.is_available() } -> std::convertible_to<bool>;
};

/// A provider that creates batch jobs, reports their status and returns their results.
template <class P>
concept BatchProvider = NamedProvider<P> && AvailabilityReporting<P> &&
    requires(P& p, const BatchPayload& payload, const CreateOptions& create, const FetchOptions& fetch,
             const std::string& job) {
        { p.create_batch_job(payload, create) } -> std::convertible_to<std::string>;
        { p.get_batch_job(job) } -> std::same_as<BatchJob>;
        { p.fetch_batch_results(job, fetch) } -> std::same_as<BatchResults>;
    };

/// A batch provider that hands results to a sink as it parses them (memory bounded by one
/// result, whatever the job's size), and fetches from a job it is given (no second GET).
template <class P>
concept StreamingBatchProvider = BatchProvider<P> &&
    requires(P& p, const BatchJob& job, const OutcomeSink& sink, const FetchOptions& fetch) {
        { p.stream_batch_results(job, sink, fetch) };
        { p.fetch_batch_results(job, fetch) } -> std::same_as<BatchResults>;
    };

/// A batch provider that can cancel a running job.
template <class P>
concept CancellableBatchProvider = BatchProvider<P> && requires(P& p, const std::string& job) {
    { p.cancel_batch_job(job) };
};

/// A batch provider that can delete a job record.
template <class P>
concept DeletableBatchProvider = BatchProvider<P> && requires(P& p, const std::string& job) {
    { p.delete_batch_job(job) };
};

/// A batch provider that can list its jobs.
template <class P>
concept ListableBatchProvider = BatchProvider<P> && requires(P& p) {
    { p.list_batch_jobs() } -> std::same_as<std::vector<BatchJob>>;
};

/// A provider with a synchronous `generate(prompts, filter_json)`; an empty `filter_json`
/// means the provider's own default.
template <class P>
concept SyncProvider = NamedProvider<P> && AvailabilityReporting<P> &&
    requires(P& p, const PromptSequence& prompts, std::optional<bool> filter_json) {
        { p.generate(prompts, filter_json) } -> std::same_as<Json>;
    };

/// Anything `LLMService` can hold: a named provider offering batch or synchronous calls.
template <class P>
concept Provider = BatchProvider<P> || SyncProvider<P>;

}  // namespace llmbatch
