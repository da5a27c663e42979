// providers/common/session.hpp: the shared authenticated exchange: headers, typed errors,
// redaction, retries by the provider's rules, streamed downloads.
#include "llmbatch/providers/common/session.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "llmbatch/testing/fake_transport.hpp"
#include "llmbatch/testing/manual_clock.hpp"

namespace tests_providers_common_session {

using llmbatch::HttpRequest;
using llmbatch::HttpResponse;
using llmbatch::testing::FakeTransport;
using llmbatch::testing::json_response;
using llmbatch::testing::ManualClock;

namespace {

constexpr const char* key = "key-ABCDEFGHIJKLMNOP";

/// A made-up provider: Bearer auth, `{"error": {"type", "message"}}` bodies, 529 retried,
/// a 429 of type `insufficient_quota` permanent.
struct ToyWire {
    static constexpr std::string_view name = "toy";
    static void authenticate(llmbatch::HttpHeaders& h, const std::string& k) { h.set("Authorization", "Bearer " + k); }
    static llmbatch::ErrorStatus read_error(const HttpResponse& r) {
        llmbatch::ErrorStatus s;
        const auto j = llmbatch::Json::parse(r.body, nullptr, false);
        if (!j.is_discarded() && j.contains("error")) {
            s.status = j["error"].value("type", "");
            s.message = j["error"].value("message", "");
        } else {
            s.message = llmbatch::detail::excerpt(r.body, 200);
        }
        return s;
    }
    static bool is_quota(int http, const llmbatch::ErrorStatus&) { return http == 429; }
    static constexpr llmbatch::RetryRules retry_rules{
        [](const HttpResponse& r) {
            return (r.status == 429 && r.body.find("insufficient_quota") == std::string::npos) || r.status == 529;
        },
        &llmbatch::server_retry_delay};
};

using Session = llmbatch::ProviderSession<ToyWire, FakeTransport, ManualClock>;

Session make(FakeTransport t) {
    llmbatch::RetryPolicy retry;
    retry.jitter = 0;
    return Session(key, retry, std::move(t), ManualClock{});
}

HttpResponse error(int status, const std::string& type, const std::string& message) {
    return json_response(status, {{"error", {{"type", type}, {"message", message}}}});
}

}  // namespace

TEST_SUITE("providers") {

TEST_CASE("session: the provider's auth header, a JSON content type for bodies, the reply parsed") {
    FakeTransport t;
    t.on("POST", "/v1/things", json_response(200, {{"id", "t1"}}));
    auto session = make(t);
    CHECK(session.call("POST", "https://api.test/v1/things", R"({"a":1})", "create thing")["id"] == "t1");
    CHECK(t.last_request().headers.get("Authorization") == std::string("Bearer ") + key);
    CHECK(t.last_request().headers.get("Content-Type") == "application/json");
    CHECK(session.has_key());
}

TEST_CASE("session: failed statuses become the typed errors, with the API's type and message") {
    FakeTransport t;
    t.on("GET", "/401", error(401, "authentication_error", "invalid x-api-key"));
    t.on("GET", "/403", error(403, "permission_error", "no access"));
    t.on("GET", "/404", error(404, "not_found_error", "no such batch"));
    t.on("GET", "/429", error(429, "insufficient_quota", "You exceeded your current quota"));
    t.on("GET", "/400", error(400, "invalid_request_error", "bad"));
    auto session = make(t);
    CHECK_THROWS_AS((void)session.call("GET", "https://api.test/401", {}, "get"), llmbatch::AuthenticationError);
    CHECK_THROWS_AS((void)session.call("GET", "https://api.test/403", {}, "get"), llmbatch::AuthenticationError);
    CHECK_THROWS_AS((void)session.call("GET", "https://api.test/404", {}, "get"), llmbatch::NotFoundError);
    try {
        (void)session.call("GET", "https://api.test/429", {}, "get batch");
        FAIL("expected QuotaError");
    } catch (const llmbatch::QuotaError& e) {
        CHECK(std::string(e.what()) == "toy: get batch failed: HTTP 429 insufficient_quota: You exceeded your current quota");
        CHECK_FALSE(e.retryable());
    }
    // The permanent quota error was not retried; the 400 neither.
    CHECK_THROWS_WITH_AS((void)session.call("GET", "https://api.test/400", {}, "get"),
                         "toy: get failed: HTTP 400 invalid_request_error: bad", llmbatch::ProviderError);
    CHECK(t.call_count() == 5);
}

TEST_CASE("session: the key is redacted before an error body is cut, so no prefix of it survives") {
    FakeTransport t;
    HttpResponse r;
    r.status = 500;
    r.body = std::string(190, 'x') + key + " tail";  // the key straddles the 200-byte cut
    t.on("GET", "/echo", r);
    llmbatch::RetryPolicy none = llmbatch::RetryPolicy::none();
    Session session(key, none, t, ManualClock{});
    try {
        (void)session.call("GET", "https://api.test/echo", {}, "get");
        FAIL("expected ProviderError");
    } catch (const llmbatch::ProviderError& e) {
        const std::string what = e.what();
        CHECK(what.find("key-ABC") == std::string::npos);
        CHECK(what.find("[REDACT") != std::string::npos);
    }
}

TEST_CASE("session: retries follow the provider's rules and honour the server's delay") {
    FakeTransport t;
    HttpResponse overloaded = error(529, "overloaded_error", "Overloaded");
    overloaded.headers.set("retry-after-ms", "250");
    t.push(overloaded).push(json_response(200, {{"ok", true}}));
    auto session = make(t);
    CHECK(session.call("GET", "https://api.test/x", {}, "get")["ok"] == true);
    CHECK(session.clock().sleeps() == std::vector<ManualClock::duration>{std::chrono::milliseconds(250)});
}

TEST_CASE("session: downloads stream in pieces; a break after the first byte is not silently retried") {
    FakeTransport t;
    HttpResponse file;
    file.body = "line one\nline two\n";
    t.on("GET", "/file", file);
    t.stream_piece_bytes(4);
    auto session = make(t);
    std::vector<std::string> pieces;
    (void)session.download(HttpRequest{"GET", "https://api.test/file", {}, {}}, "download",
                           [&](std::string_view piece) { pieces.emplace_back(piece); });
    CHECK(pieces.size() == 5);
    std::string joined;
    for (const auto& p : pieces) joined += p;
    CHECK(joined == file.body);

    t.break_stream_after(8);
    std::string got;
    CHECK_THROWS_AS((void)session.download(HttpRequest{"GET", "https://api.test/file", {}, {}}, "download",
                                           [&](std::string_view piece) { got += piece; }),
                    llmbatch::ProviderError);
    CHECK(got == "line one");
    CHECK(t.call_count() == 2);  // not repeated: 8 bytes had been handed over

    // A break before any byte is a plain transport failure, retried.
    t.break_stream_after(0);
    got.clear();
    (void)session.download(HttpRequest{"GET", "https://api.test/file", {}, {}}, "download",
                           [&](std::string_view piece) { got += piece; });
    CHECK(got == file.body);
    CHECK(t.call_count() == 4);
}

TEST_CASE("session: large downloads and uploads are reported to on_transfer; small ones and the key never") {
    FakeTransport t;
    HttpResponse file;
    file.body = std::string(3 * 1024 * 1024, 'x');
    file.headers.set("Content-Length", std::to_string(file.body.size()));
    t.on("GET", "/file", file);
    t.on("GET", "/small", HttpResponse{200, {}, "tiny"});
    t.on("POST", "/jobs", json_response(200, {{"id", "j"}}));
    t.stream_piece_bytes(1024 * 1024);
    std::vector<llmbatch::TransferProgress> seen;
    llmbatch::RetryPolicy retry;
    Session session(key, retry, t, ManualClock{}, [&](const llmbatch::TransferProgress& p) { seen.push_back(p); });

    std::size_t got = 0;
    (void)session.download(HttpRequest{"GET", "https://api.test/file", {}, {}}, std::string("download for ") + key,
                           [&](std::string_view piece) { got += piece.size(); });
    REQUIRE(seen.size() == 4);  // three pieces, then the end
    for (std::size_t i = 0; i < 3; ++i) {
        CHECK(seen[i].provider == "toy");
        CHECK(seen[i].direction == llmbatch::TransferProgress::Direction::download);
        CHECK(seen[i].bytes == (i + 1) * 1024 * 1024);
        CHECK(seen[i].total == file.body.size());
        CHECK_FALSE(seen[i].finished);
        CHECK(seen[i].what.find(key) == std::string::npos);
    }
    CHECK(seen[3].finished);
    CHECK(seen[3].bytes == got);

    seen.clear();
    (void)session.download(HttpRequest{"GET", "https://api.test/small", {}, {}}, "download", [](std::string_view) {});
    (void)session.call("POST", "https://api.test/jobs", "{}", "create");
    CHECK(seen.empty());

    const std::string big_body = "{\"requests\": \"" + std::string(2 * 1024 * 1024, 'r') + "\"}";
    (void)session.call("POST", "https://api.test/jobs", big_body, "create batch job");
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].direction == llmbatch::TransferProgress::Direction::upload);
    CHECK(seen[0].bytes == big_body.size());
    CHECK(seen[0].total == big_body.size());
    CHECK(seen[1].finished);
}

TEST_CASE("session: a failed download reads the error body into the typed error") {
    FakeTransport t;
    t.on("GET", "/gone", error(404, "not_found_error", "file expired"));
    auto session = make(t);
    std::string got;
    CHECK_THROWS_WITH_AS((void)session.download(HttpRequest{"GET", "https://api.test/gone", {}, {}}, "download results",
                                                [&](std::string_view piece) { got += piece; }),
                         "toy: download results failed: HTTP 404 not_found_error: file expired", llmbatch::NotFoundError);
    CHECK(got.empty());
}

}  // TEST_SUITE

}  // namespace tests_providers_common_session
