// The job store contract for PostgresJobStore against a real server, and what only it has:
// claims that split the pending jobs between workers. Run through tests/stores/with_postgres.sh
// (meson test suite "stores-postgresql"), which starts a throw-away server and sets
// LLMBATCH_TEST_POSTGRES; each store lives in its own schema of that server.
#include "llmbatch/stores/postgresql.hpp"

#include "contract.hpp"

#include <atomic>
#include <deque>
#include <cstdlib>
#include <functional>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

namespace tests_stores_postgresql {

namespace {

/// The server's connection string (the test fails clearly without one).
std::string server() {
    const char* conninfo = std::getenv("LLMBATCH_TEST_POSTGRES");
    REQUIRE_MESSAGE(conninfo != nullptr, "LLMBATCH_TEST_POSTGRES is not set: run these tests through meson test, whose "
                                         "wrapper (tests/stores/with_postgres.sh) starts a server");
    return conninfo;
}

struct Postgres {
    using Store = llmbatch::PostgresJobStore;
    /// The store in a schema named after `folder` (created when missing). Handles opened at once
    /// create the schema one at a time: two concurrent `CREATE SCHEMA IF NOT EXISTS` of one name
    /// can both try to insert it, and one then fails.
    static Store open(const std::filesystem::path& folder) {
        const auto schema = fmt::format("s{}", std::hash<std::string>{}(folder.string()));
        llmbatch::detail::PgConnection admin(server());
        admin.transaction([&] {
            admin.exec("SELECT pg_advisory_xact_lock(7346010453122011)");
            admin.exec(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", schema));
        });
        return Store(fmt::format("{} options='-c search_path={}'", server(), schema));
    }
};

}  // namespace

TEST_SUITE("stores-postgresql") {
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_empty, Postgres);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_add_find, Postgres);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_order, Postgres);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_add_refused, Postgres);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_duplicates, Postgres);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_update, Postgres);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_status, Postgres);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_refetch, Postgres);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_creates, Postgres);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_concurrent, Postgres);

TEST_CASE("postgresql store: workers claiming at once each get different jobs; an expired lease hands a job back") {
    llmbatch_test::TempDir dir("llmbatch-pg", true);
    {
        auto store = Postgres::open(dir.path);
        for (int i = 0; i < 200; ++i) store.add(store_contract::make_job(fmt::format("j{}", i), "s", i));
    }
    std::mutex mutex;
    std::map<std::string, std::string> claimed_by;
    std::atomic<int> twice{0};
    // Every worker makes its first claim before any makes a second, so the jobs are spread
    // whatever the threads' timing; a worker that fails still counts itself in.
    std::latch first_claims(4);
    struct CountIn {
        std::latch& latch;
        bool done = false;
        void operator()() {
            if (!std::exchange(done, true)) latch.count_down();
        }
        ~CountIn() { (*this)(); }
    };
    auto worker = [&](const std::string& name) {
        CountIn count_in{first_claims};
        auto store = Postgres::open(dir.path);
        for (;;) {
            const auto jobs = store.claim_pending(name, std::chrono::minutes(5), 7);
            if (!count_in.done) {
                count_in();
                first_claims.wait();
            }
            if (jobs.empty()) return;
            for (const auto& job : jobs) {
                std::lock_guard lock(mutex);
                if (!claimed_by.emplace(job.job_name, name).second) ++twice;
            }
        }
    };
    {
        std::deque<store_contract::Worker> workers;
        for (int w = 0; w < 4; ++w) workers.emplace_back([&worker, w] { worker(fmt::format("worker-{}", w)); });
        for (auto& t : workers) t.join();
    }
    CHECK(claimed_by.size() == 200);
    CHECK(twice == 0);
    std::set<std::string> workers_used;
    for (const auto& [job, by] : claimed_by) workers_used.insert(by);
    CHECK(workers_used.size() == 4);

    auto store = Postgres::open(dir.path);
    CHECK(store.claim_pending("late", std::chrono::minutes(5), 10).empty());  // every job is held
    store.mark_completed("j0", store_contract::at());                        // a status change ends the claim
    store.reset_to_pending("j0");
    const auto again = store.claim_pending("late", std::chrono::minutes(5), 10);
    REQUIRE(again.size() == 1);
    CHECK(again.front().job_name == "j0");
    store.release("late", "j0");
    CHECK(store.claim_pending("short", std::chrono::milliseconds(1), 1).size() == 1);  // released: j0 again
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    CHECK(store.claim_pending("next", std::chrono::minutes(1), 5).size() == 1);  // the short lease expired
    CHECK_THROWS_AS(store.claim_pending("", std::chrono::minutes(1), 1), llmbatch::InvalidArgument);
}

TEST_CASE("postgresql store: the password never appears in what the store says about itself") {
    const auto name = llmbatch::detail::redacted_conninfo("host=db.internal user=batch password=s3cret-pw dbname=jobs");
    CHECK(name.find("s3cret-pw") == std::string::npos);
    CHECK(name.find("db.internal") != std::string::npos);
    const auto uri = llmbatch::detail::redacted_conninfo("postgresql://batch:s3cret-pw@127.0.0.1:1/jobs?connect_timeout=2");
    CHECK(uri.find("s3cret-pw") == std::string::npos);
    try {
        llmbatch::PostgresJobStore store("postgresql://batch:s3cret-pw@127.0.0.1:1/jobs?connect_timeout=2");
        FAIL("nothing listens on port 1");
    } catch (const llmbatch::StoreError& e) {
        CHECK(std::string(e.what()).find("s3cret-pw") == std::string::npos);
        CHECK(std::string(e.what()).find("127.0.0.1") != std::string::npos);
    }
}

}

}  // namespace tests_stores_postgresql
