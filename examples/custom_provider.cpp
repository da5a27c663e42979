// Writing your own provider: an "in-house" batch service next to Gemini in one LLMService.
//
// The in-house service is made up for this example; its wire format is:
//   POST /v1/jobs              {"prompts": ["...", ...]}        -> 201 {"id": "job-1"}
//   GET  /v1/jobs/{id}         -> 200 {"id": "job-1", "state": "queued" | "working" | "done",
//                                      "total": 3, "finished": 1}
//   GET  /v1/jobs/{id}/results -> 200 {"results": [{"index": 0, "text": "..."}, {"index": 1, "error": "..."}]}
//                                 (in any order), or 409 while the job is not done
// InHouseServer answers those calls in memory, so the example needs no network; InHouseProvider
// translates them to and from llmbatch's model. Given a real transport (llmbatch/transport/curl.hpp),
// the same provider talks to a real server.
#include <llmbatch/llmbatch.hpp>
#include <llmbatch/testing/gemini_emulator.hpp>
#include <llmbatch/testing/manual_clock.hpp>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace {

using llmbatch::Json;

/// The in-house service, in memory. It models HttpTransport (it has `send`), so it can stand in
/// for the transport. A job is done on its third status call. The "model" answers in upper case
/// and refuses prompts over 40 characters.
class InHouseServer {
public:
    llmbatch::HttpResponse send(const llmbatch::HttpRequest& request) {
        const std::string path = llmbatch::url_path(request.url);
        if (request.method == "POST" && path == "/v1/jobs") {
            const Json body = Json::parse(request.body);
            const std::string id = fmt::format("job-{}", jobs_.size() + 1);
            jobs_[id] = Job{body.at("prompts").get<std::vector<std::string>>(), 0};
            return {201, {}, Json{{"id", id}}.dump()};
        }
        const std::string prefix = "/v1/jobs/";
        const std::string rest = path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : std::string();
        const std::string id = rest.substr(0, rest.find('/'));
        const auto job = jobs_.find(id);
        if (request.method != "GET" || job == jobs_.end()) return {404, {}, R"({"message": "no such job"})"};
        Job& j = job->second;
        if (rest == id) {  // status
            j.polls = std::min(j.polls + 1, 3);
            const char* state = j.polls < 2 ? "queued" : j.polls < 3 ? "working" : "done";
            const std::size_t finished = j.polls < 2 ? 0 : j.polls < 3 ? j.prompts.size() / 2 : j.prompts.size();
            const Json status{{"id", id}, {"state", state}, {"total", j.prompts.size()}, {"finished", finished}};
            return {200, {}, status.dump()};
        }
        if (j.polls < 3) return {409, {}, R"({"message": "the job is not done"})"};
        Json results = Json::array();
        for (std::size_t i = j.prompts.size(); i-- > 0;) {  // newest first: order is not guaranteed
            std::string text = j.prompts[i];
            if (text.size() > 40) {
                results.push_back({{"index", i}, {"error", "the prompt is too long"}});
                continue;
            }
            for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            results.push_back({{"index", i}, {"text", text}});
        }
        return {200, {}, Json{{"results", results}}.dump()};
    }

private:
    struct Job {
        std::vector<std::string> prompts;
        int polls = 0;
    };
    std::map<std::string, Job> jobs_;
};

/// A provider for the in-house service over any transport. Its members are what
/// llmbatch::BatchProvider asks for; each comment says what the member must do.
template <class Transport>
class InHouseProvider {
    // The transport must have `HttpResponse send(const HttpRequest&)`. Checking it first thing
    // makes a wrong transport's first error the sentence naming that member.
    static_assert(llmbatch::check_http_transport<Transport>());

public:
    // The name: a compile-time constant. It marks the type as a provider, and it is the run-time
    // id that LLMService returns from create_batch_job and dispatches later calls by.
    static constexpr std::string_view name = "in-house";

    InHouseProvider(std::string base_url, Transport transport)
        : base_url_(std::move(base_url)), transport_(std::move(transport)) {}

    // Whether the provider is configured. LLMService skips an unavailable provider when it
    // creates a job, so return false when, say, no credentials were given.
    bool is_available() const { return !base_url_.empty(); }

    // Submits one request per element of the payload (its prompts joined by newlines) and returns
    // the job's name, the handle of every later call. Reject bad input before sending anything;
    // throw QuotaError when over quota (LLMService then tries the next provider), ProviderError
    // for any other failure.
    std::string create_batch_job(const llmbatch::BatchPayload& payload, const llmbatch::CreateOptions& /*options*/) {
        llmbatch::validate_payload(payload);
        Json prompts = Json::array();
        for (const auto& request : payload) prompts.push_back(llmbatch::join_prompts(request));
        const Json reply = call("POST", "/v1/jobs", Json{{"prompts", prompts}}.dump());
        return reply.at("id").get<std::string>();
    }

