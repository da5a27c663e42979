#pragma once
/// @file providers/anthropic.hpp
/// `AnthropicProvider<Transport, Clock>`: Anthropic's Message Batches API
/// (`/v1/messages/batches`: create, get, list, cancel, delete, results) and the synchronous
/// `POST /v1/messages`, over any `HttpTransport`, on the shared provider layer. The API has no
/// input files: every request goes inline (at most 100,000 requests or 256 MB per batch).
///
/// Request keys: the API takes a `custom_id` of 1 to 64 characters of `[a-zA-Z0-9_-]`. A key
/// that fits is sent as it is; any other is sent as `k<hash>_<index>` (see
/// `detail::anthropic_custom_id`). To get such keys back on fetch, pass the keys (in input order)
/// in `FetchOptions::request_keys`, as for any provider with custom keys: the provider derives
/// the same ids again, joins the results on them into input order, and every outcome carries the
/// original key.
///
/// Example:
/// @code
/// llmbatch::AnthropicConfig config;  // key from ANTHROPIC_API_KEY
/// llmbatch::AnthropicProvider<MyTransport> claude(config, MyTransport{});
/// auto job = claude.create_batch_job({{"Categorise as JSON: Geography GCSE"}}, {.filter_json = true});
/// for (const auto& outcome : claude.fetch_batch_results(job, {.filter_json = true})) { ... }  // once ended
/// @endcode

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/clock.hpp"
#include "llmbatch/concepts.hpp"
#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/json_filter.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/providers/anthropic/results.hpp"
#include "llmbatch/providers/anthropic/wire.hpp"
#include "llmbatch/providers/common/chat_completions.hpp"
#include "llmbatch/providers/common/credentials.hpp"
#include "llmbatch/providers/common/result_reader.hpp"
#include "llmbatch/providers/common/session.hpp"
#include "llmbatch/request.hpp"
#include "llmbatch/progress.hpp"
#include "llmbatch/retry.hpp"

namespace llmbatch {

/// Settings of an `AnthropicProvider`.
struct AnthropicConfig {
    static constexpr std::string_view default_base_url = "https://api.anthropic.com";
    static constexpr std::string_view default_model = "claude-sonnet-4-5";
    static constexpr std::string_view default_version = "2026-10-21";
    static constexpr double default_temperature = 0.2;
    static constexpr int default_max_tokens = 4096;
    /// The API's limits of one batch.
    static constexpr std::size_t api_max_requests = 100'000;
    static constexpr std::size_t api_max_request_bytes = 256ULL * 1024 * 1024;

    /// `claude-sonnet-4-5`, temperature 0.2.
    [[nodiscard]] static GenerationConfig default_generation() {
        GenerationConfig g;
        g.model = std::string(default_model);
        g.temperature = default_temperature;
        return g;
    }

    /// API key; when empty, `ANTHROPIC_API_KEY` from the environment is used.
    std::string api_key{};
    std::string base_url{default_base_url};
    /// `Authorization: Bearer` (the default, as the current official SDK sends) or `x-api-key`.
    AnthropicAuth auth = AnthropicAuth::bearer;
    /// The `anthropic-version` header (e.g. `"2023-06-01"` for the older API version).
    std::string anthropic_version{default_version};
    /// The `anthropic-workspace-id` header; empty: not sent.
    std::string workspace_id{};
    GenerationConfig generation = default_generation();
    /// `max_tokens` of a request whose settings and `generation.max_output_tokens` name none.
    /// The API requires one, and refuses 0 in a batch.
    int max_tokens = default_max_tokens;
    /// Page size of `list_batch_jobs` (1 to 1000; every page is fetched).
    int list_page_size = 100;
    RetryPolicy retry{};
    /// Told how long uploads and results downloads progress (progress.hpp); empty: nobody.
    TransferObserver on_transfer{};
    /// Batches with more requests, or a larger create body, are refused before anything is sent.
    std::size_t max_requests = api_max_requests;
    std::size_t max_request_bytes = api_max_request_bytes;
};

/// The Anthropic provider (see the file comment). Errors as `OpenAIProvider`: `InvalidArgument`
/// before anything is sent, `QuotaError` (429), `AuthenticationError` (401, 403),
/// `NotFoundError` (404), `ProviderError`, `TransportError`; the API key never appears in them.
template <class Transport, Clock ClockT = SystemClock>
class AnthropicProvider {
    static_assert(check_http_transport<Transport>());
    using Session = ProviderSession<AnthropicWire, AnthropicHeaderTransport<Transport>, ClockT>;

public:
    static constexpr std::string_view name = AnthropicWire::name;
    /// A Message Batch has no metadata or display name to carry a client token: a job whose create
    /// reply was lost is recognised by its creation time and request count instead (see
    /// tracked_create.hpp).
    static constexpr bool lists_client_tokens = false;

