// Tests of the llmbatch tool's job stores: --store (json:, sqlite:, postgresql://), `copy` from
// one store into another, and `fetch --worker`, in process on the Gemini emulator.
#include "cli.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support.hpp"

TEST_SUITE("cli") {

TEST_CASE("--store: bad values, and options that do not go with it, are usage errors that change nothing") {
    World w;
    auto expect_usage = [&](std::vector<std::string> args, const std::string& message) {
        std::ostringstream out, err;
        const int code = llmbatch::cli::run(args, w.backend, out, err);
        CHECK(code == 2);
        CHECK_MESSAGE(contains(err.str(), message), err.str());
    };
    expect_usage({"list", "--store", "mysql://u:secret@host/db"},
                 "--store takes json:PATH, sqlite:PATH or a postgresql:// connection string (got 'mysql:...')");
    expect_usage({"list", "--store", "sqlite:"}, "--store sqlite: needs a location after the colon");
    expect_usage({"list", "--store", "json:a.json", "--tracking-file", "b.json"}, "give --store or --tracking-file, not both");
    expect_usage({"list", "--store", "sqlite:a.db", "--state-file", "s.json"}, "--state-file belongs to json: stores");
    expect_usage({"copy"}, "copy needs --to SPEC");
    expect_usage({"fetch", "--check-all-pending", "--claim-size", "3"}, "--lease-minutes and --claim-size go with --worker");
    std::ostringstream out, err;
    CHECK(llmbatch::cli::run({"list", "--store", "mysql://u:secret@host/db"}, w.backend, out, err) == 2);
    CHECK_FALSE(contains(err.str(), "secret"));
    CHECK_FALSE(fs::exists(w.tracking_file()));
}

TEST_CASE("--store json:PATH is the tracking file") {
    World w;
    w.store = "json:" + w.tracking_file().string();
    const auto p = w.write("p.jsonl", prompts_text({{"A/a.md", 2}}));
    auto o = w.run({"create", "--prompts", p.string(), "--state-file", w.state_file().string()});
    REQUIRE(o.code == 0);
    CHECK(w.tracker().jobs().size() == 1);
    o = w.run({"list", "--state-file", w.state_file().string()});
    CHECK(contains(o.out, "Total: 1 job(s)\n"));
}

TEST_CASE("fetch --worker needs a store that can split the pending jobs") {
    World w;
    const auto p = w.write("p.jsonl", prompts_text({{"A/a.md", 2}}));
    REQUIRE(w.run({"create", "--prompts", p.string()}).code == 0);
    const auto o = w.run({"fetch", "--worker", "w1"});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "--worker needs a PostgreSQL store (--store postgresql://...): " + w.tracking_file().string() +
                              " cannot split the pending jobs between workers"));
    CHECK(w.tracker().pending().size() == 1);

    // Results kept in the database, and their export, need a PostgreSQL store too.
    auto r = w.run({"fetch", "--check-all-pending", "--results-in-store"});
    CHECK(r.code == 2);
    CHECK(contains(r.err, "--results-in-store needs a PostgreSQL store (--store postgresql://...), not " +
                              w.tracking_file().string()));
    r = w.run({"export"});
    CHECK(r.code == 2);
    CHECK(contains(r.err, "export needs --format csv|jsonl, or a PostgreSQL store"));
    CHECK(w.tracker().pending().size() == 1);
}

#ifdef LLMBATCH_HAVE_SQLITE
TEST_CASE("--store sqlite:PATH: create, list, fetch and cancel work on a SQLite store") {
    World w;
    const auto db = w.dir.path / "jobs.db";
    w.store = "sqlite:" + db.string();
    const auto p = w.write("p.jsonl", prompts_text({{"A/a.md", 3}, {"B/b.md", 2}}));
    auto o = w.run({"create", "--prompts", p.string()});
    REQUIRE(o.code == 0);
    CHECK_FALSE(fs::exists(w.tracking_file()));
    llmbatch::SqliteJobStore store(db);
    REQUIRE(store.jobs().size() == 2);
    const auto a = store.jobs()[0].job_name;
    const auto b = store.jobs()[1].job_name;

    // A second create of the same prompts is refused by the SQLite store's duplicate guard.
    o = w.run({"create", "--prompts", p.string()});
    CHECK(o.code == 3);
    CHECK(store.jobs().size() == 2);

    o = w.run({"list"});
    CHECK(o.code == 0);
    CHECK(contains(o.out, a + "  pending    A/a.md  0\n"));
    CHECK(contains(o.out, "Total: 2 job(s)\n"));

    o = w.run({"cancel", "--job-names", b});
    CHECK(o.code == 0);
    CHECK(store.find(b)->status == TrackedStatus::cancelled);

    w.clock.advance(job_finishes);
    o = w.run({"fetch", "--check-all-pending"});
    CHECK(o.code == 0);
    CHECK(contains(o.out, "  Saved 3 result(s) to "));
    CHECK(store.find(a)->status == TrackedStatus::completed);
    CHECK(store.is_batch_completed("A/a.md", 0));
    CHECK(jsonl(w.results_of("A/a.md")).size() == 3);

    o = w.run({"fetch", "--job-names", "batches/unknown"});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "Unknown job name(s), not in sqlite:" + db.string() + ": batches/unknown"));
}

