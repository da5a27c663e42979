#pragma once
/// @file providers/gemini.hpp
/// `GeminiProvider<Transport, Clock>`: the Gemini Developer API batch surface
/// (`models/{model}:batchGenerateContent`, `batches/{id}`, `:cancel`, list, delete) and the
/// synchronous `generateContent`, over any `HttpTransport`.
///
/// Example:
/// @code
/// llmbatch::GeminiConfig config;  // key from GEMINI_API_KEY
/// config.generation.system_prompt = llmbatch::SystemPrompt::from_file("prompts/categorise.md");
/// llmbatch::GeminiProvider<MyTransport> gemini(config, MyTransport{});
/// auto job = gemini.create_batch_job({{"Categorise: Geography GCSE"}}, {.filter_json = true});
/// // ... later, once gemini.get_batch_job(job).done:
/// for (const auto& outcome : gemini.fetch_batch_results(job)) { ... }
/// @endcode

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/clock.hpp"
#include "llmbatch/concepts.hpp"
#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/detail/time.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/json_filter.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/retry.hpp"

namespace llmbatch {

/// Settings of a `GeminiProvider`.
struct GeminiConfig {
    static constexpr std::string_view default_base_url = "https://generativelanguage.googleapis.com";
    static constexpr std::string_view default_api_version = "v1beta";
    /// The documented inline limit: the whole create request must stay under 20 MB.
    static constexpr std::size_t default_max_inline_bytes = 20'000'000;

    /// API key; when empty, `GEMINI_API_KEY` from the environment is used. Sent as
    /// `x-goog-api-key`, never in a URL, a message or a log.
    std::string api_key{};
    std::string base_url{default_base_url};
    std::string api_version{default_api_version};
    GenerationConfig generation{};
    std::size_t max_inline_bytes = default_max_inline_bytes;
    /// Page size for `list_batch_jobs` (every page is fetched).
    int list_page_size = 100;
    /// Retries of transient failures (see retry.hpp); `RetryPolicy::none()` disables them.
    RetryPolicy retry{};
};

namespace detail {

/// Percent-encodes everything but RFC 3986 unreserved characters.
[[nodiscard]] inline std::string url_encode(std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            out += static_cast<char>(c);
        else
            out += fmt::format("%{:02X}", c);
    }
    return out;
}

/// Maps `BATCH_STATE_*` (wire) and `JOB_STATE_*` (SDK) names to `JobState`.
[[nodiscard]] inline JobState gemini_state(std::string_view raw) {
    for (std::string_view prefix : {"BATCH_STATE_", "JOB_STATE_"})
        if (raw.substr(0, prefix.size()) == prefix) {
            raw.remove_prefix(prefix.size());
            break;
        }
    if (raw == "PENDING" || raw == "QUEUED") return JobState::pending;
    if (raw == "RUNNING") return JobState::running;
    if (raw == "CANCELLING") return JobState::cancelling;
    if (raw == "SUCCEEDED") return JobState::succeeded;
    if (raw == "FAILED") return JobState::failed;
    if (raw == "CANCELLED") return JobState::cancelled;
    if (raw == "EXPIRED") return JobState::expired;
    return JobState::unspecified;
}

/// Reads a google.rpc.Status object.
[[nodiscard]] inline ErrorStatus google_status(const nlohmann::json& j) {
    ErrorStatus s;
    s.code = static_cast<int>(as_int64(j.value("code", nlohmann::json(0))).value_or(0));
    s.status = get_string(j, "status");
    s.message = get_string(j, "message");
    if (const auto* d = find(j, "details")) s.details = *d;
    return s;
}

/// The model text of a GenerateContentResponse: the non-thought text parts of the first candidate.
[[nodiscard]] inline std::optional<std::string> gemini_response_text(const nlohmann::json& response) {
    const auto* candidates = find(response, "candidates");
    if (!candidates || !candidates->is_array() || candidates->empty()) return std::nullopt;
    const auto* parts = find_path((*candidates)[0], {"content", "parts"});
    if (!parts || !parts->is_array()) return std::nullopt;
    std::optional<std::string> text;
    for (const auto& part : *parts) {
        if (get_bool(part, "thought")) continue;
        if (const auto* t = find(part, "text"); t && t->is_string()) text = text.value_or("") + t->get<std::string>();
    }
    return text;
}

/// Why a response has no text, for messages: its finish reason or prompt block reason.
[[nodiscard]] inline std::string gemini_no_text_reason(const nlohmann::json& response) {
    if (const auto* c = find(response, "candidates"); c && c->is_array() && !c->empty())
        if (auto r = get_string((*c)[0], "finishReason"); !r.empty()) return "finishReason " + r;
    if (const auto* f = find(response, "promptFeedback"))
        if (auto r = get_string(*f, "blockReason"); !r.empty()) return "blockReason " + r;
    return "no candidates";
}

}  // namespace detail

