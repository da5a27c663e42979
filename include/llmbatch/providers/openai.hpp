#pragma once
/// @file providers/openai.hpp
/// `OpenAIProvider<Transport, Clock>`: the OpenAI Batch API (`/batches`, cancel, list), the Files
/// and Uploads APIs for its input and result files, and the synchronous chat completion, over
/// any `HttpTransport`, on the shared provider layer (`providers/common/`). Any
/// OpenAI-compatible endpoint works through `OpenAIConfig::base_url`.
///
/// Example:
/// @code
/// llmbatch::OpenAIConfig config;  // key from OPENAI_API_KEY
/// llmbatch::OpenAIProvider<MyTransport> openai(config, MyTransport{});
/// auto job = openai.create_batch_job({{"Categorise as JSON: Geography GCSE"}}, {.filter_json = true});
/// // ... later, once openai.get_batch_job(job).done:
/// for (const auto& outcome : openai.fetch_batch_results(job)) { ... }
/// @endcode

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <map>
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
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/json_filter.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/providers/common/chat_completions.hpp"
#include "llmbatch/providers/common/credentials.hpp"
#include "llmbatch/providers/common/multipart.hpp"
#include "llmbatch/providers/common/openai_lines.hpp"
#include "llmbatch/providers/common/result_reader.hpp"
#include "llmbatch/providers/common/session.hpp"
#include "llmbatch/providers/openai/files.hpp"
#include "llmbatch/providers/openai/wire.hpp"
#include "llmbatch/progress.hpp"
#include "llmbatch/retry.hpp"

namespace llmbatch {

/// Which OpenAI endpoint the batch requests go to.
enum class OpenAIEndpoint {
    chat_completions,  ///< `/v1/chat/completions`
    responses,         ///< `/v1/responses`
};

/// Settings of an `OpenAIProvider`.
struct OpenAIConfig {
    static constexpr std::string_view default_base_url = "https://api.openai.com/v1";
    static constexpr std::string_view default_model = "gpt-4o-mini";
    static constexpr double default_temperature = 0.2;
    /// The Batch API's documented limits per input file.
    static constexpr std::size_t default_max_requests = 50'000;
    static constexpr std::uint64_t default_max_input_bytes = 200'000'000;
    /// Files up to this go in one `POST /files`; larger ones through the Uploads API in parts of
    /// this size, so at most this much of the input file is held in memory.
    static constexpr std::size_t default_upload_part_bytes = 8 * 1024 * 1024;
    /// Metadata limits of a batch.
    static constexpr std::size_t max_metadata_pairs = 16, max_metadata_key = 64, max_metadata_value = 512;

    /// `gpt-4o-mini`, temperature 0.2.
    [[nodiscard]] static GenerationConfig default_generation() {
        GenerationConfig g;
        g.model = std::string(default_model);
        g.temperature = default_temperature;
        return g;
    }

