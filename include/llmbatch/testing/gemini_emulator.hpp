#pragma once
/// @file testing/gemini_emulator.hpp
/// `BasicGeminiEmulator`: an in-memory Gemini Developer API batch service that answers
/// `HttpRequest`s in the real wire format, so a Gemini client runs offline and deterministically.
/// It is the Gemini routes and wire shapes on top of the provider-neutral emulator core
/// (`testing/emulator/`: lifecycle, faults, file store, job book, streamed responses).
///
/// It models `HttpTransport` and `StreamingHttpTransport`: hand it to a provider in place of a
/// real transport. The streaming `send` hands bodies over in chunks of `chunk_size` bytes.
/// Copies share one state. Time comes from the clock policy `C` (a `ManualClock` by default).
///
/// Endpoints (under `/{api_version}/`, `v1beta` by default; every call needs `x-goog-api-key`,
/// except the chunks sent to an upload URL):
///
/// | method + path                               | answer                                             |
/// |---------------------------------------------|----------------------------------------------------|
/// | `POST models/{model}:batchGenerateContent`  | the new Operation (`BATCH_STATE_PENDING`); input inlined or `inputConfig.fileName` |
/// | `GET batches/{id}`                          | the Operation, state derived from the clock        |
/// | `GET batches?pageSize=&pageToken=`          | `{"operations":[...],"nextPageToken":...}`, newest first, no results; `{}` when empty |
/// | `POST batches/{id}:cancel`                  | `{}`; the job ends `BATCH_STATE_CANCELLED` (error code 1) |
/// | `DELETE batches/{id}`                       | `{}`; the job is forgotten                         |
/// | `POST models/{model}:generateContent`       | a GenerateContentResponse for the one request      |
/// | `POST /upload/{v}/files` (resumable)        | an upload session (`x-goog-upload-url`), see `emulator/gemini_files.hpp` |
/// | `GET files`, `GET files/{id}`, `DELETE files/{id}` | the Files API                               |
/// | `GET files/{id}:download?alt=media` (also under `/download/{v}/`) | the file's bytes; `batch-<job>` is a job's responses file |
///
/// Anything else answers 404 `NOT_FOUND`. A missing key answers 403 `PERMISSION_DENIED`; a key other
/// than `GeminiEmulatorOptions::required_api_key` (when set) answers 400 `INVALID_ARGUMENT`.
/// Bodies are checked like the real API (unknown fields, wrong types, missing `contents`, empty
/// request lists, unparseable JSON: 400 `INVALID_ARGUMENT`). A file-input job's JSONL lines
/// `{"key", "request"}` are checked at create time ("Error on line N: ..."); a missing input file
/// answers 400 `INVALID_ARGUMENT`. File-input jobs (and, with `inline_file_output`, inline ones) answer
/// with `responsesFile: files/batch-<id>`, whose lines `{"key", "response"|"error"}` are rendered
/// when downloaded.
///
/// Lifecycle (see `emulator/lifecycle.hpp`): `PENDING` for pending_for, `RUNNING` for
/// running_for (requests complete at an even pace) and finalizing_for, then `SUCCEEDED`; an
/// unfinished job ends `EXPIRED` at expire_after. With `partial_results`, a cancelled or expired
/// job shows the results of the requests completed before its end.
///
/// Injections (each affects jobs created afterwards unless it names a job): `inject_request_error`,
/// `omit_results_for`, `set_out_of_order`, `set_echo_metadata`, `fail_next_job`; `fail_job`,
/// `expire_job`, `cancel_job` end a job; `inject_http_errors` and `truncate_bodies` affect the
/// next calls. The whole state (jobs, answers, files, pending injections) round-trips through
/// `to_json` and `restore`/`from_json`.
///
/// **Example**:
/// ```cpp
/// using namespace llmbatch::testing;
/// ManualClock clock;
/// GeminiEmulator gemini(clock);
/// HttpRequest create{"POST", "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:batchGenerateContent",
///                    {{"x-goog-api-key", "k"}}, R"({"batch":{"inputConfig":{"requests":{"requests":[
///                      {"request":{"contents":[{"parts":[{"text":"Classify: physics"}]}]},"metadata":{"key":"0"}}]}}}})"};
/// auto name = Json::parse(gemini.send(create).body)["name"];
/// clock.advance(std::chrono::minutes(2));  // now BATCH_STATE_SUCCEEDED
/// ```

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/clock.hpp"
#include "llmbatch/concepts.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/faults.hpp"
#include "llmbatch/testing/emulator/file_store.hpp"
#include "llmbatch/testing/emulator/gemini_service.hpp"
#include "llmbatch/testing/emulator/gemini_wire.hpp"
#include "llmbatch/testing/emulator/ids.hpp"
#include "llmbatch/testing/emulator/lifecycle.hpp"
#include "llmbatch/testing/emulator/response.hpp"
#include "llmbatch/testing/emulator/state.hpp"
#include "llmbatch/testing/manual_clock.hpp"
#include "llmbatch/transport/streaming.hpp"

