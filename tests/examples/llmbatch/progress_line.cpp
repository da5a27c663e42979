// How the llmbatch tool shows long transfers (examples/llmbatch/progress_line.hpp): one rewritten
// line on a terminal, a start and an end line elsewhere; and a large results download shown.
#include "cli.hpp"

#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "support.hpp"

TEST_SUITE("cli") {

using llmbatch::TransferProgress;
using llmbatch::cli::detail::ProgressLine;

namespace {

TransferProgress report(std::uint64_t bytes, std::int64_t ms, bool finished = false) {
    TransferProgress p;
    p.provider = "openai";
    p.what = "download results of batch_1";
    p.bytes = bytes;
    p.total = 50'000'000;
    p.elapsed = std::chrono::milliseconds(ms);
    p.finished = finished;
    return p;
}

}  // namespace

TEST_CASE("progress: not on a terminal, a line when a transfer starts and one when it ends") {
    std::ostringstream out;
    ProgressLine line(out, false);
    line(report(1'000'000, 100));
    line(report(20'000'000, 2'000));
    line(report(50'000'000, 5'000, true));
    CHECK(out.str() == "openai: download results of batch_1: started (50.0 MB)\n"
                       "openai: download results of batch_1: 50.0 MB in 5.0 s (10.0 MB/s)\n");
}

TEST_CASE("progress: on a terminal, one line rewritten with done, total, rate and time left, at most 4 times a second") {
    std::ostringstream out;
    ProgressLine line(out, true);
    line(report(1'000'000, 100));
    line(report(2'000'000, 200));  // within 250 ms of the last: not shown
    line(report(10'000'000, 1'000));
    line(report(50'000'000, 5'000, true));
    CHECK(out.str() ==
          "\ropenai: download results of batch_1: 1.0 of 50.0 MB, 10.0 MB/s, 5 s left"
          "\ropenai: download results of batch_1: 10.0 of 50.0 MB, 10.0 MB/s, 4 s left"
          "\ropenai: download results of batch_1: 50.0 MB in 5.0 s (10.0 MB/s)        \n");
}

TEST_CASE("progress: fetch shows a large results download on stderr, stdout untouched") {
    World w;
    std::string text;
    for (int i = 0; i < 2500; ++i)
        text += Json{{"source", "A/a.md"}, {"prompt", fmt::format("Question {}", i)}, {"id", fmt::format("q{}", i)}}
                    .dump() +
                "\n";
    const auto p = w.write("p.jsonl", text);
    REQUIRE(w.run({"create", "--prompts", p.string(), "--provider", "openai", "--batch-size", "2500"}).code == 0);
    w.clock.advance(job_finishes + 30s);
    const auto o = w.run({"fetch", "--check-all-pending", "--json"});
    REQUIRE(o.code == 0);
    const auto job = w.job_for("A/a.md", 0);
    CHECK(contains(o.err, "openai: download results of " + job.job_name));
    CHECK(contains(o.err, " MB in "));
    CHECK(Json::accept(o.out));
}

}