    /// API key; when empty, `OPENAI_API_KEY` from the environment is used. Sent as a Bearer token,
    /// never in a URL, a message or a log.
    std::string api_key{};
    /// `OpenAI-Organization` / `OpenAI-Project` headers, sent when not empty.
    std::string organization{};
    std::string project{};
    std::string base_url{default_base_url};
    GenerationConfig generation = default_generation();
    OpenAIEndpoint endpoint = OpenAIEndpoint::chat_completions;
    std::string completion_window = "24h";
    /// Batch metadata (at most 16 pairs with the two llmbatch adds, keys up to 64 characters,
    /// values up to 512).
    std::map<std::string, std::string> metadata{};
    std::size_t max_requests = default_max_requests;
    std::uint64_t max_input_bytes = default_max_input_bytes;
    /// Page size of `list_batch_jobs` (1..100; every page is fetched).
    int list_page_size = 100;
    /// Retries of transient failures (see retry.hpp); `RetryPolicy::none()` disables them.
    RetryPolicy retry{};
    /// Told how long uploads and results downloads progress (progress.hpp); empty: nobody.
    TransferObserver on_transfer{};
    /// Delete a job's input file once its results have been fetched.
    bool delete_input_files_after_fetch = false;
    std::size_t upload_part_bytes = default_upload_part_bytes;
};

/// The OpenAI provider.
///
/// Requirements: `Transport` models `HttpTransport` (and, for streamed downloads,
/// `StreamingHttpTransport`), `ClockT` models `Clock`.
/// Errors: `InvalidArgument` for bad input (before anything is sent), `QuotaError` for 429,
/// `AuthenticationError` for 401/403, `NotFoundError` for 404, `ProviderError` for other HTTP
/// errors and unreadable replies, `TransportError` when the exchange fails, `JobNotReady` /
/// `JobFailed` / `ResultsMissing` from the result fetches.
template <class Transport, Clock ClockT = SystemClock>
class OpenAIProvider {
    static_assert(check_http_transport<Transport>());
    /// The session sends through a transport that adds the organization and project headers.
    using Session = ProviderSession<OpenAIWire, OpenAIHeaderTransport<Transport>, ClockT>;

public:
    static constexpr std::string_view name = OpenAIWire::name;
    /// The metadata keys llmbatch sets on every batch.
    static constexpr std::string_view filter_json_key = "llmbatch_filter_json";
    static constexpr std::string_view display_name_key = "llmbatch_display_name";
    static constexpr std::string_view client_token_key = "llmbatch_client_token";
    /// Jobs listed carry the client token they were created with (`BatchJob::client_token`).
    static constexpr bool lists_client_tokens = true;

    explicit OpenAIProvider(OpenAIConfig config = {}, Transport transport = Transport{}, ClockT clock = ClockT{})
        : config_(normalised(std::move(config))),
          session_(config_.api_key, config_.retry,
                   OpenAIHeaderTransport<Transport>{std::move(transport), config_.organization, config_.project},
                   std::move(clock), config_.on_transfer) {}

    [[nodiscard]] bool is_available() const noexcept { return session_.has_key(); }
    [[nodiscard]] const OpenAIConfig& config() const noexcept { return config_; }
    [[nodiscard]] Transport& transport() noexcept { return session_.transport().inner; }
    [[nodiscard]] ClockT& clock() noexcept { return session_.clock(); }

    // ---- batch operations -------------------------------------------------------------------

    /// Creates a batch job of one request per payload element (key = its index).
    [[nodiscard]] SubmittedJob create_batch_job(const BatchPayload& payload, const CreateOptions& options = {}) {
        return create_batch_job(to_requests(payload), options);
    }
    /// `create_batch_job` for a braced payload.
    [[nodiscard]] SubmittedJob create_batch_job(std::initializer_list<PromptSequence> payload,
                                                const CreateOptions& options = {}) {
        return create_batch_job(BatchPayload(payload), options);
    }

    /// Uploads the requests as a JSONL input file (`custom_id` = the request's key) and creates
    /// the batch; returns the batch id with the uploaded file. Whether JSON was wanted is recorded
    /// in the batch metadata for later fetches. The create is never repeated after an ambiguous
    /// failure; when it fails otherwise, the uploaded file is deleted again.
    /// @throws InvalidArgument for no requests, empty or duplicate keys, bad metadata, or a job
    ///         over `max_requests` / `max_input_bytes` (nothing is sent then).
    [[nodiscard]] SubmittedJob create_batch_job(const std::vector<BatchRequest>& requests,
                                                const CreateOptions& options = {}) {
        validate_requests(requests, name);
        check_client_token(options);
        const bool json_wanted = options.filter_json.value_or(config_.generation.filter_json);
        const std::string display = display_name(options);
        const Json metadata = batch_metadata(json_wanted, display, options.client_token);
        if (requests.size() > config_.max_requests)
            throw InvalidArgument(fmt::format(
                "openai: the job has {} requests, over the limit of {} requests per batch; split the payload into "
                "several jobs",
                requests.size(), config_.max_requests));
        LineSource lines(requests.size(), [&](std::size_t i) { return input_file_line(requests[i], i, json_wanted).dump(); });
        if (lines.size() > config_.max_input_bytes)
            throw InvalidArgument(fmt::format(
                "openai: the input file of {} requests is {} bytes, over the limit of {} bytes per batch; split the "
                "payload into several jobs",
                requests.size(), lines.size(), config_.max_input_bytes));
        const FileInfo input = files().upload(lines.size(), "application/jsonl", display + ".jsonl",
                                              [&](char* out, std::size_t n) { lines.read(out, n); });
        const Json body = {{"input_file_id", input.name},
                           {"endpoint", endpoint_path()},
                           {"completion_window", config_.completion_window},
                           {"metadata", metadata}};
        Json batch;
        try {
            batch = session_.call("POST", api_url("batches"), body.dump(), "create batch job", Idempotency::not_idempotent);
        } catch (const TransportError& e) {
            if (!e.request_may_have_been_sent()) (void)files().remove_if_present(input.name);
            throw;
        } catch (const Error&) {
            try {
                (void)files().remove_if_present(input.name);
            } catch (const Error&) {  // the create's error is the one to report
            }
            throw;
        }
        std::string id = detail::get_string(batch, "id");
        if (id.empty()) throw Session::bad_reply("create batch job", "the reply has no batch id");
        return SubmittedJob(std::move(id), {input.name});
    }