    // The job's status in the common model: the normalised state, the service's own word for it
    // (raw_state), whether it is done, and the request counts.
    llmbatch::BatchJob get_batch_job(const std::string& job_name) {
        const Json reply = call("GET", "/v1/jobs/" + job_name);
        llmbatch::BatchJob job;
        job.name = job_name;
        job.provider = std::string(name);
        job.raw_state = reply.at("state").get<std::string>();
        job.state = job.raw_state == "done"      ? llmbatch::JobState::succeeded
                    : job.raw_state == "working" ? llmbatch::JobState::running
                                                 : llmbatch::JobState::pending;
        job.done = llmbatch::is_terminal(job.state);
        job.counts.total = reply.at("total").get<std::int64_t>();
        job.counts.succeeded = reply.at("finished").get<std::int64_t>();
        job.counts.pending = job.counts.total - job.counts.succeeded;
        return job;
    }

    // One outcome per submitted request, in input order whatever order the service used. A
    // request that failed is an outcome holding an error, not an exception. Throw JobNotReady
    // when the job is not done yet.
    llmbatch::BatchResults fetch_batch_results(const std::string& job_name, const llmbatch::FetchOptions& /*options*/) {
        if (const auto job = get_batch_job(job_name); !job.done)
            throw llmbatch::JobNotReady(fmt::format("in-house job {} is not done", job_name), job_name, job.raw_state);
        const Json reply = call("GET", "/v1/jobs/" + job_name + "/results");
        std::vector<llmbatch::RequestOutcome> outcomes(reply.at("results").size());
        for (const Json& r : reply.at("results")) {
            auto& outcome = outcomes.at(r.at("index").get<std::size_t>());
            outcome.index = r.at("index").get<std::size_t>();
            outcome.raw = r;
            if (r.contains("error"))
                outcome.error = llmbatch::ErrorStatus{400, "REFUSED", r.at("error").get<std::string>(), nullptr};
            else
                outcome.value = r.at("text");
        }
        return {std::string(name), job_name, std::move(outcomes)};
    }

    // Optional members make it a CancellableBatchProvider (cancel_batch_job), a
    // DeletableBatchProvider (delete_batch_job), a ListableBatchProvider (list_batch_jobs) or a
    // SyncProvider (generate). Without them, LLMService answers those calls by name with
    // UnsupportedOperation and rejects the typed calls at compile time.

private:
    Json call(std::string method, const std::string& path, std::string body = {}) {
        llmbatch::HttpRequest request{std::move(method), base_url_ + path, {}, std::move(body)};
        if (!request.body.empty()) request.headers.set("Content-Type", "application/json");
        const llmbatch::HttpResponse response = transport_.send(request);
        if (response.ok()) return Json::parse(response.body);
        llmbatch::ProviderErrorInfo info{std::string(name), response.status, {}, response.body, response.status >= 500};
        const auto message = fmt::format("in-house: {} {} answered HTTP {}", request.method, path, response.status);
        if (response.status == 429) throw llmbatch::QuotaError(message, std::move(info));
        throw llmbatch::ProviderError(message, std::move(info));
    }

    std::string base_url_;
    Transport transport_;
};

using InHouse = InHouseProvider<InHouseServer>;
using Gemini = llmbatch::GeminiProvider<llmbatch::testing::GeminiEmulator, llmbatch::testing::ManualClock>;

// The compile-time checks. check_provider fails with a sentence naming any member the provider
// lacks (LLMService applies it to each of its providers too); the concepts then say what it is:
// a batch provider, and not a cancellable one.
static_assert(llmbatch::check_provider<InHouse>());
static_assert(llmbatch::BatchProvider<InHouse>);
static_assert(!llmbatch::CancellableBatchProvider<InHouse>);

}  // namespace

int main() try {
    llmbatch::testing::ManualClock clock;
    llmbatch::GeminiConfig gemini_config;
    gemini_config.api_key = "emulator-key";
    // Providers are tried in the order given: the in-house service first, Gemini as the fallback.
    llmbatch::LLMService service{InHouse("http://batch.internal", InHouseServer{}),
                                 Gemini(gemini_config, llmbatch::testing::GeminiEmulator(clock), clock)};
    fmt::print("Providers: {}\n", fmt::join(service.provider_order(), ", "));

    const llmbatch::BatchPayload payload = {
        {"Summarise the onboarding guide"},
        {"Translate this paragraph about quarterly planning into French"},
        {"Name the next milestone"},
    };
    auto [provider_name, job_name] = service.create_batch_job(payload);
    fmt::print("Created {} on {}\n", job_name, provider_name);

    // Status and results by the names create_batch_job returned, as a caller would after a restart.
    for (auto job = service.get_batch_job_status(provider_name, job_name); !job.done;
         job = service.get_batch_job_status(provider_name, job_name))
        fmt::print("  {} ({}): {}/{} finished\n", llmbatch::to_string(job.state), job.raw_state, job.counts.succeeded,
                   job.counts.total);

    const auto results = service.fetch_batch_results(provider_name, job_name);
    for (const auto& outcome : results) {
        if (outcome.ok()) fmt::print("[{}] {}\n", outcome.index, outcome.value->get<std::string>());
        else fmt::print("[{}] failed: {}\n", outcome.index, outcome.error->message);
    }

    // The in-house provider has no cancel_batch_job: by name, that is a run-time error.
    try {
        service.cancel_batch_job(provider_name, job_name);
    } catch (const llmbatch::UnsupportedOperation& e) {
        fmt::print("Cancel: {}\n", e.what());
    }
    return 0;
} catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
}
