// Tests of llmbatch/json_filter.hpp: finding the JSON value in a model's free text.
#include "llmbatch/json_filter.hpp"

#include <doctest/doctest.h>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace tests_unit_json_filter {

namespace {

using llmbatch::filter_json;
using llmbatch::Json;
using llmbatch::JsonExtractionError;
using llmbatch::try_filter_json;

// The message filter_json throws for `text`, or "(no error)" when it finds a value.
std::string error_message(std::string_view text) {
    try {
        (void)filter_json(text);
    } catch (const JsonExtractionError& e) {
        return e.what();
    }
    return "(no error)";
}

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

std::string repeat(std::string_view piece, std::size_t times) {
    std::string out;
    out.reserve(piece.size() * times);
    for (std::size_t i = 0; i < times; ++i) out += piece;
    return out;
}

// Whether `a` and `b` are the same value down to the type of every number and the order of
// every object's keys (Json's == takes 1 and 1.0 as equal). Walks without recursion.
bool same_json(const Json& a, const Json& b) {
    std::vector<std::pair<const Json*, const Json*>> todo{{&a, &b}};
    while (!todo.empty()) {
        const auto [x, y] = todo.back();
        todo.pop_back();
        if (x->type() != y->type() || x->size() != y->size()) return false;
        if (x->is_object()) {
            for (auto i = x->begin(), j = y->begin(); i != x->end(); ++i, ++j) {
                if (i.key() != j.key()) return false;
                todo.emplace_back(&*i, &*j);
            }
        } else if (x->is_array()) {
            for (std::size_t k = 0; k < x->size(); ++k) todo.emplace_back(&(*x)[k], &(*y)[k]);
        } else if (*x != *y) {
            return false;
        }
    }
    return true;
}

// What an extraction gives: the value, or the message of its JsonExtractionError.
struct Outcome {
    std::optional<Json> value;
    std::string error;
};

template <class F>
Outcome outcome_of(F&& extract) {
    try {
        return {extract(), {}};
    } catch (const JsonExtractionError& e) {
        return {std::nullopt, e.what()};
    }
}

// filter_json and try_filter_json give for `text` what the search alone gives: the same value
// (types and key order included) or the same error message.
void check_agrees_with_search(std::string_view text) {
    INFO("text: ", llmbatch::detail::text_excerpt(text, 200));
    const Outcome fast = outcome_of([&] { return filter_json(text); });
    const Outcome searched = outcome_of([&] { return llmbatch::detail::search_filter_json(text); });
    CHECK(fast.error == searched.error);
    REQUIRE(fast.value.has_value() == searched.value.has_value());
    if (fast.value) CHECK(same_json(*fast.value, *searched.value));
    const std::optional<Json> tried = try_filter_json(text);
    REQUIRE(tried.has_value() == fast.value.has_value());
    if (tried) CHECK(same_json(*tried, *fast.value));
}

// The fuzz seeds of filter_json: the build names their folder, else it is found from this file.
std::filesystem::path filter_json_corpus() {
#ifdef LLMBATCH_FUZZ_CORPUS_DIR
    return std::filesystem::path(LLMBATCH_FUZZ_CORPUS_DIR) / "filter_json";
#else
    return std::filesystem::path(__FILE__).parent_path().parent_path() / "fuzz" / "corpus" / "filter_json";
#endif
}


}  // namespace

