#pragma once
/// @file testing/mistral_emulator.hpp
/// `BasicMistralEmulator`: an in-memory Mistral batch API that answers `HttpRequest`s in the
/// real wire format, so a Mistral client runs offline and deterministically. It is the Mistral
/// routes and shapes on top of the emulator core (`testing/emulator/`). It models `HttpTransport`
/// and `StreamingHttpTransport`; copies share one state; time comes from the clock policy `C`.
///
/// Every call needs `Authorization: Bearer <key>` (missing, or not
/// `MistralEmulatorOptions::required_api_key` when set: 401 `{"message": "Unauthorized", "request_id"}`).
/// A malformed body (missing or mistyped fields) answers 422 `{"detail": [{"type", "loc", "msg", "input"}]}`
/// (the SDK's `HTTPValidationError`); other errors are `{"object": "error", "message", "type", "param", "code"}`.
/// Endpoints:
///
/// | method + path                         | answer                                                      |
/// |---------------------------------------|-------------------------------------------------------------|
/// | `POST /v1/files` (multipart: `file`, `purpose` = `batch`, `fine-tune` or `ocr`, `visibility` ignored) | the file object (UUID id, `sample_type`, `source: upload`, `num_lines`) |
/// | `GET /v1/files`, `GET /v1/files/{id}`  | `{"data", "object": "list", "total"}` / the file object      |
/// | `GET /v1/files/{id}/content`          | the bytes, streamed                                          |
/// | `DELETE /v1/files/{id}`               | `{"id", "object": "file", "deleted": true}`                  |
/// | `POST /v1/batch/jobs`                 | the new BatchJob (`QUEUED`): `input_files` (JSONL lines `{custom_id, body}`) or inline `requests`, `endpoint`, `model` or `agent_id`, `metadata` (strings), `timeout_hours` (default 24) |
/// | `GET /v1/batch/jobs/{id}[?inline=true]` | the BatchJob; with `inline=true` a finished job's result lines in `outputs` |
/// | `GET /v1/batch/jobs?page=&page_size=&status=&model=` | `{"data", "object": "list", "total"}`, newest first, `status` repeatable |
/// | `POST /v1/batch/jobs/{id}/cancel`     | the BatchJob (`CANCELLATION_REQUESTED`, then `CANCELLED`)    |
/// | `DELETE /v1/batch/jobs/{id}`          | `{"id", "object": "batch", "deleted": true}`                 |
/// | `POST /v1/chat/completions`           | a chat completion for the one request                        |
///
/// Lifecycle: `QUEUED` for pending_for, `RUNNING` for running_for (requests complete at an even
/// pace), then `SUCCESS`; `TIMEOUT_EXCEEDED` after `timeout_hours` or `expire_job`; an input
/// line that is not `{custom_id?, body}` makes the job `FAILED` with `errors: [{message, count}]`.
/// A finished job's `output_file` holds the successful lines and `error_file` the failed ones, in
/// the OpenAI line shape `{id, custom_id, response: {status_code, body} | null, error}`
/// (requests that never ran: `error.code` `batch_cancelled` / `batch_expired`); either is null
/// when it would be empty.
///
/// **Example**:
/// ```cpp
/// using namespace llmbatch::testing;
/// ManualClock clock;
/// MistralEmulator mistral(clock);
/// HttpRequest create{"POST", "https://api.mistral.ai/v1/batch/jobs", {{"Authorization", "Bearer k"}},
///                    R"({"requests":[{"custom_id":"0","body":{"messages":[{"role":"user","content":"Hi"}]}}],
///                        "endpoint":"/v1/chat/completions","model":"mistral-small-latest","timeout_hours":24})"};
/// auto id = Json::parse(mistral.send(create).body)["id"];
/// ```

#include <string>

#include "llmbatch/clock.hpp"
#include "llmbatch/concepts.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/chat_wire.hpp"
#include "llmbatch/testing/emulator/front.hpp"
#include "llmbatch/testing/emulator/mistral_service.hpp"
#include "llmbatch/testing/emulator/mistral_wire.hpp"
#include "llmbatch/testing/emulator/multipart.hpp"
#include "llmbatch/testing/manual_clock.hpp"

namespace llmbatch::testing {

/// An in-memory Mistral batch API (see the file comment). Models `StreamingHttpTransport`;
/// copies share one state. The control calls are those of `detail::EmulatorFront` plus
/// `fail_next_job` and `add_file`.
template <llmbatch::Clock C = ManualClock>
class BasicMistralEmulator : public detail::EmulatorFront<detail::MistralService, C> {
    using Base = detail::EmulatorFront<detail::MistralService, C>;

public:
    explicit BasicMistralEmulator(C clock = C{}, MistralEmulatorOptions options = {}) : Base(std::move(clock), std::move(options)) {}

    /// An emulator holding the state saved by `to_json`.
    /// @throws std::invalid_argument when `state` is not a saved Mistral emulator state.
    [[nodiscard]] static BasicMistralEmulator from_json(const Json& state, C clock = C{}, MistralEmulatorOptions options = {}) {
        BasicMistralEmulator emulator(std::move(clock), std::move(options));
        emulator.restore(state);
        return emulator;
    }

    /// The default answer to a chat completion request (see `detail::chat_default_answer`).
    [[nodiscard]] static std::string default_answer(const Json& request) { return detail::chat_default_answer(request); }

    /// The next job created ends `FAILED` (instead of `SUCCESS`), with `{message, count: 1}` in `errors`.
    void fail_next_job(std::string message = "Internal error while processing the batch job.") {
        this->locked([&](detail::MistralService& s, detail::SysTime) {
            s.faults.fail_next_job(JobError{0, std::move(message), "FAILED"});
        });
    }

    /// Stores `bytes` as an uploaded file (purpose `purpose`) at once and returns its id.
    std::string add_file(std::string filename, std::string_view bytes, std::string purpose = "batch") {
        return this->locked([&](detail::MistralService& s, detail::SysTime now) {
            StoredFile f = s.files.add(std::move(filename), "application/octet-stream", bytes, now, "upload");
            s.files.find_mutable(f.id)->purpose = std::move(purpose);
            return f.id;
        });
    }
};

/// The Mistral emulator driven by a `ManualClock`.
using MistralEmulator = BasicMistralEmulator<ManualClock>;

static_assert(llmbatch::HttpTransport<MistralEmulator>);
static_assert(llmbatch::StreamingHttpTransport<MistralEmulator>);

}  // namespace llmbatch::testing
