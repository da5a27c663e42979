#pragma once
/// @file providers/mistral.hpp
/// `MistralProvider<Transport, Clock>`: Mistral's batch jobs (`/v1/batch/jobs`, cancel, delete,
/// list), its Files API for input and result files, and the synchronous chat completion, over
/// any `HttpTransport`, on the shared provider layer. Results (files or inline `outputs`) have
/// OpenAI's line shape and are read by the shared `OpenAILinesReader`.
///
/// Example:
/// @code
/// llmbatch::MistralConfig config;  // key from MISTRAL_API_KEY
/// llmbatch::MistralProvider<MyTransport> mistral(config, MyTransport{});
/// auto job = mistral.create_batch_job({{"Categorise as JSON: Geography GCSE"}}, {.filter_json = true});
/// for (const auto& outcome : mistral.fetch_batch_results(job)) { ... }  // once done
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
#include "llmbatch/json_filter.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/providers/common/chat_completions.hpp"
#include "llmbatch/providers/common/credentials.hpp"
#include "llmbatch/providers/common/multipart.hpp"
#include "llmbatch/providers/common/openai_lines.hpp"
#include "llmbatch/providers/common/result_reader.hpp"
#include "llmbatch/providers/common/session.hpp"
#include "llmbatch/providers/mistral/wire.hpp"
#include "llmbatch/providers/openai/files.hpp"
#include "llmbatch/progress.hpp"
#include "llmbatch/retry.hpp"

namespace llmbatch {

/// Settings of a `MistralProvider`.
struct MistralConfig {
    static constexpr std::string_view default_base_url = "https://api.mistral.ai";
    static constexpr std::string_view default_model = "mistral-small-latest";
    static constexpr double default_temperature = 0.2;
    /// llmbatch's choice (the API documents no inline limit): jobs up to these go inline.
    static constexpr std::size_t default_max_inline_requests = 10'000;
    static constexpr std::size_t default_max_inline_bytes = 10'000'000;

    /// `mistral-small-latest`, temperature 0.2.
    [[nodiscard]] static GenerationConfig default_generation() {
        GenerationConfig g;
        g.model = std::string(default_model);
        g.temperature = default_temperature;
        return g;
    }

    /// API key; when empty, `MISTRAL_API_KEY` from the environment is used (Bearer token).
    std::string api_key{};
    std::string base_url{default_base_url};
    GenerationConfig generation = default_generation();
    /// The batch endpoint every request goes to.
    std::string endpoint = "/v1/chat/completions";
    int timeout_hours = 24;
    /// Job metadata (string values); llmbatch adds `llmbatch_filter_json` and `llmbatch_display_name`.
    std::map<std::string, std::string> metadata{};
    /// Jobs with more requests, or a larger `requests` array, go as an uploaded input file.
    std::size_t max_inline_requests = default_max_inline_requests;
    std::size_t max_inline_bytes = default_max_inline_bytes;
    /// Page size of `list_batch_jobs` (every page is fetched).
    int list_page_size = 100;
    RetryPolicy retry{};
    /// Told how long uploads and results downloads progress (progress.hpp); empty: nobody.
    TransferObserver on_transfer{};
    /// Delete a job's uploaded input file once its results have been fetched.
    bool delete_input_files_after_fetch = false;
};

/// The Mistral provider. Requirements and errors as `OpenAIProvider`.
template <class Transport, Clock ClockT = SystemClock>
class MistralProvider {
    static_assert(check_http_transport<Transport>());
    using Session = ProviderSession<MistralWire, Transport, ClockT>;

public:
    static constexpr std::string_view name = MistralWire::name;
    static constexpr std::string_view filter_json_key = "llmbatch_filter_json";
    static constexpr std::string_view display_name_key = "llmbatch_display_name";
    static constexpr std::string_view client_token_key = "llmbatch_client_token";
    /// Jobs listed carry the client token they were created with (`BatchJob::client_token`).
    static constexpr bool lists_client_tokens = true;

    explicit MistralProvider(MistralConfig config = {}, Transport transport = Transport{}, ClockT clock = ClockT{})
        : config_(normalised(std::move(config))),
          session_(config_.api_key, config_.retry, std::move(transport), std::move(clock), config_.on_transfer) {}

