#pragma once
/// @file providers/gemini.hpp
/// `GeminiProvider<Transport, Clock>`: the Gemini Developer API batch surface
/// (`models/{model}:batchGenerateContent`, `batches/{id}`, `:cancel`, list, delete), the Files
/// API for file-input batches, and the synchronous `generateContent`, over any `HttpTransport`.
/// It is the Gemini wire translation on the shared provider layer (`providers/common/`).
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
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
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
#include "llmbatch/providers/common/credentials.hpp"
#include "llmbatch/providers/common/session.hpp"
#include "llmbatch/providers/gemini/files.hpp"
#include "llmbatch/providers/gemini/results.hpp"
#include "llmbatch/providers/gemini/wire.hpp"
#include "llmbatch/progress.hpp"
#include "llmbatch/retry.hpp"

namespace llmbatch {

/// Settings of a `GeminiProvider`.
struct GeminiConfig {
    static constexpr std::string_view default_base_url = "https://generativelanguage.googleapis.com";
    static constexpr std::string_view default_api_version = "v1beta";
    /// The documented inline limit: the whole create request must stay under 20 MB.
    static constexpr std::size_t default_max_inline_bytes = 20'000'000;
    /// The user's document's generation defaults.
    static constexpr std::string_view default_model = "gemini-2.5-flash";
    static constexpr double default_temperature = 0.2;
    static constexpr int max_thinking_budget = 24576;
    /// The chunk size of resumable uploads, as the official SDKs use.
    static constexpr std::size_t default_upload_chunk_bytes = 8 * 1024 * 1024;

    /// The document's defaults: `gemini-2.5-flash`, temperature 0.2, thinking budget 24576.
    [[nodiscard]] static GenerationConfig default_generation() {
        GenerationConfig g;
        g.model = std::string(default_model);
        g.temperature = default_temperature;
        g.thinking_budget = max_thinking_budget;
        return g;
    }

    /// API key; when empty, `GEMINI_API_KEY` from the environment is used. Sent as
    /// `x-goog-api-key`, never in a URL, a message or a log.
    std::string api_key{};
    std::string base_url{default_base_url};
    std::string api_version{default_api_version};
    GenerationConfig generation = default_generation();
    /// Jobs whose inline body would exceed this are sent as an uploaded input file (or refused,
    /// when `files_for_large_jobs` is false).
    std::size_t max_inline_bytes = default_max_inline_bytes;
    /// Send a job over `max_inline_bytes` as an uploaded JSONL input file (up to the API's 2 GB);
    /// false refuses it before sending anything.
    bool files_for_large_jobs = true;
    std::size_t upload_chunk_bytes = default_upload_chunk_bytes;
    /// Delete a job's uploaded input file once its results have been fetched (the Files API keeps
    /// files 48 hours otherwise, counted against the project's storage).
    bool delete_input_files_after_fetch = false;
    /// Page size for `list_batch_jobs` (every page is fetched).
    int list_page_size = 100;
    /// Retries of transient failures (see retry.hpp); `RetryPolicy::none()` disables them.
    RetryPolicy retry{};
    /// Told how long uploads and results downloads progress (progress.hpp); empty: nobody.
    TransferObserver on_transfer{};
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

}  // namespace detail

/// The Gemini Developer API provider.
///
/// Requirements: `Transport` models `HttpTransport` (and, for streamed downloads,
/// `StreamingHttpTransport`), `ClockT` models `Clock`. The provider owns both by value; pass a
/// handle type (such as `testing::FakeTransport`) to share one.
/// Errors: `InvalidArgument` for bad input (before anything is sent), `QuotaError` for 429 /
/// `RESOURCE_EXHAUSTED`, `AuthenticationError` for 401/403, `NotFoundError` for 404,
/// `ProviderError` for other HTTP errors and unreadable replies, `TransportError` when the
/// exchange fails, `JobNotReady` / `JobFailed` / `ResultsMissing` from the result fetches.
template <class Transport, Clock ClockT = SystemClock>
class GeminiProvider {
    static_assert(check_http_transport<Transport>());  // first: its error names the missing member
    using Session = ProviderSession<GeminiWire, Transport, ClockT>;

public:
    static constexpr std::string_view name = GeminiWire::name;
    /// Jobs listed carry the client token they were created with (in the display name).
    static constexpr bool lists_client_tokens = true;

    explicit GeminiProvider(GeminiConfig config = {}, Transport transport = Transport{}, ClockT clock = ClockT{})
        : config_(normalised(std::move(config))),
          session_(config_.api_key, config_.retry, std::move(transport), std::move(clock), config_.on_transfer) {}