TEST_SUITE("unit") {

TEST_CASE("filter_json: the seed project's cases") {
    SUBCASE("prose around an object gives the object") {
        CHECK(filter_json("Here is the result:\n{\"key\": \"value\"}\nLet me know if you need more.") ==
              Json::parse(R"({"key": "value"})"));
    }
    SUBCASE("preamble and trailer around a list give the list") {
        CHECK(filter_json(R"(Some preamble text [ {"a": 1}, {"b": 2} ] end)") ==
              Json::parse(R"([{"a": 1}, {"b": 2}])"));
    }
    SUBCASE("a trailing comma is removed") {
        CHECK(filter_json(R"({"key": "value",})") == Json::parse(R"({"key":"value"})"));
    }
    SUBCASE("text without JSON is an error") {
        CHECK_THROWS_AS((void)filter_json("No JSON here"), JsonExtractionError);
    }
}

TEST_CASE("filter_json: a bare value is returned as is") {
    CHECK(filter_json(R"({"a": 1, "b": [true, false, null], "c": {"d": -2.5e3}})") ==
          Json::parse(R"({"a": 1, "b": [true, false, null], "c": {"d": -2.5e3}})"));
    CHECK(filter_json("[]") == Json::array());
    CHECK(filter_json("{}") == Json::object());
    CHECK(filter_json(" \n\t[1, \"two\", 3.0]\r\n ") == Json::parse(R"([1, "two", 3.0])"));
}

TEST_CASE("filter_json: the result is an object or array of the right shape, not a string") {
    const Json object = filter_json(R"(Result: {"n": 1})");
    CHECK(object.is_object());
    CHECK(object.at("n") == 1);
    const Json array = filter_json("Result: [1, 2]");
    CHECK(array.is_array());
    CHECK(array.size() == 2);
}

TEST_CASE("filter_json: trailing commas") {
    SUBCASE("in nested objects and arrays, with whitespace and newlines before the closer") {
        CHECK(filter_json("{\"a\": [1, 2, ], \"b\": {\"c\": 3 ,\n\t}, }") ==
              Json::parse(R"({"a": [1, 2], "b": {"c": 3}})"));
        CHECK(filter_json("[[1,],[2,\r\n],]") == Json::parse("[[1],[2]]"));
    }
    SUBCASE("commas inside strings are kept") {
        CHECK(filter_json(R"({"s": "a,}", "t": "b, ]",})") == Json::parse(R"({"s": "a,}", "t": "b, ]"})"));
    }
    SUBCASE("a comma not followed by a closer is still an error of the JSON") {
        CHECK_THROWS_AS((void)filter_json(R"({"a": 1,, "b": 2})"), JsonExtractionError);
        CHECK_THROWS_AS((void)filter_json("[1, , 2]"), JsonExtractionError);
    }
    SUBCASE("only a comma after a value is dropped") {
        CHECK_THROWS_AS((void)filter_json("[,]"), JsonExtractionError);
        CHECK_THROWS_AS((void)filter_json("{,}"), JsonExtractionError);
        CHECK_THROWS_AS((void)filter_json("[1,,]"), JsonExtractionError);
        CHECK_THROWS_AS((void)filter_json(R"({"a":,})"), JsonExtractionError);
    }
}

