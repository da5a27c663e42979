// GeminiProvider requests: per-request settings over the job's, structured output, provider
// options, keys.
#include "llmbatch/providers/gemini.hpp"

#include <doctest/doctest.h>

#include "support.hpp"

namespace tests_providers_gemini_requests {

using namespace gemini_test;
using llmbatch::BatchRequest;
using llmbatch::testing::FakeTransport;
using llmbatch::testing::json_response;

TEST_SUITE("providers") {

TEST_CASE("gemini requests: a request's settings override the job's, and provider options merge last") {
    FakeTransport t;
    llmbatch::GeminiConfig c;
    c.generation.system_prompt = llmbatch::SystemPrompt::from_text("job prompt");
    auto gemini = make(t, c);
    BatchRequest r({"Classify: physics", "context"}, "physics");
    r.settings.system_prompt = llmbatch::SystemPrompt::from_text("request prompt");
    r.settings.max_output_tokens = 64;
    r.settings.temperature = 0.9;
    r.settings.json_schema = {{"type", "object"}};
    r.provider_options = {{"generationConfig", {{"topK", 4}, {"temperature", nullptr}}}, {"safetySettings", Json::array()}};
    const Json request = gemini.generate_request(r, false);
    CHECK(request == Json::parse(R"({
        "contents": [{"role": "user", "parts": [{"text": "Classify: physics\ncontext"}]}],
        "systemInstruction": {"parts": [{"text": "request prompt"}]},
        "generationConfig": {"thinkingConfig": {"thinkingBudget": 24576}, "maxOutputTokens": 64,
                             "responseMimeType": "application/json", "responseJsonSchema": {"type": "object"},
                             "topK": 4},
        "safetySettings": []})"));
    // Without settings, the job's own.
    const Json plain = gemini.generate_request(BatchRequest({"x"}), false);
    CHECK(plain["systemInstruction"]["parts"][0]["text"] == "job prompt");
    CHECK(plain["generationConfig"]["temperature"] == 0.2);
}

TEST_CASE("gemini requests: keys travel in metadata; duplicates are refused before sending") {
    FakeTransport t;
    t.on("POST", "/v1beta/models/gemini-2.5-flash:batchGenerateContent",
         json_response(200, operation("batches/r1", "BATCH_STATE_PENDING", 2)));
    auto gemini = make(t);
    std::vector<BatchRequest> requests{BatchRequest({"a"}, "doc-a"), BatchRequest({"b"})};
    const auto job = gemini.create_batch_job(requests);
    CHECK(job == "batches/r1");
    CHECK(job.input_files.empty());
    const Json body = Json::parse(t.last_request().body);
    const Json& sent = body["batch"]["inputConfig"]["requests"]["requests"];
    CHECK(sent[0]["metadata"]["key"] == "doc-a");
    CHECK(sent[1]["metadata"]["key"] == "1");
    requests[1].key = "doc-a";
    CHECK_THROWS_AS((void)gemini.create_batch_job(requests), llmbatch::InvalidArgument);
    CHECK(t.call_count() == 1);
}

}  // TEST_SUITE

}  // namespace tests_providers_gemini_requests
