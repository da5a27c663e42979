// Fuzzes filter_json (the lenient extraction of JSON from model text) with the input as the text.
// It either finds a value or throws JsonExtractionError; try_filter_json agrees with it.
#include "llmbatch/json_filter.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = llmbatch_fuzz::as_text(data, size);
    std::optional<llmbatch::Json> found;
    llmbatch_fuzz::expect_typed_errors([&] { found = llmbatch::filter_json(text); });
    if (llmbatch::try_filter_json(text) != found) std::abort();  // the two entry points disagree
    return 0;
}
