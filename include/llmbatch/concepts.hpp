#pragma once
/// @file concepts.hpp
/// The policies and provider capabilities llmbatch is written against.
///
/// Big concepts are built from small named ones, one per member (`detail::has_get_batch_job`
/// and so on), so a failed check names the missing part:
///
/// | concept                    | requirement (for `P& p`, `const std::string& n`)                         |
/// |----------------------------|---------------------------------------------------------------------------|
/// | `HttpTransport<T>`         | `t.send(const HttpRequest&) -> HttpResponse`                               |
/// | `Clock<C>`                 | see clock.hpp                                                              |
/// | `NamedProvider<P>`         | `static constexpr std::string_view P::name` (also the opt-in marker)       |
/// | `AvailabilityReporting<P>` | `std::as_const(p).is_available() -> bool`                                  |
/// | `BatchProvider<P>`         | `NamedProvider`, `AvailabilityReporting`, `p.create_batch_job(payload,     |
/// |                            | CreateOptions) -> SubmittedJob (or std::string)`, `p.get_batch_job(n)`    |
/// |                            | `-> BatchJob`,                                                             |
/// |                            | `p.fetch_batch_results(n, FetchOptions) -> BatchResults`                   |
/// | `StreamingBatchProvider`   | `BatchProvider` and, for a `const BatchJob& j` already read,               |
/// |                            | `p.stream_batch_results(j, OutcomeSink, FetchOptions)` and                 |
/// |                            | `p.fetch_batch_results(j, FetchOptions) -> BatchResults`                    |
/// | `FileStoreProvider`        | `p.upload_file(path, mime, display) -> FileInfo`, `p.get_file(f) -> FileInfo`, |
/// |                            | `p.delete_file(f)`, `p.download_file(f, sink)`                             |
/// | `CancellableBatchProvider` | `BatchProvider` and `p.cancel_batch_job(n)`                                |
/// | `DeletableBatchProvider`   | `BatchProvider` and `p.delete_batch_job(n)`                                |
/// | `ListableBatchProvider`    | `BatchProvider` and `p.list_batch_jobs() -> std::vector<BatchJob>`         |
/// | `SyncProvider<P>`          | `NamedProvider`, `AvailabilityReporting`,                                  |
/// |                            | `p.generate(prompts, std::optional<bool> filter_json) -> Json`            |
///
/// The concepts answer yes or no. `check_provider<P>()` and `check_http_transport<T>()` (at the
/// end of this file) turn a no into one sentence per missing member; `LLMService` and the providers
/// use them, so the first error names the capability, the member and its expected signature.

#include <concepts>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "llmbatch/clock.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"

