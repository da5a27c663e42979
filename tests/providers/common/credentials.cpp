// providers/common/credentials.hpp: where keys come from, and keeping them out of text.
#include "llmbatch/providers/common/credentials.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

namespace tests_providers_common_credentials {

TEST_SUITE("providers") {

TEST_CASE("credentials: a configured key wins over the environment, which fills an empty one") {
    ::setenv("LLMBATCH_TEST_KEY_VAR", "from-env", 1);
    CHECK(llmbatch::resolve_api_key("configured", "LLMBATCH_TEST_KEY_VAR") == "configured");
    CHECK(llmbatch::resolve_api_key("", "LLMBATCH_TEST_KEY_VAR") == "from-env");
    ::unsetenv("LLMBATCH_TEST_KEY_VAR");
    CHECK(llmbatch::resolve_api_key("", "LLMBATCH_TEST_KEY_VAR").empty());
}

TEST_CASE("credentials: every occurrence of the key is redacted, short keys are not searched") {
    const llmbatch::Redactor redact("sk-secret-123");
    CHECK(redact("a sk-secret-123 b sk-secret-123sk-secret-123") == "a [REDACTED] b [REDACTED][REDACTED]");
    CHECK(redact("nothing here") == "nothing here");
    CHECK(redact("sk-secret-123") == "[REDACTED]");
    // A whole reply holding the key many times: every one replaced, the rest kept in order.
    std::string reply;
    for (int i = 0; i < 20000; ++i) reply += "{\"n\": " + std::to_string(i) + ", \"echo\": \"sk-secret-123\"}\n";
    const std::string redacted = redact(reply);
    CHECK(redacted.find("sk-secret-123") == std::string::npos);
    CHECK(redacted.size() == reply.size() + 20000 * (llmbatch::Redactor::mark.size() - std::string_view("sk-secret-123").size()));
    const std::string_view last = "{\"n\": 19999, \"echo\": \"[REDACTED]\"}\n";
    CHECK(std::string_view(redacted).substr(redacted.size() - last.size()) == last);
    // A key shorter than the mark, the text growing: the same.
    const llmbatch::Redactor short_key("k-42");
    CHECK(short_key("k-42k-42 and k-42.") == "[REDACTED][REDACTED] and [REDACTED].");
    CHECK(short_key(std::string(100000, 'k') + "k-42") == std::string(100000, 'k') + "[REDACTED]");
    CHECK(llmbatch::Redactor("abc")("abc abc") == "abc abc");
    CHECK(llmbatch::Redactor()("text") == "text");
}

}  // TEST_SUITE

}  // namespace tests_providers_common_credentials