/// The Gemini Developer API provider.
///
/// Requirements: `Transport` models `HttpTransport`, `ClockT` models `Clock`. The provider owns
/// both by value; pass a handle type (such as `testing::FakeTransport`) to share one.
/// Errors: `InvalidArgument` for bad input (before anything is sent), `QuotaError` for 429 /
/// `RESOURCE_EXHAUSTED`, `NotFoundError` for 404, `ProviderError` for other HTTP errors and
/// unreadable replies, `TransportError` when the exchange fails, `JobNotReady` / `JobFailed` /
/// `ResultsMissing` from `fetch_batch_results`.
template <class Transport, Clock ClockT = SystemClock>
class GeminiProvider {
    static_assert(check_http_transport<Transport>());  // first: its error names the missing member

public:
    static constexpr std::string_view name = "gemini";

    explicit GeminiProvider(GeminiConfig config = {}, Transport transport = Transport{}, ClockT clock = ClockT{})
        : config_(std::move(config)), transport_(std::move(transport)), clock_(std::move(clock)) {
        if (config_.api_key.empty())
            if (const char* env = std::getenv("GEMINI_API_KEY")) config_.api_key = env;
        while (!config_.base_url.empty() && config_.base_url.back() == '/') config_.base_url.pop_back();
        if (config_.list_page_size < 1) throw InvalidArgument("GeminiConfig::list_page_size must be at least 1");
    }

    /// True when an API key is configured.
    [[nodiscard]] bool is_available() const noexcept { return !config_.api_key.empty(); }
    [[nodiscard]] const GeminiConfig& config() const noexcept { return config_; }
    [[nodiscard]] Transport& transport() noexcept { return transport_; }
    [[nodiscard]] ClockT& clock() noexcept { return clock_; }

    // ---- batch operations -------------------------------------------------------------------

    /// Creates a batch job of one inline request per payload element and returns its name
    /// (`batches/...`). Each request carries `metadata.key` = its index, so results can be put
    /// back in input order whatever order the service answers in.
    /// @throws InvalidArgument for an empty payload or an empty prompt sequence, or a body over
    ///         `max_inline_bytes` (nothing is sent then).
    [[nodiscard]] std::string create_batch_job(const BatchPayload& payload, const CreateOptions& options = {}) {
        const std::string body = batch_request_body(payload, options).dump();
        if (body.size() > config_.max_inline_bytes)
            throw InvalidArgument(fmt::format(
                "gemini: the batch request body is {} bytes, over the inline limit of {} bytes; split the {} "
                "request(s) into smaller jobs",
                body.size(), config_.max_inline_bytes, payload.size()));
        const Json op =
            call("POST", model_url(":batchGenerateContent"), body, "create batch job", Idempotency::not_idempotent);
        auto job_name = detail::get_string(op, "name");
        if (job_name.empty()) throw bad_reply("create batch job", "the reply has no job name");
        return job_name;
    }

