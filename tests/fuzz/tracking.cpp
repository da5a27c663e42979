// Fuzzes JobTracker's loading of the tracking and state files: the input (after its first byte)
// is written as one of them in a private directory and read through the tracker's queries; when
// the tracker then accepts a change, the files it wrote must read back.
//
// Byte 0: bit 0 chooses the file under test (0: tracking file, 1: state file); bit 1 leaves the
// other file absent instead of a valid empty one.
#include "llmbatch/tracking.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.hpp"

namespace {

constexpr std::string_view empty_tracking = R"({"format": "llmbatch-tracking", "version": 1, "jobs": {}})";
constexpr std::string_view empty_state = R"({"format": "llmbatch-state", "version": 1, "sources": {}})";

/// Every read the tracker offers.
void read_all(const llmbatch::JobTracker& tracker, std::chrono::system_clock::time_point now) {
    for (const auto& job : tracker.jobs()) {
        (void)tracker.find(job.job_name);
        (void)tracker.is_batch_completed(job.source, job.batch_index);
    }
    (void)tracker.pending();
    (void)tracker.select_refetch(6.0, now);
    (void)tracker.completed_batches("History/h.md");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const bool state_under_test = (data[0] & 1u) != 0, other_absent = (data[0] & 2u) != 0;
    const auto input = llmbatch_fuzz::as_text(data + 1, size - 1);
    const llmbatch_fuzz::ScratchDir dir;
    const auto tracking_file = dir.path() / "batch_jobs.json", state_file = dir.path() / "batch_state.json";
    if (state_under_test || !other_absent) (void)dir.write("batch_jobs.json", state_under_test ? empty_tracking : input);
    if (!state_under_test || !other_absent) (void)dir.write("batch_state.json", state_under_test ? input : empty_state);

    const llmbatch::JobTracker tracker(tracking_file, state_file);
    const auto now = std::chrono::sys_days{std::chrono::year{2026} / 1 / 2} + std::chrono::hours{0};
    llmbatch::TrackedJob job;
    job.provider = "gemini";
    job.job_name = "batches/fuzz-new";
    job.source = "History/h.md";
    job.batch_index = 7;
    job.created_at = now;
    job.request_keys = {"0", "1"};
    bool changed = false;
    llmbatch_fuzz::expect_typed_errors([&] {
        read_all(tracker, now);
        llmbatch::JobTracker writer(tracking_file, state_file);
        writer.add(job);
        writer.mark_completed(job.job_name, now);
        changed = true;
    });
    // What the tracker wrote over the input, it reads back: no error is expected here.
    if (changed) read_all(tracker, now);
    return 0;
}
