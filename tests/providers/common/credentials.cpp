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
    CHECK(llmbatch::Redactor("abc")("abc abc") == "abc abc");
    CHECK(llmbatch::Redactor()("text") == "text");
}

}  // TEST_SUITE

}  // namespace tests_providers_common_credentials
