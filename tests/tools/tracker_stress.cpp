// tracker_stress: adds jobs to a tracking file, one transaction each, for the crash and
// concurrency tests of the job tracker.
//
// Usage: tracker_stress <tracking-file> <state-file> <start> <count>
// Adds jobs `stress-<n>` for n in [start, start + count), each as batch n of source
// `stress/source.md`, and prints each job's name on its own line (flushed) once its
// transaction has returned, i.e. once it is committed.
#include "llmbatch/tracking.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s <tracking-file> <state-file> <start> <count>\n", argv[0]);
        return 2;
    }
    try {
        llmbatch::JobTracker tracker(argv[1], argv[2]);
        const long long start = std::stoll(argv[3]);
        const long long count = std::stoll(argv[4]);
        for (long long n = start; n < start + count; ++n) {
            llmbatch::TrackedJob job;
            job.provider = "stress";
            job.job_name = "stress-" + std::to_string(n);
            job.source = "stress/source.md";
            job.batch_index = n;
            job.created_at = std::chrono::system_clock::now();
            job.labels["writer"] = argv[3];
            job.request_keys = {"0"};
            tracker.add(job);
            std::printf("%s\n", job.job_name.c_str());
            std::fflush(stdout);
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tracker_stress: %s\n", e.what());
        return 1;
    }
    return 0;
}