    /// True when an API key is configured.
    [[nodiscard]] bool is_available() const noexcept { return session_.has_key(); }
    [[nodiscard]] const GeminiConfig& config() const noexcept { return config_; }
    [[nodiscard]] Transport& transport() noexcept { return session_.transport(); }
    [[nodiscard]] ClockT& clock() noexcept { return session_.clock(); }

    // ---- batch operations -------------------------------------------------------------------

    /// Creates a batch job of one request per payload element (key = its index). See the
    /// `BatchRequest` overload.
    [[nodiscard]] SubmittedJob create_batch_job(const BatchPayload& payload, const CreateOptions& options = {}) {
        return create_batch_job(to_requests(payload), options);
    }

    /// `create_batch_job` for a braced payload: `create_batch_job({{"prompt1"}, {"prompt2", "context"}})`.
    [[nodiscard]] SubmittedJob create_batch_job(std::initializer_list<PromptSequence> payload,
                                                const CreateOptions& options = {}) {
        return create_batch_job(BatchPayload(payload), options);
    }

    /// Creates a batch job and returns its name (`batches/...`) with the input file uploaded
    /// for it, if any. Each request carries its key (`metadata.key` inline, `key` in a file), so
    /// results can be put back in input order whatever order the service answers in. Requests
    /// go inline while the body stays within `max_inline_bytes`, else (or with
    /// `force_file_input`) as an uploaded JSONL file.
    /// @throws InvalidArgument for no requests, an empty request, or duplicate keys (nothing is
    ///         sent then).
    [[nodiscard]] SubmittedJob create_batch_job(const std::vector<BatchRequest>& requests,
                                                const CreateOptions& options = {}) {
        validate_requests(requests, name);
        check_client_token(options);
        const bool json_wanted = options.filter_json.value_or(config_.generation.filter_json);
        std::size_t inline_bytes = 0;
        if (!options.force_file_input) {
            Json body = inline_body(requests, json_wanted, display_name(options));
            std::string text = body.dump();
            inline_bytes = text.size();
            if (inline_bytes <= config_.max_inline_bytes) return submit(std::move(text), {});
            if (!config_.files_for_large_jobs)
                throw InvalidArgument(fmt::format(
                    "gemini: the batch request body is {} bytes, over the inline limit of {} bytes; split the {} "
                    "request(s) into smaller jobs, or allow an input file (GeminiConfig::files_for_large_jobs)",
                    inline_bytes, config_.max_inline_bytes, requests.size()));
        }
        const FileInfo input = upload_requests(requests, json_wanted, display_name(options));
        Json body = {{"batch", {{"displayName", display_name(options)}, {"inputConfig", {{"fileName", input.name}}}}}};
        return submit(body.dump(), {input.name});
    }

    /// The JSON body of an inline create (exposed for inspection and golden tests).
    [[nodiscard]] Json batch_request_body(const BatchPayload& payload, const CreateOptions& options = {}) const {
        const auto requests = to_requests(payload);
        return inline_body(requests, options.filter_json.value_or(config_.generation.filter_json), display_name(options));
    }

    /// The line of an input file for request `index`: `{"key": ..., "request": ...}`.
    [[nodiscard]] Json input_file_line(const BatchRequest& request, std::size_t index, bool json_wanted) const {
        return {{"key", request_key(request, index)}, {"request", generate_request(request, json_wanted)}};
    }

    /// The job's current status.
    [[nodiscard]] BatchJob get_batch_job(const std::string& job_name) {
        return session_.redact_job(parse_operation(get_operation("batches/" + job_id(job_name))));
    }

    /// Every batch job of this API key, across all pages.
    [[nodiscard]] std::vector<BatchJob> list_batch_jobs() {
        std::vector<BatchJob> jobs;
        std::string token;
        for (int page = 0;; ++page) {
            std::string url = api_url("batches") + fmt::format("?pageSize={}", config_.list_page_size);
            if (!token.empty()) url += "&pageToken=" + detail::url_encode(token);
            const Json reply = session_.call("GET", url, {}, "list batch jobs");
            if (const auto* ops = detail::find(reply, "operations")) {
                if (!ops->is_array()) throw Session::bad_reply("list batch jobs", "'operations' is not an array");
                for (const auto& op : *ops) jobs.push_back(session_.redact_job(parse_operation(op)));
            }
            std::string next = detail::get_string(reply, "nextPageToken");
            if (next.empty()) break;
            if (next == token || page > 100000) throw Session::bad_reply("list batch jobs", "the page token does not advance");
            token = std::move(next);
        }
        return jobs;
    }

