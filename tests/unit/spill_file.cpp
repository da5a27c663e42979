// detail/spill_file.hpp: lines in arrival order, given back in index order; chunked reads.
#include "llmbatch/detail/spill_file.hpp"

#include <doctest/doctest.h>

#include "../support/temp_dir.hpp"

#include <filesystem>
#include <fstream>
#include <string>

namespace tests_unit_spill_file {

TEST_SUITE("unit") {

TEST_CASE("spill: lines come back in index order, a repeated index keeps its last line, nothing is left behind") {
    llmbatch_test::TempDir dir("llmbatch-spill");
    const auto near = dir.path / "results.jsonl";
    {
        llmbatch::detail::SpillFile spill(near);
        spill.put(2, "two\n");
        spill.put(0, "zero\n");
        spill.put(5, "five\n");
        spill.put(0, "ZERO\n");
        CHECK(spill.count() == 3);
        std::string out;
        spill.for_each_in_order([&](std::string_view chunk) { out += chunk; });
        CHECK(out == "ZERO\ntwo\nfive\n");
    }
    CHECK(std::filesystem::is_empty(dir.path));
}

TEST_CASE("spill: large spills come back whole, in bounded pieces") {
    llmbatch_test::TempDir dir("llmbatch-spill");
    llmbatch::detail::SpillFile spill(dir.path / "r.jsonl");
    const std::string line(1000, 'x');
    for (std::size_t i = 0; i < 5000; ++i) spill.put(4999 - i, line + std::to_string(4999 - i) + "\n");
    std::size_t bytes = 0, pieces = 0;
    std::string first;
    spill.for_each_in_order([&](std::string_view chunk) {
        if (pieces++ == 0) first = std::string(chunk.substr(0, 1001));
        bytes += chunk.size();
        CHECK(chunk.size() <= llmbatch::detail::SpillFile::buffer_bytes + 2000);
    });
    CHECK(first == line + "0");
    CHECK(bytes == 5000 * 1001 + 10 + 90 * 2 + 900 * 3 + 4000 * 4);
}

TEST_CASE("read_file_chunks: pieces of the asked size; false for a missing file") {
    llmbatch_test::TempDir dir("llmbatch-spill");
    std::ofstream(dir.path / "f", std::ios::binary) << "abcdefg";
    std::string got;
    std::size_t calls = 0;
    CHECK(llmbatch::detail::read_file_chunks(dir.path / "f", [&](std::string_view c) { got += c; ++calls; }, 3));
    CHECK(got == "abcdefg");
    CHECK(calls == 3);
    CHECK_FALSE(llmbatch::detail::read_file_chunks(dir.path / "missing", [](std::string_view) {}));
}

}  // TEST_SUITE

}  // namespace tests_unit_spill_file
