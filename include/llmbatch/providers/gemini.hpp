#pragma once
/// @file providers/gemini.hpp
/// `GeminiProvider<Transport, Clock>`: the Gemini Developer API batch surface
/// (`models/{model}:batchGenerateContent`, `batches/{id}`, `:cancel`, list, delete), the Files
/// API for file-input batches, and the synchronous `generateContent`, over any `HttpTransport`.
/// It is the Gemini wire translation on the shared provider layer (`providers/common/`). Its
/// member functions are defined in `providers/gemini/impl/provider.hpp`, included at the end
/// unless `LLMBATCH_SEPARATE_COMPILATION` is defined (see detail/config.hpp).
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

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/clock.hpp"
#include "llmbatch/concepts.hpp"
#include "llmbatch/detail/config.hpp"
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
    [[nodiscard]] SubmittedJob create_batch_job(const BatchPayload& payload, const CreateOptions& options = {});

    /// `create_batch_job` for a braced payload: `create_batch_job({{"prompt1"}, {"prompt2", "context"}})`.
    [[nodiscard]] SubmittedJob create_batch_job(std::initializer_list<PromptSequence> payload,
                                                const CreateOptions& options = {});

    /// Creates a batch job and returns its name (`batches/...`) with the input file uploaded
    /// for it, if any. Each request carries its key (`metadata.key` inline, `key` in a file), so
    /// results can be put back in input order whatever order the service answers in. Requests
    /// go inline while the body stays within `max_inline_bytes`, else (or with
    /// `force_file_input`) as an uploaded JSONL file.
    /// @throws InvalidArgument for no requests, an empty request, or duplicate keys (nothing is
    ///         sent then).
    [[nodiscard]] SubmittedJob create_batch_job(const std::vector<BatchRequest>& requests,
                                                const CreateOptions& options = {});

    /// The JSON body of an inline create (exposed for inspection and golden tests).
    [[nodiscard]] Json batch_request_body(const BatchPayload& payload, const CreateOptions& options = {}) const;

    /// The line of an input file for request `index`: `{"key": ..., "request": ...}`.
    [[nodiscard]] Json input_file_line(const BatchRequest& request, std::size_t index, bool json_wanted) const;

    /// The job's current status.
    [[nodiscard]] BatchJob get_batch_job(const std::string& job_name);

    /// Every batch job of this API key, across all pages.
    [[nodiscard]] std::vector<BatchJob> list_batch_jobs();

    /// Asks the service to cancel a job (`POST batches/{id}:cancel`); the job ends CANCELLED.
    /// Cancelling a finished job fails with the API's error.
    void cancel_batch_job(const std::string& job_name);

    /// Deletes the job record (`DELETE batches/{id}`). This does not cancel a running job.
    void delete_batch_job(const std::string& job_name);

    /// The results of a finished job, one outcome per submitted request, in input order.
    /// Per-request failures are kept as data (`RequestOutcome::error`); `BatchResults::values()`
    /// is the strict accessor that throws on the first one.
    /// @throws JobNotReady when the job is not finished (naming its state); JobFailed when it
    ///         failed, or was cancelled or expired with no results (with the API's message);
    ///         ResultsMissing when a finished job holds no results.
    [[nodiscard]] BatchResults fetch_batch_results(const std::string& job_name, const FetchOptions& options = {});

    /// `fetch_batch_results` for a job already read with `get_batch_job` (no second GET).
    [[nodiscard]] BatchResults fetch_batch_results(const BatchJob& job, const FetchOptions& options = {});

    /// Hands the outcomes of a finished job to `sink` as they are parsed: from the job itself
    /// for inline results, from the streamed download for a results file. A cancelled or expired
    /// job's finished requests are handed over too, the others as `CANCELLED` / `EXPIRED`
    /// errors. Every request gets exactly one outcome. Errors as `fetch_batch_results`.
    void stream_batch_results(const BatchJob& job, const OutcomeSink& sink, const FetchOptions& options = {});

    // ---- files ----------------------------------------------------------------------------------

    /// Uploads the file at `path` to the Files API (resumable, in chunks).
    FileInfo upload_file(const std::filesystem::path& path, std::string_view mime_type, std::string_view display_name);
    /// A file's metadata.
    FileInfo get_file(const std::string& file) { return files().get(file); }
    /// Deletes a file (e.g. a job's input file once the job is done).
    void delete_file(const std::string& file) { files().remove(file); }
    /// Streams a file's bytes to `sink(std::string_view)`.
    void download_file(const std::string& file, const std::function<void(std::string_view)>& sink);

    // ---- synchronous --------------------------------------------------------------------------

    /// One synchronous `generateContent` call with the prompts joined by `\n`. Returns the JSON
    /// value extracted from the answer when `filter_json` (default: the configuration's), else
    /// the raw response object.
    /// @throws InvalidArgument for empty prompts; JsonExtractionError when JSON was wanted and
    ///         none was found; QuotaError on 429.
    [[nodiscard]] Json generate(const PromptSequence& prompts, std::optional<bool> filter_json = std::nullopt);

    // ---- wire translation (public for tests and for tools that read stored replies) ----------

    /// The GenerateContentRequest for one prompt sequence (see the `BatchRequest` overload).
    [[nodiscard]] Json generate_request(const PromptSequence& prompts, bool json_wanted) const;

    /// The GenerateContentRequest for one request: `contents` (its parts joined with `\n`),
    /// `systemInstruction`, and `generationConfig` (temperature, thinkingConfig, maxOutputTokens,
    /// responseMimeType when JSON is wanted, responseJsonSchema), the request's settings over the
    /// configuration's, and its `provider_options` merged last.
    [[nodiscard]] Json generate_request(const BatchRequest& r, bool json_wanted) const;

    /// Translates an Operation (from create, get or list) into a `BatchJob`.
    /// @throws ProviderError when a counter or the state has the wrong type.
    [[nodiscard]] static BatchJob parse_operation(Json op) { return detail::parse_gemini_operation(std::move(op)); }

