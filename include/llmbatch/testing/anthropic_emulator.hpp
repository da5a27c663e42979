#pragma once
/// @file testing/anthropic_emulator.hpp
/// `BasicAnthropicEmulator`: an in-memory Anthropic Message Batches API that answers
/// `HttpRequest`s in the real wire format, so an Anthropic client runs offline and
/// deterministically. It is the Anthropic routes and shapes on top of the emulator core
/// (`testing/emulator/`). It models `HttpTransport` and `StreamingHttpTransport`; copies share
/// one state; time comes from the clock policy `C`.
///
/// Every call needs a key, as `Authorization: Bearer <key>` or `x-api-key: <key>` (missing, or not
/// `AnthropicEmulatorOptions::required_api_key` when set: 401 `authentication_error`), and an
/// `anthropic-version` header (400 without, unless `require_version` is false). Errors are
/// `{"type": "error", "error": {"type", "message"}, "request_id"}`. Endpoints:
///
/// | method + path                                 | answer                                                      |
/// |-----------------------------------------------|-------------------------------------------------------------|
/// | `POST /v1/messages/batches`                   | the new MessageBatch: `requests: [{custom_id, params}]`, `custom_id` 1-64 of `[a-zA-Z0-9_-]` and unique, `params` with `model`, `max_tokens` >= 1, `messages` |
/// | `GET /v1/messages/batches/{id}`               | the MessageBatch                                            |
/// | `GET /v1/messages/batches?limit=&after_id=&before_id=` | `{data, has_more, first_id, last_id}`, newest first (limit 1-1000, default 20) |
/// | `POST /v1/messages/batches/{id}/cancel`       | the MessageBatch (`canceling`, then `ended`)                |
/// | `DELETE /v1/messages/batches/{id}`            | `{id, type: "message_batch_deleted"}`; 400 before it ended  |
/// | `GET /v1/messages/batches/{id}/results`       | the result lines (`application/x-jsonl`), streamed; 400 before it ended, 404 once archived |
/// | `POST /v1/messages`                           | a Message for the one request                               |
///
/// Lifecycle: `in_progress` for pending_for + running_for (requests complete at an even pace,
/// but `request_counts` show every request as `processing` until the end), then `ended` with
/// the final counts and `results_url` (absolute, on the host the request came to). Requests not
/// finished by `expire_after` (24 h) or `expire_job` come back `expired`; after a cancellation,
/// `canceled`. `inject_request_error` makes a request `errored`; `fail_next_job` makes every
/// request of the next batch `errored` (`api_error`). With `archive_after`, results are archived
/// (`archived_at`, no `results_url`) that long after creation.
///
/// **Example**:
/// ```cpp
/// using namespace llmbatch::testing;
/// ManualClock clock;
/// AnthropicEmulator anthropic(clock);
/// HttpRequest create{"POST", "https://api.anthropic.com/v1/messages/batches",
///                    {{"x-api-key", "k"}, {"anthropic-version", "2023-06-01"}},
///                    R"({"requests":[{"custom_id":"0","params":{"model":"claude-sonnet-4-5","max_tokens":64,
///                        "messages":[{"role":"user","content":"Hi"}]}}]})"};
/// auto id = Json::parse(anthropic.send(create).body)["id"];
/// ```

#include <string>

#include "llmbatch/clock.hpp"
#include "llmbatch/concepts.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/anthropic_service.hpp"
#include "llmbatch/testing/emulator/anthropic_wire.hpp"
#include "llmbatch/testing/emulator/chat_wire.hpp"
#include "llmbatch/testing/emulator/front.hpp"
#include "llmbatch/testing/manual_clock.hpp"

namespace llmbatch::testing {

/// An in-memory Anthropic Message Batches API (see the file comment). Models
/// `StreamingHttpTransport`; copies share one state. The control calls are those of
/// `detail::EmulatorFront` (the responder gets a request's `params`) plus `fail_next_job`.
template <llmbatch::Clock C = ManualClock>
class BasicAnthropicEmulator : public detail::EmulatorFront<detail::AnthropicService, C> {
    using Base = detail::EmulatorFront<detail::AnthropicService, C>;

public:
    explicit BasicAnthropicEmulator(C clock = C{}, AnthropicEmulatorOptions options = {})
        : Base(std::move(clock), std::move(options)) {}

    /// An emulator holding the state saved by `to_json`.
    /// @throws std::invalid_argument when `state` is not a saved Anthropic emulator state.
    [[nodiscard]] static BasicAnthropicEmulator from_json(const Json& state, C clock = C{},
                                                          AnthropicEmulatorOptions options = {}) {
        BasicAnthropicEmulator emulator(std::move(clock), std::move(options));
        emulator.restore(state);
        return emulator;
    }

    /// The default answer to a request's `params` (see `detail::chat_default_answer`).
    [[nodiscard]] static std::string default_answer(const Json& params) { return detail::chat_default_answer(params); }

    /// Every request of the next batch created ends `errored` (`api_error` with `message`), so
    /// the batch ends with all its requests errored.
    void fail_next_job(std::string message = "Internal server error while processing the request.") {
        this->locked([&](detail::AnthropicService& s, detail::SysTime) {
            s.faults.fail_next_job(JobError{500, std::move(message), "api_error"});
        });
    }
};

/// The Anthropic emulator driven by a `ManualClock`.
using AnthropicEmulator = BasicAnthropicEmulator<ManualClock>;

static_assert(llmbatch::HttpTransport<AnthropicEmulator>);
static_assert(llmbatch::StreamingHttpTransport<AnthropicEmulator>);

}  // namespace llmbatch::testing
