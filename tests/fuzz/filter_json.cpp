// Fuzzes filter_json (the lenient extraction of JSON from model text) with the input as the text.
// It either finds a value or throws JsonExtractionError; try_filter_json agrees with it.
#include "llmbatch/json_filter.hpp"
#include "llmbatch/detail/json_util.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = llmbatch_fuzz::as_text(data, size);
    std::optional<llmbatch::Json> found;
    llmbatch_fuzz::expect_typed_errors([&] { found = llmbatch::filter_json(text); });
    // The two entry points agree (values compared only within the depth the library handles:
    // comparing recurses once per level).
    const auto tried = llmbatch::try_filter_json(text);
    if (tried.has_value() != found.has_value()) std::abort();
    if (found && !llmbatch::detail::nests_deeper_than(*found) && *tried != *found) std::abort();
    return 0;
}