namespace llmbatch {

/// The member table: one small concept per member, each followed by `require_<member>()`, which
/// fails to compile with the sentence naming the capability and the member's signature. The
/// capability concepts below are conjunctions of these; `check_provider` picks the rows to apply.
/// To change or add a member, edit its concept and its sentence here, side by side.
///
/// The sentences' conditions are written `bool(concept<P>)`: clang then prints the condition with
/// the type substituted in the first error line, and g++ still explains the failed concept in a note.
namespace detail {

template <std::string_view const*>
struct constant_name {};

/// `static constexpr std::string_view name`
template <class P>
concept has_name = requires {
    { P::name } -> std::convertible_to<std::string_view>;
    typename constant_name<&P::name>;  // a static data member, not a function
    typename std::integral_constant<std::size_t, std::string_view(P::name).size()>;  // usable at compile time
};
template <class P>
constexpr void require_name() {
    static_assert(bool(has_name<P>),
                  "llmbatch: the type is not a provider (NamedProvider): it lacks the member "
                  "'static constexpr std::string_view name' (the provider's run-time id, which also marks "
                  "the type as a provider)");
}

/// `bool is_available() const`
template <class P>
concept has_is_available = requires(const P& p) {
    { p.is_available() } -> std::convertible_to<bool>;
};
template <class P>
constexpr void require_is_available() {
    static_assert(bool(has_is_available<P>),
                  "llmbatch: the provider is not AvailabilityReporting (needed by BatchProvider and "
                  "SyncProvider): it lacks the member 'bool is_available() const'");
}

/// `SubmittedJob create_batch_job(const BatchPayload& payload, const CreateOptions& options)`
/// (anything convertible to the job name, such as a plain `std::string`, will do)
template <class P>
concept has_create_batch_job = requires(P& p, const BatchPayload& payload, const CreateOptions& options) {
    { p.create_batch_job(payload, options) } -> std::convertible_to<std::string>;
};
template <class P>
constexpr void require_create_batch_job() {
    static_assert(bool(has_create_batch_job<P>),
                  "llmbatch: the provider is not a BatchProvider: it lacks the member "
                  "'SubmittedJob create_batch_job(const BatchPayload& payload, const CreateOptions& options)' "
                  "(or one returning the job name as std::string)");
}

/// `BatchJob get_batch_job(const std::string& job_name)`
template <class P>
concept has_get_batch_job = requires(P& p, const std::string& job_name) {
    { p.get_batch_job(job_name) } -> std::same_as<BatchJob>;
};
template <class P>
constexpr void require_get_batch_job() {
    static_assert(bool(has_get_batch_job<P>),
                  "llmbatch: the provider is not a BatchProvider: it lacks the member "
                  "'BatchJob get_batch_job(const std::string& job_name)'");
}

/// `BatchResults fetch_batch_results(const std::string& job_name, const FetchOptions& options)`
template <class P>
concept has_fetch_batch_results = requires(P& p, const std::string& job_name, const FetchOptions& options) {
    { p.fetch_batch_results(job_name, options) } -> std::same_as<BatchResults>;
};
template <class P>
constexpr void require_fetch_batch_results() {
    static_assert(bool(has_fetch_batch_results<P>),
                  "llmbatch: the provider is not a BatchProvider: it lacks the member "
                  "'BatchResults fetch_batch_results(const std::string& job_name, const FetchOptions& options)'");
}

/// `void stream_batch_results(const BatchJob& job, const OutcomeSink& sink, const FetchOptions& options)`
/// and `BatchResults fetch_batch_results(const BatchJob& job, const FetchOptions& options)`
template <class P>
concept has_stream_batch_results =
    requires(P& p, const BatchJob& job, const OutcomeSink& sink, const FetchOptions& options) {
        { p.stream_batch_results(job, sink, options) };
        { p.fetch_batch_results(job, options) } -> std::same_as<BatchResults>;
    };
template <class P>
constexpr void require_stream_batch_results() {
    static_assert(bool(has_stream_batch_results<P>),
                  "llmbatch: the provider is not a StreamingBatchProvider: it lacks the members "
                  "'void stream_batch_results(const BatchJob& job, const OutcomeSink& sink, const FetchOptions& "
                  "options)' and 'BatchResults fetch_batch_results(const BatchJob& job, const FetchOptions& options)'");
}

/// `cancel_batch_job(const std::string& job_name)`, any return type
template <class P>
concept has_cancel_batch_job = requires(P& p, const std::string& job_name) { p.cancel_batch_job(job_name); };
template <class P>
constexpr void require_cancel_batch_job() {
    static_assert(bool(has_cancel_batch_job<P>),
                  "llmbatch: the provider is not a CancellableBatchProvider: it lacks the member "
                  "'cancel_batch_job(const std::string& job_name)' (any return type)");
}

/// `delete_batch_job(const std::string& job_name)`, any return type
template <class P>
concept has_delete_batch_job = requires(P& p, const std::string& job_name) { p.delete_batch_job(job_name); };
template <class P>
constexpr void require_delete_batch_job() {
    static_assert(bool(has_delete_batch_job<P>),
                  "llmbatch: the provider is not a DeletableBatchProvider: it lacks the member "
                  "'delete_batch_job(const std::string& job_name)' (any return type)");
}

/// `std::vector<BatchJob> list_batch_jobs()`
template <class P>
concept has_list_batch_jobs = requires(P& p) {
    { p.list_batch_jobs() } -> std::same_as<std::vector<BatchJob>>;
};
template <class P>
constexpr void require_list_batch_jobs() {
    static_assert(bool(has_list_batch_jobs<P>),
                  "llmbatch: the provider is not a ListableBatchProvider: it lacks the member "
                  "'std::vector<BatchJob> list_batch_jobs()'");
}

/// `Json generate(const PromptSequence& prompts, std::optional<bool> filter_json)`
template <class P>
concept has_generate = requires(P& p, const PromptSequence& prompts, std::optional<bool> filter_json) {
    { p.generate(prompts, filter_json) } -> std::same_as<Json>;
};
template <class P>
constexpr void require_generate() {
    static_assert(bool(has_generate<P>),
                  "llmbatch: the provider is not a SyncProvider: it lacks the member "
                  "'Json generate(const PromptSequence& prompts, std::optional<bool> filter_json)'");
}

/// `HttpResponse send(const HttpRequest& request)`
template <class T>
concept has_send = requires(T& t, const HttpRequest& request) {
    { t.send(request) } -> std::same_as<HttpResponse>;
};
template <class T>
constexpr void require_send() {
    static_assert(bool(has_send<T>),
                  "llmbatch: the transport is not an HttpTransport: it lacks the member "
                  "'HttpResponse send(const HttpRequest& request)'");
}

}  // namespace detail

/// An HTTP transport. `send` performs one exchange: any HTTP status is a successful send
/// (returned in `HttpResponse::status`); only a failed exchange (connect, TLS, timeout)
/// throws, as `TransportError`.
template <class T>
concept HttpTransport = detail::has_send<T>;

/// A provider type that names itself with `static constexpr std::string_view name`.
/// The name is the run-time id used by `LLMService` to dispatch `(provider_name, job_name)`.
template <class P>
concept NamedProvider = detail::has_name<P>;

/// A provider that can report whether it is configured (e.g. has an API key).
template <class P>
concept AvailabilityReporting = detail::has_is_available<P>;

/// A provider that creates batch jobs, reports their status and returns their results.
template <class P>
concept BatchProvider = NamedProvider<P> && AvailabilityReporting<P> && detail::has_create_batch_job<P> &&
                        detail::has_get_batch_job<P> && detail::has_fetch_batch_results<P>;

/// A batch provider that hands results to a sink as it parses them (memory bounded by one
/// result, whatever the job's size), and fetches from a job it is given (no second GET).
template <class P>
concept StreamingBatchProvider = BatchProvider<P> && detail::has_stream_batch_results<P>;

/// A provider with a file store (uploaded input files, results files): upload from a path without
/// loading the file whole, stream a file's bytes to a sink, read a file's metadata, delete it.
template <class P>
concept FileStoreProvider =
    NamedProvider<P> && requires(P& p, const std::filesystem::path& path, std::string_view text, const std::string& file,
                                 const std::function<void(std::string_view)>& sink) {
        { p.upload_file(path, text, text) } -> std::same_as<FileInfo>;
        { p.get_file(file) } -> std::same_as<FileInfo>;
        { p.delete_file(file) };
        { p.download_file(file, sink) };
    };

/// A batch provider that can cancel a running job.
template <class P>
concept CancellableBatchProvider = BatchProvider<P> && detail::has_cancel_batch_job<P>;

/// A batch provider that can delete a job record.
template <class P>
concept DeletableBatchProvider = BatchProvider<P> && detail::has_delete_batch_job<P>;

/// A batch provider that can list its jobs.
template <class P>
concept ListableBatchProvider = BatchProvider<P> && detail::has_list_batch_jobs<P>;

/// A provider with a synchronous `generate(prompts, filter_json)`; an empty `filter_json`
/// means the provider's own default.
template <class P>
concept SyncProvider = NamedProvider<P> && AvailabilityReporting<P> && detail::has_generate<P>;

/// Anything `LLMService` can hold: a named provider offering batch or synchronous calls.
template <class P>
concept Provider = BatchProvider<P> || SyncProvider<P>;

/// True when `P` declares `static constexpr bool lists_client_tokens = true`: the jobs it lists
/// carry the `CreateOptions::client_token` they were created with (`BatchJob::client_token`).
template <class P>
[[nodiscard]] constexpr bool provider_lists_client_tokens() noexcept {
    if constexpr (requires { { P::lists_client_tokens } -> std::convertible_to<bool>; }) return P::lists_client_tokens;
    else return false;
}

// ---- diagnostics -----------------------------------------------------------------------------------

namespace detail {

/// A member of a batch capability declared under its name, whatever its signature: the sign of
/// a type meant to be a batch provider, so a near miss is diagnosed rather than ignored.
template <class P>
concept offers_batch = has_create_batch_job<P> || has_get_batch_job<P> || has_fetch_batch_results<P> ||
                       has_cancel_batch_job<P> || has_delete_batch_job<P> || has_list_batch_jobs<P> ||
                       requires { &P::create_batch_job; } || requires { &P::get_batch_job; } ||
                       requires { &P::fetch_batch_results; } || requires { &P::cancel_batch_job; } ||
                       requires { &P::delete_batch_job; } || requires { &P::list_batch_jobs; };

/// `generate` declared, whatever its signature: the sign of a type meant to be a sync provider.
template <class P>
concept offers_sync = has_generate<P> || requires { &P::generate; };

template <class P>
constexpr void require_batch_members() {
    require_is_available<P>();
    require_create_batch_job<P>();
    require_get_batch_job<P>();
    require_fetch_batch_results<P>();
}

template <class P>
constexpr void require_sync_members() {
    require_is_available<P>();
    require_generate<P>();
}

}  // namespace detail

/// Checks that `P` is a `Provider`, naming what is missing when it is not. Returns true, or fails
/// to compile with one sentence per missing member, such as
/// `llmbatch: the provider is not a BatchProvider: it lacks the member
/// 'BatchJob get_batch_job(const std::string& job_name)'`. A member with another signature counts
/// as missing. Which capabilities are checked follows what `P` declares:
/// - no `name`: only that is reported (the name marks a type as a provider);
/// - any batch member (create, get, fetch, cancel, delete, list): every `BatchProvider` member,
///   and the optional capability members it declares, each with its own signature;
/// - `generate`: the `SyncProvider` members;
/// - a name and nothing else: a sentence saying what each capability needs, then every member.
///
/// `LLMService` applies it to each of its providers; a provider author can use it in a test:
/// @code
/// static_assert(llmbatch::check_provider<MyProvider>());
/// @endcode
template <class P>
[[nodiscard]] constexpr bool check_provider() {
    if constexpr (!detail::has_name<P>) {
        detail::require_name<P>();
    } else if constexpr (!detail::offers_batch<P> && !detail::offers_sync<P>) {
        static_assert(detail::offers_batch<P> || detail::offers_sync<P>,
                      "llmbatch: the provider offers no operation: a BatchProvider needs is_available, "
                      "create_batch_job, get_batch_job and fetch_batch_results; a SyncProvider needs "
                      "is_available and generate (the next errors give each signature)");
        detail::require_batch_members<P>();
        detail::require_generate<P>();
    } else {
        if constexpr (detail::offers_batch<P>) {
            detail::require_batch_members<P>();
            if constexpr (requires { &P::cancel_batch_job; }) detail::require_cancel_batch_job<P>();
            if constexpr (requires { &P::delete_batch_job; }) detail::require_delete_batch_job<P>();
            if constexpr (requires { &P::list_batch_jobs; }) detail::require_list_batch_jobs<P>();
            if constexpr (requires { &P::stream_batch_results; }) detail::require_stream_batch_results<P>();
        }
        if constexpr (detail::offers_sync<P>) {
            if constexpr (detail::offers_batch<P>) detail::require_generate<P>();  // is_available was checked
            else detail::require_sync_members<P>();
        }
    }
    return true;
}

/// Checks that `T` is an `HttpTransport`. Returns true, or fails to compile with
/// `llmbatch: the transport is not an HttpTransport: it lacks the member
/// 'HttpResponse send(const HttpRequest& request)'`. A provider template states it first thing
/// in its class body, so a wrong transport gets that sentence as its first error:
/// @code
/// template <class Transport>
/// class MyProvider {
///     static_assert(llmbatch::check_http_transport<Transport>());
///     ...
/// @endcode
template <class T>
[[nodiscard]] constexpr bool check_http_transport() {
    detail::require_send<T>();
    return true;
}

}  // namespace llmbatch
