// How the llmbatch tool reads its command line (examples/llmbatch/command_line.hpp): CLI11 under
// the tool's own messages, near-miss hints, --version, and options before or after the command.
#include "cli.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support.hpp"

TEST_SUITE("cli") {

TEST_CASE("a near-miss command or option gets a 'did you mean' hint") {
    World w;
    auto o = w.run({"fecth", "--check-all-pending"});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "Error: unknown command 'fecth' (expected create, fetch, list, cancel, refresh-errors, "
                          "wait, show, export or copy) (did you mean 'fetch'?)\n"));
    o = w.run({"fetch", "--check-all-pendng"});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "Error: unknown option '--check-all-pendng' for 'fetch' (did you mean '--check-all-pending'?)\n"));
    CHECK(contains(o.err, "Run 'llmbatch fetch --help' for usage."));
    o = w.run({"list", "--show-error"});
    CHECK(contains(o.err, "(did you mean '--show-errors'?)"));
    o = w.run({"list", "--zzzzzzzz"});
    CHECK(o.code == 2);
    CHECK_FALSE(contains(o.err, "did you mean"));
    CHECK(llmbatch::cli::detail::did_you_mean("wiat", {"create", "wait"}) == " (did you mean 'wait'?)");
    CHECK(llmbatch::cli::detail::did_you_mean("xyz", {"create", "wait"}).empty());
}

TEST_CASE("--version prints the version; options may come before the command") {
    World w;
    auto o = w.run({"--version"});
    CHECK(o.code == 0);
    CHECK(o.out == "llmbatch " + std::string(llmbatch::cli::version) + "\n");
    CHECK(o.out != "llmbatch unknown\n");

    std::ostringstream out, err;
    CHECK(llmbatch::cli::run({"--tracking-file", w.tracking_file().string(), "--json", "list"}, w.backend, out, err) == 0);
    CHECK(Json::parse(out.str())["total"] == 0);

    o = w.run({"list", "--json=yes"});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "option --json takes no value"));
    o = w.run({"list", "--status=pending"});
    CHECK(o.code == 0);
}

TEST_CASE("every help text names the exit codes") {
    World w;
    for (const auto* command : {"create", "fetch", "list", "cancel", "refresh-errors", "wait"}) {
        CAPTURE(command);
        const auto o = w.run({command, "--help"});
        CHECK(contains(o.out, "Exit codes: 0 success"));
        CHECK(contains(o.out, "3 create refused a batch because it already has a pending job"));
    }
    CHECK(contains(w.run({"--help"}).out, "--version"));
}

}  // TEST_SUITE
