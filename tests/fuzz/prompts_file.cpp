// Fuzzes the tool's prompts-file reader (load_prompts: a JSON array or JSON Lines of items):
// the input is written as a prompts file in a private directory and loaded; a file it accepts
// is planned into batches. UsageError (an InvalidArgument) is the expected refusal.
#include "batch_plan.hpp"
#include "prompts_file.hpp"

#include <cstddef>
#include <cstdint>

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const llmbatch_fuzz::ScratchDir dir;
    const auto path = dir.write("prompts.jsonl", llmbatch_fuzz::as_text(data, size));
    llmbatch_fuzz::expect_typed_errors([&] {
        const auto file = llmbatch::cli::load_prompts(path);
        for (const auto& source : file.sources) (void)llmbatch::cli::plan_batches(source, 2, path);
    });
    return 0;
}
