#pragma once
/// @file testing/openai_emulator.hpp
/// `BasicOpenAIEmulator`: an in-memory OpenAI Batch API that answers `HttpRequest`s in the real
/// wire format (what the official SDKs send and receive), so an OpenAI client runs offline and
/// deterministically. It is the OpenAI routes and shapes on top of the emulator core
/// (`testing/emulator/`). It models `HttpTransport` and `StreamingHttpTransport`; copies share
/// one state; time comes from the clock policy `C` (a `ManualClock` by default).
///
/// Every call needs `Authorization: Bearer <key>` (a missing key, or one other than
/// `OpenAIEmulatorOptions::required_api_key` when set, answers 401 `invalid_api_key`). Errors are
/// `{"error": {"message", "type", "param", "code"}}`. Every answer carries an `x-request-id: req_...`
/// header. Endpoints:
///
/// | method + path                        | answer                                                      |
/// |--------------------------------------|-------------------------------------------------------------|
/// | `POST /v1/files` (multipart: `file`, `purpose`, `expires_after[anchor]`, `expires_after[seconds]`) | the FileObject |
/// | `GET /v1/files`, `GET /v1/files/{id}` | the list (newest first) / the FileObject                   |
/// | `GET /v1/files/{id}/content`         | the bytes, streamed                                         |
/// | `DELETE /v1/files/{id}`              | `{"id", "object": "file", "deleted": true}`                 |
/// | `POST /v1/uploads`, `.../{id}/parts`, `.../{id}/complete`, `.../{id}/cancel` | the Uploads API (`emulator/openai_uploads.hpp`) |
/// | `POST /v1/batches`                   | the new Batch (`validating`)                                |
/// | `GET /v1/batches/{id}`               | the Batch, status from the clock                            |
/// | `GET /v1/batches?limit=&after=`      | `{"object": "list", "data", "first_id", "last_id", "has_more"}`, newest first |
/// | `POST /v1/batches/{id}/cancel`       | the Batch (`cancelling`, then `cancelled`); 400 for a finished one |
/// | `POST /v1/chat/completions`          | a `chat.completion` for the one request                     |
///
/// Anything else (a `DELETE /v1/batches/{id}` too) answers 404 `Invalid URL (METHOD /path)`.
///
/// A batch's input file (purpose `batch`) is checked at create time: every line
/// `{custom_id, method: "POST", url: <endpoint>, body}` with one `body.model` for all; problems make
/// the batch `failed` after validating, with `errors.data` `[{code, line, message, param}]`
/// (`invalid_json_line`, `missing_required_parameter`, `url_mismatch`, `model_mismatch`,
/// `duplicate_custom_id`, `empty_file`, `too_many_tasks`). An unknown input file answers 404.
///
/// Lifecycle: `validating` for pending_for, `in_progress` for running_for (requests
/// complete at an even pace), `finalizing` for finalizing_for, then `completed`; a cancel goes
/// through `cancelling` for cancelling_for to `cancelled`; an unfinished batch is `expired` at
/// expire_after (24 h) or `expire_job`. When it ends, its output file (`purpose: batch_output`)
/// holds the successful lines and its error file the failed ones (per-request errors as HTTP
/// error lines with `status_code` >= 400; requests that never ran as `batch_cancelled` /
/// `batch_expired` lines); `output_file_id` is null when nothing succeeded, `error_file_id`
/// when nothing failed. Lines are in request order, or reversed after `set_out_of_order(true)`.
///
/// **Example**:
/// ```cpp
/// using namespace llmbatch::testing;
/// ManualClock clock;
/// OpenAIEmulator openai(clock);
/// std::string type;
/// std::string form = build_multipart({{"purpose", "batch"}}, "file", "in.jsonl", jsonl, type);
/// auto file = Json::parse(openai.send({"POST", "https://api.openai.com/v1/files",
///                                      {{"Authorization", "Bearer k"}, {"Content-Type", type}}, form}).body);
/// ```

#include <string>

#include "llmbatch/clock.hpp"
#include "llmbatch/concepts.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/chat_wire.hpp"
#include "llmbatch/testing/emulator/front.hpp"
#include "llmbatch/testing/emulator/multipart.hpp"
#include "llmbatch/testing/emulator/openai_service.hpp"
#include "llmbatch/testing/emulator/openai_wire.hpp"
#include "llmbatch/testing/manual_clock.hpp"

namespace llmbatch::testing {

/// An in-memory OpenAI Batch API (see the file comment). Models `StreamingHttpTransport`;
/// copies share one state. The control calls are those of `detail::EmulatorFront` plus
/// `fail_next_job` and `add_file`.
template <llmbatch::Clock C = ManualClock>
class BasicOpenAIEmulator : public detail::EmulatorFront<detail::OpenAIService, C> {
    using Base = detail::EmulatorFront<detail::OpenAIService, C>;

public:
    explicit BasicOpenAIEmulator(C clock = C{}, OpenAIEmulatorOptions options = {}) : Base(std::move(clock), std::move(options)) {}

    /// An emulator holding the state saved by `to_json`.
    /// @throws std::invalid_argument when `state` is not a saved OpenAI emulator state.
    [[nodiscard]] static BasicOpenAIEmulator from_json(const Json& state, C clock = C{}, OpenAIEmulatorOptions options = {}) {
        BasicOpenAIEmulator emulator(std::move(clock), std::move(options));
        emulator.restore(state);
        return emulator;
    }

    /// The default answer to a chat completion request (see `detail::chat_default_answer`).
    [[nodiscard]] static std::string default_answer(const Json& request) { return detail::chat_default_answer(request); }

    /// The next batch created fails validation with this entry in `errors.data` (line null).
    void fail_next_job(std::string code = "token_limit_exceeded",
                       std::string message = "Enqueued token limit reached for this model. Wait for some in-progress "
                                             "batches to finish before creating a new one.") {
        this->locked([&](detail::OpenAIService& s, detail::SysTime) {
            s.faults.fail_next_job(JobError{0, std::move(message), std::move(code)});
        });
    }

    /// Stores `bytes` as an uploaded file (purpose `purpose`) at once and returns its id.
    std::string add_file(std::string filename, std::string_view bytes, std::string purpose = "batch") {
        return this->locked([&](detail::OpenAIService& s, detail::SysTime now) {
            StoredFile f = s.files.add(std::move(filename), "application/octet-stream", bytes, now);
            s.files.find_mutable(f.id)->purpose = std::move(purpose);
            return f.id;
        });
    }
};

/// The OpenAI emulator driven by a `ManualClock`.
using OpenAIEmulator = BasicOpenAIEmulator<ManualClock>;

static_assert(llmbatch::HttpTransport<OpenAIEmulator>);
static_assert(llmbatch::StreamingHttpTransport<OpenAIEmulator>);

}  // namespace llmbatch::testing