    /// The line of the input file for request `index`: `{"custom_id", "method", "url", "body"}`.
    [[nodiscard]] Json input_file_line(const BatchRequest& request, std::size_t index, bool json_wanted) const {
        return {{"custom_id", request_key(request, index)},
                {"method", "POST"},
                {"url", endpoint_path()},
                {"body", request_body(request, json_wanted)}};
    }

    /// The body of one request for the configured endpoint (chat completions or responses).
    [[nodiscard]] Json request_body(const BatchRequest& request, bool json_wanted) const {
        if (config_.endpoint == OpenAIEndpoint::responses) return responses_body(request, config_.generation, json_wanted);
        return chat_completions_body(request, config_.generation, json_wanted, "max_completion_tokens");
    }

    /// The job's current status (`GET /batches/{id}`).
    [[nodiscard]] BatchJob get_batch_job(const std::string& job_name) {
        const auto id = job_id(job_name);
        return session_.redact_job(parse_batch(session_.call("GET", api_url("batches/" + id), {}, "get batch job " + id)));
    }

    /// Every batch of this key and project, across all pages (`?limit=N&after=<last id>`).
    [[nodiscard]] std::vector<BatchJob> list_batch_jobs() {
        std::vector<BatchJob> jobs;
        std::string after;
        for (;;) {
            std::string url = api_url("batches") + fmt::format("?limit={}", config_.list_page_size);
            if (!after.empty()) url += "&after=" + after;
            const Json page = session_.call("GET", url, {}, "list batch jobs");
            const auto* data = detail::find(page, "data");
            if (!data || !data->is_array()) throw Session::bad_reply("list batch jobs", "'data' is not an array");
            for (const auto& b : *data) jobs.push_back(session_.redact_job(parse_batch(b)));
            if (!detail::get_bool(page, "has_more") || data->empty()) break;
            std::string last = detail::path_safe_id(detail::get_string(data->back(), "id"), "a batch id");
            if (last == after) throw Session::bad_reply("list batch jobs", "the page cursor does not advance");
            after = std::move(last);
        }
        return jobs;
    }

    /// Asks the service to cancel a batch (`POST /batches/{id}/cancel`); it goes through
    /// `cancelling` (up to 10 minutes) to `cancelled`, keeping the results finished before.
    void cancel_batch_job(const std::string& job_name) {
        const auto id = job_id(job_name);
        (void)session_.call("POST", api_url("batches/" + id + "/cancel"), {}, "cancel batch job " + id);
    }

    /// OpenAI has no batch delete: this deletes the batch's input, output and error files
    /// (a file already gone counts as deleted). The batch record itself stays listed.
    void delete_batch_job(const std::string& job_name) {
        const BatchJob job = get_batch_job(job_name);
        for (const char* key : {"input_file_id", "output_file_id", "error_file_id"})
            if (auto file = detail::get_string(job.raw, key); !file.empty()) (void)files().remove_if_present(file);
    }

