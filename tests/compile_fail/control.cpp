// Must compile: the same shape as the must-not-compile cases, with only valid calls.
// If this fails (e.g. a broken include path), every must-not-compile case would "pass".
#include <string>
#include <string_view>

#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/service.hpp"

struct BatchOnly {
    static constexpr std::string_view name = "batch-only";
    bool is_available() const { return true; }
    std::string create_batch_job(const llmbatch::BatchPayload&, const llmbatch::CreateOptions&) { return "job"; }
    llmbatch::BatchJob get_batch_job(const std::string&) { return {}; }
    llmbatch::BatchResults fetch_batch_results(const std::string&, const llmbatch::FetchOptions&) { return {}; }
};

struct SendingTransport {
    llmbatch::HttpResponse send(const llmbatch::HttpRequest&) { return {}; }
};

int main() {
    llmbatch::LLMService service{BatchOnly{}};
    try {
        // By name: checked at run time (throws UnsupportedOperation), so it compiles.
        service.cancel_batch_job("batch-only", "job");
        service.delete_batch_job("batch-only", "job");
    } catch (const llmbatch::UnsupportedOperation&) {
    }
    // Typed and supported.
    (void)service.get_batch_job_status<BatchOnly>("job");

    [[maybe_unused]] llmbatch::GeminiProvider<SendingTransport> gemini(llmbatch::GeminiConfig{}, SendingTransport{});
    return 0;
}
