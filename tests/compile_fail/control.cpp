// Must compile: the same shape as the must-not-compile cases, with only valid calls.
// If this fails (e.g. a broken include path), every must-not-compile case would "pass".
#include "batch_only.hpp"
#include "llmbatch/providers/gemini.hpp"

struct SendingTransport {
    llmbatch::HttpResponse send(const llmbatch::HttpRequest&) { return {}; }
};

int main() {
    llmbatch::LLMService service{BatchOnly<>{}};
    try {
        // By name: checked at run time (throws UnsupportedOperation), so it compiles.
        service.cancel_batch_job("batch-only", "job");
        service.delete_batch_job("batch-only", "job");
    } catch (const llmbatch::UnsupportedOperation&) {
    }
    // Typed and supported.
    (void)service.get_batch_job_status<BatchOnly<>>("job");

    [[maybe_unused]] llmbatch::GeminiProvider<SendingTransport> gemini(llmbatch::GeminiConfig{}, SendingTransport{});
    return 0;
}
