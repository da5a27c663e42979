// Throughput benchmarks, run by `meson test -C build --benchmark` (not part of the test suite):
// filter_json on about 1 MB of model text, and reading a 10,000-request finished job.
#include <llmbatch/json_filter.hpp>
#include <llmbatch/providers/gemini.hpp>
#include <llmbatch/testing/fake_transport.hpp>
#include <llmbatch/testing/manual_clock.hpp>

#include <chrono>
#include <cstdio>
#include <string>

#include <fmt/format.h>

namespace {

using llmbatch::Json;

template <class F>
double best_seconds(int rounds, F&& f) {
    double best = 1e9;
    for (int i = 0; i < rounds; ++i) {
        const auto start = std::chrono::steady_clock::now();
        f();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
}

std::string repeat(std::string_view s, std::size_t n) {
    std::string out;
    out.reserve(s.size() * n);
    for (std::size_t i = 0; i < n; ++i) out += s;
    return out;
}

void report(std::string_view what, std::size_t bytes, double seconds) {
    fmt::print("{:<58} {:>9.3f} ms {:>9.1f} MB/s\n", what, seconds * 1e3, static_cast<double>(bytes) / seconds / 1e6);
}

}  // namespace

int main() {
    constexpr std::size_t mb = 1 << 20;
    std::size_t sink = 0;

    const std::string prose = repeat("Lorem ipsum dolor sit amet. ", mb / 28) + R"({"a": 1})";
    report("filter_json: value after 1 MB of prose", prose.size(),
           best_seconds(5, [&] { sink += llmbatch::filter_json(prose).size(); }));

    std::string body = "[";
    for (std::size_t i = 0; body.size() < mb; ++i) body += fmt::format("{{\"i\": {}, \"s\": \"x]{{\\\"\"}},", i);
    body += "]";
    const std::string fenced = "Result:\n```json\n" + body + "\n```\n";
    report("filter_json: 1 MB fenced array (trailing comma)", fenced.size(),
           best_seconds(5, [&] { sink += llmbatch::filter_json(fenced).size(); }));

    const std::string brackets = repeat("He said \"[\" and { then ] or } x [ { \"y ", mb / 40) + R"({"a": 1})";
    report("filter_json: 1 MB of unmatched brackets and quotes", brackets.size(),
           best_seconds(5, [&] { sink += llmbatch::filter_json(brackets).size(); }));

    // A finished job of 10,000 requests, answered in reverse order.
    constexpr std::size_t requests = 10'000;
    Json items = Json::array();
    for (std::size_t i = requests; i-- > 0;)
        items.push_back({{"response",
                          {{"candidates", Json::array({{{"content", {{"parts", Json::array({{{"text",
                               fmt::format("```json\n{{\"category\": \"STEM\", \"n\": {}}}\n```", i)}}})}}}}})}}},
                         {"metadata", {{"key", std::to_string(i)}, {"filter_json", "true"}}}});
    const Json op = {{"name", "batches/bench"},
                     {"done", true},
                     {"metadata", {{"state", "BATCH_STATE_SUCCEEDED"}, {"batchStats", {{"requestCount", std::to_string(requests)}}}}},
                     {"response", {{"inlinedResponses", {{"inlinedResponses", items}}}}}};
    const auto reply = llmbatch::testing::json_response(200, op);
    llmbatch::testing::FakeTransport transport;
    transport.on("GET", "/v1beta/batches/bench", reply);
    llmbatch::GeminiConfig config;
    config.api_key = "bench";
    llmbatch::GeminiProvider<llmbatch::testing::FakeTransport, llmbatch::testing::ManualClock> gemini(config, transport);
    report("fetch_batch_results: 10,000 requests, out of order, JSON", reply.body.size(), best_seconds(3, [&] {
               sink += gemini.fetch_batch_results("batches/bench").size();
           }));
    return sink == 0 ? 1 : 0;
}