namespace llmbatch::testing {

/// An in-memory Gemini Developer API batch service (see the file comment). Models
/// `StreamingHttpTransport`; copies share one state.
/// @tparam C the clock the job lifecycle follows; `utc_now()` stamps and ages the jobs.
template <llmbatch::Clock C = ManualClock>
class BasicGeminiEmulator {
public:
    /// Computes the answer text for one GenerateContentRequest.
    using Responder = std::function<std::string(const Json& generate_content_request)>;

    explicit BasicGeminiEmulator(C clock = C{}, GeminiEmulatorOptions options = {})
        : state_(std::make_shared<State>(std::move(clock), std::move(options))) {}

    /// An emulator holding the state saved by `to_json`.
    /// @throws std::invalid_argument when `state` is not a saved emulator state.
    [[nodiscard]] static BasicGeminiEmulator from_json(const Json& state, C clock = C{},
                                                       GeminiEmulatorOptions options = {}) {
        BasicGeminiEmulator emulator(std::move(clock), std::move(options));
        emulator.restore(state);
        return emulator;
    }

    /// The default answer to a GenerateContentRequest. With user text T (every
    /// `contents[].parts[].text`, joined with `\n`), category K (`Humanities`, `Languages`, `STEM`,
    /// `Arts` or `General`, by keyword) and confidence N (50..99, a stable hash of T), it is
    /// `{"category":"K","confidence":N}` when `generationConfig.responseMimeType` is
    /// `application/json`, else the same object in a fenced `json` block between two sentences.
    [[nodiscard]] static std::string default_answer(const Json& generate_content_request) {
        return detail::default_answer(generate_content_request);
    }

    /// Answers one HTTP request as the Gemini API would. A bad request never throws: every problem
    /// becomes a Google error response. Only an exception from a custom responder propagates.
    HttpResponse send(const HttpRequest& request) { return materialize(open(request)); }

    /// Answers like `send`, handing the body to `sink` in chunks of `options().chunk_size` bytes;
    /// the returned response has an empty body.
    HttpResponse send(const HttpRequest& request, BodySink sink) {
        const std::size_t chunk = chunk_size();
        return deliver(open(request), sink, chunk);
    }

    /// The answer before delivery: a large body (a responses file) is produced while it is read.
    /// `EmulatorServer` uses it to stream.
    [[nodiscard]] EmulatedResponse open(const HttpRequest& request) {
        std::lock_guard lock(state_->service.mutex);
        return state_->service.answer(request, utc_now(), service());
    }

    // ---- answers and injections -------------------------------------------------------------

    /// Replaces the default responder; an empty function restores it. Answers are computed when a
    /// job is created (and kept with it), once per request. The responder runs while the emulator
    /// is locked: it must not call the emulator.
    void set_responder(Responder responder) {
        std::lock_guard lock(state_->service.mutex);
        state_->service.responder = std::move(responder);
    }

    /// Request `index` of every job created afterwards fails with this error.
    void inject_request_error(std::size_t index, int code, std::string message, std::string status = "") {
        std::lock_guard lock(state_->service.mutex);
        state_->service.faults.fail_request(index, JobError{code, std::move(message), std::move(status)});
    }

    /// Request `index` of the next job created (only that one) fails with this error.
    void inject_next_job_request_error(std::size_t index, int code = 3,
                                       std::string message = "Request contains an invalid argument.",
                                       std::string status = "INVALID_ARGUMENT") {
        std::lock_guard lock(state_->service.mutex);
        state_->service.faults.fail_request_of_next_job(index, JobError{code, std::move(message), std::move(status)});
    }

    /// The next job created ends `BATCH_STATE_FAILED` with this error when it would have succeeded.
    void fail_next_job(int code = 13, std::string message = "Internal error encountered.") {
        std::lock_guard lock(state_->service.mutex);
        state_->service.faults.fail_next_job(JobError{code, std::move(message), {}});
    }

