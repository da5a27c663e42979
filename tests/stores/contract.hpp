// The job store contract (llmbatch/job_store.hpp): what every JobStore must do, whatever keeps
// it. Each case is a doctest template over a factory `F` with `F::Store` and
// `static F::Store open(const std::filesystem::path& folder)` (a store kept in that folder; a
// second call opens the same store), and optionally `static std::string bytes(folder)`, the
// bytes of its files; stores/json.cpp, stores/sqlite.cpp and stores/postgresql.cpp invoke the cases,
// which all belong to the suite "store-contract" (meson runs each store's with a test-case filter).
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <limits>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "llmbatch/any_job_store.hpp"
#include "llmbatch/job_store.hpp"

#include "../support/temp_dir.hpp"
#include "../support/tracked_jobs.hpp"

namespace store_contract {

/// A thread whose exception is rethrown by `join` (where a plain thread would end the program),
/// joined by its destructor when the test fails first.
class Worker {
public:
    template <class F>
    explicit Worker(F f)
        : thread_([this, f = std::move(f)]() mutable {
              try {
                  f();
              } catch (...) {
                  error_ = std::current_exception();
              }
          }) {}
    Worker(Worker&&) = delete;
    Worker& operator=(Worker&&) = delete;
    ~Worker() {
        if (thread_.joinable()) thread_.join();
    }
    void join() {
        thread_.join();
        if (error_) std::rethrow_exception(error_);
    }

private:
    std::exception_ptr error_;
    std::thread thread_;
};

using namespace std::chrono_literals;
using llmbatch::CreateIntent;
using llmbatch::DuplicateJobError;
using llmbatch::InvalidArgument;
using llmbatch::TrackedJob;
using llmbatch::TrackedStatus;
using SysTime = std::chrono::system_clock::time_point;

using llmbatch_test::at;
using llmbatch_test::make_job;
using llmbatch_test::names_of;

/// Everything a store holds about `sources`, to check that a refused change changed nothing.
template <class Store>
std::string dump(const Store& store, const std::vector<std::string>& sources = {"s", "History/h.md", "Maths/m.md"}) {
    std::string out;
    for (const auto& j : store.jobs())
        out += fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}\n", j.job_name, j.provider, j.source, j.batch_index,
                           llmbatch::to_string(j.status), j.error_message, fmt::join(j.request_keys, ","), j.labels.size(),
                           j.completed_at.has_value());
    for (const auto& i : store.open_creates()) out += fmt::format("open {} {} {}\n", i.token, i.job.source, i.job.batch_index);
    for (const auto& s : sources) out += fmt::format("{}: {}\n", s, fmt::join(store.completed_batches(s), ","));
    return out;
}

template <class F>
struct World {
    llmbatch_test::TempDir dir{"llmbatch-store", true};
    typename F::Store store = F::open(dir.path);

    /// The store's content, and its files' bytes when the factory gives them (`F::bytes`): a
    /// refused change must not even rewrite a file.
    [[nodiscard]] std::string snapshot() const {
        if constexpr (requires { F::bytes(dir.path); }) return dump(store) + F::bytes(dir.path);
        else return dump(store);
    }
};

TEST_CASE_TEMPLATE_DEFINE("store: an empty store reads as empty" *
                              doctest::test_suite("store-contract"),
                          F, store_empty) {
    World<F> w;
    const auto& store = w.store;
    CHECK(store.jobs().empty());
    CHECK(store.pending().empty());
    CHECK_FALSE(store.find("batches/x").has_value());
    CHECK(store.completed_batches("s").empty());
    CHECK_FALSE(store.is_batch_completed("s", 0));
    CHECK(store.select_refetch(24, at()).empty());
    CHECK(store.open_creates().empty());
    CHECK_FALSE(std::string(store.description()).empty());
}