    [[nodiscard]] bool is_available() const noexcept { return session_.has_key(); }
    [[nodiscard]] const MistralConfig& config() const noexcept { return config_; }
    [[nodiscard]] Transport& transport() noexcept { return session_.transport(); }
    [[nodiscard]] ClockT& clock() noexcept { return session_.clock(); }

    // ---- batch operations -------------------------------------------------------------------

    [[nodiscard]] SubmittedJob create_batch_job(const BatchPayload& payload, const CreateOptions& options = {}) {
        return create_batch_job(to_requests(payload), options);
    }
    [[nodiscard]] SubmittedJob create_batch_job(std::initializer_list<PromptSequence> payload,
                                                const CreateOptions& options = {}) {
        return create_batch_job(BatchPayload(payload), options);
    }

    /// Creates a batch job: the requests inline (`requests: [{custom_id, body}]`) while within
    /// `max_inline_requests` / `max_inline_bytes`, else (or with `force_file_input`) as an
    /// uploaded JSONL input file. Whether JSON was wanted is recorded in the job metadata. The
    /// create is never repeated after an ambiguous failure; when it fails otherwise, an uploaded
    /// input file is deleted again.
    /// @throws InvalidArgument for no requests, empty or duplicate keys (nothing is sent then).
    [[nodiscard]] SubmittedJob create_batch_job(const std::vector<BatchRequest>& requests,
                                                const CreateOptions& options = {}) {
        validate_requests(requests, name);
        check_client_token(options);
        const bool json_wanted = options.filter_json.value_or(config_.generation.filter_json);
        const std::string display = display_name(options);
        if (!options.force_file_input && requests.size() <= config_.max_inline_requests) {
            Json list = Json::array();
            for (std::size_t i = 0; i < requests.size(); ++i) list.push_back(input_line(requests[i], i, json_wanted));
            Json body = job_body(json_wanted, display, options.client_token);
            body["requests"] = std::move(list);
            std::string text = body.dump();
            if (text.size() <= config_.max_inline_bytes) return submit(std::move(text), {});
        }
        LineSource lines(requests.size(), [&](std::size_t i) { return input_line(requests[i], i, json_wanted).dump(); });
        const FileInfo input = files().upload(lines.size(), "application/jsonl", display + ".jsonl",
                                              [&](char* out, std::size_t n) { lines.read(out, n); });
        Json body = job_body(json_wanted, display, options.client_token);
        body["input_files"] = Json::array({input.name});
        try {
            return submit(body.dump(), {input.name});
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
    }

    /// One request as an input line / inline request: `{"custom_id", "body"}` (the body without
    /// `model`: the job names it).
    [[nodiscard]] Json input_line(const BatchRequest& request, std::size_t index, bool json_wanted) const {
        return {{"custom_id", request_key(request, index)},
                {"body", chat_completions_body(request, config_.generation, json_wanted, "max_tokens", false)}};
    }

    /// The job's current status (`GET /v1/batch/jobs/{id}`).
    [[nodiscard]] BatchJob get_batch_job(const std::string& job_name) {
        const auto id = job_id(job_name);
        return session_.redact_job(parse_job(session_.call("GET", api_url("batch/jobs/" + id), {}, "get batch job " + id)));
    }

    /// Every batch job, page by page (`?page=P&page_size=N`, pages from 0) until `total` are read.
    [[nodiscard]] std::vector<BatchJob> list_batch_jobs() {
        std::vector<BatchJob> jobs;
        for (int page = 0;; ++page) {
            const Json reply = session_.call(
                "GET", api_url("batch/jobs") + fmt::format("?page={}&page_size={}", page, config_.list_page_size), {},
                "list batch jobs");
            const auto* data = detail::find(reply, "data");
            if (!data || !data->is_array()) throw Session::bad_reply("list batch jobs", "'data' is not an array");
            for (const auto& j : *data) jobs.push_back(session_.redact_job(parse_job(j)));
            const auto total = detail::get_int64(reply, "total").value_or(0);
            if (data->empty() || static_cast<std::int64_t>(jobs.size()) >= total) break;
            if (page > 1'000'000) throw Session::bad_reply("list batch jobs", "the pages do not end");
        }
        return jobs;
    }

    /// Asks the service to cancel a job (`POST /v1/batch/jobs/{id}/cancel`): it goes through
    /// `CANCELLATION_REQUESTED` to `CANCELLED`.
    void cancel_batch_job(const std::string& job_name) {
        const auto id = job_id(job_name);
        (void)session_.call("POST", api_url("batch/jobs/" + id + "/cancel"), {}, "cancel batch job " + id);
    }

    /// Deletes the job record (`DELETE /v1/batch/jobs/{id}`, as the official JS SDK sends it; the
    /// Python client has no such call). Its files are not deleted.
    void delete_batch_job(const std::string& job_name) {
        const auto id = job_id(job_name);
        (void)session_.call("DELETE", api_url("batch/jobs/" + id), {}, "delete batch job " + id);
    }

    /// The results of a finished job, one outcome per request, in input order. Errors as
    /// `OpenAIProvider::fetch_batch_results`.
    [[nodiscard]] BatchResults fetch_batch_results(const std::string& job_name, const FetchOptions& options = {}) {
        const BatchJob job = get_batch_job(job_name);
        return fetch_batch_results(job, options);
    }
    [[nodiscard]] BatchResults fetch_batch_results(const BatchJob& job, const FetchOptions& options = {}) {
        OutcomeCollector collected;
        stream_batch_results(job, collected.sink(), options);
        return std::move(collected).take(std::string(name), job.name);
    }

    /// Hands the outcomes of a finished job to `sink`: from its output and error files, else from
    /// its inline `outputs` (asked for with `GET ...?inline=true` when the job holds none).
    void stream_batch_results(const BatchJob& job, const OutcomeSink& sink, const FetchOptions& options = {}) {
        const std::string id = job_id(job.name);
        require_finished(name, job, id);
        if (job.state == JobState::failed) throw_job_without_results(name, job, id, redacted_error(job));
        const std::string output = detail::get_string(job.raw, "output_file");
        const std::string errors = detail::get_string(job.raw, "error_file");
        OpenAILinesReader reader(name, id, options, json_wanted(job, options), job.counts.total, job.state, sink,
                                 session_.redactor());
        reader.expect_answers(job.counts.succeeded + job.counts.failed);
        if (!output.empty() || !errors.empty()) {
            std::size_t bytes = 0;
            for (const auto& file : {output, errors}) {
                if (file.empty()) continue;
                files().download(file, "download results of " + id, [&](std::string_view chunk) {
                    bytes += chunk.size();
                    reader.feed(chunk);
                });
                reader.finish_stream();
            }
            if (bytes == 0) throw empty_results_error(name, id);
        } else {
            Json fetched;
            const Json* outputs = detail::find(job.raw, "outputs");
            if (!outputs || !outputs->is_array()) {
                fetched = session_.call("GET", api_url("batch/jobs/" + id) + "?inline=true", {}, "fetch results of " + id);
                outputs = detail::find(fetched, "outputs");
            }
            const bool none = !outputs || !outputs->is_array() || outputs->empty();
            const bool partial = job.state == JobState::cancelled || job.state == JobState::expired;
            if (none && (partial || job.counts.total > 0)) throw_job_without_results(name, job, id, redacted_error(job));
            if (!none)
                for (std::size_t i = 0; i < outputs->size(); ++i) reader.read((*outputs)[i], i + 1);
        }
        reader.finish();
        if (config_.delete_input_files_after_fetch && !job.input_file.empty()) (void)files().remove_if_present(job.input_file);
    }

    // ---- files ----------------------------------------------------------------------------------

    /// Uploads the file at `path` (purpose `batch`, visibility `workspace`), in one request.
    FileInfo upload_file(const std::filesystem::path& path, std::string_view mime_type, std::string_view display_name) {
        return files().upload_file(path, mime_type, display_name);
    }
    FileInfo get_file(const std::string& file) { return files().get(file); }
    void delete_file(const std::string& file) { files().remove(file); }
    void download_file(const std::string& file, const std::function<void(std::string_view)>& sink) {
        files().download(file, "download file " + file, sink);
    }

    // ---- synchronous --------------------------------------------------------------------------

    /// One `POST /v1/chat/completions`; as `OpenAIProvider::generate`.
    [[nodiscard]] Json generate(const PromptSequence& prompts, std::optional<bool> filter_json = std::nullopt) {
        if (prompts.empty()) throw InvalidArgument("user_prompts must not be empty.");
        const bool json_wanted = filter_json.value_or(config_.generation.filter_json);
        Json reply = session_.call("POST", api_url("chat/completions"),
                                   chat_completions_body(prompts, config_.generation, json_wanted, "max_tokens").dump(),
                                   "generate content");
        if (!json_wanted) return reply;
        const auto text = chat_answer_text(reply);
        if (!text)
            throw ProviderError(fmt::format("{}: generate content returned no text ({})", name, chat_no_text_reason(reply)),
                                ProviderErrorInfo{std::string(name), 200, {}, {}, false});
        return llmbatch::filter_json(*text);
    }

    /// Translates a job object into a `BatchJob`.
    [[nodiscard]] static BatchJob parse_job(Json job) { return detail::parse_mistral_job(std::move(job)); }

private:
    static MistralConfig normalised(MistralConfig c) {
        c.api_key = resolve_api_key(std::move(c.api_key), "MISTRAL_API_KEY");
        while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
        if (c.list_page_size < 1) throw InvalidArgument("MistralConfig::list_page_size must be at least 1");
        return c;
    }

    [[nodiscard]] OpenAIFiles<Session> files() {
        return OpenAIFiles<Session>(session_, config_.base_url + "/v1",
                                    OpenAIFilesOptions{"batch", {{"visibility", "workspace"}}, 0, false});
    }

    [[nodiscard]] std::string api_url(std::string_view rest) const { return fmt::format("{}/v1/{}", config_.base_url, rest); }

    [[nodiscard]] std::string display_name(const CreateOptions& options) const {
        if (!options.display_name.empty()) return options.display_name;
        return fmt::format("llmbatch-{:%Y%m%dT%H%M%S}Z", std::chrono::floor<std::chrono::seconds>(session_.clock().utc_now()));
    }

    /// The create body without its requests: endpoint, model, metadata, timeout_hours.
    [[nodiscard]] Json job_body(bool json_wanted, const std::string& display, const std::string& client_token) const {
        Json md = Json::object();
        for (const auto& [k, v] : config_.metadata) md[k] = v;
        md[std::string(filter_json_key)] = json_wanted ? "true" : "false";
        md[std::string(display_name_key)] = display;
        if (!client_token.empty()) md[std::string(client_token_key)] = client_token;
        return {{"endpoint", config_.endpoint},
                {"model", config_.generation.model},
                {"metadata", std::move(md)},
                {"timeout_hours", config_.timeout_hours}};
    }

    SubmittedJob submit(std::string body, std::vector<std::string> input_files) {
        const Json job = session_.call("POST", api_url("batch/jobs"), std::move(body), "create batch job",
                                       Idempotency::not_idempotent);
        std::string id = detail::get_string(job, "id");
        if (id.empty()) throw Session::bad_reply("create batch job", "the reply has no job id");
        return SubmittedJob(std::move(id), std::move(input_files));
    }

    [[nodiscard]] bool json_wanted(const BatchJob& job, const FetchOptions& options) const {
        if (options.filter_json) return *options.filter_json;
        const auto recorded = detail::get_string(detail::member(job.raw, "metadata"), filter_json_key);
        if (recorded == "true") return true;
        if (recorded == "false") return false;
        return config_.generation.filter_json;
    }

    [[nodiscard]] std::string redacted_error(const BatchJob& job) const {
        return session_.redact(job.error ? job.error->message : std::string());
    }

    [[nodiscard]] static std::string job_id(const std::string& job_name) {
        return detail::path_safe_id(job_name, "a Mistral batch job id");
    }

    MistralConfig config_;
    Session session_;
};

}  // namespace llmbatch
