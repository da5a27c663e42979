// Compile-time probe: a unit that uses GeminiProvider through LLMService over a transport of its
// own (create, status, fetch with filter_json), as an application's unit would.
#include <llmbatch/providers/gemini.hpp>
#include <llmbatch/service.hpp>

#include <fmt/format.h>

#include "app_transport.hpp"

int main(int argc, char** argv) {
    if (argc < 2) return 1;
    using Gemini = llmbatch::GeminiProvider<AppTransport>;
    llmbatch::GeminiConfig config;
    config.api_key = argv[1];
    llmbatch::LLMService<Gemini> service{Gemini(config)};
    const auto [provider, job] = service.create_batch_job({{"Categorise: Geography"}}, {.filter_json = true});
    if (!service.get_batch_job_status(provider, job).done) return 2;
    for (const auto& outcome : service.fetch_batch_results(provider, job))
        fmt::print("{}\n", outcome.ok() ? outcome.value->dump() : outcome.error->message);
    return 0;
}