    explicit AnthropicProvider(AnthropicConfig config = {}, Transport transport = Transport{}, ClockT clock = ClockT{})
        : config_(normalised(std::move(config))),
          session_(config_.api_key, config_.retry,
                   AnthropicHeaderTransport<Transport>{std::move(transport), config_.anthropic_version,
                                                       config_.workspace_id, config_.auth},
                   std::move(clock), config_.on_transfer) {}

    [[nodiscard]] bool is_available() const noexcept { return session_.has_key(); }
    [[nodiscard]] const AnthropicConfig& config() const noexcept { return config_; }
    [[nodiscard]] Transport& transport() noexcept { return session_.transport().inner; }
    [[nodiscard]] ClockT& clock() noexcept { return session_.clock(); }

    // ---- batch operations -------------------------------------------------------------------

    [[nodiscard]] SubmittedJob create_batch_job(const BatchPayload& payload, const CreateOptions& options = {}) {
        return create_batch_job(to_requests(payload), options);
    }
    [[nodiscard]] SubmittedJob create_batch_job(std::initializer_list<PromptSequence> payload,
                                                const CreateOptions& options = {}) {
        return create_batch_job(BatchPayload(payload), options);
    }

    /// Creates a Message Batch (`POST /v1/messages/batches`, the requests inline; the API has
    /// no input files, so `force_file_input` changes nothing and `input_files` stays empty). The
    /// create is never repeated after an ambiguous failure. Whether JSON is wanted is not stored
    /// with the batch (it has no metadata): pass `filter_json` to the fetch too, or set it in the
    /// configuration. A `client_token` is checked but cannot be carried.
    /// @throws InvalidArgument for no requests, empty or duplicate keys, a `max_tokens` of 0,
    ///         a JSON schema (send `output_format` through `provider_options`), or a batch over
    ///         `max_requests` / `max_request_bytes` (nothing is sent then).
    [[nodiscard]] SubmittedJob create_batch_job(const std::vector<BatchRequest>& requests,
                                                const CreateOptions& options = {}) {
        validate_requests(requests, name);
        check_client_token(options);
        if (requests.size() > config_.max_requests)
            throw InvalidArgument(fmt::format(
                "anthropic: a batch holds at most {} requests; this one has {}: split the payload into several batches",
                config_.max_requests, requests.size()));
        const bool json_wanted = options.filter_json.value_or(config_.generation.filter_json);
        Json list = Json::array();
        std::unordered_set<std::string> ids;
        for (std::size_t i = 0; i < requests.size(); ++i) {
            std::string id = detail::anthropic_custom_id(request_key(requests[i], i), i);
            if (!ids.insert(id).second)
                throw InvalidArgument(fmt::format("request {}: its custom_id '{}' is taken by an earlier request", i, id));
            list.push_back({{"custom_id", std::move(id)}, {"params", params(requests[i], json_wanted)}});
        }
        std::string body = Json{{"requests", std::move(list)}}.dump();
        if (body.size() > config_.max_request_bytes)
            throw InvalidArgument(fmt::format(
                "anthropic: a batch's create body may be at most {} bytes; this one has {}: split the payload into "
                "several batches",
                config_.max_request_bytes, body.size()));
        const Json batch = session_.call("POST", api_url("messages/batches"), std::move(body), "create batch job",
                                         Idempotency::not_idempotent);
        std::string id = detail::get_string(batch, "id");
        if (id.empty()) throw Session::bad_reply("create batch job", "the reply has no batch id");
        return SubmittedJob(std::move(id));
    }