private:
    /// The outcomes of `job` into `sink`; inline results are moved out of a non-const `job`.
    template <class Job>
    void stream_from(Job& job, const OutcomeSink& sink, const FetchOptions& options);

    static GeminiConfig normalised(GeminiConfig c);

    [[nodiscard]] GeminiFiles<Session> files();

    [[nodiscard]] std::string api_url(std::string_view rest) const;
    /// The URL of `method` on the configured model.
    /// @throws InvalidArgument when the model is not `[models/|tunedModels/]<id>` with an id of
    ///         letters, digits, `-`, `_` and `.` (not `.` or `..`), so it cannot alter the path.
    [[nodiscard]] std::string model_url(std::string_view method) const;

    /// The job's display name: the one asked for or a dated default, tagged with the client token.
    [[nodiscard]] std::string display_name(const CreateOptions& options) const;

    [[nodiscard]] Json inline_body(const std::vector<BatchRequest>& requests, bool json_wanted,
                                   std::string display) const;

    /// Uploads the requests as a JSONL input file, serialising each line twice (once to size
    /// the upload, once to send it) rather than holding the file in memory.
    FileInfo upload_requests(const std::vector<BatchRequest>& requests, bool json_wanted, const std::string& display);

    SubmittedJob submit(std::string body, std::vector<std::string> input_files);

    /// The id part of `batches/{id}` (or of a bare id), checked so it cannot alter the URL path.
    [[nodiscard]] static std::string job_id(const std::string& job_name);

    /// The job `full` (`batches/{id}`), its inline results kept as the reply's text (redacted).
    [[nodiscard]] BatchJob read_job(const std::string& full);

    /// The `inlinedResponses` holder of an Operation (`Json` or `const Json`), if it has one.
    template <class J>
    [[nodiscard]] static J* inline_results(J& op);

    void check_fetchable(const BatchJob& job, const std::string& full) const;

    [[noreturn]] void job_ended_without_results(const BatchJob& job, const std::string& full) const;

    GeminiConfig config_;
    Session session_;
};

}  // namespace llmbatch

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/providers/gemini/impl/provider.hpp"
#endif