    /// The JSON body `create_batch_job` sends (exposed for inspection and golden tests).
    [[nodiscard]] Json batch_request_body(const BatchPayload& payload, const CreateOptions& options = {}) const {
        validate_payload(payload);
        const bool json_wanted = options.filter_json.value_or(config_.generation.filter_json);
        Json requests = Json::array();
        for (std::size_t i = 0; i < payload.size(); ++i)
            requests.push_back({{"request", generate_request(payload[i], json_wanted)},
                                {"metadata", {{"key", std::to_string(i)}, {"filter_json", json_wanted ? "true" : "false"}}}});
        const std::string display =
            options.display_name.empty()
                ? fmt::format("llmbatch-{:%Y%m%dT%H%M%S}Z",
                              std::chrono::floor<std::chrono::seconds>(clock_.utc_now()))
                : options.display_name;
        return {{"batch",
                 {{"displayName", display}, {"inputConfig", {{"requests", {{"requests", std::move(requests)}}}}}}}};
    }

    /// The job's current status.
    [[nodiscard]] BatchJob get_batch_job(const std::string& job_name) {
        return parse_operation(get_operation("batches/" + job_id(job_name)));
    }

    /// Every batch job of this API key, across all pages.
    [[nodiscard]] std::vector<BatchJob> list_batch_jobs() {
        std::vector<BatchJob> jobs;
        std::string token;
        for (int page = 0;; ++page) {
            std::string url = api_url("batches") + fmt::format("?pageSize={}", config_.list_page_size);
            if (!token.empty()) url += "&pageToken=" + detail::url_encode(token);
            const Json reply = call("GET", url, {}, "list batch jobs");
            if (const auto* ops = detail::find(reply, "operations")) {
                if (!ops->is_array()) throw bad_reply("list batch jobs", "'operations' is not an array");
                for (const auto& op : *ops) jobs.push_back(parse_operation(op));
            }
            std::string next = detail::get_string(reply, "nextPageToken");
            if (next.empty()) break;
            if (next == token || page > 100000) throw bad_reply("list batch jobs", "the page token does not advance");
            token = std::move(next);
        }
        return jobs;
    }

    /// Asks the service to cancel a job (`POST batches/{id}:cancel`); the job ends CANCELLED.
    /// Cancelling a finished job fails with the API's error.
    void cancel_batch_job(const std::string& job_name) {
        const auto id = job_id(job_name);
        (void)call("POST", api_url("batches/" + id + ":cancel"), {}, "cancel batch job batches/" + id);
    }

    /// Deletes the job record (`DELETE batches/{id}`). This does not cancel a running job.
    void delete_batch_job(const std::string& job_name) {
        const auto id = job_id(job_name);
        (void)call("DELETE", api_url("batches/" + id), {}, "delete batch job batches/" + id);
    }