    /// Ends job `name` now as `BATCH_STATE_FAILED` with this error.
    /// @throws std::invalid_argument for an unknown job; std::logic_error for a finished one.
    void fail_job(const std::string& name, int code, std::string message) {
        end_job(name, JobPhase::failed, JobError{code, std::move(message), {}});
    }

    /// Ends job `name` now as `BATCH_STATE_EXPIRED`.
    /// @throws std::invalid_argument for an unknown job; std::logic_error for a finished one.
    void expire_job(const std::string& name) { end_job(name, JobPhase::expired, std::nullopt); }

    /// Cancels job `name` as `POST batches/{id}:cancel` does (through `cancelling_for`).
    /// @throws std::invalid_argument for an unknown job; std::logic_error for a finished one.
    void cancel_job(const std::string& name) { end_job(name, JobPhase::cancelled, detail::GeminiService::cancelled_status()); }

    /// The next `count` calls, to any endpoint, get this Google error (with `Retry-After` when given).
    /// An empty `status` or `message` is Google's usual one for `http_status`.
    void inject_http_errors(std::size_t count, int http_status = 429, std::string status = "RESOURCE_EXHAUSTED",
                            std::string message = "Resource has been exhausted (e.g. check quota).",
                            std::optional<std::string> retry_after = std::nullopt) {
        if (status.empty() || message.empty()) {
            const auto [word, text] = detail::google_error_for(http_status);
            if (status.empty()) status = word;
            if (message.empty()) message = text;
        }
        std::lock_guard lock(state_->service.mutex);
        state_->service.faults.add_http_fault(HttpFault{count, http_status, std::move(status), std::move(message),
                                                std::move(retry_after), {}});
    }

    /// The next `count` calls get HTTP status `http_status` with `body` as it is (any error shape,
    /// even a malformed one), and `Retry-After` when given.
    void inject_http_response(std::size_t count, int http_status, std::string body,
                              std::optional<std::string> retry_after = std::nullopt) {
        if (body.empty()) body = "{}";
        std::lock_guard lock(state_->service.mutex);
        state_->service.faults.add_http_fault(HttpFault{count, http_status, {}, {}, std::move(retry_after), std::move(body)});
    }

    /// The next `count` response bodies, whatever the endpoint, stop after `keep_bytes` bytes.
    void truncate_bodies(std::size_t count, std::size_t keep_bytes) {
        std::lock_guard lock(state_->service.mutex);
        state_->service.faults.truncate_bodies(count, keep_bytes);
    }

    /// Numbers the jobs created afterwards from `number` on; job names derive from these numbers.
    /// A tool that keeps the emulator's jobs in a file can start a fresh file at a random number,
    /// so its job names never repeat those of an older file.
    /// @throws std::invalid_argument when `number` is not above every existing job's number.
    void set_next_job_number(std::uint64_t number) {
        std::lock_guard lock(state_->service.mutex);
        state_->service.jobs.set_next_number(number);
    }

    /// Jobs created afterwards list their results in reverse order (each still echoes its metadata).
    void set_out_of_order(bool reversed) {
        std::lock_guard lock(state_->service.mutex);
        state_->service.faults.set_out_of_order(reversed);
    }

    /// Whether items of jobs created afterwards carry their request's `metadata` (default true).
    void set_echo_metadata(bool echo) {
        std::lock_guard lock(state_->service.mutex);
        state_->service.faults.set_echo_metadata(echo);
    }

    /// The item of request `index` is missing from the results of jobs created afterwards.
    void omit_results_for(std::size_t index) {
        std::lock_guard lock(state_->service.mutex);
        state_->service.faults.omit_result(index);
    }

    /// Withdraws every injection that has not been used up (jobs already created keep theirs).
    void clear_injections() {
        std::lock_guard lock(state_->service.mutex);
        state_->service.faults.clear();
    }

    /// The chunk size of the streaming `send` (at least 1).
    void set_chunk_size(std::size_t bytes) {
        std::lock_guard lock(state_->service.mutex);
        state_->service.options.chunk_size = std::max<std::size_t>(1, bytes);
    }

    /// Stores `bytes` as an uploaded file at once and returns its name (`files/<id>`).
    std::string add_file(std::string display_name, std::string mime_type, std::string_view bytes) {
        std::lock_guard lock(state_->service.mutex);
        return "files/" + state_->service.files.add(std::move(display_name), std::move(mime_type), bytes, utc_now()).id;
    }