    /// Asks the service to cancel a job (`POST batches/{id}:cancel`); the job ends CANCELLED.
    /// Cancelling a finished job fails with the API's error.
    void cancel_batch_job(const std::string& job_name) {
        const auto id = job_id(job_name);
        (void)session_.call("POST", api_url("batches/" + id + ":cancel"), {}, "cancel batch job batches/" + id);
    }

    /// Deletes the job record (`DELETE batches/{id}`). This does not cancel a running job.
    void delete_batch_job(const std::string& job_name) {
        const auto id = job_id(job_name);
        (void)session_.call("DELETE", api_url("batches/" + id), {}, "delete batch job batches/" + id);
    }

    /// The results of a finished job, one outcome per submitted request, in input order.
    /// Per-request failures are kept as data (`RequestOutcome::error`); `BatchResults::values()`
    /// is the strict accessor that throws on the first one.
    /// @throws JobNotReady when the job is not finished (naming its state); JobFailed when it
    ///         failed, or was cancelled or expired with no results (with the API's message);
    ///         ResultsMissing when a finished job holds no results.
    [[nodiscard]] BatchResults fetch_batch_results(const std::string& job_name, const FetchOptions& options = {}) {
        BatchJob job = get_batch_job(job_name);
        job.name = "batches/" + job_id(job_name);  // the results name the job as asked for
        OutcomeCollector collected;
        stream_from(job, collected.sink(), options);  // the job is ours: its results are moved, not copied
        return std::move(collected).take(std::string(name), job.name);
    }

    /// `fetch_batch_results` for a job already read with `get_batch_job` (no second GET).
    [[nodiscard]] BatchResults fetch_batch_results(const BatchJob& job, const FetchOptions& options = {}) {
        OutcomeCollector collected;
        stream_batch_results(job, collected.sink(), options);
        return std::move(collected).take(std::string(name), job.name);
    }

    /// Hands the outcomes of a finished job to `sink` as they are parsed: from the job itself
    /// for inline results, from the streamed download for a results file. A cancelled or expired
    /// job's finished requests are handed over too, the others as `CANCELLED` / `EXPIRED`
    /// errors. Every request gets exactly one outcome. Errors as `fetch_batch_results`.
    void stream_batch_results(const BatchJob& job, const OutcomeSink& sink, const FetchOptions& options = {}) {
        stream_from(job, sink, options);
    }

    // ---- files ----------------------------------------------------------------------------------