    /// The results of a finished job, one outcome per submitted request, in input order.
    /// Per-request failures are kept as data (`RequestOutcome::error`); `BatchResults::values()`
    /// is the strict accessor that throws on the first one.
    /// @throws JobNotReady when the job is not finished (naming its state); JobFailed when it
    ///         failed, was cancelled or expired (with the API's message); ResultsMissing when a
    ///         finished job holds no results.
    [[nodiscard]] BatchResults fetch_batch_results(const std::string& job_name, const FetchOptions& options = {}) {
        const std::string full = "batches/" + job_id(job_name);
        const Json op = get_operation(full);
        const BatchJob job = parse_operation(op);
        if (!job.done)
            throw JobNotReady(fmt::format("Batch job {} ({}) is not completed yet. Current state: {}", full, name,
                                          job.state),
                              full, std::string(to_string(job.state)));
        if (job.state != JobState::succeeded || job.error) {
            const ErrorStatus err = job.error.value_or(ErrorStatus{});
            const auto state = job.state == JobState::succeeded ? JobState::failed : job.state;
            throw JobFailed(fmt::format("Batch job {} ({}) {}: {}", full, name,
                                        state == JobState::cancelled ? "was cancelled"
                                        : state == JobState::expired ? "expired"
                                                                     : "failed",
                                        err.message.empty() ? std::string("no error message given") : redact(err.message)),
                            ProviderErrorInfo{std::string(name), 0, err.status, redact(err.message), false}, full,
                            std::string(to_string(state)));
        }
        const bool default_json = options.filter_json.value_or(config_.generation.filter_json);
        const auto total = static_cast<std::size_t>(std::max<std::int64_t>(job.counts.total, 0));

        const Json* items = detail::find_path(op, {"response", "inlinedResponses"});
        if (!items) items = detail::find_path(op, {"metadata", "output", "inlinedResponses"});
        if (items) {
            const Json* list = detail::find(*items, "inlinedResponses");
            std::vector<Keyed> keyed;
            if (list && list->is_array())
                for (const auto& item : *list)
                    keyed.push_back({detail::get_string(detail::member(item, "metadata"), "key"), &item});
            return assemble(full, std::move(keyed), total, default_json, options.filter_json);
        }
        std::string file = detail::get_string(detail::member(op, "response"), "responsesFile");
        if (file.empty())
            if (const auto* out = detail::find_path(op, {"metadata", "output"})) file = detail::get_string(*out, "responsesFile");
        if (!file.empty()) return fetch_file_results(full, file, total, default_json, options.filter_json);
        throw ResultsMissing(fmt::format(
            "Batch job {} ({}) has no results. This may indicate the job failed or was cancelled.", full, name));
    }

    // ---- synchronous --------------------------------------------------------------------------

    /// One synchronous `generateContent` call with the prompts joined by `\n`. Returns the JSON
    /// value extracted from the answer when `filter_json` (default: the configuration's), else
    /// the raw response object.
    /// @throws InvalidArgument for empty prompts; JsonExtractionError when JSON was wanted and
    ///         none was found; QuotaError on 429.
    [[nodiscard]] Json generate(const PromptSequence& prompts, std::optional<bool> filter_json = std::nullopt) {
        if (prompts.empty()) throw InvalidArgument("user_prompts must not be empty.");
        const bool json_wanted = filter_json.value_or(config_.generation.filter_json);
        Json reply = call("POST", model_url(":generateContent"), generate_request(prompts, json_wanted).dump(),
                          "generate content");
        if (!json_wanted) return reply;
        const auto text = detail::gemini_response_text(reply);
        if (!text)
            throw ProviderError(fmt::format("{}: generate content returned no text ({})", name,
                                            detail::gemini_no_text_reason(reply)),
                                ProviderErrorInfo{std::string(name), 200, {}, {}, false});
        return llmbatch::filter_json(*text);  // qualified: the parameter shadows it
    }

    // ---- wire translation (public for tests and for tools that read stored replies) ----------

    /// The GenerateContentRequest for one prompt sequence: `contents`, `systemInstruction` next to
    /// it, and `generationConfig` (temperature, thinkingConfig, responseMimeType when JSON is wanted).
    [[nodiscard]] Json generate_request(const PromptSequence& prompts, bool json_wanted) const {
        const auto& g = config_.generation;
        Json generation = {{"temperature", g.temperature}};
        if (g.thinking_budget) generation["thinkingConfig"] = {{"thinkingBudget", *g.thinking_budget}};
        if (g.max_output_tokens) generation["maxOutputTokens"] = *g.max_output_tokens;
        if (json_wanted && g.json_mime_type_when_filtering) generation["responseMimeType"] = "application/json";
        Json request = {{"contents", Json::array({{{"role", "user"}, {"parts", Json::array({{{"text", join_prompts(prompts)}}})}}})},
                        {"generationConfig", std::move(generation)}};
        if (g.system_prompt) request["systemInstruction"] = {{"parts", Json::array({{{"text", g.system_prompt->text()}}})}};
        return request;
    }