    /// The Messages body of one request: `model`, `max_tokens`, `temperature`, `system` (the
    /// request's system prompt, else the configuration's), `messages` (one user message: the
    /// request's parts joined with `\n`), then `provider_options` merged (RFC 7386).
    /// @throws InvalidArgument for a `max_tokens` below 1 or a JSON schema.
    [[nodiscard]] Json params(const BatchRequest& request, bool /*json_wanted*/ = false) const {
        const auto& s = request.settings;
        const auto& g = config_.generation;
        if (!s.json_schema.is_null())
            throw InvalidArgument("anthropic: RequestSettings::json_schema is not supported; put the API's structured "
                                  "output parameter in provider_options");
        const int max_tokens = s.max_output_tokens ? *s.max_output_tokens
                               : g.max_output_tokens ? *g.max_output_tokens
                                                     : config_.max_tokens;
        if (max_tokens < 1)
            throw InvalidArgument(fmt::format("anthropic: max_tokens must be at least 1 (got {})", max_tokens));
        Json body = Json::object();
        if (!g.model.empty()) body["model"] = g.model;
        body["max_tokens"] = max_tokens;
        if (auto t = s.temperature ? s.temperature : g.temperature) body["temperature"] = *t;
        if (const SystemPrompt* system = detail::effective_system_prompt(request, g)) body["system"] = system->text();
        body["messages"] = Json::array({{{"role", "user"}, {"content", join_prompts(request.parts)}}});
        if (request.provider_options.is_object()) body.merge_patch(request.provider_options);
        return body;
    }

    /// The batch's current status (`GET /v1/messages/batches/{id}`).
    [[nodiscard]] BatchJob get_batch_job(const std::string& job_name) {
        const auto id = job_id(job_name);
        return session_.redact_job(parse_job(session_.call("GET", api_url("messages/batches/" + id), {}, "get batch job " + id)));
    }

    /// Every batch, page by page (`?limit=N`, then `&after_id=<last_id>` until `has_more` is false).
    [[nodiscard]] std::vector<BatchJob> list_batch_jobs() {
        std::vector<BatchJob> jobs;
        std::string after;
        for (std::size_t page = 0;; ++page) {
            std::string url = api_url("messages/batches") + fmt::format("?limit={}", config_.list_page_size);
            if (!after.empty()) url += "&after_id=" + after;
            const Json reply = session_.call("GET", std::move(url), {}, "list batch jobs");
            const auto* data = detail::find(reply, "data");
            if (!data || !data->is_array()) throw Session::bad_reply("list batch jobs", "'data' is not an array");
            for (const auto& j : *data) jobs.push_back(session_.redact_job(parse_job(j)));
            const auto* more = detail::find(reply, "has_more");
            if (!more || !more->is_boolean() || !more->get<bool>() || data->empty()) break;
            std::string last = detail::get_string(reply, "last_id");
            if (last.empty()) last = jobs.back().name;
            if (last == after || page > 1'000'000) throw Session::bad_reply("list batch jobs", "the pages do not end");
            after = job_id(last);
        }
        return jobs;
    }

    /// Asks the API to cancel a batch (`POST /v1/messages/batches/{id}/cancel`): it shows
    /// `canceling`, then ends; requests not processed by then come back `canceled`.
    void cancel_batch_job(const std::string& job_name) {
        const auto id = job_id(job_name);
        (void)session_.call("POST", api_url("messages/batches/" + id + "/cancel"), {}, "cancel batch job " + id);
    }

    /// Deletes a batch (`DELETE /v1/messages/batches/{id}`), which the API allows only once it ended.
    /// @throws JobNotReady when the batch has not ended (the API's 400), with its state.
    void delete_batch_job(const std::string& job_name) {
        const auto id = job_id(job_name);
        try {
            (void)session_.call("DELETE", api_url("messages/batches/" + id), {}, "delete batch job " + id);
        } catch (const ProviderError& e) {
            if (e.http_status() != 400) throw;
            const BatchJob job = get_batch_job(id);
            if (job.done) throw;
            throw JobNotReady(fmt::format("Batch job {} ({}) cannot be deleted before it ended. Current state: {} ({})", id,
                                          name, job.state, e.api_message()),
                              id, std::string(to_string(job.state)));
        }
    }

    /// The results of an ended batch, one outcome per request, in input order.
    /// @throws JobNotReady before it ended; JobFailed when every request errored (the
    ///         outcomes are in `stream_batch_results`); ResultsMissing when it has no results URL.
    [[nodiscard]] BatchResults fetch_batch_results(const std::string& job_name, const FetchOptions& options = {}) {
        const BatchJob job = get_batch_job(job_name);
        return fetch_batch_results(job, options);
    }
    [[nodiscard]] BatchResults fetch_batch_results(const BatchJob& job, const FetchOptions& options = {}) {
        OutcomeCollector collected;
        stream_batch_results(job, collected.sink(), options);
        return std::move(collected).take(std::string(name), job.name);
    }