    /// The results of a finished job, one outcome per submitted request, in input order: the
    /// output file's lines, then the error file's. Requests without a line are `CANCELLED` /
    /// `EXPIRED` for a job that ended early, else `MISSING_RESULT`.
    /// @throws JobNotReady when the job is not finished; JobFailed when it failed (validation) or
    ///         ended early with no results; ResultsMissing when a completed job of requests has
    ///         neither file.
    [[nodiscard]] BatchResults fetch_batch_results(const std::string& job_name, const FetchOptions& options = {}) {
        const BatchJob job = get_batch_job(job_name);
        return fetch_batch_results(job, options);
    }

    /// `fetch_batch_results` for a job already read with `get_batch_job` (no second GET).
    [[nodiscard]] BatchResults fetch_batch_results(const BatchJob& job, const FetchOptions& options = {}) {
        OutcomeCollector collected;
        stream_batch_results(job, collected.sink(), options);
        return std::move(collected).take(std::string(name), job.name);
    }

    /// Hands the outcomes of a finished job to `sink` as the result files stream in. Every
    /// request gets exactly one outcome. Errors as `fetch_batch_results`.
    void stream_batch_results(const BatchJob& job, const OutcomeSink& sink, const FetchOptions& options = {}) {
        const std::string id = job_id(job.name);
        require_finished(name, job, id);
        const std::string output = detail::get_string(job.raw, "output_file_id");
        const std::string errors = detail::get_string(job.raw, "error_file_id");
        const bool partial = job.state == JobState::cancelled || job.state == JobState::expired;
        if (job.state == JobState::failed || (output.empty() && errors.empty() && (partial || job.counts.total > 0)))
            throw_job_without_results(name, job, id, session_.redact(job.error ? job.error->message : std::string()));
        OpenAILinesReader reader(name, id, options, json_wanted(job, options), job.counts.total, job.state, sink,
                                 session_.redactor());
        reader.expect_answers(job.counts.succeeded + job.counts.failed);
        std::size_t bytes = 0;
        for (const auto& file : {output, errors}) {
            if (file.empty()) continue;
            files().download(file, "download results of " + id, [&](std::string_view chunk) {
                bytes += chunk.size();
                reader.feed(chunk);
            });
            reader.finish_stream();
        }
        if (bytes == 0 && (!output.empty() || !errors.empty())) throw empty_results_error(name, id);
        reader.finish();
        if (config_.delete_input_files_after_fetch && !job.input_file.empty()) (void)files().remove_if_present(job.input_file);
    }

    // ---- files ----------------------------------------------------------------------------------

    /// Uploads the file at `path` with purpose `batch` (in parts above `upload_part_bytes`).
    FileInfo upload_file(const std::filesystem::path& path, std::string_view mime_type, std::string_view display_name) {
        return files().upload_file(path, mime_type, display_name);
    }
    /// A file's metadata.
    FileInfo get_file(const std::string& file) { return files().get(file); }
    /// Deletes a file.
    void delete_file(const std::string& file) { files().remove(file); }
    /// Streams a file's bytes to `sink(std::string_view)`.
    void download_file(const std::string& file, const std::function<void(std::string_view)>& sink) {
        files().download(file, "download file " + file, sink);
    }

    // ---- synchronous --------------------------------------------------------------------------

    /// One `POST /chat/completions` with the prompts joined by `\n`. Returns the JSON value
    /// extracted from the answer when `filter_json` (default: the configuration's), else the
    /// reply body.
    /// @throws InvalidArgument for empty prompts; JsonExtractionError when JSON was wanted and
    ///         none was found; QuotaError on 429.
    [[nodiscard]] Json generate(const PromptSequence& prompts, std::optional<bool> filter_json = std::nullopt) {
        if (prompts.empty()) throw InvalidArgument("user_prompts must not be empty.");
        const bool json_wanted = filter_json.value_or(config_.generation.filter_json);
        Json reply = session_.call(
            "POST", api_url("chat/completions"),
            chat_completions_body(prompts, config_.generation, json_wanted, "max_completion_tokens").dump(),
            "generate content");
        if (!json_wanted) return reply;
        const auto text = chat_answer_text(reply);
        if (!text)
            throw ProviderError(fmt::format("{}: generate content returned no text ({})", name, chat_no_text_reason(reply)),
                                ProviderErrorInfo{std::string(name), 200, {}, {}, false});
        return llmbatch::filter_json(*text);
    }

