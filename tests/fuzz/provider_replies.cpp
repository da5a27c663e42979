// Fuzzes how every provider reads the server's replies, through the fake transport: the input
// holds the reply bodies of get job, list jobs or fetch results (job and results downloads), for
// Gemini, OpenAI, Mistral and Anthropic.
//
// Input: byte 0 chooses the provider (bits 0-1), the operation (bits 2-3) and the HTTP status
// (bits 4-6); byte 1 is the size of the pieces a streamed body is handed over in (0: whole);
// the rest, cut at NUL bytes, are the reply bodies in call order, the last one answering every
// later call (up to `max_replies` calls). Operations: 0 get_batch_job, 1 list_batch_jobs,
// 2 fetch_batch_results by name (the job GET, then the downloads), 3 fetch_batch_results of a
// finished job with a results file (and an error file for OpenAI and Mistral): the downloads.
#include "llmbatch/providers/anthropic.hpp"
#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/providers/mistral.hpp"
#include "llmbatch/providers/openai.hpp"
#include "llmbatch/testing/fake_transport.hpp"
#include "llmbatch/testing/manual_clock.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_support.hpp"

namespace {

using llmbatch::HttpResponse;
using llmbatch::Json;
using llmbatch::testing::FakeTransport;
using llmbatch::testing::ManualClock;

constexpr std::array<int, 8> statuses{200, 200, 200, 200, 400, 404, 429, 500};
constexpr std::size_t max_replies = 6;  // pages, retries and downloads each take one

/// A finished job with a results file, as each provider's job GET returns it.
constexpr std::string_view gemini_done = R"({"name": "batches/j1", "done": true, "metadata": {
  "state": "BATCH_STATE_SUCCEEDED", "createTime": "2026-12-01T10:00:00Z", "batchStats": {"requestCount": "3"},
  "output": {"responsesFile": "files/batch-j1"}}, "response": {"responsesFile": "files/batch-j1"}})";
constexpr std::string_view openai_done = R"({"id": "batch_1", "object": "batch", "endpoint": "/v1/chat/completions",
  "errors": null, "input_file_id": "file-in", "completion_window": "24h", "status": "completed",
  "output_file_id": "file-out", "error_file_id": "file-err", "created_at": 1767225600, "completed_at": 1767229185,
  "request_counts": {"total": 3, "completed": 2, "failed": 1}, "metadata": {"llmbatch_filter_json": "true"}})";
constexpr std::string_view mistral_done = R"({"id": "job-1", "object": "batch", "input_files": [],
  "endpoint": "/v1/chat/completions", "model": "mistral-small-latest", "output_file": "out-1", "error_file": "err-1",
  "errors": [], "status": "SUCCESS", "created_at": 1767225600, "total_requests": 3, "completed_requests": 3,
  "succeeded_requests": 2, "failed_requests": 1, "metadata": {"llmbatch_filter_json": "true"}})";
constexpr std::string_view anthropic_done = R"({"id": "msgbatch_1", "type": "message_batch",
  "processing_status": "ended", "request_counts": {"processing": 0, "succeeded": 2, "errored": 1, "canceled": 0,
  "expired": 0}, "created_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-02T00:00:00Z",
  "ended_at": "2026-01-01T01:00:00Z", "cancel_initiated_at": null, "archived_at": null,
  "results_url": "https://results.example/v1/messages/batches/msgbatch_1/results"})";

/// Runs operation `op` of `provider` (whose job is named `job_name`) over the scripted `fake`.
template <class Provider, class ParseJob>
void run(Provider provider, unsigned op, const std::string& job_name, std::string_view done, ParseJob parse_job) {
    switch (op) {
    case 0: (void)provider.get_batch_job(job_name); break;
    case 1: (void)provider.list_batch_jobs(); break;
    case 2: (void)provider.fetch_batch_results(job_name); break;
    default: (void)provider.fetch_batch_results(parse_job(Json::parse(done))); break;
    }
}

template <class Config>
Config config() {
    Config c;
    c.api_key = "fuzz-key-0123456789";
    c.retry.max_attempts = 2;
    return c;
}

void run_provider(unsigned which, unsigned op, const FakeTransport& fake) {
    using namespace llmbatch;
    switch (which) {
    case 0:
        run(GeminiProvider<FakeTransport, ManualClock>(config<GeminiConfig>(), fake, ManualClock{}), op,
            "batches/j1", gemini_done, [](Json j) { return detail::parse_gemini_operation(std::move(j)); });
        break;
    case 1:
        run(OpenAIProvider<FakeTransport, ManualClock>(config<OpenAIConfig>(), fake, ManualClock{}), op, "batch_1",
            openai_done, [](Json j) { return detail::parse_openai_batch(std::move(j)); });
        break;
    case 2:
        run(MistralProvider<FakeTransport, ManualClock>(config<MistralConfig>(), fake, ManualClock{}), op, "job-1",
            mistral_done, [](Json j) { return detail::parse_mistral_job(std::move(j)); });
        break;
    default:
        run(AnthropicProvider<FakeTransport, ManualClock>(config<AnthropicConfig>(), fake, ManualClock{}), op,
            "msgbatch_1", anthropic_done, [](Json j) { return detail::parse_anthropic_batch(std::move(j)); });
        break;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    const unsigned which = data[0] & 3u, op = (data[0] >> 2) & 3u;
    const int status = statuses[(data[0] >> 4) & 7u];
    std::vector<std::string_view> bodies;
    for (std::string_view rest = llmbatch_fuzz::as_text(data + 2, size - 2);;) {
        const auto nul = rest.find('\0');
        bodies.push_back(rest.substr(0, nul));
        if (nul == std::string_view::npos || bodies.size() == max_replies) break;
        rest.remove_prefix(nul + 1);
    }
    FakeTransport fake;
    fake.stream_piece_bytes(data[1]);
    for (std::size_t i = 0; i < max_replies; ++i)
        fake.push(HttpResponse{status, {}, std::string(bodies[std::min(i, bodies.size() - 1)])});
    try {
        llmbatch_fuzz::expect_typed_errors([&] { run_provider(which, op, fake); });
    } catch (const std::logic_error& e) {
        // The scripted replies ran out (e.g. every page names a next page): not a finding.
        if (std::string_view(e.what()).rfind("FakeTransport: no scripted response", 0) != 0) throw;
    }
    return 0;
}