    /// Hands the outcomes of an ended batch to `sink`, streaming `results_url` exactly as the
    /// API returned it. A batch whose every request errored is `failed`: this throws `JobFailed`.
    void stream_batch_results(const BatchJob& job, const OutcomeSink& sink, const FetchOptions& options = {}) {
        const std::string id = job_id(job.name);
        require_finished(name, job, id);
        if (job.state == JobState::failed) throw_job_without_results(name, job, id, session_.redact(job.error ? job.error->message : ""));
        stream_results_of(job, sink, options);
    }

    /// Hands the outcomes of an ended batch to `sink` whatever its state (a batch whose every
    /// request errored included: its outcomes are the errors).
    void stream_results_of(const BatchJob& job, const OutcomeSink& sink, const FetchOptions& options = {}) {
        const std::string id = job_id(job.name);
        require_finished(name, job, id);
        const std::string url = detail::get_string(job.raw, "results_url");
        if (url.empty()) throw_job_without_results(name, job, id, "the batch has no results_url (its results may be archived)");
        AnthropicResultsReader reader(id, options, options.filter_json.value_or(config_.generation.filter_json),
                                      job.counts.total, job.state, sink, session_.redactor());
        HttpRequest request{"GET", url, {}, {}};
        request.headers.set("Accept", "application/binary");
        std::size_t bytes = 0;
        session_.download(std::move(request), "download results of " + id, [&](std::string_view chunk) {
            bytes += chunk.size();
            reader.feed(chunk);
        });
        if (bytes == 0 && job.counts.total > 0) throw empty_results_error(name, id);
        reader.finish();
    }

    // ---- synchronous --------------------------------------------------------------------------

    /// One `POST /v1/messages`. Without JSON wanted the Message is returned as it is; with it,
    /// the text of its text blocks through `filter_json`.
    /// @throws ProviderError when the message has no text; JsonExtractionError when it holds no JSON.
    [[nodiscard]] Json generate(const PromptSequence& prompts, std::optional<bool> filter_json = std::nullopt) {
        if (prompts.empty()) throw InvalidArgument("user_prompts must not be empty.");
        const bool json_wanted = filter_json.value_or(config_.generation.filter_json);
        Json reply = session_.call("POST", api_url("messages"), params(BatchRequest::from_prompts(prompts)).dump(),
                                   "generate content", Idempotency::not_idempotent);
        if (!json_wanted) return reply;
        const auto text = anthropic_message_text(reply);
        if (!text)
            throw ProviderError(fmt::format("{}: generate content returned no text (stop_reason {})", name,
                                            detail::get_string(reply, "stop_reason")),
                                ProviderErrorInfo{std::string(name), 200, {}, {}, false});
        return llmbatch::filter_json(*text);
    }

    /// Translates a MessageBatch into a `BatchJob`.
    [[nodiscard]] static BatchJob parse_job(Json batch) { return detail::parse_anthropic_batch(std::move(batch)); }

private:
    static AnthropicConfig normalised(AnthropicConfig c) {
        c.api_key = resolve_api_key(std::move(c.api_key), "ANTHROPIC_API_KEY");
        while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
        if (c.list_page_size < 1 || c.list_page_size > 1000)
            throw InvalidArgument("AnthropicConfig::list_page_size must be between 1 and 1000");
        if (c.max_tokens < 1) throw InvalidArgument("AnthropicConfig::max_tokens must be at least 1 (the API refuses 0)");
        if (c.generation.max_output_tokens && *c.generation.max_output_tokens < 1)
            throw InvalidArgument("AnthropicConfig::generation.max_output_tokens must be at least 1 (the API refuses 0)");
        if (c.anthropic_version.empty()) throw InvalidArgument("AnthropicConfig::anthropic_version must not be empty");
        return c;
    }

    [[nodiscard]] std::string api_url(std::string_view rest) const { return fmt::format("{}/v1/{}", config_.base_url, rest); }

    [[nodiscard]] static std::string job_id(const std::string& job_name) {
        return detail::anthropic_path_id(job_name, "an Anthropic message batch id");
    }

    AnthropicConfig config_;
    Session session_;
};

}  // namespace llmbatch