    /// Translates a Batch object into a `BatchJob`.
    [[nodiscard]] static BatchJob parse_batch(Json batch) { return detail::parse_openai_batch(std::move(batch)); }

private:
    static OpenAIConfig normalised(OpenAIConfig c) {
        c.api_key = resolve_api_key(std::move(c.api_key), "OPENAI_API_KEY");
        while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
        if (c.list_page_size < 1 || c.list_page_size > 100)
            throw InvalidArgument("OpenAIConfig::list_page_size must be between 1 and 100");
        return c;
    }

    [[nodiscard]] OpenAIFiles<Session> files() {
        return OpenAIFiles<Session>(session_, config_.base_url, OpenAIFilesOptions{"batch", {}, config_.upload_part_bytes, true});
    }

    [[nodiscard]] std::string api_url(std::string_view rest) const { return fmt::format("{}/{}", config_.base_url, rest); }
    [[nodiscard]] std::string endpoint_path() const {
        return config_.endpoint == OpenAIEndpoint::responses ? "/v1/responses" : "/v1/chat/completions";
    }

    [[nodiscard]] std::string display_name(const CreateOptions& options) const {
        if (!options.display_name.empty()) return options.display_name;
        return fmt::format("llmbatch-{:%Y%m%dT%H%M%S}Z", std::chrono::floor<std::chrono::seconds>(session_.clock().utc_now()));
    }

    /// The configured metadata with whether JSON was wanted, the display name and the client
    /// token (when given), checked against the API's limits.
    [[nodiscard]] Json batch_metadata(bool json_wanted, const std::string& display, const std::string& client_token) const {
        Json md = Json::object();
        for (const auto& [k, v] : config_.metadata) md[k] = v;
        md[std::string(filter_json_key)] = json_wanted ? "true" : "false";
        md[std::string(display_name_key)] = display;
        if (!client_token.empty()) md[std::string(client_token_key)] = client_token;
        if (md.size() > OpenAIConfig::max_metadata_pairs)
            throw InvalidArgument(fmt::format("openai: the batch metadata has {} pairs (with the llmbatch adds), over "
                                              "the limit of {}",
                                              md.size(), OpenAIConfig::max_metadata_pairs));
        for (const auto& [k, v] : md.items()) {
            if (k.size() > OpenAIConfig::max_metadata_key)
                throw InvalidArgument(fmt::format("openai: metadata key '{}' is {} characters, over the limit of {}",
                                                  detail::excerpt(k, 80), k.size(), OpenAIConfig::max_metadata_key));
            if (v.template get_ref<const std::string&>().size() > OpenAIConfig::max_metadata_value)
                throw InvalidArgument(fmt::format("openai: metadata value of '{}' is {} characters, over the limit of {}",
                                                  detail::excerpt(k, 80), v.template get_ref<const std::string&>().size(),
                                                  OpenAIConfig::max_metadata_value));
        }
        return md;
    }

    [[nodiscard]] bool json_wanted(const BatchJob& job, const FetchOptions& options) const {
        if (options.filter_json) return *options.filter_json;
        const auto recorded = detail::get_string(detail::member(job.raw, "metadata"), filter_json_key);
        if (recorded == "true") return true;
        if (recorded == "false") return false;
        return config_.generation.filter_json;
    }

    [[nodiscard]] static std::string job_id(const std::string& job_name) {
        return detail::path_safe_id(job_name, "an OpenAI batch id (batch_...)");
    }

    OpenAIConfig config_;
    Session session_;
};

}  // namespace llmbatch
