#include "llmbatch/testing/fake_transport.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <stdexcept>
#include <string>

namespace tests_testing_fake_transport {

namespace {

using llmbatch::HttpRequest;
using llmbatch::HttpResponse;
using llmbatch::Json;
using llmbatch::testing::FakeTransport;
using llmbatch::testing::google_error_response;
using llmbatch::testing::json_response;

HttpRequest get(std::string url) { return HttpRequest{"GET", std::move(url), {}, {}}; }

HttpResponse text(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

}  // namespace

TEST_SUITE("testing") {
    TEST_CASE("FakeTransport matches routes by method and exact path, ignoring host and query") {
        FakeTransport fake;
        fake.on("GET", "/v1beta/batches/a", text(200, "job a"))
            .on("GET", "/v1beta/batches/b", text(200, "job b"))
            .on("DELETE", "/v1beta/batches/a", text(200, "deleted"));
        CHECK(fake.send(get("https://example.com/v1beta/batches/b?alt=json")).body == "job b");
        CHECK(fake.send(get("https://example.com/v1beta/batches/a")).body == "job a");
        CHECK(fake.send(HttpRequest{"DELETE", "https://example.com/v1beta/batches/a", {}, {}}).body == "deleted");
        CHECK_THROWS_AS(fake.send(get("https://example.com/v1beta/batches/a/x")), std::logic_error);
        CHECK_THROWS_AS(fake.send(HttpRequest{"POST", "https://example.com/v1beta/batches/a", {}, {}}),
                        std::logic_error);
    }

    TEST_CASE("FakeTransport serves a route's responses in order and repeats the last one") {
        FakeTransport fake;
        fake.on("GET", "/v1beta/batches/a", text(200, "PENDING"))
            .on("GET", "/v1beta/batches/a", text(200, "RUNNING"))
            .on("GET", "/v1beta/batches/a", text(200, "SUCCEEDED"));
        CHECK(fake.send(get("https://h/v1beta/batches/a")).body == "PENDING");
        CHECK(fake.send(get("https://h/v1beta/batches/a")).body == "RUNNING");
        CHECK(fake.send(get("https://h/v1beta/batches/a")).body == "SUCCEEDED");
        CHECK(fake.send(get("https://h/v1beta/batches/a")).body == "SUCCEEDED");
        CHECK(fake.send(get("https://h/v1beta/batches/a")).body == "SUCCEEDED");
    }

    TEST_CASE("FakeTransport serves the in-order queue before any route") {
        FakeTransport fake;
        fake.on("GET", "/v1beta/batches/a", text(200, "route"));
        fake.push(text(500, "first")).push(text(201, "second"));
        CHECK(fake.queued() == 2);
        const auto r1 = fake.send(get("https://h/v1beta/batches/a"));
        CHECK(r1.status == 500);
        CHECK(r1.body == "first");
        // The queue answers whatever the request, even one no route would match.
        const auto r2 = fake.send(get("https://h/elsewhere"));
        CHECK(r2.status == 201);
        CHECK(r2.body == "second");
        CHECK(fake.queued() == 0);
        CHECK(fake.send(get("https://h/v1beta/batches/a")).body == "route");
    }

    TEST_CASE("FakeTransport fails the chosen calls with TransportError and still records them") {
        FakeTransport fake;
        fake.on("GET", "/x", text(200, "ok")).fail_on_call(2).fail_on_call(4, false);
        CHECK(fake.send(get("https://h/x")).body == "ok");
        try {
            (void)fake.send(get("https://h/x?attempt=2"));
            FAIL("call 2 should have failed");
        } catch (const llmbatch::TransportError& e) {
            CHECK(std::string(e.what()) == "FakeTransport: injected failure on call 2");
            CHECK(e.request_may_have_been_sent());
            CHECK(e.retryable());
        }
        CHECK(fake.send(get("https://h/x")).body == "ok");
        try {
            (void)fake.send(get("https://h/x"));
            FAIL("call 4 should have failed");
        } catch (const llmbatch::TransportError& e) {
            CHECK_FALSE(e.request_may_have_been_sent());
        }
        CHECK(fake.call_count() == 4);
        REQUIRE(fake.requests().size() == 4);
        CHECK(fake.requests()[1].url == "https://h/x?attempt=2");
        CHECK_THROWS_AS(fake.fail_on_call(0), std::invalid_argument);
    }

    TEST_CASE("FakeTransport does not consume a queued response on a failed call") {
        FakeTransport fake;
        fake.push(text(200, "queued")).fail_on_call(1);
        CHECK_THROWS_AS(fake.send(get("https://h/x")), llmbatch::TransportError);
        CHECK(fake.send(get("https://h/x")).body == "queued");
    }

    TEST_CASE("FakeTransport names the method and path of an unscripted request") {
        FakeTransport fake;
        try {
            (void)fake.send(get("https://generativelanguage.googleapis.com/v1beta/batches/zz?pageSize=2"));
            FAIL("an unscripted request should throw");
        } catch (const std::logic_error& e) {
            CHECK(std::string(e.what()) == "FakeTransport: no scripted response for GET /v1beta/batches/zz");
        }
        CHECK(fake.call_count() == 1);  // recorded although it failed
    }

    TEST_CASE("FakeTransport records every request with its headers and body") {
        FakeTransport fake;
        CHECK_THROWS_AS((void)fake.last_request(), std::logic_error);
        fake.on("POST", "/v1beta/models/m:batchGenerateContent", json_response(200, Json::object()));
        HttpRequest request{"POST", "https://h/v1beta/models/m:batchGenerateContent",
                            {{"x-goog-api-key", "k"}, {"Content-Type", "application/json"}}, R"({"batch":{}})"};
        (void)fake.send(request);
        const auto last = fake.last_request();
        CHECK(last.method == "POST");
        CHECK(last.url == request.url);
        CHECK(last.body == R"({"batch":{}})");
        CHECK(last.headers.get("X-Goog-Api-Key") == std::optional<std::string>("k"));
        CHECK(fake.call_count() == 1);
    }

    TEST_CASE("FakeTransport copies share the script and the record") {
        FakeTransport fake;
        FakeTransport held_by_provider = fake;
        fake.on("GET", "/a", text(200, "a"));
        CHECK(held_by_provider.send(get("https://h/a")).body == "a");
        CHECK(fake.call_count() == 1);
        CHECK(fake.last_request().url == "https://h/a");
    }

    TEST_CASE("FakeTransport::reset clears routes, queue, failures and records") {
        FakeTransport fake;
        fake.on("GET", "/a", text(200, "a")).push(text(200, "q")).fail_on_call(1);
        (void)fake.queued();
        fake.reset();
        CHECK(fake.call_count() == 0);
        CHECK(fake.queued() == 0);
        // Call 1 no longer fails, and the route is gone.
        CHECK_THROWS_AS(fake.send(get("https://h/a")), std::logic_error);
        fake.on("GET", "/a", text(200, "again"));
        CHECK(fake.send(get("https://h/a")).body == "again");
    }

    TEST_CASE("json_response sets the status, the JSON content type and the body") {
        const auto r = json_response(201, Json{{"name", "batches/x"}, {"n", 2}});
        CHECK(r.status == 201);
        CHECK(r.headers.get("content-type") == std::optional<std::string>("application/json"));
        CHECK(Json::parse(r.body) == Json{{"name", "batches/x"}, {"n", 2}});

        const auto custom = json_response(200, Json::object(),
                                          llmbatch::HttpHeaders{{"Content-Type", "application/json; charset=UTF-8"},
                                                                {"Retry-After", "3"}});
        CHECK(custom.headers.get("Content-Type") == std::optional<std::string>("application/json; charset=UTF-8"));
        CHECK(custom.headers.get("Retry-After") == std::optional<std::string>("3"));
        CHECK(custom.body == "{}");
    }

    TEST_CASE("google_error_response builds Google's error body") {
        const auto r = google_error_response(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted.");
        CHECK(r.status == 429);
        CHECK_FALSE(r.ok());
        CHECK(Json::parse(r.body) ==
              Json{{"error",
                    {{"code", 429}, {"message", "Resource has been exhausted."}, {"status", "RESOURCE_EXHAUSTED"}}}});
    }
}

}  // namespace tests_testing_fake_transport
