// Retries of transient failures: which failures, how long between attempts, server-requested delays.
#include "llmbatch/retry.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <vector>

#include "llmbatch/providers/gemini/wire.hpp"
#include "llmbatch/testing/manual_clock.hpp"

namespace tests_unit_retry {

using namespace std::chrono_literals;
using llmbatch::HttpRequest;
using llmbatch::HttpResponse;
using llmbatch::Idempotency;
using llmbatch::RetryPolicy;
using llmbatch::testing::ManualClock;

namespace {

/// A scripted send: returns the responses in order, or throws when an entry has status -1
/// (transport failure, marked sent) or -2 (transport failure, not sent).
struct Script {
    std::vector<int> statuses;
    std::vector<llmbatch::HttpHeaders> headers{};
    std::vector<std::string> bodies{};
    std::size_t calls = 0;

    HttpResponse operator()(const HttpRequest&) {
        const auto i = calls++;
        REQUIRE(i < statuses.size());
        if (statuses[i] == -1) throw llmbatch::TransportError("timed out after sending", true);
        if (statuses[i] == -2) throw llmbatch::TransportError("connection refused", false);
        HttpResponse r;
        r.status = statuses[i];
        if (i < headers.size()) r.headers = headers[i];
        if (i < bodies.size()) r.body = bodies[i];
        return r;
    }
};

RetryPolicy no_jitter() {
    RetryPolicy p;
    p.jitter = 0;
    return p;
}

std::vector<ManualClock::duration> as_durations(std::initializer_list<std::chrono::milliseconds> ms) {
    std::vector<ManualClock::duration> out;
    for (auto m : ms) out.push_back(m);
    return out;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("retry: exponential backoff schedule without jitter is exact") {
    ManualClock clock;
    Script send{{503, 503, 503, 503, 200}};
    auto policy = no_jitter();
    const auto r = llmbatch::send_with_retries(send, HttpRequest{}, policy, Idempotency::idempotent, clock);
    CHECK(r.status == 200);
    CHECK(send.calls == 5);
    CHECK(clock.sleeps() == as_durations({1000ms, 2000ms, 4000ms, 8000ms}));
}

TEST_CASE("retry: on_retry is told each retry before its wait, with the URL's query left out") {
    ManualClock clock;
    Script send{{503, -2, 200}};
    std::vector<llmbatch::RetryNotice> told;
    auto policy = no_jitter();
    policy.on_retry = [&](const llmbatch::RetryNotice& n) {
        CHECK(clock.sleeps().size() == told.size());  // before the wait
        told.push_back(n);
    };
    const HttpRequest request{"GET", "https://api.example/v1/batches/b?key=secret-key", {}, {}};
    const auto r = llmbatch::send_with_retries(send, request, policy, Idempotency::idempotent, clock);
    CHECK(r.status == 200);
    REQUIRE(told.size() == 2);
    CHECK(told[0].method == "GET");
    CHECK(told[0].url == "https://api.example/v1/batches/b");
    CHECK(told[0].attempt == 1);
    CHECK(told[0].max_attempts == 5);
    CHECK(told[0].wait == 1000ms);
    CHECK(told[0].reason == "HTTP 503");
    CHECK(told[1].attempt == 2);
    CHECK(told[1].wait == 2000ms);
    CHECK(told[1].reason == "connection refused");

    // No retry, no notice: a success, a non-retryable status, the last attempt.
    told.clear();
    Script once{{200, 400}};
    (void)llmbatch::send_with_retries(once, request, policy, Idempotency::idempotent, clock);
    (void)llmbatch::send_with_retries(once, request, policy, Idempotency::idempotent, clock);
    CHECK(told.empty());
}

TEST_CASE("retry: the backoff is capped at max_backoff") {
    auto policy = no_jitter();
    policy.max_backoff = 3s;
    CHECK(llmbatch::backoff_delay(policy, 1) == 1s);
    CHECK(llmbatch::backoff_delay(policy, 2) == 2s);
    CHECK(llmbatch::backoff_delay(policy, 3) == 3s);
    CHECK(llmbatch::backoff_delay(policy, 10) == 3s);
}

TEST_CASE("retry: jitter stays within its bounds and is reproducible") {
    RetryPolicy policy;
    policy.jitter = 0.2;
    policy.max_attempts = 4;
    ManualClock a, b;
    Script s1{{500, 502, 504, 200}}, s2{{500, 502, 504, 200}};
    (void)llmbatch::send_with_retries(s1, HttpRequest{}, policy, Idempotency::idempotent, a);
    (void)llmbatch::send_with_retries(s2, HttpRequest{}, policy, Idempotency::idempotent, b);
    REQUIRE(a.sleeps().size() == 3);
    CHECK(a.sleeps() == b.sleeps());
    const std::chrono::milliseconds base[] = {1000ms, 2000ms, 4000ms};
    bool any_jittered = false;
    for (std::size_t i = 0; i < 3; ++i) {
        const auto s = std::chrono::duration_cast<std::chrono::milliseconds>(a.sleeps()[i]);
        CHECK(s >= base[i] * 8 / 10);
        CHECK(s <= base[i] * 12 / 10);
        any_jittered = any_jittered || s != base[i];
    }
    CHECK(any_jittered);
}

TEST_CASE("retry: gives up after max_attempts and returns the last error response") {
    ManualClock clock;
    Script send{{429, 429, 429}};
    auto policy = no_jitter();
    policy.max_attempts = 3;
    CHECK(llmbatch::send_with_retries(send, HttpRequest{}, policy, Idempotency::idempotent, clock).status == 429);
    CHECK(send.calls == 3);
    CHECK(clock.sleeps().size() == 2);
}

TEST_CASE("retry: non-retryable statuses surface at once") {
    for (int status : {400, 401, 403, 404, 409}) {
        ManualClock clock;
        Script send{{status, 200}};
        CHECK(llmbatch::send_with_retries(send, HttpRequest{}, RetryPolicy{}, Idempotency::idempotent, clock).status ==
              status);
        CHECK(send.calls == 1);
        CHECK(clock.sleeps().empty());
    }
}

TEST_CASE("retry: RetryPolicy::none() makes one attempt") {
    ManualClock clock;
    Script send{{503, 200}};
    CHECK(llmbatch::send_with_retries(send, HttpRequest{}, RetryPolicy::none(), Idempotency::idempotent, clock).status ==
          503);
    CHECK(send.calls == 1);
}

TEST_CASE("retry: Retry-After in seconds and as an HTTP-date") {
    ManualClock clock;  // utc_now() starts at 2026-01-01T00:00:00Z
    Script send{{429, 503, 200},
                {llmbatch::HttpHeaders{{"Retry-After", "7"}},
                 llmbatch::HttpHeaders{{"retry-after", "Thu, 01 Jan 2026 00:00:37 GMT"}}}};
    const auto r = llmbatch::send_with_retries(send, HttpRequest{}, no_jitter(), Idempotency::idempotent, clock);
    CHECK(r.status == 200);
    // 7 s, then the date is 37 s after the start, 7 s of which have passed.
    CHECK(clock.sleeps() == as_durations({7000ms, 30000ms}));
}

TEST_CASE("retry: Google RetryInfo.retryDelay in the error details") {
    ManualClock clock;
    const std::string body = R"({"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "quota",
        "details": [{"@type": "type.googleapis.com/google.rpc.Help"},
                    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12.5s"}]}})";
    Script send{{429, 200}, {}, {body}};
    (void)llmbatch::send_with_retries(send, HttpRequest{}, no_jitter(), Idempotency::idempotent, clock,
                                      llmbatch::GeminiWire::retry_rules);
    CHECK(clock.sleeps() == as_durations({12500ms}));
    // The default rules know nothing of Google's RetryInfo: the computed backoff applies.
    ManualClock plain;
    Script again{{429, 200}, {}, {body}};
    (void)llmbatch::send_with_retries(again, HttpRequest{}, no_jitter(), Idempotency::idempotent, plain);
    CHECK(plain.sleeps() == as_durations({1000ms}));
}

TEST_CASE("retry: retry-after-ms wins over Retry-After") {
    ManualClock clock;
    Script send{{503, 200}, {llmbatch::HttpHeaders{{"retry-after-ms", "1500"}, {"Retry-After", "9"}}}};
    (void)llmbatch::send_with_retries(send, HttpRequest{}, no_jitter(), Idempotency::idempotent, clock);
    CHECK(clock.sleeps() == as_durations({1500ms}));
}

TEST_CASE("retry: a provider's rules decide what is transient") {
    // A provider whose 429 with "insufficient_quota" is permanent and whose 529 is transient.
    constexpr llmbatch::RetryRules rules{
        [](const HttpResponse& r) {
            if (r.status == 429) return r.body.find("insufficient_quota") == std::string::npos;
            return r.status == 529 || r.status >= 500;
        },
        &llmbatch::server_retry_delay};
    ManualClock clock;
    Script permanent{{429, 200}, {}, {R"({"error": {"code": "insufficient_quota"}})"}};
    CHECK(llmbatch::send_with_retries(permanent, HttpRequest{}, no_jitter(), Idempotency::idempotent, clock, rules)
              .status == 429);
    CHECK(permanent.calls == 1);
    Script overloaded{{529, 529, 200}};
    CHECK(llmbatch::send_with_retries(overloaded, HttpRequest{}, no_jitter(), Idempotency::idempotent, clock, rules)
              .status == 200);
    CHECK(overloaded.calls == 3);
    Script plain{{529, 200}};
    CHECK(llmbatch::send_with_retries(plain, HttpRequest{}, no_jitter(), Idempotency::idempotent, clock).status == 529);
}

TEST_CASE("retry: a server delay above max_server_delay ends the retries") {
    ManualClock clock;
    Script send{{429, 200}, {llmbatch::HttpHeaders{{"Retry-After", "3600"}}}};
    auto policy = no_jitter();
    policy.max_server_delay = 60s;
    CHECK(llmbatch::send_with_retries(send, HttpRequest{}, policy, Idempotency::idempotent, clock).status == 429);
    CHECK(send.calls == 1);
}

TEST_CASE("retry: transport errors are retried for idempotent calls and rethrown at the end") {
    ManualClock clock;
    Script ok{{-1, -1, 200}};
    CHECK(llmbatch::send_with_retries(ok, HttpRequest{}, no_jitter(), Idempotency::idempotent, clock).status == 200);
    Script bad{{-1, -1, -1, -1, -1}};
    CHECK_THROWS_AS((void)llmbatch::send_with_retries(bad, HttpRequest{}, no_jitter(), Idempotency::idempotent, clock),
                    llmbatch::TransportError);
    CHECK(bad.calls == 5);
}

TEST_CASE("retry: a non-idempotent call is retried only when the server certainly did not take it") {
    ManualClock clock;
    Script sent{{-1, 200}};  // timed out after sending: the job may exist
    CHECK_THROWS_AS((void)llmbatch::send_with_retries(sent, HttpRequest{}, no_jitter(), Idempotency::not_idempotent, clock),
                    llmbatch::TransportError);
    CHECK(sent.calls == 1);
    Script five_hundred{{500, 200}};
    CHECK(llmbatch::send_with_retries(five_hundred, HttpRequest{}, no_jitter(), Idempotency::not_idempotent, clock)
              .status == 500);
    Script refused{{-2, 429, 200}};  // connection refused, then explicitly refused: both safe
    CHECK(llmbatch::send_with_retries(refused, HttpRequest{}, no_jitter(), Idempotency::not_idempotent, clock).status ==
          200);
    CHECK(refused.calls == 3);
    auto opt_in = no_jitter();
    opt_in.retry_unsafe_creates = true;
    Script again{{-1, 500, 200}};
    CHECK(llmbatch::send_with_retries(again, HttpRequest{}, opt_in, Idempotency::not_idempotent, clock).status == 200);
}

TEST_CASE("retry: server_retry_delay parsing") {
    const auto now = *llmbatch::detail::parse_http_date("Thu, 01 Jan 2026 00:00:00 GMT");
    HttpResponse r;
    CHECK_FALSE(llmbatch::server_retry_delay(r, now));
    r.headers.set("Retry-After", " 5 ");
    CHECK(llmbatch::server_retry_delay(r, now) == 5s);
    r.headers.set("Retry-After", "Wed, 31 Dec 2025 23:59:00 GMT");  // in the past: no wait
    CHECK(llmbatch::server_retry_delay(r, now) == 0s);
    r.headers.set("Retry-After", "soon");
    CHECK_FALSE(llmbatch::server_retry_delay(r, now));
    CHECK(llmbatch::detail::parse_proto_duration("30s") == 30s);
    CHECK(llmbatch::detail::parse_proto_duration("0.250s") == 250ms);
    CHECK_FALSE(llmbatch::detail::parse_proto_duration("30"));
    CHECK_FALSE(llmbatch::detail::parse_proto_duration("s"));
    CHECK_FALSE(llmbatch::detail::parse_http_date("Thu, 01 Foo 2026 00:00:00 GMT"));
}

}  // TEST_SUITE

}  // namespace tests_unit_retry