    /// Translates an Operation (from create, get or list) into a `BatchJob`.
    /// @throws ProviderError when a counter or the state has the wrong type.
    [[nodiscard]] static BatchJob parse_operation(const Json& op) {
        if (!op.is_object()) throw bad_reply("read batch job", "the reply is not a JSON object");
        BatchJob job;
        job.provider = std::string(name);
        job.name = detail::get_string(op, "name");
        const Json& md = detail::member(op, "metadata");
        if (job.name.empty()) job.name = detail::get_string(md, "name");
        job.display_name = detail::get_string(md, "displayName");
        job.model = detail::get_string(md, "model");
        if (const auto* st = detail::find(md, "state"); st && !st->is_string())
            throw bad_reply("read batch job " + job.name, "'state' is not a string");
        job.raw_state = detail::get_string(md, "state");
        job.state = detail::gemini_state(job.raw_state);
        if (const auto* stats = detail::find(md, "batchStats")) {
            auto counter = [&](std::string_view key) {
                auto v = detail::get_int64(*stats, key);
                if (!v) throw bad_reply("read batch job " + job.name, fmt::format("batchStats.{} is not an integer", key));
                return *v;
            };
            job.counts.total = counter("requestCount");
            job.counts.succeeded = counter("successfulRequestCount");
            job.counts.failed = counter("failedRequestCount");
            job.counts.pending = counter("pendingRequestCount");
        }
        auto time = [&](std::string_view key) -> std::optional<BatchJob::TimePoint> {
            auto s = detail::get_string(md, key);
            return s.empty() ? std::nullopt : detail::parse_rfc3339(s);
        };
        job.create_time = time("createTime");
        job.update_time = time("updateTime");
        job.end_time = time("endTime");
        if (const auto* err = detail::find(op, "error"); err && err->is_object()) job.error = detail::google_status(*err);
        job.done = detail::get_bool(op, "done") || is_terminal(job.state);
        if (job.done && job.state == JobState::unspecified) job.state = job.error ? JobState::failed : JobState::succeeded;
        return job;
    }

private:
    struct Keyed {
        std::string key;
        const Json* item;
    };

    [[nodiscard]] std::string api_url(std::string_view rest) const {
        return fmt::format("{}/{}/{}", config_.base_url, config_.api_version, rest);
    }
    [[nodiscard]] std::string model_url(std::string_view method) const {
        const auto& m = config_.generation.model;
        const bool qualified = m.rfind("models/", 0) == 0 || m.rfind("tunedModels/", 0) == 0;
        return api_url((qualified ? m : "models/" + m) + std::string(method));
    }