TEST_CASE_TEMPLATE_DEFINE("store: add then find returns every field; created_at is kept to the second" *
                              doctest::test_suite("store-contract"),
                          F, store_add_find) {
    World<F> w;
    auto job = make_job("batches/abc", "Geography/gcse-geography.md", 3, at(123ms));
    job.labels = {{"subject", "Geography"}, {"kind", "categoriser"}};
    job.request_keys = {"0", "1", "2"};
    w.store.add(job);
    auto expected = job;
    expected.created_at = at();
    REQUIRE(w.store.find("batches/abc").has_value());
    CHECK(*w.store.find("batches/abc") == expected);
    CHECK(w.store.jobs() == std::vector<TrackedJob>{expected});
    // Another handle on the same store sees it.
    const auto other = F::open(w.dir.path);
    CHECK(other.jobs() == std::vector<TrackedJob>{expected});
}

TEST_CASE_TEMPLATE_DEFINE("store: jobs come back in creation order, also after updates" *
                              doctest::test_suite("store-contract"),
                          F, store_order) {
    World<F> w;
    w.store.add(make_job("z-first", "s", 0));
    w.store.add(make_job("a-second", "s", 1));
    w.store.add(make_job("m-third", "s", 2));
    w.store.mark_failed("z-first", "boom");
    w.store.mark_completed("a-second", at(1h));
    CHECK(names_of(w.store.jobs()) == std::vector<std::string>{"z-first", "a-second", "m-third"});
    CHECK(names_of(w.store.pending()) == std::vector<std::string>{"m-third"});
}

TEST_CASE_TEMPLATE_DEFINE("store: add refuses tracked names (even forced) and bad jobs, changing nothing" *
                              doctest::test_suite("store-contract"),
                          F, store_add_refused) {
    World<F> w;
    w.store.add(make_job("batches/abc", "s", 0));
    w.store.mark_completed("batches/abc", at());
    const auto before = w.snapshot();
    CHECK_THROWS_AS(w.store.add(make_job("batches/abc", "other", 5)), InvalidArgument);
    CHECK_THROWS_AS(w.store.add(make_job("batches/abc", "other", 5), true), InvalidArgument);
    CHECK_THROWS_AS(w.store.add(make_job("", "s", 0)), InvalidArgument);
    CHECK_THROWS_AS(w.store.add(make_job("j", "s", -1)), InvalidArgument);
    CHECK(w.snapshot() == before);
}

TEST_CASE_TEMPLATE_DEFINE("store: the duplicate guard refuses a second pending job for a batch unless forced" *
                              doctest::test_suite("store-contract"),
                          F, store_duplicates) {
    World<F> w;
    w.store.add(make_job("batches/first", "History/h.md", 4));
    const auto before = w.snapshot();
    try {
        w.store.add(make_job("batches/second", "History/h.md", 4));
        FAIL("expected DuplicateJobError");
    } catch (const DuplicateJobError& e) {
        CHECK(e.existing_job() == "batches/first");
        const std::string what = e.what();
        CHECK(what.find("batches/first") != std::string::npos);
        CHECK(what.find("History/h.md") != std::string::npos);
    }
    CHECK(w.snapshot() == before);
    w.store.add(make_job("batches/other-index", "History/h.md", 5));
    w.store.add(make_job("batches/other-source", "Maths/m.md", 4));
    w.store.add(make_job("batches/forced", "History/h.md", 4), true);
    CHECK(w.store.jobs().size() == 4);
    w.store.mark_failed("batches/first", "404 NOT_FOUND");
    w.store.mark_cancelled("batches/forced");
    w.store.add(make_job("batches/after-failure", "History/h.md", 4));
    CHECK(w.store.find("batches/after-failure").has_value());
}

TEST_CASE_TEMPLATE_DEFINE("store: update changes one job; bad updates change nothing" *
                              doctest::test_suite("store-contract"),
                          F, store_update) {
    World<F> w;
    w.store.add(make_job("a", "s", 0));
    w.store.add(make_job("b", "s", 1));
    w.store.update("a", [](TrackedJob& j) {
        j.labels["note"] = "checked";
        j.request_keys = {"x"};
    });
    CHECK(w.store.find("a")->labels.at("note") == "checked");
    CHECK(w.store.find("a")->request_keys == std::vector<std::string>{"x"});
    CHECK(w.store.find("b")->labels.empty());
    const auto before = w.snapshot();
    CHECK_THROWS_AS(w.store.update("missing", [](TrackedJob&) {}), InvalidArgument);
    CHECK_THROWS_AS(w.store.update("a", [](TrackedJob& j) { j.job_name = "renamed"; }), InvalidArgument);
    CHECK_THROWS_AS(w.store.update("a", [](TrackedJob& j) { j.batch_index = -2; }), InvalidArgument);
    CHECK_THROWS_AS(w.store.update("a",
                                   [](TrackedJob& j) {
                                       j.source = "changed";
                                       throw std::runtime_error("caller gave up");
                                   }),
                    std::runtime_error);
    CHECK(w.snapshot() == before);
}