    // ---- inspection -------------------------------------------------------------------------

    /// The number of jobs held (deleted jobs are gone).
    [[nodiscard]] std::size_t job_count() const {
        std::lock_guard lock(state_->service.mutex);
        return state_->service.jobs.size();
    }

    /// The names of the jobs held, oldest first.
    [[nodiscard]] std::vector<std::string> job_names() const {
        std::lock_guard lock(state_->service.mutex);
        std::vector<std::string> names;
        for (const auto& job : state_->service.jobs.jobs()) names.push_back(job.name);
        return names;
    }

    /// The number of files held (uploads in progress excluded).
    [[nodiscard]] std::size_t file_count() const {
        std::lock_guard lock(state_->service.mutex);
        return state_->service.files.list().size();
    }

    /// The number of `send` calls so far.
    [[nodiscard]] std::size_t call_count() const {
        std::lock_guard lock(state_->service.mutex);
        return state_->service.requests.size();
    }

    /// Every request received so far, in order (chunks sent to an upload URL without their bytes).
    [[nodiscard]] std::vector<HttpRequest> requests() const {
        std::lock_guard lock(state_->service.mutex);
        return state_->service.requests;
    }

    [[nodiscard]] C& clock() noexcept { return state_->clock; }
    [[nodiscard]] const C& clock() const noexcept { return state_->clock; }
    [[nodiscard]] const GeminiEmulatorOptions& options() const noexcept { return state_->service.options; }

    // ---- persistence ------------------------------------------------------------------------

    /// The jobs (with their answers), the files and the pending injections, as JSON. The clock,
    /// the options, the responder and the request log are not part of it.
    [[nodiscard]] Json to_json() const {
        std::lock_guard lock(state_->service.mutex);
        return Json{{"format", detail::state_format},
                    {"version", detail::state_version},
                    {"nextSequence", state_->service.jobs.next_number()},
                    {"jobs", state_->service.jobs.jobs_json()},
                    {"injections", state_->service.faults.to_json()},
                    {"files", state_->service.files.to_json()}};
    }

    /// Replaces the jobs, files and injections with those saved by `to_json`.
    /// @throws std::invalid_argument when `saved` is not a saved emulator state (nothing changes).
    void restore(const Json& saved) {
        JobBook<detail::GeminiJob> jobs;
        FaultPlan faults;
        FileStore files(detail::GeminiService::file_store_options(state_->service.options));
        try {
            check_state_envelope(saved, detail::state_format, detail::state_version, "a Gemini emulator");
            jobs.restore(saved.at("jobs"), saved.at("nextSequence").get<std::uint64_t>());
            if (saved.contains("injections")) faults = FaultPlan::from_json(saved.at("injections"));
            if (saved.contains("files")) files.restore(saved.at("files"));
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(fmt::format("Cannot restore the Gemini emulator: {}.", e.what()));
        } catch (const nlohmann::json::exception& e) {
            throw std::invalid_argument(fmt::format("Cannot restore the Gemini emulator: {}.", e.what()));
        }
        std::lock_guard lock(state_->service.mutex);
        state_->service.jobs = std::move(jobs);
        state_->service.faults = std::move(faults);
        state_->service.files = std::move(files);
    }

private:
    struct State {
        State(C c, GeminiEmulatorOptions o) : clock(std::move(c)), service(std::move(o)) {}
        C clock;
        detail::GeminiService service;
    };

    [[nodiscard]] detail::SysTime utc_now() { return detail::utc_now_of(state_->clock); }

    /// The service, sharing ownership with the whole state (for bodies produced later).
    [[nodiscard]] std::shared_ptr<detail::GeminiService> service() const {
        return std::shared_ptr<detail::GeminiService>(state_, &state_->service);
    }

    [[nodiscard]] std::size_t chunk_size() const {
        std::lock_guard lock(state_->service.mutex);
        return state_->service.options.chunk_size;
    }

    void end_job(const std::string& name, JobPhase phase, std::optional<JobError> error) {
        std::lock_guard lock(state_->service.mutex);
        state_->service.end_job(name, phase, std::move(error), utc_now());
    }

    std::shared_ptr<State> state_;
};

/// The Gemini emulator driven by a `ManualClock`.
using GeminiEmulator = BasicGeminiEmulator<ManualClock>;

static_assert(llmbatch::HttpTransport<GeminiEmulator>);
static_assert(llmbatch::StreamingHttpTransport<GeminiEmulator>);

}  // namespace llmbatch::testing
