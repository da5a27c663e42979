// Tests of llmbatch/error.hpp: the exception hierarchy and what each exception remembers.
#include "llmbatch/error.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <type_traits>

namespace tests_unit_error {

namespace {

using namespace llmbatch;

// Which of the document's three kinds (ValueError, LLMProviderError, NotImplementedError) a
// handler written in the document's catch order picks for `e`.
template <class E>
std::string kind_caught(const E& e) {
    try {
        throw e;
    } catch (const InvalidArgument&) {
        return "ValueError";
    } catch (const ProviderError&) {
        return "LLMProviderError";
    } catch (const UnsupportedOperation&) {
        return "NotImplementedError";
    } catch (const Error&) {
        return "Error";
    } catch (...) {
        return "other";
    }
}

ProviderErrorInfo sample_info() {
    return ProviderErrorInfo{"gemini", 429, "RESOURCE_EXHAUSTED", "Quota exceeded.", true};
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("every llmbatch exception is an Error and a std::runtime_error") {
    static_assert(std::is_base_of_v<std::runtime_error, Error>);
    static_assert(std::is_base_of_v<Error, InvalidArgument>);
    static_assert(std::is_base_of_v<InvalidArgument, JobNotReady>);
    static_assert(std::is_base_of_v<InvalidArgument, ResultsMissing>);
    static_assert(std::is_base_of_v<InvalidArgument, JsonExtractionError>);
    static_assert(std::is_base_of_v<Error, UnsupportedOperation>);
    static_assert(std::is_base_of_v<Error, ProviderError>);
    static_assert(std::is_base_of_v<ProviderError, QuotaError>);
    static_assert(std::is_base_of_v<ProviderError, NotFoundError>);
    static_assert(std::is_base_of_v<ProviderError, TransportError>);
    static_assert(std::is_base_of_v<ProviderError, JobFailed>);
    static_assert(std::is_base_of_v<ProviderError, RequestFailed>);

    // The three kinds are disjoint: no exception is two of them at once.
    static_assert(!std::is_base_of_v<ProviderError, UnsupportedOperation>);
    static_assert(!std::is_base_of_v<InvalidArgument, UnsupportedOperation>);
    static_assert(!std::is_base_of_v<InvalidArgument, ProviderError>);
    static_assert(!std::is_base_of_v<ProviderError, InvalidArgument>);
    static_assert(!std::is_base_of_v<ProviderError, JobNotReady>);

    // A JobNotReady thrown at run time is caught as each of its bases.
    const JobNotReady not_ready("Batch job batches/x is not finished (state RUNNING).", "batches/x", "RUNNING");
    CHECK_THROWS_AS(throw not_ready, JobNotReady);
    CHECK_THROWS_AS(throw not_ready, InvalidArgument);
    CHECK_THROWS_AS(throw not_ready, Error);
    CHECK_THROWS_AS(throw not_ready, std::runtime_error);
    CHECK_THROWS_AS(throw not_ready, std::exception);
}

TEST_CASE("what() returns the message the exception was built with") {
    CHECK(std::string(Error("plain").what()) == "plain");
    CHECK(std::string(InvalidArgument("batch_payload must not be empty.").what()) ==
          "batch_payload must not be empty.");
    CHECK(std::string(UnsupportedOperation("batch_generate is not supported.").what()) ==
          "batch_generate is not supported.");
    CHECK(std::string(QuotaError("Quota exceeded for gemini.", sample_info()).what()) ==
          "Quota exceeded for gemini.");
}

TEST_CASE("JobNotReady keeps the job name and state") {
    const JobNotReady e("Batch job batches/abc is not finished (state PENDING).", "batches/abc", "PENDING");
    CHECK(e.job_name() == "batches/abc");
    CHECK(e.state() == "PENDING");
    CHECK(std::string(e.what()) == "Batch job batches/abc is not finished (state PENDING).");
}

TEST_CASE("ProviderError keeps what the provider said") {
    const ProviderError e("Gemini refused the call.", sample_info());
    CHECK(e.provider() == "gemini");
    CHECK(e.http_status() == 429);
    CHECK(e.api_status() == "RESOURCE_EXHAUSTED");
    CHECK(e.api_message() == "Quota exceeded.");
    CHECK(e.retryable());
    CHECK(e.info().provider == "gemini");
    CHECK(e.info().http_status == 429);

    const NotFoundError nf("Batch job batches/gone was not found.",
                           ProviderErrorInfo{"gemini", 404, "NOT_FOUND", "Requested entity was not found.", false});
    CHECK(nf.http_status() == 404);
    CHECK(nf.api_status() == "NOT_FOUND");
    CHECK_FALSE(nf.retryable());
}

TEST_CASE("ProviderErrorInfo defaults describe no HTTP exchange and no retry") {
    const ProviderErrorInfo info;
    CHECK(info.provider.empty());
    CHECK(info.http_status == 0);
    CHECK(info.api_status.empty());
    CHECK(info.api_message.empty());
    CHECK_FALSE(info.retryable);
}

TEST_CASE("TransportError is retryable and remembers whether the request may have left") {
    SUBCASE("by default the request may have been sent") {
        const TransportError e("Connection reset by peer.");
        CHECK(e.retryable());
        CHECK(e.request_may_have_been_sent());
        CHECK(e.http_status() == 0);
        CHECK(e.provider().empty());
        CHECK(std::string(e.what()) == "Connection reset by peer.");
    }
    SUBCASE("a refused connection says nothing was sent") {
        const TransportError e("Connection refused.", false, "gemini");
        CHECK(e.retryable());
        CHECK_FALSE(e.request_may_have_been_sent());
        CHECK(e.provider() == "gemini");
    }
    SUBCASE("the flag survives being caught as a ProviderError") {
        try {
            throw TransportError("Timed out.", false, "gemini");
        } catch (const ProviderError& e) {
            const auto* transport = dynamic_cast<const TransportError*>(&e);
            REQUIRE(transport != nullptr);
            CHECK_FALSE(transport->request_may_have_been_sent());
            CHECK(e.retryable());
        }
    }
}

TEST_CASE("JobFailed keeps the job name, its state and the provider's details") {
    const JobFailed e("Batch job batches/x ended in state FAILED.",
                      ProviderErrorInfo{"gemini", 0, "INTERNAL", "Backend error.", false}, "batches/x", "FAILED");
    CHECK(e.job_name() == "batches/x");
    CHECK(e.state() == "FAILED");
    CHECK(e.provider() == "gemini");
    CHECK(e.api_status() == "INTERNAL");
    CHECK(e.api_message() == "Backend error.");
}

TEST_CASE("RequestFailed keeps the job name and the request's index") {
    const RequestFailed e("Request 3 in batch job batches/y (gemini) failed.",
                          ProviderErrorInfo{"gemini", 0, "INVALID_ARGUMENT", "Bad prompt.", false}, "batches/y", 3);
    CHECK(e.job_name() == "batches/y");
    CHECK(e.index() == 3);
    CHECK(e.provider() == "gemini");
    CHECK(e.api_status() == "INVALID_ARGUMENT");
}

TEST_CASE("the document's catch order sorts each exception into its kind") {
    const ProviderErrorInfo info = sample_info();
    CHECK(kind_caught(InvalidArgument("x")) == "ValueError");
    CHECK(kind_caught(JobNotReady("x", "batches/x", "RUNNING")) == "ValueError");
    CHECK(kind_caught(ResultsMissing("x")) == "ValueError");
    CHECK(kind_caught(JsonExtractionError("x")) == "ValueError");

    CHECK(kind_caught(ProviderError("x", info)) == "LLMProviderError");
    CHECK(kind_caught(QuotaError("x", info)) == "LLMProviderError");
    CHECK(kind_caught(NotFoundError("x", info)) == "LLMProviderError");
    CHECK(kind_caught(TransportError("x")) == "LLMProviderError");
    CHECK(kind_caught(JobFailed("x", info, "batches/x", "FAILED")) == "LLMProviderError");
    CHECK(kind_caught(RequestFailed("x", info, "batches/x", 0)) == "LLMProviderError");

    CHECK(kind_caught(UnsupportedOperation("x")) == "NotImplementedError");
    CHECK(kind_caught(Error("x")) == "Error");
    CHECK(kind_caught(std::runtime_error("x")) == "other");
}

TEST_CASE("catching by the base class keeps the derived object's data") {
    try {
        throw JobNotReady("Batch job batches/q is not finished (state RUNNING).", "batches/q", "RUNNING");
    } catch (const Error& e) {
        const auto* not_ready = dynamic_cast<const JobNotReady*>(&e);
        REQUIRE(not_ready != nullptr);
        CHECK(not_ready->job_name() == "batches/q");
        CHECK(not_ready->state() == "RUNNING");
    }
}

}  // TEST_SUITE("unit")

}  // namespace tests_unit_error