TEST_CASE_TEMPLATE_DEFINE("store: status changes, completion marks, and a mark that survives a reset" *
                              doctest::test_suite("store-contract"),
                          F, store_status) {
    World<F> w;
    auto& store = w.store;
    store.add(make_job("j5", "History/h.md", 5));
    store.add(make_job("j1", "History/h.md", 1));
    store.add(make_job("m0", "Maths/m.md", 0));
    store.mark_failed("j5", "temporary network error");
    CHECK(store.find("j5")->status == TrackedStatus::failed);
    CHECK(store.find("j5")->error_message == "temporary network error");
    store.mark_completed("j5", at(2h));
    store.mark_completed("j1", at(3h));
    store.mark_completed("j1", at(4h));
    CHECK(store.find("j5")->status == TrackedStatus::completed);
    CHECK(store.find("j5")->completed_at == at(2h));
    CHECK(store.find("j5")->error_message.empty());
    CHECK(store.find("j1")->completed_at == at(4h));
    CHECK(store.completed_batches("History/h.md") == std::set<std::int64_t>{1, 5});
    CHECK_FALSE(store.is_batch_completed("Maths/m.md", 0));
    store.mark_cancelled("m0");
    CHECK(store.find("m0")->status == TrackedStatus::cancelled);
    CHECK(store.find("m0")->error_message == "Cancelled by user.");
    store.reset_to_pending("j5");
    CHECK(store.find("j5")->status == TrackedStatus::pending);
    CHECK(store.find("j5")->completed_at == at(2h));
    CHECK(store.is_batch_completed("History/h.md", 5));
    store.unmark_completed("History/h.md", 5);
    store.unmark_completed("History/h.md", 7);
    store.unmark_completed("nowhere", 0);
    CHECK(store.completed_batches("History/h.md") == std::set<std::int64_t>{1});
    for (const auto* missing : {"zz"}) {
        CHECK_THROWS_AS(store.mark_completed(missing, at()), InvalidArgument);
        CHECK_THROWS_AS(store.mark_failed(missing, "x"), InvalidArgument);
        CHECK_THROWS_AS(store.mark_cancelled(missing, "x"), InvalidArgument);
        CHECK_THROWS_AS(store.reset_to_pending(missing), InvalidArgument);
    }
}

TEST_CASE_TEMPLATE_DEFINE("store: select_refetch takes completed jobs created within the window" *
                              doctest::test_suite("store-contract"),
                          F, store_refetch) {
    World<F> w;
    const auto now = at(24h);
    const std::vector<std::pair<std::string, std::chrono::seconds>> ages = {
        {"age-10m", 10min}, {"age-30m", 30min}, {"age-30m01s", 30min + 1s}, {"age-5h", 5h}, {"future", -5min}};
    std::int64_t index = 0;
    for (const auto& [name, age] : ages) {
        w.store.add(make_job(name, "s", index++, now - age));
        w.store.mark_completed(name, now);
    }
    w.store.add(make_job("pending-1m", "s", index++, now - 1min));
    CHECK(names_of(w.store.select_refetch(0.5, now)) == std::vector<std::string>{"age-10m", "age-30m", "future"});
    CHECK(names_of(w.store.select_refetch(6, now)).size() == 5);
    for (double hours : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
        CAPTURE(hours);
        CHECK_THROWS_AS((void)w.store.select_refetch(hours, now), InvalidArgument);
    }
}

