// Fuzzes filter_json (the lenient extraction of JSON from model text) with the input as the text.
// It either finds a value or throws JsonExtractionError; try_filter_json agrees with it, and so
// does the search alone (detail::search_filter_json): the one-parse shortcut changes nothing.
// And detail::parse_json (simdjson, when built with it) reads the text as nlohmann's parser does.
#include "llmbatch/json_filter.hpp"
#include "llmbatch/detail/fast_json.hpp"
#include "llmbatch/detail/json_util.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "fuzz_support.hpp"

namespace {

// What an extraction gives: the value, or the message of its JsonExtractionError.
struct Outcome {
    std::optional<llmbatch::Json> value;
    std::string error;
};

template <class F>
Outcome outcome_of(F&& extract) {
    Outcome out;
    llmbatch_fuzz::expect_typed_errors([&] {
        try {
            out.value = extract();
        } catch (const llmbatch::JsonExtractionError& e) {
            out.error = e.what();
            throw;
        }
    });
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = llmbatch_fuzz::as_text(data, size);
    const Outcome found = outcome_of([&] { return llmbatch::filter_json(text); });
    const Outcome searched = outcome_of([&] { return llmbatch::detail::search_filter_json(text); });
    // Values are compared only within the depth the library handles: comparing recurses once per level.
    const auto differ = [](const llmbatch::Json& a, const llmbatch::Json& b) {
        return !llmbatch::detail::nests_deeper_than(a) && (a != b || a.dump() != b.dump());
    };
    // The two entry points agree.
    const auto tried = llmbatch::try_filter_json(text);
    if (tried.has_value() != found.value.has_value()) std::abort();
    if (found.value && differ(*found.value, *tried)) std::abort();
    // The shortcut and the search alone agree: the same value, or the same error.
    if (found.error != searched.error || found.value.has_value() != searched.value.has_value()) std::abort();
    if (found.value && differ(*found.value, *searched.value)) std::abort();
    // The fast parse and nlohmann's agree: both refuse the text, or give the same value and types.
    const llmbatch::Json fast = llmbatch::detail::parse_json(text);
    const llmbatch::Json plain = llmbatch::Json::parse(text, nullptr, false);
    if (fast.is_discarded() != plain.is_discarded()) std::abort();
    if (!fast.is_discarded() && differ(fast, plain)) std::abort();
    return 0;
}
