// Fuzzes the results-file reader of ResultStore: the input is an existing results file, read by
// load and failed_request_indices, then rewritten by a save of one job's results (which scans the
// file and keeps the other jobs' lines); what the save wrote must read back.
#include "llmbatch/result_store.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"

namespace {

/// One success and one failure of job `batches/abc` (a job name the seed files use).
llmbatch::BatchResults two_outcomes() {
    std::vector<llmbatch::RequestOutcome> outcomes(2);
    outcomes[0].key = "0";
    outcomes[0].value = llmbatch::Json{{"answer", 1}};
    outcomes[1].index = 1;
    outcomes[1].key = "1";
    outcomes[1].error = llmbatch::ErrorStatus{500, "INTERNAL", "boom", nullptr};
    return llmbatch::BatchResults("gemini", "batches/abc", std::move(outcomes));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const llmbatch::BatchResults results = two_outcomes();
    const llmbatch_fuzz::ScratchDir dir;
    (void)dir.write("History/h.md.jsonl", llmbatch_fuzz::as_text(data, size));
    llmbatch::ResultStore store(dir.path());
    llmbatch::TrackedJob job;
    job.provider = "gemini";
    job.job_name = "batches/abc";
    job.source = "History/h.md";
    bool saved = false;
    llmbatch_fuzz::expect_typed_errors([&] {
        (void)store.load(job.source);
        (void)store.failed_request_indices(job.source, job.job_name);
        (void)store.save(job.source, job, results);
        saved = true;
    });
    // The saved file is readable, and it holds the failure just saved: no error is expected here.
    if (saved && store.failed_request_indices(job.source, job.job_name) != std::vector<std::size_t>{1}) std::abort();
    return 0;
}