TEST_CASE_TEMPLATE_DEFINE("store: a create in flight reserves its batch and becomes a job in one change" *
                              doctest::test_suite("store-contract"),
                          F, store_creates) {
    World<F> w;
    auto& store = w.store;
    auto planned = make_job("", "s", 0, at(5s));
    planned.request_keys = {"k0", "k1"};
    planned.labels = {{"subject", "History"}};
    store.begin_create({"token-a", planned});
    REQUIRE(store.open_creates().size() == 1);
    CHECK(store.open_creates().front() == CreateIntent{"token-a", planned});
    CHECK(store.jobs().empty());
    CHECK_THROWS_AS(store.add(make_job("other", "s", 0)), DuplicateJobError);
    CHECK_THROWS_AS(store.begin_create({"token-b", planned}), DuplicateJobError);
    CHECK_THROWS_AS(store.begin_create({"token-a", make_job("", "s", 1)}), InvalidArgument);
    CHECK_THROWS_AS(store.begin_create({"bad token", make_job("", "s", 1)}), InvalidArgument);
    CHECK_THROWS_AS(store.begin_create({"token-c", make_job("", "s", -1)}), InvalidArgument);
    store.begin_create({"token-b", planned}, true);
    store.abandon_create("token-b");
    store.abandon_create("token-b");
    CHECK(store.open_creates().size() == 1);

    const auto tracked = store.finish_create("token-a", "batches/abc");
    auto expected = planned;
    expected.job_name = "batches/abc";
    CHECK(tracked == expected);
    CHECK(store.jobs() == std::vector<TrackedJob>{expected});
    CHECK(store.open_creates().empty());
    CHECK_THROWS_AS(store.finish_create("token-a", "batches/abc"), InvalidArgument);

    // A job already tracked for another batch is not taken for this create, which stays open.
    store.begin_create({"token-d", make_job("", "s", 1)});
    CHECK_THROWS_AS(store.finish_create("token-d", "batches/abc"), InvalidArgument);
    CHECK(store.open_creates().size() == 1);
}

TEST_CASE_TEMPLATE_DEFINE("store: two handles changing one store at once lose nothing" *
                              doctest::test_suite("store-contract"),
                          F, store_concurrent) {
    llmbatch_test::TempDir dir("llmbatch-store", true);
    constexpr int per_writer = 60;
    auto writer = [&](int id) {
        auto store = F::open(dir.path);
        for (int i = 0; i < per_writer; ++i) {
            const auto name = fmt::format("w{}-{}", id, i);
            store.add(make_job(name, fmt::format("w{}", id), i));
            if (i % 3 == 0) store.mark_completed(name, at());
        }
    };
    Worker other([&] { writer(1); });
    writer(0);
    other.join();
    const auto store = F::open(dir.path);
    CHECK(store.jobs().size() == 2 * per_writer);
    CHECK(store.completed_batches("w0").size() == per_writer / 3);
    CHECK(store.completed_batches("w1").size() == per_writer / 3);
}

/// Fills `from` with jobs of every status, completion marks (one kept through a refetch reset)
/// and a create in flight, copies it into `to` (twice: the second copy finds everything there),
/// and checks `to` then holds the same.
template <class From, class To>
void check_copy(From& from, To& to) {
    from.add(make_job("done", "s", 0));
    from.mark_completed("done", at(1h));
    from.add(make_job("refetching", "s", 1));
    from.mark_completed("refetching", at(2h));
    from.reset_to_pending("refetching");
    from.add(make_job("failed", "History/h.md", 0));
    from.mark_failed("failed", "429 RESOURCE_EXHAUSTED");
    auto labelled = make_job("pending", "Maths/m.md", 3);
    labelled.labels = {{"subject", "Maths"}};
    labelled.request_keys = {"a", "b"};
    from.add(labelled);
    from.begin_create({"open-token", make_job("", "Maths/m.md", 4)});

    const auto report = llmbatch::copy_job_store(from, to);
    CHECK(report.jobs_copied == 4);
    CHECK(report.completed_batches == 2);
    CHECK(report.open_creates == 1);
    CHECK(to.jobs() == from.jobs());
    CHECK(dump(to) == dump(from));
    const auto again = llmbatch::copy_job_store(from, to);
    CHECK(again.jobs_copied == 0);
    CHECK(again.jobs_already_there == 4);
    CHECK(dump(to) == dump(from));
}

}  // namespace store_contract
