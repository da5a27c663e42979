// Job store scaling, run by `meson test -C build --benchmark` (not part of the test suite): the
// changes one `create` makes per batch (record the create, then the job) and one `fetch` makes per
// job (mark it completed), for 1,000 / 10,000 / 100,000 jobs, in SQLite (each commit synced, and
// not), against the document's JSON files (which rewrite the whole tracking file per change) up
// to the size they can reach in reasonable time. Prints seconds and microseconds per job; the
// SQLite store grows linearly, the JSON files quadratically.
#include <llmbatch/stores/sqlite.hpp>
#include <llmbatch/tracking.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fmt/format.h>

namespace {

namespace fs = std::filesystem;

template <class Store>
double record(Store& store, int jobs) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < jobs; ++i) {
        llmbatch::TrackedJob job;
        job.provider = "gemini";
        job.source = fmt::format("source-{}.md", i / 100);
        job.batch_index = i % 100;
        job.created_at = std::chrono::system_clock::now();
        job.request_keys = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
        const auto token = fmt::format("token-{}", i);
        store.begin_create({token, job});
        (void)store.finish_create(token, fmt::format("batches/{}", i));
        store.mark_completed(fmt::format("batches/{}", i), job.created_at);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void report(std::string_view store, int jobs, double seconds) {
    fmt::print("{:<34} {:>7} jobs {:>9.2f} s {:>9.1f} us/job\n", store, jobs, seconds, seconds / jobs * 1e6);
}

struct Folder {
    fs::path path;
    Folder() {
        std::string pattern = (fs::temp_directory_path() / "llmbatch-store-bench-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) std::abort();
        path = pattern;
    }
    ~Folder() { fs::remove_all(path); }
};

}  // namespace

int main() {
    for (const int jobs : {1'000, 10'000, 100'000}) {
        Folder dir;
        llmbatch::SqliteJobStore store(dir.path / "fast.sqlite", {.sync_each_change = false});
        report("sqlite (commits not synced)", jobs, record(store, jobs));
    }
    for (const int jobs : {1'000, 10'000}) {
        Folder dir;
        llmbatch::SqliteJobStore store(dir.path / "synced.sqlite");
        report("sqlite (every commit synced)", jobs, record(store, jobs));
    }
    for (const int jobs : {250, 1'000}) {
        Folder dir;
        llmbatch::JobTracker tracker(dir.path / "jobs.json", dir.path / "state.json");
        report("json files (every write synced)", jobs, record(tracker, jobs));
    }
}
