// testing/lossy_transport.hpp: replies lost after delivery, as a timeout after sending.
#include "llmbatch/testing/lossy_transport.hpp"

#include <doctest/doctest.h>

#include "llmbatch/testing/fake_transport.hpp"

namespace tests_testing_lossy_transport {

using llmbatch::HttpRequest;
using llmbatch::testing::FakeTransport;
using llmbatch::testing::LossyTransport;

TEST_SUITE("testing") {

TEST_CASE("lossy transport: the chosen call reaches the server, its reply is lost as a sent TransportError") {
    FakeTransport fake;
    fake.on("POST", "/jobs", llmbatch::testing::json_response(200, {{"name", "jobs/1"}}));
    LossyTransport<FakeTransport> lossy(fake);
    lossy.lose_reply_of_call(2);
    CHECK(lossy.send(HttpRequest{"POST", "https://x/jobs", {}, {}}).status == 200);
    try {
        (void)lossy.send(HttpRequest{"POST", "https://x/jobs", {}, {}});
        FAIL("expected TransportError");
    } catch (const llmbatch::TransportError& e) {
        CHECK(e.request_may_have_been_sent());
    }
    CHECK(fake.call_count() == 2);  // delivered all the same
    std::string got;
    CHECK(lossy.send(HttpRequest{"POST", "https://x/jobs", {}, {}},
                     [&](const llmbatch::HttpResponse&, std::string_view chunk) { got += chunk; })
              .status == 200);
    CHECK(got == R"({"name":"jobs/1"})");
    CHECK(lossy.calls() == 3);
}

TEST_CASE("lossy transport: the next call matching a request is lost or refused, the others pass") {
    FakeTransport fake;
    fake.on("POST", "/files", llmbatch::testing::json_response(200, {{"id", "file-1"}}));
    fake.on("POST", "/jobs", llmbatch::testing::json_response(200, {{"name", "jobs/1"}}));
    LossyTransport<FakeTransport> lossy(fake);
    const auto is_create = [](const HttpRequest& r) { return llmbatch::url_path(r.url) == "/jobs"; };
    lossy.lose_reply_of_next(is_create);
    CHECK(lossy.send(HttpRequest{"POST", "https://x/files", {}, {}}).status == 200);  // not a create
    CHECK_THROWS_AS((void)lossy.send(HttpRequest{"POST", "https://x/jobs", {}, {}}), llmbatch::TransportError);
    CHECK(fake.call_count() == 2);  // the create was delivered

    lossy.refuse_next(is_create, 503);
    CHECK(lossy.send(HttpRequest{"POST", "https://x/files", {}, {}}).status == 200);
    const auto refused = lossy.send(HttpRequest{"POST", "https://x/jobs", {}, {}});
    CHECK(refused.status == 503);
    CHECK(fake.call_count() == 3);  // the refused create never reached the server
    CHECK(lossy.send(HttpRequest{"POST", "https://x/jobs", {}, {}}).status == 200);  // only once
    CHECK(lossy.calls() == 5);
}

}  // TEST_SUITE

}  // namespace tests_testing_lossy_transport