    /// The id part of `batches/{id}` (or of a bare id), checked so it cannot alter the URL path.
    [[nodiscard]] static std::string job_id(const std::string& job_name) {
        std::string_view id = job_name;
        if (id.rfind("batches/", 0) == 0) id.remove_prefix(8);
        const bool ok = !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
                            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
                        });
        if (!ok)
            throw InvalidArgument(fmt::format("'{}' is not a Gemini batch job name (expected batches/<id>)",
                                              detail::excerpt(job_name, 80)));
        return std::string(id);
    }

    /// The Operation of job `full` (`batches/{id}`, already checked).
    [[nodiscard]] Json get_operation(const std::string& full) { return call("GET", api_url(full), {}, "get batch job " + full); }

    /// Removes the API key from text that came back from the network.
    [[nodiscard]] std::string redact(std::string text) const {
        const auto& key = config_.api_key;
        if (key.size() < 4) return text;
        for (auto pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos))
            text.replace(pos, key.size(), "[REDACTED]");
        return text;
    }

    [[nodiscard]] static ProviderError bad_reply(std::string_view what, std::string_view why) {
        return ProviderError(fmt::format("{}: {}: unexpected reply: {}", name, what, why),
                             ProviderErrorInfo{std::string(name), 0, {}, std::string(why), false});
    }

    /// Sends one authenticated request and returns the successful response, or throws the typed error.
    HttpResponse exchange(std::string method, std::string url, std::string body, const std::string& what,
                          Idempotency idempotency = Idempotency::idempotent) {
        HttpRequest request{std::move(method), std::move(url), {}, std::move(body)};
        request.headers.set("x-goog-api-key", config_.api_key);
        if (!request.body.empty()) request.headers.set("Content-Type", "application/json");
        HttpResponse response = send(request, what, idempotency);
        if (!response.ok()) throw_http_error(response, what);
        return response;
    }

    /// `exchange`, with the reply parsed as JSON.
    Json call(std::string method, std::string url, std::string body, const std::string& what,
              Idempotency idempotency = Idempotency::idempotent) {
        const HttpResponse response = exchange(std::move(method), std::move(url), std::move(body), what, idempotency);
        if (response.body.empty()) return Json::object();
        Json parsed = Json::parse(response.body, nullptr, false);
        if (parsed.is_discarded())
            throw bad_reply(what, fmt::format("the body is not JSON: {}", detail::excerpt(redact(response.body), 120)));
        return parsed;
    }

    /// One exchange under the retry policy; transport failures are re-thrown naming the operation.
    HttpResponse send(const HttpRequest& request, std::string_view what, Idempotency idempotency) {
        try {
            return send_with_retries([this](const HttpRequest& r) { return transport_.send(r); }, request,
                                     config_.retry, idempotency, clock_);
        } catch (const TransportError& e) {
            throw TransportError(fmt::format("{}: {}: {}", name, what, redact(e.what())), e.request_may_have_been_sent(),
                                 std::string(name));
        }
    }

    [[noreturn]] void throw_http_error(const HttpResponse& response, const std::string& what) const {
        ErrorStatus status;
        const Json parsed = Json::parse(response.body, nullptr, false);
        if (const auto* err = parsed.is_discarded() ? nullptr : detail::find(parsed, "error"); err && err->is_object())
            status = detail::google_status(*err);
        else
            status.message = detail::excerpt(response.body, 200);
        status.message = redact(status.message);
        const int http = response.status;
        ProviderErrorInfo info{std::string(name), http, status.status, status.message, is_retryable_status(http)};
        const std::string message =
            fmt::format("{}: {} failed: HTTP {}{}{}", name, what, http, status.status.empty() ? "" : " " + status.status,
                        status.message.empty() ? "" : ": " + status.message);
        if (http == 429 || status.status == "RESOURCE_EXHAUSTED") throw QuotaError(message, std::move(info));
        if (http == 404) throw NotFoundError(message, std::move(info));
        throw ProviderError(message, std::move(info));
    }

    /// Turns one result item (`{"response": ...}` or `{"error": ...}`) into an outcome.
    [[nodiscard]] static RequestOutcome outcome_of(const Json& item, std::size_t index, std::string key, bool default_json,
                                                   std::optional<bool> forced_json) {
        RequestOutcome out;
        out.index = index;
        out.key = std::move(key);
        bool json_wanted = default_json;
        if (forced_json) {
            json_wanted = *forced_json;
        } else if (const auto* md = detail::find(item, "metadata")) {
            const auto recorded = detail::get_string(*md, "filter_json");
            if (recorded == "true") json_wanted = true;
            if (recorded == "false") json_wanted = false;
        }
        if (const auto* err = detail::find(item, "error"); err && err->is_object()) {
            out.error = detail::google_status(*err);
            out.raw = *err;
            return out;
        }
        const auto* response = detail::find(item, "response");
        if (!response || !response->is_object()) {
            out.error = ErrorStatus{0, "MALFORMED_RESULT", "the result holds neither a response nor an error", nullptr};
            out.raw = item;
            return out;
        }
        out.raw = *response;
        if (!json_wanted) {
            out.value = *response;
            return out;
        }
        const auto text = detail::gemini_response_text(*response);
        if (!text) {
            out.error = ErrorStatus{0, "EMPTY_RESPONSE",
                                    "the response has no text (" + detail::gemini_no_text_reason(*response) + ")", nullptr};
            return out;
        }
        try {
            out.value = filter_json(*text);
        } catch (const JsonExtractionError& e) {
            out.error = ErrorStatus{0, "INVALID_JSON", e.what(), nullptr};
        }
        return out;
    }

    /// Puts result items back in input order: by our key (`"0"`, `"1"`, ...) when every item
    /// carries a distinct one, else by position (the documented order). Requests with no result
    /// become `MISSING_RESULT` errors, so nothing silently shifts.
    [[nodiscard]] BatchResults assemble(const std::string& job_name, std::vector<Keyed> items, std::size_t total,
                                        bool default_json, std::optional<bool> forced_json) const {
        const std::size_t count = std::max(total, items.size());
        std::vector<const Keyed*> slots(count, nullptr);
        bool by_key = !items.empty();
        for (const auto& k : items) {
            std::size_t idx = 0;
            auto [ptr, ec] = std::from_chars(k.key.data(), k.key.data() + k.key.size(), idx);
            if (k.key.empty() || ec != std::errc{} || ptr != k.key.data() + k.key.size() || idx >= count ||
                slots[idx] != nullptr || (k.key.size() > 1 && k.key[0] == '0')) {
                by_key = false;
                break;
            }
            slots[idx] = &k;
        }
        if (!by_key) {
            const bool some_keyed = std::any_of(items.begin(), items.end(), [](const Keyed& k) { return !k.key.empty(); });
            const bool all_keyed = std::all_of(items.begin(), items.end(), [](const Keyed& k) { return !k.key.empty(); });
            if (some_keyed && !all_keyed)
                throw ProviderError(
                    fmt::format("{}: cannot restore the input order of batch job {}: only some results carry a key",
                                name, job_name),
                    ProviderErrorInfo{std::string(name), 0, {}, "results partly keyed", false});
            std::fill(slots.begin(), slots.end(), nullptr);
            for (std::size_t i = 0; i < items.size(); ++i) slots[i] = &items[i];
        }
        std::vector<RequestOutcome> outcomes;
        outcomes.reserve(count);
        for (std::size_t i = 0; i < count; ++i) {
            if (slots[i]) {
                outcomes.push_back(outcome_of(*slots[i]->item, i, slots[i]->key, default_json, forced_json));
            } else {
                RequestOutcome missing;
                missing.index = i;
                missing.key = std::to_string(i);
                missing.error = ErrorStatus{0, "MISSING_RESULT", "the service returned no result for this request", nullptr};
                outcomes.push_back(std::move(missing));
            }
        }
        return BatchResults(std::string(name), job_name, std::move(outcomes));
    }

    /// Downloads a `responsesFile` (file-output jobs) and reads its JSONL lines `{key, response|error}`.
    [[nodiscard]] BatchResults fetch_file_results(const std::string& job_name, const std::string& file, std::size_t total,
                                                  bool default_json, std::optional<bool> forced_json) {
        if (file.rfind("files/", 0) != 0 || file.find_first_of("?#/", 6) != std::string::npos)
            throw bad_reply("download results of " + job_name, "unexpected responsesFile name");
        const HttpResponse response =
            exchange("GET", fmt::format("{}/download/{}/{}:download?alt=media", config_.base_url, config_.api_version, file),
                     {}, "download results of " + job_name);
        std::vector<Json> lines;
        std::string_view body = response.body;
        for (std::size_t line_no = 1; !body.empty(); ++line_no) {
            const auto nl = body.find('\n');
            std::string_view line = body.substr(0, nl);
            body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
            if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
            Json parsed = Json::parse(line, nullptr, false);
            if (parsed.is_discarded() || !parsed.is_object())
                throw bad_reply("download results of " + job_name, fmt::format("line {} is not a JSON object", line_no));
            lines.push_back(std::move(parsed));
        }
        std::vector<Keyed> keyed;
        keyed.reserve(lines.size());
        for (const auto& l : lines) keyed.push_back({detail::get_string(l, "key"), &l});
        return assemble(job_name, std::move(keyed), total, default_json, forced_json);
    }

    GeminiConfig config_;
    [[no_unique_address]] Transport transport_;
    [[no_unique_address]] ClockT clock_;
};

}  // namespace llmbatch
