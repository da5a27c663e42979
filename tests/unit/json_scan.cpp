// detail/json_scan.hpp: values found in JSON text without parsing it, malformed text refused.
#include "llmbatch/detail/json_scan.hpp"

#include <doctest/doctest.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tests_unit_json_scan {

using llmbatch::detail::KeyPath;
using Json = nlohmann::json;

namespace {

std::optional<std::string_view> value_at(std::string_view text, std::initializer_list<std::string_view> keys) {
    const std::vector<std::string_view> path(keys);
    const std::array<KeyPath, 1> paths = {KeyPath(path)};
    return llmbatch::detail::json_values_at(text, paths).front();
}

std::vector<std::string> elements(std::string_view array, bool* whole = nullptr) {
    std::vector<std::string> out;
    const bool ok = llmbatch::detail::for_each_json_element(array, [&](std::string_view e) { out.emplace_back(e); });
    if (whole) *whole = ok;
    return out;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("json_value_end: strings, escapes and nesting; npos for what is not one value") {
    using llmbatch::detail::json_value_end;
    constexpr auto npos = std::string_view::npos;
    CHECK(json_value_end(R"(  "a\"b\\" , 1)") == 10);
    CHECK(json_value_end(R"({"x": "}]", "y": [1, {"z": "\\\""}]} tail)") == 36);
    CHECK(json_value_end("[[[]]]") == 6);
    CHECK(json_value_end("-12.5e3,") == 7);
    CHECK(json_value_end("true}") == 4);
    CHECK(json_value_end(R"("open)") == npos);
    CHECK(json_value_end(R"("escaped end\")") == npos);
    CHECK(json_value_end("[1, 2}") == npos);
    CHECK(json_value_end("{\"a\": [1}") == npos);
    CHECK(json_value_end("[[1]") == npos);
    CHECK(json_value_end("]") == npos);
    CHECK(json_value_end(",") == npos);
    CHECK(json_value_end("   ") == npos);
    CHECK(json_value_end("") == npos);
    // Deeper than the scanner's fixed stack: still matched bracket by bracket.
    const std::string deep = std::string(600, '[') + std::string(600, ']');
    CHECK(json_value_end(deep) == deep.size());
    std::string crossed = std::string(300, '[') + "{" + std::string(300, ']') + "}";
    CHECK(json_value_end(crossed) == npos);
}

TEST_CASE("json_values_at: the value at a path of keys, the last of repeated keys, nothing through non-objects") {
    const std::string doc = R"({"a": {"b": [1, 2], "c": "x"}, "s": "{\"a\": 9}", "a2": 1})";
    CHECK(value_at(doc, {"a", "b"}) == "[1, 2]");
    CHECK(value_at(doc, {"a"}) == R"({"b": [1, 2], "c": "x"})");
    CHECK(value_at(doc, {"s"}) == R"("{\"a\": 9}")");
    CHECK(value_at(doc, {}) == std::string_view(doc));
    CHECK_FALSE(value_at(doc, {"a", "b", "c"}));  // through an array
    CHECK_FALSE(value_at(doc, {"a", "z"}));
    CHECK_FALSE(value_at(doc, {"b"}));  // a key of a nested object is not a root key
    // Repeated keys: nlohmann keeps the last, and so does the scanner, also along a path.
    CHECK(value_at(R"({"k": 1, "k": 2})", {"k"}) == "2");
    CHECK_FALSE(value_at(R"({"m": {"k": 1}, "m": {"j": 2}})", {"m", "k"}));
    CHECK(value_at(R"({"m": {"j": 1}, "m": {"k": 2}})", {"m", "k"}) == "2");
    // A key written with escapes is the key it spells.
    CHECK(value_at(R"({"k\u0065y": "v"})", {"key"}) == R"("v")");
    // Several paths at once, in one pass.
    const std::vector<std::string_view> p1{"a", "c"}, p2{"a2"}, p3{"none"};
    const std::array<KeyPath, 3> paths{KeyPath(p1), KeyPath(p2), KeyPath(p3)};
    const auto found = llmbatch::detail::json_values_at(doc, paths);
    CHECK(found[0] == R"("x")");
    CHECK(found[1] == "1");
    CHECK_FALSE(found[2]);
    // Not one well-nested value: nothing, even where the path was seen.
    CHECK_FALSE(value_at(R"({"a": 1, "b": [})", {"a"}));
    CHECK_FALSE(value_at(R"({"a": 1} {"b": 2})", {"a"}));
    CHECK_FALSE(value_at(R"({"a" 1})", {"a"}));
    CHECK_FALSE(value_at(R"({"a": 1,})", {"a"}));
    CHECK_FALSE(value_at("", {"a"}));
}

TEST_CASE("for_each_json_element: each element's text in order; false for what is not one array") {
    bool whole = false;
    CHECK(elements(R"( [ 1 , "a,]" , {"b": [1, "]"]}, [] ] )", &whole) ==
          std::vector<std::string>{"1", R"("a,]")", R"({"b": [1, "]"]})", "[]"});
    CHECK(whole);
    CHECK(elements("[]", &whole).empty());
    CHECK(whole);
    CHECK(elements("[1, {}", &whole) == std::vector<std::string>{"1", "{}"});
    CHECK_FALSE(whole);
    for (const char* bad : {"[1,]", "[1 2]", "[,1]", "{}", "[] x", "", "[", "[1]]"}) {
        CAPTURE(bad);
        (void)elements(bad, &whole);
        CHECK_FALSE(whole);
    }
}

TEST_CASE("json_string_of: the string a literal holds, escapes decoded") {
    CHECK(llmbatch::detail::json_string_of(R"("a\"b\u00e9")") == "a\"b\xc3\xa9");
    CHECK(llmbatch::detail::json_string_of(R"("")") == "");
    CHECK_FALSE(llmbatch::detail::json_string_of("12"));
    CHECK_FALSE(llmbatch::detail::json_string_of(R"("open)"));
}

}

}  // namespace tests_unit_json_scan
