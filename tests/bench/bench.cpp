// Throughput benchmarks, run by `meson test -C build --benchmark` (not part of the test suite):
// filter_json on about 1 MB of model text, and assembling a 10,000-request finished job (inline
// and as a streamed results file) against a bare nlohmann parse of the same bytes. Built twice:
// with simdjson when it is found, and (LLMBATCH_BENCH_NO_SIMDJSON) with nlohmann alone.
#if defined(LLMBATCH_BENCH_NO_SIMDJSON)
#undef LLMBATCH_HAVE_SIMDJSON
#endif
#include <llmbatch/detail/fast_json.hpp>
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

/// `best_seconds` of a `make` that returns what it built: freeing that is not timed (as results
/// outlive their fetch). `sink` counts its size.
template <class F>
double best_seconds_built(int rounds, std::size_t& sink, F&& make) {
    double best = 1e9;
    for (int i = 0; i < rounds; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const auto built = make();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        sink += built.size();
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

    // A finished job of 10,000 requests of ~1.5 KB answers, answered in reverse order: assembly
    // into ordered results against a bare nlohmann parse of the same bytes.
    constexpr std::size_t requests = 10'000;
    const std::string filler = repeat("The answer explains its reasoning at some length. ", 28);
    auto answer = [&](std::size_t i) {
        return Json{{"candidates", Json::array({{{"content", {{"role", "model"}, {"parts", Json::array({{{"text",
                         fmt::format("```json\n{{\"category\": \"STEM\", \"n\": {}, \"why\": \"{}\"}}\n```", i, filler)}}})}}},
                                                 {"finishReason", "STOP"}}})},
                    {"usageMetadata", {{"promptTokenCount", 120}, {"candidatesTokenCount", 380}, {"totalTokenCount", 500}}}};
    };
    Json items = Json::array();
    std::string file;
    for (std::size_t i = requests; i-- > 0;) {
        items.push_back({{"response", answer(i)}, {"metadata", {{"key", std::to_string(i)}, {"filter_json", "false"}}}});
        file += Json{{"key", std::to_string(i)}, {"response", answer(i)}}.dump() + "\n";
    }
    // As the API sends it: the results twice, in `metadata.output` and in `response`.
    const Json op = {{"name", "batches/bench"},
                     {"done", true},
                     {"metadata",
                      {{"state", "BATCH_STATE_SUCCEEDED"},
                       {"batchStats", {{"requestCount", std::to_string(requests)}}},
                       {"output", {{"inlinedResponses", {{"inlinedResponses", items}}}}}}},
                     {"response", {{"inlinedResponses", {{"inlinedResponses", items}}}}}};
    const auto reply = llmbatch::testing::json_response(200, op);
    llmbatch::HttpResponse file_reply;
    file_reply.body = file;
    llmbatch::testing::FakeTransport transport;
    transport.on("GET", "/v1beta/batches/bench", reply);
    transport.on("GET", "/download/v1beta/files/batch-bench:download", file_reply);
    transport.stream_piece_bytes(64 * 1024);
    llmbatch::GeminiConfig config;
    config.api_key = "bench-api-key";  // a key the replies do not hold, as a real one
    llmbatch::GeminiProvider<llmbatch::testing::FakeTransport, llmbatch::testing::ManualClock> gemini(config, transport);

    const double bare_inline = best_seconds_built(3, sink, [&] { return Json::parse(reply.body); });
    report("nlohmann::json::parse of the inline job (baseline)", reply.body.size(), bare_inline);
    const double inline_raw = best_seconds_built(3, sink, [&] { return gemini.fetch_batch_results("batches/bench"); });
    // What the fake transport itself does per call: copy the reply (a real one receives it).
    const double transport_copy = best_seconds_built(3, sink, [&] { return std::string(reply.body); });
    report("the fake transport's copy of the reply (in the fetches above)", reply.body.size(), transport_copy);
    report("fetch_batch_results: inline, 10,000 out of order, raw", reply.body.size(), inline_raw);
    const double inline_json = best_seconds_built(
        3, sink, [&] { return gemini.fetch_batch_results("batches/bench", {.filter_json = true}); });
    report("fetch_batch_results: inline, 10,000 out of order, filter_json", reply.body.size(), inline_json);

    const double bare_file = best_seconds(3, [&] {
        llmbatch::for_each_jsonl_line(file, [&](std::string_view line, std::size_t) { sink += Json::parse(line).size(); });
    });
    report("nlohmann::json::parse of each results-file line (baseline)", file.size(), bare_file);
    const double fast_file = best_seconds(3, [&] {
        llmbatch::for_each_jsonl_line(file, [&](std::string_view line, std::size_t) {
            sink += llmbatch::detail::parse_json(line).size();
        });
    });
    report(llmbatch::detail::fast_json_uses_simdjson ? "detail::parse_json of each line (simdjson)"
                                                     : "detail::parse_json of each line (nlohmann: no simdjson)",
           file.size(), fast_file);
    const auto file_job = llmbatch::detail::parse_gemini_operation(
        {{"name", "batches/bench"},
         {"done", true},
         {"metadata", {{"state", "BATCH_STATE_SUCCEEDED"}, {"batchStats", {{"requestCount", std::to_string(requests)}}}}},
         {"response", {{"responsesFile", "files/batch-bench"}}}});
    const double file_raw = best_seconds_built(5, sink, [&] { return gemini.fetch_batch_results(file_job); });
    report("fetch_batch_results: results file streamed, out of order, raw", file.size(), file_raw);
    fmt::print("{}: assembly at {:.2f}x (inline) and {:.2f}x (results file) the speed of a bare nlohmann parse "
               "of the same bytes\n",
               llmbatch::detail::fast_json_uses_simdjson ? "with simdjson" : "nlohmann alone", bare_inline / inline_raw,
               bare_file / file_raw);
    const auto mb_per_s = [&](double seconds) { return static_cast<double>(reply.body.size()) / seconds / 1e6; };
    fmt::print("inline assembly {:.0f} MB/s (raw), {:.0f} MB/s (filter_json); without the fake transport's copy "
               "{:.0f} MB/s (raw), {:.0f} MB/s (filter_json), {:.2f}x the speed of a bare parse\n",
               mb_per_s(inline_raw), mb_per_s(inline_json), mb_per_s(inline_raw - transport_copy),
               mb_per_s(inline_json - transport_copy), bare_inline / (inline_raw - transport_copy));
    fmt::print("results file: fast line parse {:.2f}x the speed of nlohmann's; assembly {:.0f} MB/s\n",
               bare_file / fast_file, static_cast<double>(file.size()) / file_raw / 1e6);
    return sink == 0 ? 1 : 0;
}