    /// Uploads the file at `path` to the Files API (resumable, in chunks).
    FileInfo upload_file(const std::filesystem::path& path, std::string_view mime_type, std::string_view display_name) {
        return files().upload_file(path, mime_type, display_name);
    }
    /// A file's metadata.
    FileInfo get_file(const std::string& file) { return files().get(file); }
    /// Deletes a file (e.g. a job's input file once the job is done).
    void delete_file(const std::string& file) { files().remove(file); }
    /// Streams a file's bytes to `sink(std::string_view)`.
    void download_file(const std::string& file, const std::function<void(std::string_view)>& sink) {
        files().download(file, "download file " + file, sink);
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
        Json reply = session_.call("POST", model_url(":generateContent"), generate_request(prompts, json_wanted).dump(),
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

    /// The GenerateContentRequest for one prompt sequence (see the `BatchRequest` overload).
    [[nodiscard]] Json generate_request(const PromptSequence& prompts, bool json_wanted) const {
        return generate_request(BatchRequest::from_prompts(prompts), json_wanted);
    }

    /// The GenerateContentRequest for one request: `contents` (its parts joined with `\n`),
    /// `systemInstruction`, and `generationConfig` (temperature, thinkingConfig, maxOutputTokens,
    /// responseMimeType when JSON is wanted, responseJsonSchema), the request's settings over the
    /// configuration's, and its `provider_options` merged last.
    [[nodiscard]] Json generate_request(const BatchRequest& r, bool json_wanted) const {
        const auto& g = config_.generation;
        const auto& s = r.settings;
        Json generation = Json::object();
        if (auto t = s.temperature ? s.temperature : g.temperature) generation["temperature"] = *t;
        if (g.thinking_budget) generation["thinkingConfig"] = {{"thinkingBudget", *g.thinking_budget}};
        if (auto m = s.max_output_tokens ? s.max_output_tokens : g.max_output_tokens) generation["maxOutputTokens"] = *m;
        if ((json_wanted && g.json_mime_type_when_filtering) || !s.json_schema.is_null())
            generation["responseMimeType"] = "application/json";
        if (!s.json_schema.is_null()) generation["responseJsonSchema"] = s.json_schema;
        Json request = {{"contents", Json::array({{{"role", "user"}, {"parts", Json::array({{{"text", join_prompts(r.parts)}}})}}})},
                        {"generationConfig", std::move(generation)}};
        if (const auto& sp = s.system_prompt ? s.system_prompt : g.system_prompt)
            request["systemInstruction"] = {{"parts", Json::array({{{"text", sp->text()}}})}};
        if (r.provider_options.is_object()) request.merge_patch(r.provider_options);
        return request;
    }

    /// Translates an Operation (from create, get or list) into a `BatchJob`.
    /// @throws ProviderError when a counter or the state has the wrong type.
    [[nodiscard]] static BatchJob parse_operation(Json op) { return detail::parse_gemini_operation(std::move(op)); }

private:
    /// The outcomes of `job` into `sink`; inline results are moved out of a non-const `job`.
    template <class Job>
    void stream_from(Job& job, const OutcomeSink& sink, const FetchOptions& options) {
        const std::string full = "batches/" + job_id(job.name);
        check_fetchable(job, full);
        GeminiResultReader reader(full, options, config_.generation.filter_json, job.counts.total, job.state, sink,
                                 session_.redactor());
        if (auto* inlined = inline_results(job.raw)) {
            reader.read_inline(*inlined);
        } else if (job.results_location == ResultsLocation::file) {
            std::size_t bytes = 0;
            files().download(job.results_ref, "download results of " + full, [&](std::string_view chunk) {
                bytes += chunk.size();
                reader.feed(chunk);
            });
            if (bytes == 0) throw empty_results_error(name, full);
            reader.finish_stream();
        } else {
            job_ended_without_results(job, full);
        }
        reader.finish();
        if (config_.delete_input_files_after_fetch && !job.input_file.empty()) {
            try {
                files().remove(job.input_file);
            } catch (const NotFoundError&) {  // already gone: what was wanted
            }
        }
    }

    static GeminiConfig normalised(GeminiConfig c) {
        c.api_key = resolve_api_key(std::move(c.api_key), "GEMINI_API_KEY");
        while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
        if (c.list_page_size < 1) throw InvalidArgument("GeminiConfig::list_page_size must be at least 1");
        return c;
    }

    [[nodiscard]] GeminiFiles<Session> files() {
        return GeminiFiles<Session>(session_, config_.base_url, config_.api_version, config_.upload_chunk_bytes);
    }

    [[nodiscard]] std::string api_url(std::string_view rest) const {
        return fmt::format("{}/{}/{}", config_.base_url, config_.api_version, rest);
    }
    /// The URL of `method` on the configured model.
    /// @throws InvalidArgument when the model is not `[models/|tunedModels/]<id>` with an id of
    ///         letters, digits, `-`, `_` and `.` (not `.` or `..`), so it cannot alter the path.
    [[nodiscard]] std::string model_url(std::string_view method) const {
        const auto& m = config_.generation.model;
        std::string_view id = m;
        for (std::string_view prefix : {"models/", "tunedModels/"})
            if (id.substr(0, prefix.size()) == prefix) {
                id.remove_prefix(prefix.size());
                break;
            }
        const bool ok = !id.empty() && id.size() <= 128 && id != "." && id != ".." &&
                        std::all_of(id.begin(), id.end(), [](char c) {
                            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
                        });
        if (!ok)
            throw InvalidArgument(fmt::format("'{}' is not a Gemini model name (expected models/<id> or <id>)",
                                              detail::excerpt(m, 80)));
        return api_url((id.size() == m.size() ? "models/" + m : m) + std::string(method));
    }

    /// The job's display name: the one asked for or a dated default, tagged with the client token.
    [[nodiscard]] std::string display_name(const CreateOptions& options) const {
        if (!options.display_name.empty()) return detail::gemini_tagged_display_name(options.display_name, options.client_token);
        return detail::gemini_tagged_display_name(
            fmt::format("llmbatch-{:%Y%m%dT%H%M%S}Z", std::chrono::floor<std::chrono::seconds>(session_.clock().utc_now())),
            options.client_token);
    }

    [[nodiscard]] Json inline_body(const std::vector<BatchRequest>& requests, bool json_wanted, std::string display) const {
        validate_requests(requests, name);
        Json list = Json::array();
        for (std::size_t i = 0; i < requests.size(); ++i)
            list.push_back({{"request", generate_request(requests[i], json_wanted)},
                            {"metadata", {{"key", request_key(requests[i], i)}, {"filter_json", json_wanted ? "true" : "false"}}}});
        return {{"batch", {{"displayName", std::move(display)}, {"inputConfig", {{"requests", {{"requests", std::move(list)}}}}}}}};
    }

    /// Uploads the requests as a JSONL input file, serialising each line twice (once to size
    /// the upload, once to send it) rather than holding the file in memory.
    FileInfo upload_requests(const std::vector<BatchRequest>& requests, bool json_wanted, const std::string& display) {
        std::uint64_t size = 0;
        for (std::size_t i = 0; i < requests.size(); ++i) size += input_file_line(requests[i], i, json_wanted).dump().size() + 1;
        std::size_t next = 0;
        std::string pending;
        std::size_t pending_pos = 0;
        return files().upload(size, "application/jsonl", display + "-input", [&](char* out, std::size_t n) {
            while (n > 0) {
                if (pending_pos == pending.size()) {
                    pending = input_file_line(requests[next], next, json_wanted).dump() + '\n';
                    pending_pos = 0;
                    ++next;
                }
                const auto take = std::min(n, pending.size() - pending_pos);
                std::copy_n(pending.data() + pending_pos, take, out);
                pending_pos += take;
                out += take;
                n -= take;
            }
        });
    }

    SubmittedJob submit(std::string body, std::vector<std::string> input_files) {
        const Json op = session_.call("POST", model_url(":batchGenerateContent"), std::move(body), "create batch job",
                                      Idempotency::not_idempotent);
        auto job_name = detail::get_string(op, "name");
        if (job_name.empty()) throw Session::bad_reply("create batch job", "the reply has no job name");
        return SubmittedJob(std::move(job_name), std::move(input_files));
    }

    /// The id part of `batches/{id}` (or of a bare id), checked so it cannot alter the URL path.
    [[nodiscard]] static std::string job_id(const std::string& job_name) {
        std::string_view id = job_name;
        if (id.rfind("batches/", 0) == 0) id.remove_prefix(8);
        const bool ok = !id.empty() && id.size() <= 128 && id != "." && id != ".." &&
                        std::all_of(id.begin(), id.end(), [](char c) {
                            return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
                        });
        if (!ok)
            throw InvalidArgument(fmt::format("'{}' is not a Gemini batch job name (expected batches/<id>)",
                                              detail::excerpt(job_name, 80)));
        return std::string(id);
    }

    [[nodiscard]] Json get_operation(const std::string& full) {
        return session_.call("GET", api_url(full), {}, "get batch job " + full, Idempotency::idempotent,
                             detail::parse_gemini_operation_text);
    }

    /// The `inlinedResponses` holder of an Operation (`Json` or `const Json`), if it has one.
    template <class J>
    [[nodiscard]] static J* inline_results(J& op) {
        auto member = [](J* at, const char* key) -> J* {
            if (!at || !at->is_object()) return nullptr;
            auto it = at->find(key);
            return it == at->end() ? nullptr : &*it;
        };
        if (J* items = member(member(&op, "response"), "inlinedResponses")) return items;
        return member(member(member(&op, "metadata"), "output"), "inlinedResponses");
    }

    void check_fetchable(const BatchJob& job, const std::string& full) const {
        if (!job.done)
            throw JobNotReady(fmt::format("Batch job {} ({}) is not completed yet. Current state: {}", full, name,
                                          job.state),
                              full, std::string(to_string(job.state)));
        const bool partial = job.state == JobState::cancelled || job.state == JobState::expired;
        if (job.state == JobState::failed || (job.state == JobState::succeeded && job.error) ||
            (partial && job.results_location == ResultsLocation::none))
            job_ended_without_results(job, full);
    }

    [[noreturn]] void job_ended_without_results(const BatchJob& job, const std::string& full) const {
        if (job.state == JobState::succeeded && !job.error)
            throw ResultsMissing(fmt::format(
                "Batch job {} ({}) has no results. This may indicate the job failed or was cancelled.", full, name));
        const ErrorStatus err = job.error.value_or(ErrorStatus{});
        const auto state = job.state == JobState::succeeded ? JobState::failed : job.state;
        const std::string message = session_.redact(err.message);
        throw JobFailed(fmt::format("Batch job {} ({}) {}: {}", full, name,
                                    state == JobState::cancelled ? "was cancelled"
                                    : state == JobState::expired ? "expired"
                                                                 : "failed",
                                    message.empty() ? std::string("no error message given") : message),
                        ProviderErrorInfo{std::string(name), 0, err.status, message, false}, full,
                        std::string(to_string(state)));
    }

    GeminiConfig config_;
    Session session_;
};

}  // namespace llmbatch
