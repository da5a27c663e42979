// The job store contract for SqliteJobStore, and what only a database has: its schema version,
// refusing other databases, and waiting for another process instead of failing.
#include "llmbatch/stores/sqlite.hpp"

#include "contract.hpp"

#include <signal.h>

#include <random>
#include <set>
#include <thread>

#include "../support/stress_child.hpp"

namespace tests_stores_sqlite {

namespace {

struct Sqlite {
    using Store = llmbatch::SqliteJobStore;
    static Store open(const std::filesystem::path& folder) { return Store(folder / "jobs.sqlite", {.sync_each_change = false}); }
};

}  // namespace

TEST_SUITE("stores") {
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_empty, Sqlite);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_add_find, Sqlite);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_order, Sqlite);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_add_refused, Sqlite);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_duplicates, Sqlite);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_update, Sqlite);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_status, Sqlite);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_refetch, Sqlite);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_creates, Sqlite);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_concurrent, Sqlite);

TEST_CASE("sqlite store: a newer schema or another database is refused and left unchanged") {
    llmbatch_test::TempDir dir("llmbatch-sqlite", true);
    const auto file = dir.path / "jobs.sqlite";
    {
        llmbatch::detail::SqliteDatabase db(file, std::chrono::seconds(1), false);
        db.execute("CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('mine')");
    }
    CHECK_THROWS_AS((void)llmbatch::SqliteJobStore{file}, llmbatch::TrackingFileError);
    {
        llmbatch::detail::SqliteDatabase db(file, std::chrono::seconds(1), false);
        auto q = db.prepare("SELECT text FROM notes");
        REQUIRE(q.step());
        CHECK(q.text(0) == "mine");
        CHECK(db.user_version() == 0);
    }
    const auto newer = dir.path / "newer.sqlite";
    {
        llmbatch::SqliteJobStore store(newer);
        store.add(store_contract::make_job("batches/a", "s", 0));
    }
    {
        llmbatch::detail::SqliteDatabase db(newer, std::chrono::seconds(1), false);
        db.set_user_version(llmbatch::SqliteJobStore::schema_version + 1);
    }
    try {
        llmbatch::SqliteJobStore store(newer);
        FAIL("a newer schema is refused");
    } catch (const llmbatch::TrackingFileError& e) {
        CHECK(std::string(e.what()).find("newer llmbatch") != std::string::npos);
    }
}

TEST_CASE("sqlite store: a change waits for another process's transaction, then fails clearly after the timeout") {
    llmbatch_test::TempDir dir("llmbatch-sqlite", true);
    const auto file = dir.path / "jobs.sqlite";
    llmbatch::SqliteJobStore store(file, {.busy_timeout = std::chrono::milliseconds(200), .sync_each_change = false});
    llmbatch::detail::SqliteDatabase other(file, std::chrono::seconds(1), false);
    other.execute("BEGIN IMMEDIATE");
    try {
        store.add(store_contract::make_job("batches/a", "s", 0));
        FAIL("the store is locked");
    } catch (const llmbatch::StoreError& e) {
        CHECK(std::string(e.what()).find(file.string()) != std::string::npos);
    }
    other.execute("COMMIT");
    store.add(store_contract::make_job("batches/a", "s", 0));
    CHECK(store.jobs().size() == 1);
}

TEST_CASE("sqlite store: writers killed at random moments never lose a committed job; two at once lose nothing") {
    llmbatch_test::TempDir dir("llmbatch-sqlite", true);
    const std::string store = "sqlite:" + (dir.path / "jobs.sqlite").string();
    std::mt19937 rng(std::random_device{}());
    std::set<std::string> committed;
    for (int round = 0; round < 6; ++round) {
        auto child = llmbatch_test::spawn_stress(store, "", round * 100000L, 100000L);
        std::this_thread::sleep_for(std::chrono::milliseconds(20 + static_cast<int>(rng() % 20) + round * 10));
        REQUIRE(::kill(child.pid, SIGKILL) == 0);
        const auto reported = llmbatch_test::finish(child);
        committed.insert(reported.begin(), reported.end());
        std::set<std::string> present;
        for (const auto& job : llmbatch::SqliteJobStore(dir.path / "jobs.sqlite").jobs()) present.insert(job.job_name);
        for (const auto& name : committed) {
            CAPTURE(name);
            CHECK(present.count(name) == 1);
        }
    }
    MESSAGE(committed.size(), " job(s) reported committed before the kills");
    auto first = llmbatch_test::spawn_stress(store, "", 900000, 150);
    auto second = llmbatch_test::spawn_stress(store, "", 950000, 150);
    int status1 = 0, status2 = 0;
    const auto reported1 = llmbatch_test::finish(first, &status1);
    const auto reported2 = llmbatch_test::finish(second, &status2);
    CHECK((WIFEXITED(status1) && WEXITSTATUS(status1) == 0));
    CHECK((WIFEXITED(status2) && WEXITSTATUS(status2) == 0));
    CHECK(reported1.size() + reported2.size() == 300);
    const llmbatch::SqliteJobStore after(dir.path / "jobs.sqlite");
    for (const auto& name : reported1) CHECK(after.find(name).has_value());
    for (const auto& name : reported2) CHECK(after.find(name).has_value());
}


TEST_CASE("copy_job_store copies the JSON files into SQLite, losing nothing") {
    llmbatch_test::TempDir dir("llmbatch-copy", true);
    llmbatch::JobTracker from(dir.path / "jobs.json", dir.path / "state.json");
    auto to = Sqlite::open(dir.path);
    store_contract::check_copy(from, to);
}
}

}  // namespace tests_stores_sqlite
