// The llmbatch tool's prompts file (examples/llmbatch/prompts_file.hpp): messages name the one
// line at fault.
#include "prompts_file.hpp"

#include <doctest/doctest.h>

#include <string>

#include "support.hpp"

TEST_SUITE("cli") {

TEST_CASE("a malformed JSON Lines line is named once, by its own line number, with the column") {
    World w;
    const auto p = w.write("bad.jsonl", "{\"source\": \"A\", \"prompt\": \"x\"}\n\n\n{\"source\": \"A\", \"prompt\": }\n");
    try {
        (void)llmbatch::cli::load_prompts(p);
        FAIL("expected UsageError");
    } catch (const llmbatch::cli::UsageError& e) {
        const std::string what = e.what();
        CAPTURE(what);
        CHECK(contains(what, "', line 4: invalid JSON (column 27: syntax error"));
        CHECK_FALSE(contains(what, "line 1"));
    }
}

TEST_CASE("a malformed JSON array names the line of the mistake in the whole file") {
    World w;
    const auto p = w.write("bad.json", "[\n  {\"source\": \"A\", \"prompt\": \"x\"},\n  {\"source\": ,\n]\n");
    try {
        (void)llmbatch::cli::load_prompts(p);
        FAIL("expected UsageError");
    } catch (const llmbatch::cli::UsageError& e) {
        const std::string what = e.what();
        CAPTURE(what);
        CHECK(contains(what, "', line 3: invalid JSON (column "));
        CHECK_FALSE(contains(what, "line 1"));
    }
}

}  // TEST_SUITE