TEST_CASE("copy moves the JSON files into SQLite losing nothing, and can be run again") {
    World w;
    const auto p = w.write("p.jsonl", prompts_text({{"A/a.md", 2}, {"B/b.md", 2}, {"C/c.md", 2}}));
    REQUIRE(w.run({"create", "--prompts", p.string()}).code == 0);
    const auto a = w.job_for("A/a.md", 0).job_name;
    const auto c = w.job_for("C/c.md", 0).job_name;
    w.clock.advance(job_finishes);
    REQUIRE(w.run({"fetch", "--job-names", a}).code == 0);
    w.tracker().mark_failed(c, "quota exceeded");
    const auto listed_json = w.run({"list", "--show-errors"}).out;

    const auto db = w.dir.path / "jobs.db";
    auto o = w.run({"copy", "--to", "sqlite:" + db.string()});
    REQUIRE(o.code == 0);
    CHECK(o.out == fmt::format("Copied 3 job(s), 1 completed batch mark(s) and 0 create(s) in flight from {} to sqlite:{}\n"
                               "Use it with: llmbatch <command> --store sqlite:{}\n",
                               w.tracking_file().string(), db.string(), db.string()));
    llmbatch::SqliteJobStore store(db);
    const auto from = w.tracker().jobs();
    const auto to = store.jobs();
    REQUIRE(to.size() == from.size());
    for (std::size_t i = 0; i < from.size(); ++i) {
        CHECK(to[i].job_name == from[i].job_name);
        CHECK(to[i].status == from[i].status);
        CHECK(to[i].labels == from[i].labels);
        CHECK(to[i].request_keys == from[i].request_keys);
        CHECK(to[i].error_message == from[i].error_message);
    }
    CHECK(store.completed_batches("A/a.md") == std::set<std::int64_t>{0});

    // The same listing from the new store; the source is unchanged and a second copy adds nothing.
    CHECK(w.run({"list", "--show-errors", "--store", "sqlite:" + db.string()}).code == 2);  // --tracking-file too
    std::ostringstream out, err;
    REQUIRE(llmbatch::cli::run({"list", "--show-errors", "--store", "sqlite:" + db.string()}, w.backend, out, err) == 0);
    CHECK(out.str() == listed_json);
    o = w.run({"copy", "--to", "sqlite:" + db.string(), "--json"});
    CHECK(o.code == 0);
    const auto report = Json::parse(o.out);
    CHECK(report["jobs_copied"] == 0);
    CHECK(report["jobs_already_there"] == 3);
    CHECK(w.tracker().jobs().size() == 3);

    o = w.run({"copy", "--to", "json:" + w.tracking_file().string(), "--to-state-file", w.state_file().string()});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "names the store it copies from"));
}
#endif

#ifdef LLMBATCH_HAVE_LIBPQ
TEST_CASE("a PostgreSQL store that cannot be reached is an error that never shows the password") {
    World w;
    w.store = "postgresql://batch:s3cret-pw@127.0.0.1:1/llmbatch?connect_timeout=2";
    const auto o = w.run({"list"});
    CHECK(o.code == 1);
    CHECK(contains(o.err, "127.0.0.1"));
    CHECK_FALSE(contains(o.err, "s3cret-pw"));
    llmbatch::cli::detail::StoreSpec spec{llmbatch::cli::detail::StoreSpec::Kind::postgresql, w.store};
    CHECK_FALSE(contains(spec.shown(), "s3cret-pw"));
    CHECK(contains(spec.shown(), "batch"));
}
#endif

}  // TEST_SUITE
