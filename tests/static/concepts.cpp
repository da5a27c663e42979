// Compile-time checks of the policy and provider concepts: minimal models satisfy them,
// near misses do not.
#include "llmbatch/concepts.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "llmbatch/clock.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/providers/gemini.hpp"

namespace tests_static_concepts {

namespace {

using llmbatch::BatchJob;
using llmbatch::BatchPayload;
using llmbatch::BatchResults;
using llmbatch::CreateOptions;
using llmbatch::FetchOptions;
using llmbatch::HttpRequest;
using llmbatch::HttpResponse;
using llmbatch::Json;
using llmbatch::PromptSequence;

// ---- transports -----------------------------------------------------------------------------

struct MinimalTransport {
    HttpResponse send(const HttpRequest&) { return {}; }
};

struct TransportReturningString {
    std::string send(const HttpRequest&) { return {}; }
};

struct TransportReturningReference {
    HttpResponse stored;
    HttpResponse& send(const HttpRequest&) { return stored; }
};

struct TransportWithoutSend {
    HttpResponse post(const HttpRequest&) { return {}; }
};

static_assert(llmbatch::HttpTransport<MinimalTransport>);
static_assert(!llmbatch::HttpTransport<TransportReturningString>);
static_assert(!llmbatch::HttpTransport<TransportReturningReference>);
static_assert(!llmbatch::HttpTransport<TransportWithoutSend>);
static_assert(!llmbatch::HttpTransport<int>);

// ---- clocks ---------------------------------------------------------------------------------

struct MinimalClock {
    using duration = std::chrono::milliseconds;
    using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;
    time_point now() { return {}; }
    void sleep_for(duration) {}
    std::chrono::system_clock::time_point utc_now() { return {}; }
};

struct ClockWithoutSleep {
    using duration = std::chrono::milliseconds;
    using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;
    time_point now() { return {}; }
    std::chrono::system_clock::time_point utc_now() { return {}; }
};

struct ClockWithoutUtcNow {
    using duration = std::chrono::milliseconds;
    using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;
    time_point now() { return {}; }
    void sleep_for(duration) {}
};

struct ClockWithoutDurationType {
    using time_point = std::chrono::steady_clock::time_point;
    time_point now() { return {}; }
    void sleep_for(std::chrono::nanoseconds) {}
    std::chrono::system_clock::time_point utc_now() { return {}; }
};

static_assert(llmbatch::Clock<MinimalClock>);
static_assert(llmbatch::Clock<llmbatch::SystemClock>);
static_assert(!llmbatch::Clock<ClockWithoutSleep>);
static_assert(!llmbatch::Clock<ClockWithoutUtcNow>);
static_assert(!llmbatch::Clock<ClockWithoutDurationType>);
// std::chrono clocks have a static now() but no sleep_for.
static_assert(!llmbatch::Clock<std::chrono::steady_clock>);

// ---- names ----------------------------------------------------------------------------------

struct Named {
    static constexpr std::string_view name = "named";
};

struct NameIsStaticFunction {
    static constexpr std::string_view name() { return "function"; }
};

struct NameIsMemberFunction {
    std::string_view name() const { return "member-function"; }
};

struct NameIsNonStaticMember {
    std::string_view name = "member";
};

struct NameIsString {
    static inline const std::string name = "string";
};

struct Unnamed {};

static_assert(llmbatch::NamedProvider<Named>);
static_assert(!llmbatch::NamedProvider<NameIsStaticFunction>);
static_assert(!llmbatch::NamedProvider<NameIsMemberFunction>);
static_assert(!llmbatch::NamedProvider<NameIsNonStaticMember>);
static_assert(!llmbatch::NamedProvider<NameIsString>);
static_assert(!llmbatch::NamedProvider<Unnamed>);

// ---- batch providers ------------------------------------------------------------------------

struct MinimalBatch {
    static constexpr std::string_view name = "minimal-batch";
    bool is_available() const { return true; }
    std::string create_batch_job(const BatchPayload&, const CreateOptions&) { return {}; }
    BatchJob get_batch_job(const std::string&) { return {}; }
    BatchResults fetch_batch_results(const std::string&, const FetchOptions&) { return {}; }
};

struct CancellableBatch : MinimalBatch {
    static constexpr std::string_view name = "cancellable";
    void cancel_batch_job(const std::string&) {}
};

struct DeletableBatch : MinimalBatch {
    static constexpr std::string_view name = "deletable";
    void delete_batch_job(const std::string&) {}
};

struct ListableBatch : MinimalBatch {
    static constexpr std::string_view name = "listable";
    std::vector<BatchJob> list_batch_jobs() { return {}; }
};

struct ListReturningWrongType : MinimalBatch {
    static constexpr std::string_view name = "list-wrong";
    std::vector<std::string> list_batch_jobs() { return {}; }
};

struct CreateReturnsInt {
    static constexpr std::string_view name = "create-int";
    bool is_available() const { return true; }
    int create_batch_job(const BatchPayload&, const CreateOptions&) { return 0; }
    BatchJob get_batch_job(const std::string&) { return {}; }
    BatchResults fetch_batch_results(const std::string&, const FetchOptions&) { return {}; }
};

struct BatchWithoutIsAvailable {
    static constexpr std::string_view name = "no-availability";
    std::string create_batch_job(const BatchPayload&, const CreateOptions&) { return {}; }
    BatchJob get_batch_job(const std::string&) { return {}; }
    BatchResults fetch_batch_results(const std::string&, const FetchOptions&) { return {}; }
};

// is_available must be callable on a const provider.
struct BatchWithMutableIsAvailable {
    static constexpr std::string_view name = "mutable-availability";
    bool is_available() { return true; }
    std::string create_batch_job(const BatchPayload&, const CreateOptions&) { return {}; }
    BatchJob get_batch_job(const std::string&) { return {}; }
    BatchResults fetch_batch_results(const std::string&, const FetchOptions&) { return {}; }
};

struct BatchWithoutFetch {
    static constexpr std::string_view name = "no-fetch";
    bool is_available() const { return true; }
    std::string create_batch_job(const BatchPayload&, const CreateOptions&) { return {}; }
    BatchJob get_batch_job(const std::string&) { return {}; }
};

struct BatchWithoutName {
    bool is_available() const { return true; }
    std::string create_batch_job(const BatchPayload&, const CreateOptions&) { return {}; }
    BatchJob get_batch_job(const std::string&) { return {}; }
    BatchResults fetch_batch_results(const std::string&, const FetchOptions&) { return {}; }
};

// Capabilities on a type that is not a batch provider do not count.
struct CancelWithoutBatch {
    static constexpr std::string_view name = "cancel-only";
    bool is_available() const { return true; }
    void cancel_batch_job(const std::string&) {}
    void delete_batch_job(const std::string&) {}
    std::vector<BatchJob> list_batch_jobs() { return {}; }
};

static_assert(llmbatch::BatchProvider<MinimalBatch>);
static_assert(!llmbatch::CancellableBatchProvider<MinimalBatch>);
static_assert(!llmbatch::DeletableBatchProvider<MinimalBatch>);
static_assert(!llmbatch::ListableBatchProvider<MinimalBatch>);
static_assert(!llmbatch::SyncProvider<MinimalBatch>);
static_assert(llmbatch::Provider<MinimalBatch>);

static_assert(llmbatch::CancellableBatchProvider<CancellableBatch>);
static_assert(!llmbatch::DeletableBatchProvider<CancellableBatch>);
static_assert(llmbatch::DeletableBatchProvider<DeletableBatch>);
static_assert(!llmbatch::CancellableBatchProvider<DeletableBatch>);
static_assert(llmbatch::ListableBatchProvider<ListableBatch>);
static_assert(!llmbatch::ListableBatchProvider<ListReturningWrongType>);

static_assert(!llmbatch::BatchProvider<CreateReturnsInt>);
static_assert(!llmbatch::Provider<CreateReturnsInt>);
static_assert(!llmbatch::BatchProvider<BatchWithoutIsAvailable>);
static_assert(!llmbatch::Provider<BatchWithoutIsAvailable>);
static_assert(!llmbatch::BatchProvider<BatchWithMutableIsAvailable>);
static_assert(!llmbatch::BatchProvider<BatchWithoutFetch>);
static_assert(!llmbatch::BatchProvider<BatchWithoutName>);
static_assert(!llmbatch::Provider<BatchWithoutName>);

static_assert(!llmbatch::BatchProvider<CancelWithoutBatch>);
static_assert(!llmbatch::CancellableBatchProvider<CancelWithoutBatch>);
static_assert(!llmbatch::DeletableBatchProvider<CancelWithoutBatch>);
static_assert(!llmbatch::ListableBatchProvider<CancelWithoutBatch>);
static_assert(!llmbatch::Provider<CancelWithoutBatch>);

// ---- synchronous providers ------------------------------------------------------------------

struct MinimalSync {
    static constexpr std::string_view name = "minimal-sync";
    bool is_available() const { return true; }
    Json generate(const PromptSequence&, std::optional<bool>) { return {}; }
};

struct SyncReturningString {
    static constexpr std::string_view name = "sync-string";
    bool is_available() const { return true; }
    std::string generate(const PromptSequence&, std::optional<bool>) { return {}; }
};

struct SyncWithoutName {
    bool is_available() const { return true; }
    Json generate(const PromptSequence&, std::optional<bool>) { return {}; }
};

static_assert(llmbatch::SyncProvider<MinimalSync>);
static_assert(!llmbatch::BatchProvider<MinimalSync>);
static_assert(llmbatch::Provider<MinimalSync>);
static_assert(!llmbatch::SyncProvider<SyncReturningString>);
static_assert(!llmbatch::Provider<SyncReturningString>);
static_assert(!llmbatch::SyncProvider<SyncWithoutName>);

// A named type offering nothing is not a provider.
static_assert(!llmbatch::Provider<Named>);

// ---- one member at a time ------------------------------------------------------------------
// Each capability is a conjunction of one small concept per member (llmbatch::detail::has_*).
// `members<P>()` is the set of those P satisfies, so "everything but X" reads as one line.

namespace member {
enum : unsigned {
    name = 1u << 0,
    is_available = 1u << 1,
    create = 1u << 2,
    get = 1u << 3,
    fetch = 1u << 4,
    cancel = 1u << 5,
    erase = 1u << 6,
    list = 1u << 7,
    generate = 1u << 8,
};
constexpr unsigned batch = name | is_available | create | get | fetch;
constexpr unsigned sync = name | is_available | generate;
}  // namespace member

template <class P>
constexpr unsigned members() {
    namespace d = llmbatch::detail;
    return (d::has_name<P> ? member::name : 0u) | (d::has_is_available<P> ? member::is_available : 0u) |
           (d::has_create_batch_job<P> ? member::create : 0u) | (d::has_get_batch_job<P> ? member::get : 0u) |
           (d::has_fetch_batch_results<P> ? member::fetch : 0u) | (d::has_cancel_batch_job<P> ? member::cancel : 0u) |
           (d::has_delete_batch_job<P> ? member::erase : 0u) | (d::has_list_batch_jobs<P> ? member::list : 0u) |
           (d::has_generate<P> ? member::generate : 0u);
}

struct BatchWithoutGet {
    static constexpr std::string_view name = "no-get";
    bool is_available() const { return true; }
    std::string create_batch_job(const BatchPayload&, const CreateOptions&) { return {}; }
    BatchResults fetch_batch_results(const std::string&, const FetchOptions&) { return {}; }
};

// get_batch_job by number: the name is there, the signature is not.
struct GetTakesNumber {
    static constexpr std::string_view name = "get-number";
    bool is_available() const { return true; }
    std::string create_batch_job(const BatchPayload&, const CreateOptions&) { return {}; }
    BatchJob get_batch_job(int) { return {}; }
    BatchResults fetch_batch_results(const std::string&, const FetchOptions&) { return {}; }
};

// fetch_batch_results without the options parameter.
struct FetchWithoutOptions {
    static constexpr std::string_view name = "fetch-no-options";
    bool is_available() const { return true; }
    std::string create_batch_job(const BatchPayload&, const CreateOptions&) { return {}; }
    BatchJob get_batch_job(const std::string&) { return {}; }
    BatchResults fetch_batch_results(const std::string&) { return {}; }
};

struct CancelTakesNumber : MinimalBatch {
    static constexpr std::string_view name = "cancel-number";
    void cancel_batch_job(int) {}
};

struct SyncWithoutFilterParameter {
    static constexpr std::string_view name = "sync-no-filter";
    bool is_available() const { return true; }
    Json generate(const PromptSequence&) { return {}; }
};

struct SyncWithoutIsAvailable {
    static constexpr std::string_view name = "sync-no-availability";
    Json generate(const PromptSequence&, std::optional<bool>) { return {}; }
};

static_assert(members<MinimalBatch>() == member::batch);
static_assert(members<CancellableBatch>() == (member::batch | member::cancel));
static_assert(members<DeletableBatch>() == (member::batch | member::erase));
static_assert(members<ListableBatch>() == (member::batch | member::list));
static_assert(members<MinimalSync>() == member::sync);
static_assert(members<Named>() == member::name);

// Everything but one member, and so not the capability.
static_assert(members<BatchWithoutName>() == (member::batch & ~member::name));
static_assert(members<BatchWithoutIsAvailable>() == (member::batch & ~member::is_available));
static_assert(members<BatchWithMutableIsAvailable>() == (member::batch & ~member::is_available));
static_assert(members<CreateReturnsInt>() == (member::batch & ~member::create));
static_assert(members<BatchWithoutGet>() == (member::batch & ~member::get));
static_assert(members<GetTakesNumber>() == (member::batch & ~member::get));
static_assert(members<BatchWithoutFetch>() == (member::batch & ~member::fetch));
static_assert(members<FetchWithoutOptions>() == (member::batch & ~member::fetch));
static_assert(!llmbatch::BatchProvider<GetTakesNumber> && !llmbatch::Provider<FetchWithoutOptions>);

static_assert(members<CancelTakesNumber>() == member::batch);
static_assert(!llmbatch::CancellableBatchProvider<CancelTakesNumber>);
static_assert(members<ListReturningWrongType>() == member::batch);

static_assert(members<SyncReturningString>() == (member::sync & ~member::generate));
static_assert(members<SyncWithoutFilterParameter>() == (member::sync & ~member::generate));
static_assert(members<SyncWithoutName>() == (member::sync & ~member::name));
static_assert(members<SyncWithoutIsAvailable>() == (member::sync & ~member::is_available));
static_assert(!llmbatch::SyncProvider<SyncWithoutFilterParameter> && !llmbatch::Provider<SyncWithoutIsAvailable>);

// Which capabilities check_provider holds a type to: what it declares under a member's name,
// whatever the signature (a near miss is diagnosed, not silently left out).
static_assert(llmbatch::detail::offers_batch<GetTakesNumber>);
static_assert(llmbatch::detail::offers_batch<CancelWithoutBatch>);
static_assert(!llmbatch::detail::offers_sync<MinimalBatch>);
static_assert(llmbatch::detail::offers_sync<SyncWithoutFilterParameter>);
static_assert(!llmbatch::detail::offers_batch<MinimalSync>);
static_assert(!llmbatch::detail::offers_batch<Named> && !llmbatch::detail::offers_sync<Named>);

// Models pass check_provider (near misses fail to compile: see tests/compile_fail/).
static_assert(llmbatch::check_provider<MinimalBatch>());
static_assert(llmbatch::check_provider<CancellableBatch>());
static_assert(llmbatch::check_provider<ListableBatch>());
static_assert(llmbatch::check_provider<MinimalSync>());

// ---- GeminiProvider -------------------------------------------------------------------------

using Gemini = llmbatch::GeminiProvider<MinimalTransport, llmbatch::SystemClock>;

static_assert(llmbatch::NamedProvider<Gemini>);
static_assert(Gemini::name == "gemini");
static_assert(llmbatch::BatchProvider<Gemini>);
static_assert(llmbatch::CancellableBatchProvider<Gemini>);
static_assert(llmbatch::DeletableBatchProvider<Gemini>);
static_assert(llmbatch::ListableBatchProvider<Gemini>);
static_assert(llmbatch::SyncProvider<Gemini>);
static_assert(llmbatch::Provider<Gemini>);
static_assert(llmbatch::check_provider<Gemini>());
static_assert(llmbatch::BatchProvider<llmbatch::GeminiProvider<MinimalTransport, MinimalClock>>);

// GeminiProvider's clock is a constraint; its transport is checked in the class body by
// check_http_transport, so that a wrong transport is told which member it lacks (a hard error:
// see tests/compile_fail/transport_without_send.cpp).
template <class T, class C = llmbatch::SystemClock>
concept GeminiAccepts = requires { typename llmbatch::GeminiProvider<T, C>; };

static_assert(GeminiAccepts<MinimalTransport>);
static_assert(GeminiAccepts<MinimalTransport, MinimalClock>);
static_assert(!GeminiAccepts<MinimalTransport, ClockWithoutSleep>);
static_assert(llmbatch::check_http_transport<MinimalTransport>());

}  // namespace

TEST_SUITE("static") {
    TEST_CASE("concept checks are compile-time static_asserts in this file") {
        CHECK(llmbatch::BatchProvider<Gemini>);
        CHECK_FALSE(llmbatch::NamedProvider<NameIsNonStaticMember>);
    }
}

}  // namespace tests_static_concepts