TEST_CASE("filter_json: code fences are preferred") {
    SUBCASE("a json fence") {
        CHECK(filter_json("Here you go:\n```json\n{\"a\": 1}\n```\nDone.") == Json::parse(R"({"a": 1})"));
    }
    SUBCASE("the language tag in any case, with more words after it") {
        CHECK(filter_json("```JSON\n[1, 2]\n```") == Json::parse("[1, 2]"));
        CHECK(filter_json("```json title=\"answer\"\n{\"a\": 2}\n```") == Json::parse(R"({"a": 2})"));
    }
    SUBCASE("a fence without a language tag") {
        CHECK(filter_json("Answer:\n```\n{\"a\": 3}\n```") == Json::parse(R"({"a": 3})"));
    }
    SUBCASE("a fence wins over a value in the prose before it") {
        CHECK(filter_json("Draft: {\"v\": 1}\nFinal:\n```json\n{\"v\": 2}\n```") == Json::parse(R"({"v": 2})"));
        CHECK(filter_json("See [1] for details.\n```json\n{\"v\": 3}\n```") == Json::parse(R"({"v": 3})"));
    }
    SUBCASE("a json fence wins over an earlier untagged fence") {
        CHECK(filter_json("```\n[0]\n```\nand\n```json\n{\"v\": 4}\n```") == Json::parse(R"({"v": 4})"));
    }
    SUBCASE("of several json fences, the first holding a value wins") {
        CHECK(filter_json("```json\nnot json at all\n```\n```json\n{\"b\": 2}\n```\n```json\n{\"c\": 3}\n```") ==
              Json::parse(R"({"b": 2})"));
        CHECK(filter_json("```json\n{\"first\": true}\n```\n```json\n{\"second\": true}\n```") ==
              Json::parse(R"({"first": true})"));
    }
    SUBCASE("prose inside the fence around the value is ignored, trailing commas are removed") {
        CHECK(filter_json("```json\n// the answer\n{\"a\": [1, 2,],}\n(end)\n```") == Json::parse(R"({"a": [1, 2]})"));
    }
    SUBCASE("a fence of another language is not preferred") {
        CHECK(filter_json("```python\nprint('hello')\n```\nResult: {\"a\": 1}") == Json::parse(R"({"a": 1})"));
        // Its content is still part of the text, and it comes first.
        CHECK(filter_json("```python\nx = [1, 2]\n```\nResult: {\"a\": 1}") == Json::parse("[1, 2]"));
    }
    SUBCASE("CRLF line ends, indentation, tildes, a longer closing run") {
        CHECK(filter_json("Text\r\n```json\r\n{\"a\": 1}\r\n```\r\n") == Json::parse(R"({"a": 1})"));
        CHECK(filter_json("1. Item\n   ```json\n   {\"a\": 2}\n   ```\n") == Json::parse(R"({"a": 2})"));
        CHECK(filter_json("~~~json\n{\"a\": 3}\n~~~\n") == Json::parse(R"({"a": 3})"));
        CHECK(filter_json("````json\n{\"a\": \"```\"}\n`````\n") == Json::parse(R"({"a": "```"})"));
    }
    SUBCASE("a fence shown inside a longer fence is content, not a fence") {
        CHECK(filter_json("````markdown\n```json\n[0]\n```\n````\nAnswer: {\"v\": 1}") == Json::parse("[0]"));
    }
    SUBCASE("a fence closed on the value's own line, or never closed, still gives the value") {
        CHECK(filter_json("```json\n{\"a\": 1}```") == Json::parse(R"({"a": 1})"));
        CHECK(filter_json("```json\n{\"a\": 2}\n") == Json::parse(R"({"a": 2})"));
    }
    SUBCASE("an inline triple-backtick span is not a fence; the value is still found") {
        CHECK(filter_json("Use ```json {\"a\": 1}``` please") == Json::parse(R"({"a": 1})"));
    }
    SUBCASE("a fence holding no value falls back to the whole text") {
        CHECK(filter_json("```json\nsorry\n```\nbut here: [7]") == Json::parse("[7]"));
        // A truncated fenced value followed by a complete one in the prose.
        CHECK(filter_json("```json\n{\"a\": [1, 2\n```\nFixed: {\"a\": [1, 2]}") ==
              Json::parse(R"({"a": [1, 2]})"));
    }
    SUBCASE("a fence holding only a scalar holds no value") {
        CHECK_THROWS_AS((void)filter_json("```json\n42\n```"), JsonExtractionError);
        CHECK_THROWS_AS((void)filter_json("```json\n\"text\"\n```"), JsonExtractionError);
    }
}

TEST_CASE("filter_json: a stray bracket in the prose does not hide the value") {
    SUBCASE("an unmatched opening bracket before the value") {
        CHECK(filter_json(R"(Note: see [below. {"a": 1})") == Json::parse(R"({"a": 1})"));
        CHECK(filter_json(R"(Note: see {below. [1, 2])") == Json::parse("[1, 2]"));
        CHECK(filter_json(R"(a [ b [ c { d {"x": [1]} e)") == Json::parse(R"({"x": [1]})"));
    }
    SUBCASE("an unmatched bracket after the value") {
        CHECK(filter_json(R"({"a": 1} and then [ or { never closed)") == Json::parse(R"({"a": 1})"));
    }
    SUBCASE("unmatched closing brackets") {
        CHECK(filter_json(R"(oops ] } ) {"a": 1} ] })") == Json::parse(R"({"a": 1})"));
    }
    SUBCASE("a balanced bracket pair of prose around the value") {
        CHECK(filter_json(R"([see: {"a": 1} above])") == Json::parse(R"({"a": 1})"));
        CHECK(filter_json(R"({placeholder} then {"a": 1})") == Json::parse(R"({"a": 1})"));
    }
    SUBCASE("mismatched brackets") {
        CHECK(filter_json("[1, 2} then [3]") == Json::parse("[3]"));
        CHECK(filter_json(R"({"a": [1, 2}} then {"b": 2})") == Json::parse(R"({"b": 2})"));
    }
    SUBCASE("a quote in the prose before the value") {
        CHECK(filter_json(R"(He said "[" and then {"a": 1})") == Json::parse(R"({"a": 1})"));
        CHECK(filter_json(R"([ "x {"a": 1})") == Json::parse(R"({"a": 1})"));
        CHECK(filter_json(R"(it's "quoted [ text" {"a": "b"})") == Json::parse(R"({"a": "b"})"));
    }
}

TEST_CASE("filter_json: strings do not confuse the bracket scan") {
    CHECK(filter_json(R"({"s": "a } ] \" [ {"})") == Json::parse(R"({"s": "a } ] \" [ {"})"));
    CHECK(filter_json(R"(x {"s": "\\", "t": "\\\"}"} y)") == Json::parse(R"({"s": "\\", "t": "\\\"}"})"));
    CHECK(filter_json(R"(["]", "[", "}", "{"] tail ])") == Json::parse(R"(["]", "[", "}", "{"])"));
    CHECK(filter_json(R"({"path": "C:\\dir\\", "q": "\"quoted\""})") ==
          Json::parse(R"({"path": "C:\\dir\\", "q": "\"quoted\""})"));
}

TEST_CASE("filter_json: the first complete value is returned, never merged with what follows") {
    CHECK(filter_json(R"({"a": 1} and then {"b": 2})") == Json::parse(R"({"a": 1})"));
    CHECK(filter_json(R"([1] [2])") == Json::parse("[1]"));
    CHECK(filter_json("{\"a\": 1}\n{\"b\": 2}\n") == Json::parse(R"({"a": 1})"));
    CHECK(filter_json(R"(First [1, 2], then {"x": [3]}.)") == Json::parse("[1, 2]"));
}

TEST_CASE("filter_json: the outer value wins over the values nested in it") {
    CHECK(filter_json(R"(Result: {"a": {"b": [1, {"c": [2, [3]]}]}, "d": []})") ==
          Json::parse(R"({"a": {"b": [1, {"c": [2, [3]]}]}, "d": []})"));
    CHECK(filter_json("[[[]]]") == Json::parse("[[[]]]"));
}

TEST_CASE("filter_json: a citation in the prose is a complete value") {
    // The documented rule: the earliest complete value wins, and `[1]` is one.
    CHECK(filter_json(R"(As shown in [1], the answer is {"a": 1})") == Json::parse("[1]"));
    // `[Smith 2020]` is not JSON, so it is passed over.
    CHECK(filter_json(R"(As shown in [Smith 2020], the answer is {"a": 1})") == Json::parse(R"({"a": 1})"));
}

TEST_CASE("filter_json: scalars alone are not values") {
    CHECK_THROWS_AS((void)filter_json("42"), JsonExtractionError);
    CHECK_THROWS_AS((void)filter_json("\"just a string\""), JsonExtractionError);
    CHECK_THROWS_AS((void)filter_json("true"), JsonExtractionError);
    CHECK_THROWS_AS((void)filter_json("null"), JsonExtractionError);
}

TEST_CASE("filter_json: byte order mark, whitespace and non-ASCII text") {
    CHECK(filter_json("\xEF\xBB\xBF{\"a\": 1}") == Json::parse(R"({"a": 1})"));
    CHECK(filter_json("\xEF\xBB\xBF  \n {\"a\": 1} \n") == Json::parse(R"({"a": 1})"));
    CHECK(filter_json("\xEF\xBB\xBF```json\n[1]\n```") == Json::parse("[1]"));
    // The fence on the first line is still a fence: its truncated value is not searched for a fragment.
    CHECK_THROWS_AS((void)filter_json("\xEF\xBB\xBF```json\n{\"a\": {\"b\": 1}, \"c\": [\n```\nThat is all."),
                    JsonExtractionError);

    const std::string unicode = "Voilà : {\"name\": \"Zoë — 東京 🚀\", \"ключ\": [\"é\"]} ✓";
    const Json value = filter_json(unicode);
    CHECK(value == Json::parse("{\"name\": \"Zoë — 東京 🚀\", \"ключ\": [\"é\"]}"));
    CHECK(value.at("name").get<std::string>() == "Zoë — 東京 🚀");

    // Escapes are decoded as JSON defines them.
    CHECK(filter_json(R"({"e": "\u00e9\n\t\/"})").at("e").get<std::string>() == "\xC3\xA9\n\t/");
    CHECK(filter_json(R"({"emoji": "\ud83d\ude80"})").at("emoji").get<std::string>() == "🚀");
}

TEST_CASE("filter_json: text without JSON is an error that says so") {
    CHECK_THROWS_AS((void)filter_json("No JSON here"), JsonExtractionError);
    CHECK_THROWS_AS((void)filter_json(""), JsonExtractionError);
    CHECK_THROWS_AS((void)filter_json("   \n\t "), JsonExtractionError);
    CHECK_THROWS_AS((void)filter_json("\xEF\xBB\xBF"), JsonExtractionError);
    CHECK_THROWS_AS((void)filter_json("[not json] {nor this}"), JsonExtractionError);
    CHECK_THROWS_AS((void)filter_json("] } ] }"), JsonExtractionError);

    // A JsonExtractionError is the document's ValueError.
    CHECK_THROWS_AS((void)filter_json("No JSON here"), llmbatch::InvalidArgument);

    const std::string message = error_message("No JSON here");
    CHECK(contains(message, "no complete JSON object or array"));
    CHECK(contains(message, "\"No JSON here\""));
    CHECK(contains(error_message(""), "empty"));
    CHECK(contains(error_message("  \n "), "whitespace"));
}

TEST_CASE("filter_json: the error message quotes a short, escaped excerpt") {
    const std::string text = "Line one\n" + repeat("é", 200) + " no JSON";
    const std::string message = error_message(text);
    CHECK(contains(message, "\"Line one\\n"));
    CHECK(contains(message, "...\""));
    CHECK(message.size() < 300);
    CHECK(contains(message, std::to_string(text.size()) + " bytes"));
    // The excerpt is cut between characters, never inside one.
    CHECK(!contains(message, "\xC3..."));
}

TEST_CASE("filter_json: truncated JSON is an error, not a fragment") {
    CHECK_THROWS_AS((void)filter_json(R"({"a": [1, 2)"), JsonExtractionError);
    CHECK_THROWS_AS((void)filter_json(R"(Here: {"a": "unterminated)"), JsonExtractionError);
    CHECK_THROWS_AS((void)filter_json("[1, 2,"), JsonExtractionError);
    CHECK_THROWS_AS((void)filter_json("The answer is: {"), JsonExtractionError);
    // The complete inner value of a cut-off outer value is not returned.
    CHECK_THROWS_AS((void)filter_json(R"(Here: {"a": {"b": 1}, "c": [2, 3)"), JsonExtractionError);
    CHECK_THROWS_AS((void)filter_json("```json\n{\"a\": {\"b\": 1}, \"c\": \n```"), JsonExtractionError);

    const std::string message = error_message(R"(Result: {"a": {"b": 1}, "c": )");
    CHECK(contains(message, "cut off"));
    CHECK(contains(message, "byte 8"));
}

TEST_CASE("filter_json: a truncated fenced value is not searched for a fragment") {
    const std::string text = "```json\n{\"a\": {\"b\": 1}, \"c\": [\n```\nThat is all.";
    CHECK_THROWS_AS((void)filter_json(text), JsonExtractionError);
    CHECK(contains(error_message(text), "cut off"));
}

TEST_CASE("filter_json: an unclosed bracket of prose is not reported as truncation") {
    const std::string message = error_message("See [the list above");
    CHECK(contains(message, "no complete JSON object or array"));
    CHECK(!contains(message, "cut off"));
}

TEST_CASE("filter_json: no repair beyond trailing commas") {
    // An invalid escape or a missing comma makes the value invalid; a later value still counts.
    CHECK_THROWS_AS((void)filter_json(R"({"re": "\d+"})"), JsonExtractionError);
    CHECK_THROWS_AS((void)filter_json(R"({"a": 1 "b": 2})"), JsonExtractionError);
    CHECK_THROWS_AS((void)filter_json(R"({'a': 1})"), JsonExtractionError);
    CHECK_THROWS_AS((void)filter_json("{\"a\": \"line one\nline two\"}"), JsonExtractionError);
    CHECK(filter_json(R"({"re": "\d+"} or rather {"re": "\\d+"})") == Json::parse(R"({"re": "\\d+"})"));
}

TEST_CASE("filter_json: a complete value before a truncated one is returned") {
    CHECK(filter_json(R"({"a": 1} and {"b": [2)") == Json::parse(R"({"a": 1})"));
}

TEST_CASE("filter_json: a broken value followed by a complete one") {
    // `[1, 2 then` is not valid JSON up to the end, so it is not a cut-off answer.
    CHECK(filter_json(R"([1, 2 then {"a": 1})") == Json::parse(R"({"a": 1})"));
    CHECK(filter_json(R"({"a": 1 "b": 2} {"c": 3})") == Json::parse(R"({"c": 3})"));
}

TEST_CASE("filter_json: deeply nested arrays") {
    constexpr std::size_t depth = 5000;
    const std::string text = "Nested: " + std::string(depth, '[') + "42" + std::string(depth, ']') + " done";
    const Json value = filter_json(text);
    // Walk down without recursion.
    const Json* node = &value;
    std::size_t levels = 0;
    while (node->is_array()) {
        REQUIRE(node->size() == 1);
        node = &node->front();
        ++levels;
    }
    CHECK(levels == depth);
    CHECK(*node == 42);

    // With a broken innermost value, the nested candidates all fail and the next value wins.
    const std::string broken = std::string(depth, '[') + "oops" + std::string(depth, ']') + " {\"ok\": true}";
    CHECK(filter_json(broken) == Json::parse(R"({"ok": true})"));
}

TEST_CASE("filter_json: large adversarial inputs give the right answer (speed: tests/bench/json_filter.cpp)") {
    constexpr std::size_t mb = 1 << 20;

    SUBCASE("a value after a megabyte of prose") {
        const std::string text = repeat("Lorem ipsum dolor sit amet. ", mb / 28) + R"({"a": 1})";
        Json value;
        value = filter_json(text);
        CHECK(value == Json::parse(R"({"a": 1})"));
    }
    SUBCASE("a megabyte-long value") {
        std::string body = "[";
        for (std::size_t i = 0; body.size() < mb; ++i) body += fmt::format("{{\"i\": {}, \"s\": \"x]{{\\\"\"}},", i);
        body += "]";
        const std::string text = "Result:\n```json\n" + body + "\n```\n";
        Json value;
        value = filter_json(text);
        REQUIRE(value.is_array());
        CHECK(value.size() > 1000);
        CHECK(value.back().at("s") == "x]{\"");
        CHECK(value.at(7).at("i") == 7);
    }
    SUBCASE("many unmatched opening brackets before the value") {
        const std::string text = repeat("[see ", mb / 5) + R"({"a": 1})";
        Json value;
        value = filter_json(text);
        CHECK(value == Json::parse(R"({"a": 1})"));
    }
    SUBCASE("many unmatched brackets of both kinds and quotes") {
        const std::string text = repeat("He said \"[\" and { then ] or } x [ { \"y ", mb / 40) + R"({"a": 1})";
        Json value;
        value = filter_json(text);
        CHECK(value == Json::parse(R"({"a": 1})"));
    }
    SUBCASE("a megabyte of opening brackets holds no value") {
        const std::string text = std::string(mb, '[');
        CHECK_THROWS_AS((void)filter_json(text), JsonExtractionError);
    }
    SUBCASE("a megabyte of closing brackets holds no value") {
        const std::string text = repeat("] }", mb / 3);
        CHECK_THROWS_AS((void)filter_json(text), JsonExtractionError);
    }
    SUBCASE("many balanced spans that are not JSON") {
        const std::string text = repeat("[a] {b} ", mb / 8) + "[1]";
        Json value;
        value = filter_json(text);
        CHECK(value == Json::parse("[1]"));
    }
    SUBCASE("nested spans that are not JSON") {
        const std::string text = std::string(mb / 2, '[') + "x" + std::string(mb / 2, ']') + " [2]";
        Json value;
        value = filter_json(text);
        CHECK(value == Json::parse("[2]"));
    }
    SUBCASE("a string cut off after a megabyte is a truncated answer") {
        const std::string text = "[ \"" + repeat("[ \\\"", 20000) + std::string(mb, 'x');
        std::string message;
        message = error_message(text);
        CHECK(contains(message, "cut off"));
    }
    SUBCASE("escaped quotes in prose that defeat the scan's reuse reach the work limit, quickly") {
        // Every `[` lies in a string of the scans before it and needs a scan of its own.
        const std::string text = "[x \"" + repeat("[ \\\"", 20000) + std::string(mb, 'x');
        std::string message;
        message = error_message(text);
        CHECK(contains(message, "too many unbalanced brackets and quotes"));
    }
}

TEST_CASE("try_filter_json: a value or nothing, never an exception") {
    static_assert(noexcept(try_filter_json(std::string_view{})));
    static_assert(std::is_same_v<decltype(try_filter_json(std::string_view{})), std::optional<Json>>);

    const std::optional<Json> found = try_filter_json(R"(Sure: {"key": "value",} bye)");
    REQUIRE(found.has_value());
    CHECK(*found == Json::parse(R"({"key": "value"})"));

    CHECK_FALSE(try_filter_json("No JSON here").has_value());
    CHECK_FALSE(try_filter_json("").has_value());
    CHECK_FALSE(try_filter_json(R"({"a": [1, 2)").has_value());
    CHECK_FALSE(try_filter_json("42").has_value());
}

TEST_CASE("filter_json: an answer nested 100,000 levels deep is read and freed without recursing") {
    const std::string text = std::string(100000, '[') + std::string(100000, ']');
    CHECK(filter_json(text).is_array());
    CHECK(llmbatch::try_filter_json(text).has_value());
}

TEST_CASE("filter_json: the one-parse shortcut takes only a text that is one object or array") {
    using llmbatch::detail::whole_json_value;
    CHECK(whole_json_value(R"({"a": 1})", 0).has_value());
    CHECK(whole_json_value(" \r\n\t[1, {\"b\": []}] \n", 0).has_value());
    CHECK(whole_json_value(" [1]", 5)->offset == 6);
    CHECK_FALSE(whole_json_value("42", 0).has_value());
    CHECK_FALSE(whole_json_value(R"("[1]")", 0).has_value());
    CHECK(same_json(whole_json_value("{\"a\": [1, 2,],}", 0)->value, Json::parse(R"({"a": [1, 2]})")));
    CHECK_FALSE(whole_json_value("[1,,]", 0).has_value());
    CHECK_FALSE(whole_json_value("[,]", 0).has_value());
    CHECK_FALSE(whole_json_value("[\"\xff\"]", 0).has_value());
    CHECK_FALSE(whole_json_value("[1] [2]", 0).has_value());
    CHECK_FALSE(whole_json_value("[1] and {\"a\": 2}", 0).has_value());
    CHECK_FALSE(whole_json_value("\f[1]", 0).has_value());
    CHECK_FALSE(whole_json_value("", 0).has_value());
}

TEST_CASE("filter_json: the one-parse shortcut agrees with the search on tricky texts") {
    SUBCASE("texts on the edges of the shortcut") {
        const std::string deep = std::string(600, '[') + "{\"a\": [1]}" + std::string(600, ']');
        std::string big = "[";
        for (int i = 0; i < 5000; ++i) big += fmt::format("{{\"i\": {}, \"s\": \"x]{{\\\"\"}},", i);
        big.back() = ']';
        const std::vector<std::string> texts = {
            "", " ", "\n\n", "\xEF\xBB\xBF", "\xEF\xBB\xBF{}", "\xEF\xBB\xBF\xEF\xBB\xBF{}", "\xEF\xBB\xBF \n[1]\r\n",
            "{}", "[]", " {} ", "[[]]", "{\"a\": {}}", "\f[1]", "[1]\f", "\v[1]",
            std::string("[1]\0", 4), std::string("\0[1]", 4), std::string("[\"a\0b\"]", 7),
            "42", " -1 ", "\"s\"", "\"[1]\"", "true", "null", "[1]]", "[[1]", "{\"a\": 1}}", "[1}", "{]", "[1] [2]",
            "[1] and [2]", "{\"a\": 1} then {\"b\": 2}", "[1, 2,]", "{\"a\": 1,}", "[,]", "[1,,]",
            "/* c */ [1]", "[1] // c", "[1 /* c */]", "{'a': 1}", "{\"a\": \"x\ty\"}", "{\"a\": \"line\nbreak\"}",
            "[\"\xff\"]", "[\"\xff\"] [1]", "[\"\\ud800\"]", "[\"\\ud800\"] [1]", "[\"\\ud83d\\ude80\"]", "[1e400]",
            "[1e400] [2]", "[1.0, 1, -0, -0.0, 18446744073709551615, 18446744073709551616, -9223372036854775808]",
            "[-9223372036854775809, 1e5, 2E-3, 0.5, 1.5e300]", "{\"a\": 1, \"a\": [2], \"b\": {\"a\": 3, \"a\": 4}}",
            "{\"z\": 1, \"a\": 2, \"m\": 3}", "[\"```\"]", "[\"```json\\n[2]\\n```\"]", "{\"a\": 1}\n```",
            "[1]\n```json\n{\"a\": 1}\n```", "```json\n{\"a\": 1}\n```\n```json\n{\"b\": 2}\n```",
            "```json\n[1,]\n```\n```json\n[2]\n```", "```json\n[1] [2]\n```", "```json\n[1]\n[2]\n```",
            "```\n[0]\n```\nand\n```json\n{\"v\": 4}\n```", "```\n[0]\n```\nand\n```\n{\"v\": 4}\n```",
            "````markdown\n```json\n[0]\n```\n````\nAnswer: {\"v\": 1}", "```json\n  [1]  \n```",
            "   ```json\n[1]\n   ```", "```json\n[1]```", "```json\n[1]\n", "```json\n```", "```json\n\n```\n[3]",
            "Use ```json {\"a\": 1}``` please", "```JSON title\n[1]\n```", "~~~json\n[1]\n~~~", "```jsonc\n[1]\n```",
            "```json5\n[1,]\n```", "```json\n{\"a\": [1, 2 ,\n],\n}\n```", "{\"a\": [1, 2 ,\n],\n}", "[1,] [2]",
            "```json\n// c\n[1]\n```", "```json\n[1] // c\n```", "```json\n42\n```\n[5]", "```json\n\"[1]\"\n```",
            "```json\r\n{\"a\": 1}\r\n```\r\n", "```json\n{\"a\": [1, 2\n```\nFixed: {\"a\": [1, 2]}",
            "```json\n[1, {\"a\": \n```\n```json\n[2]\n```", "```\n[1\n```\n```\n[2]\n```",
            "```python\nx = [1]\n```\n{\"a\": 1}", "```python\n[1]\n```", "```json\n[\"\xff\"]\n```\n[6]",
            "```json\n[1e400]\n```\n```json\n[7]\n```",
            "```json\n{\"s\": \"\\u00e9\\n\"}\n```", "Voil\xC3\xA0 : {\"name\": \"Zo\xC3\xAB\"} \xE2\x9C\x93", deep,
            "```json\n" + deep + "\n```", big, "Result:\n```json\n" + big + "\n```\nDone.", "Result: " + big + " done",
        };
        for (const std::string& text : texts) check_agrees_with_search(text);
    }
    SUBCASE("prefixes, values and suffixes combined") {
        const std::vector<std::string> prefixes = {
            "", " \n", "\xEF\xBB\xBF", "\xEF\xBB\xBF\xEF\xBB\xBF", "Here: ", "```json\n", "```\n", "```python\n", "[",
            "{", "\"", "```json\nnot json\n```\n", "```json\n[1\n```\n", "[0]\n```json\n", "~~~\n",
        };
        const std::vector<std::string> values = {
            "{}", "[]", "{\"a\": 1}", "[1, 2,]", "{\"a\": [1, {\"b\": null}],}", "42", "\"s\"", "[\"\\ud800\"]",
            "[\"\xff\"]", "[1", "{\"a\": 1, \"a\": [2]}", "[1.0, 1, -0, 18446744073709551615, -9223372036854775808]",
            "[1e400]", "{\"k\": \"```\\n```json\"}", "[\"a\\\"]\"]", "[\n1,\n2\n]",
        };
        const std::vector<std::string> suffixes = {
            "", "\r\n", "\n```", "\n```\n", "\n```\n[2]", " [2]", "]", "}", " tail", "\n~~~",
            "\n```\n```json\n{\"later\": true}\n```",
        };
        for (const std::string& prefix : prefixes)
            for (const std::string& value : values)
                for (const std::string& suffix : suffixes) check_agrees_with_search(prefix + value + suffix);
    }
}

TEST_CASE("filter_json: the one-parse shortcut agrees with the search on the fuzz seeds") {
    const std::filesystem::path corpus = filter_json_corpus();
    INFO("seeds: ", corpus.string());
    std::size_t seeds = 0;
    for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
        if (!entry.is_regular_file()) continue;
        std::ifstream in(entry.path(), std::ios::binary);
        REQUIRE(in.is_open());
        const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        check_agrees_with_search(text);
        ++seeds;
    }
    CHECK(seeds >= 8);
}
}  // TEST_SUITE("unit")

}  // namespace tests_unit_json_filter
