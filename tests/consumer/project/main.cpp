// Uses a few parts of llmbatch at run time; exits non-zero when one of them misbehaves.
#include <llmbatch/llmbatch.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <string>

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
    if (!ok) {
        std::fprintf(stderr, "consumer check failed: %s\n", what.c_str());
        ++failures;
    }
}

}  // namespace

int main() {
    const llmbatch::BatchPayload payload{{"a"}, {"b", "c"}};

    try {
        llmbatch::validate_payload(payload);
    } catch (const std::exception& e) {
        expect(false, std::string("validate_payload rejected a valid payload: ") + e.what());
    }

    bool rejected_empty = false;
    try {
        llmbatch::validate_payload(llmbatch::BatchPayload{});
    } catch (const llmbatch::InvalidArgument&) {
        rejected_empty = true;
    }
    expect(rejected_empty, "validate_payload accepted an empty payload");

    expect(payload.size() == 2, "the payload holds two requests");
    expect(llmbatch::join_prompts(payload[0]) == "a", "join_prompts of one prompt is that prompt");
    expect(llmbatch::join_prompts(payload[1]) == "b\nc", "join_prompts joins prompts with a newline");

    expect(llmbatch::to_string(llmbatch::JobState::succeeded) == "SUCCEEDED",
           "to_string(JobState::succeeded) is SUCCEEDED");
    // Goes through fmt's compiled library, so a missing -lfmt fails the link.
    expect(fmt::format("{}", llmbatch::JobState::running) == "RUNNING",
           "JobState formats with fmt as its upper-case name");

    if (failures != 0) return 1;
    std::puts("llmbatch consumer: all checks passed");
    return 0;
}
