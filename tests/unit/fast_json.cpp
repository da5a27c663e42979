// detail/fast_json.hpp: parse_json reads every text as nlohmann's parser does (same value, same
// number types, the same refusals), whether simdjson does the parsing or not; and on the same
// texts, the scanner of detail/json_scan.hpp finds what nlohmann's value holds.
#include "llmbatch/detail/fast_json.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "llmbatch/detail/json_scan.hpp"
#include "llmbatch/detail/json_util.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace tests_unit_fast_json {

using Json = nlohmann::json;

namespace {

/// The value at `path` (object keys from the root) in `value`, if there is one.
const Json* at_path(const Json& value, llmbatch::detail::KeyPath path) {
    const Json* at = &value;
    for (const auto key : path) {
        if (!at->is_object()) return nullptr;
        const auto it = at->find(std::string(key));
        if (it == at->end()) return nullptr;
        at = &*it;
    }
    return at;
}

/// Paths to look for, some found in the texts below.
const std::vector<std::vector<std::string_view>> scan_paths{
    {}, {"a"}, {"key"}, {"response"}, {"a", "b"}, {"metadata", "output"}, {"metadata", "output", "inlinedResponses"}};

/// The scanner (detail/json_scan.hpp) on JSON nlohmann reads: it finds the same values.
void check_scan(const std::string& text, const Json& plain) {
    std::vector<llmbatch::detail::KeyPath> paths(scan_paths.begin(), scan_paths.end());
    const auto found = llmbatch::detail::json_values_at(text, paths);
    for (std::size_t p = 0; p < paths.size(); ++p) {
        CAPTURE(fmt::format("{}", fmt::join(scan_paths[p], ".")));
        const Json* expected = at_path(plain, paths[p]);
        REQUIRE(found[p].has_value() == (expected != nullptr));
        if (expected) CHECK(Json::parse(*found[p]) == *expected);
    }
    CHECK(llmbatch::detail::json_skip_space(text, llmbatch::detail::json_value_end(text)) == text.size());
    if (!plain.is_array()) return;
    std::size_t i = 0;
    CHECK(llmbatch::detail::for_each_json_element(text, [&](std::string_view element) {
        REQUIRE(i < plain.size());
        CHECK(Json::parse(element) == plain[i++]);
    }));
    CHECK(i == plain.size());
}

void check_same(const std::string& text) {
    CAPTURE(text.substr(0, 200));
    const Json fast = llmbatch::detail::parse_json(text);
    const Json plain = Json::parse(text, nullptr, false);
    REQUIRE(fast.is_discarded() == plain.is_discarded());
    if (plain.is_discarded()) return;
    check_scan(text, plain);
    if (llmbatch::detail::nests_deeper_than(plain)) return;
    CHECK(fast == plain);
    CHECK(fast.dump() == plain.dump());  // the same number types: 0 and -0, 1 and 1.0 print apart
}

std::filesystem::path corpora() {
#ifdef LLMBATCH_FUZZ_CORPUS_DIR
    return LLMBATCH_FUZZ_CORPUS_DIR;
#else
    return std::filesystem::path(__FILE__).parent_path().parent_path() / "fuzz" / "corpus";
#endif
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("parse_json: numbers, strings, keys and refusals as nlohmann reads them") {
    const std::vector<std::string> texts{
        "0", "-0", "[-0, 0, -0.0, 0.0, -0e5]", "{\"a\": -0}", "1", "-1", "1.0", "1e2", "1E-2", "-1.5e+3",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "18446744073709551615", "18446744073709551616", "123456789012345678901234567890", "1e400", "-1e400",
        "1e-400", "0.1", "3.141592653589793238462643383279", "\"\"", "\"\\u00e9\\ud83d\\ude00\\n\\t\\\"\"",
        "\"\xc3\xa9\"", "\"\xff\"", "\"\xed\xa0\x80\"", "{\"a\": 1, \"a\": 2}", "{\"b\": 1, \"a\": [true, false, null]}",
        "[]", "{}", "[[[[[]]]]]", " \n\t[1] \r\n", "", " ", "[1,]", "{\"a\":1,}", "[1] x", "nul", "tru", "[01]",
        "[1.]", "[.5]", "[+1]", "\"a\nb\"", "\xef\xbb\xbf{}", "/* c */ {}", "{\"k\": \"\\u0000\"}"};
    for (const auto& t : texts) check_same(t);
    // Deeper than simdjson goes (1,024 levels): nlohmann's parser reads it.
    check_same(std::string(1100, '[') + std::string(1100, ']'));
}

TEST_CASE("parse_json: results lines and answers of every size read the same") {
    std::string filler;
    for (int i = 0; i < 40; ++i) filler += "Reasoning at some length, with \"quotes\", \\ and\ttabs. ";
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{63}, std::size_t{64}, std::size_t{4096}}) {
        Json line;
        line["key"] = std::to_string(n);
        line["note"] = "unicode \xe2\x82\xac and \xf0\x9f\x98\x80";
        line["response"]["candidates"] = Json::array({{{"content", {{"parts", Json::array({{{"text", filler.substr(0, n)}}})}}}}});
        line["response"]["usageMetadata"] = {{"promptTokenCount", n}, {"thoughtsTokenCount", -1}};
        check_same(line.dump());
        check_same(line.dump(2));
    }
    // Larger than the parser kept per thread: nlohmann's parser.
    check_same(Json{{"big", std::string(llmbatch::detail::fast_json_cached_bytes + 10, 'x')}}.dump());
    check_same("[1, 2]");  // and the kept parser still works after it
}

TEST_CASE("parse_json: every fuzz seed reads the same") {
    std::size_t files = 0;
    for (const auto& dir : std::filesystem::directory_iterator(corpora())) {
        if (!dir.is_directory()) continue;
        for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
            std::ifstream in(entry.path(), std::ios::binary);
            std::ostringstream text;
            text << in.rdbuf();
            check_same(text.str());
            // and each of its lines, as a results download is read
            std::istringstream lines(text.str());
            for (std::string line; std::getline(lines, line);) check_same(line);
            ++files;
        }
    }
    CHECK(files > 20);
}

}

}  // namespace tests_unit_fast_json
