// providers/common/jsonl.hpp: lines split across chunks, CRLF, blank lines, line numbers.
#include "llmbatch/providers/common/jsonl.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

namespace tests_providers_common_jsonl {

namespace {

using Lines = std::vector<std::pair<std::string, std::size_t>>;

/// Feeds `text` in pieces of `piece` bytes and returns every line with its number.
Lines split(const std::string& text, std::size_t piece) {
    Lines out;
    llmbatch::JsonlSplitter lines;
    auto on_line = [&](std::string_view line, std::size_t number) { out.emplace_back(std::string(line), number); };
    for (std::size_t i = 0; i < text.size(); i += piece) lines.feed(std::string_view(text).substr(i, piece), on_line);
    lines.finish(on_line);
    return out;
}

}  // namespace

TEST_SUITE("providers") {

TEST_CASE("jsonl: every chunking gives the same lines, numbered as an editor shows them") {
    const std::string text = "{\"a\":1}\r\n\n  \t\n{\"b\":2}\n{\"c\":3}";
    const Lines expected{{"{\"a\":1}", 1}, {"{\"b\":2}", 4}, {"{\"c\":3}", 5}};
    for (std::size_t piece = 1; piece <= text.size(); ++piece) {
        CAPTURE(piece);
        CHECK(split(text, piece) == expected);
    }
}

TEST_CASE("jsonl: a final newline adds no line; an empty stream has none") {
    CHECK(split("{}\n", 2) == Lines{{"{}", 1}});
    CHECK(split("", 1).empty());
    std::size_t calls = 0;
    llmbatch::for_each_jsonl_line("x\r\ny\n", [&](std::string_view, std::size_t) { ++calls; });
    CHECK(calls == 2);
}

TEST_CASE("jsonl: a line longer than the limit is refused, naming it") {
    llmbatch::JsonlSplitter lines(8);
    auto ignore = [](std::string_view, std::size_t) {};
    lines.feed("short\n", ignore);
    CHECK_THROWS_WITH_AS(lines.feed("0123456789", ignore), "line 2 of the JSON Lines stream is longer than 8 bytes",
                         llmbatch::InvalidArgument);
}

}  // TEST_SUITE

}  // namespace tests_providers_common_jsonl
