// tracker_stress: adds jobs to a job store, one transaction each, for the crash and concurrency
// tests of the job stores.
//
// Usage: tracker_stress <tracking-file> <state-file> <start> <count>
//        tracker_stress sqlite:<database-file> "" <start> <count>   (when built with SQLite)
// Adds jobs `stress-<n>` for n in [start, start + count), each as batch n of source
// `stress/source.md`, and prints each job's name on its own line (flushed) once its
// transaction has returned, i.e. once it is committed.
#include "llmbatch/tracking.hpp"
#ifdef LLMBATCH_HAVE_SQLITE
#include "llmbatch/stores/sqlite.hpp"
#endif

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

namespace {

template <class Store>
void add_jobs(Store& store, const char* writer, long long start, long long count) {
    for (long long n = start; n < start + count; ++n) {
        llmbatch::TrackedJob job;
        job.provider = "stress";
        job.job_name = "stress-" + std::to_string(n);
        job.source = "stress/source.md";
        job.batch_index = n;
        job.created_at = std::chrono::system_clock::now();
        job.labels["writer"] = writer;
        job.request_keys = {"0"};
        store.add(job);
        std::printf("%s\n", job.job_name.c_str());
        std::fflush(stdout);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s <tracking-file> <state-file> <start> <count>\n", argv[0]);
        return 2;
    }
    try {
        const long long start = std::stoll(argv[3]);
        const long long count = std::stoll(argv[4]);
        [[maybe_unused]] const std::string_view store = argv[1];
#ifdef LLMBATCH_HAVE_SQLITE
        if (store.substr(0, 7) == "sqlite:") {
            llmbatch::SqliteJobStore db{std::string(store.substr(7))};
            add_jobs(db, argv[3], start, count);
            return 0;
        }
#endif
        llmbatch::JobTracker tracker(argv[1], argv[2]);
        add_jobs(tracker, argv[3], start, count);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tracker_stress: %s\n", e.what());
        return 1;
    }
    return 0;
}
