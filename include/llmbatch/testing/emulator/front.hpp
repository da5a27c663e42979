#pragma once
/// @file testing/emulator/front.hpp
/// `EmulatorFront<Service, C>`: the public face shared by the OpenAI and Mistral emulators. It owns
/// a clock and a service (routes and state, see `openai_service.hpp`, `mistral_service.hpp`),
/// locks the service for each call and passes it the time, and offers the control calls with the
/// same names and meaning as `GeminiEmulator`'s. Copies share one state.
///
/// A `Service` has `Options`, `mutex`, `options`, `responder`, `jobs` (a `JobBook`), `faults`,
/// `files`, `requests`, `answer(request, now, self)`, `end_job(name, phase, error, now)`,
/// `cancel_error()`, `to_json()` and `restore(saved)`.
///
/// **Example**:
/// ```cpp
/// class BasicOpenAIEmulator : public detail::EmulatorFront<detail::OpenAIService, C> { ... };
/// ```

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "llmbatch/clock.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/faults.hpp"
#include "llmbatch/testing/emulator/ids.hpp"
#include "llmbatch/testing/emulator/lifecycle.hpp"
#include "llmbatch/testing/emulator/response.hpp"
#include "llmbatch/transport/streaming.hpp"

namespace llmbatch::testing::detail {

template <class Service, llmbatch::Clock C>
class EmulatorFront {
public:
    using Options = typename Service::Options;
    /// Computes the answer text for one request body (a chat completion request).
    using Responder = std::function<std::string(const Json& request_body)>;

    explicit EmulatorFront(C clock = C{}, Options options = {})
        : state_(std::make_shared<State>(std::move(clock), std::move(options))) {}

    /// Answers one HTTP request as the API would. A bad request never throws: every problem
    /// becomes an error response. Only an exception from a custom responder propagates.
    HttpResponse send(const HttpRequest& request) { return materialize(open(request)); }

    /// Answers like `send`, handing the body to `sink` in chunks of `options().chunk_size` bytes.
    HttpResponse send(const HttpRequest& request, BodySink sink) {
        const std::size_t chunk = chunk_size();
        return deliver(open(request), sink, chunk);
    }

    /// The answer before delivery (a file's bytes are produced while read); `EmulatorServer` streams it.
    [[nodiscard]] EmulatedResponse open(const HttpRequest& request) {
        std::lock_guard lock(state_->service.mutex);
        return state_->service.answer(request, utc_now(), service());
    }

    /// Replaces the default responder; an empty function restores it. Answers are computed when a
    /// job is created, once per request, while the emulator is locked (it must not call the emulator).
    void set_responder(Responder responder) {
        std::lock_guard lock(state_->service.mutex);
        state_->service.responder = std::move(responder);
    }

    /// Request `index` of every job created afterwards fails: its line carries HTTP status
    /// `status_code` and the error `{message, type, code: null}`.
    void inject_request_error(std::size_t index, int status_code = 400,
                              std::string message = "The request is invalid.",
                              std::string type = "invalid_request_error") {
        std::lock_guard lock(state_->service.mutex);
        state_->service.faults.fail_request(index, JobError{status_code, std::move(message), std::move(type)});
    }

    /// Request `index` of the next job created (only that one) fails as `inject_request_error` says.
    void inject_next_job_request_error(std::size_t index, int status_code = 400,
                                       std::string message = "The request is invalid.",
                                       std::string type = "invalid_request_error") {
        std::lock_guard lock(state_->service.mutex);
        state_->service.faults.fail_request_of_next_job(index, JobError{status_code, std::move(message), std::move(type)});
    }

    /// Ends job `name` now as expired (its unfinished requests get `batch_expired` lines).
    /// @throws std::invalid_argument for an unknown job; std::logic_error for a finished one.
    void expire_job(const std::string& name) { end_job(name, JobPhase::expired, std::nullopt); }

    /// Cancels job `name` as the cancel endpoint does (through `cancelling_for`).
    /// @throws std::invalid_argument for an unknown job; std::logic_error for a finished one.
    void cancel_job(const std::string& name) { end_job(name, JobPhase::cancelled, Service::cancel_error()); }

    /// The next `count` calls, to any endpoint, get this error (with `Retry-After` when given).
    /// `word` is the error's `code` (OpenAI; `insufficient_quota` with 429 is quota exhaustion) or
    /// `type` (Mistral); empty picks the usual one for `http_status`.
    void inject_http_errors(std::size_t count, int http_status = 429, std::string word = {}, std::string message = {},
                            std::optional<std::string> retry_after = std::nullopt) {
        std::lock_guard lock(state_->service.mutex);
        state_->service.faults.add_http_fault(
            HttpFault{count, http_status, std::move(word), std::move(message), std::move(retry_after), {}});
    }

    /// The next `count` calls get HTTP status `http_status` with `body` as it is.
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

    /// Numbers the jobs created afterwards from `number` on (job ids derive from it).
    /// @throws std::invalid_argument when `number` is not above every existing job's number.
    void set_next_job_number(std::uint64_t number) {
        std::lock_guard lock(state_->service.mutex);
        state_->service.jobs.set_next_number(number);
    }

    /// Jobs created afterwards write their result lines in reverse order.
    void set_out_of_order(bool reversed) {
        std::lock_guard lock(state_->service.mutex);
        state_->service.faults.set_out_of_order(reversed);
    }

    /// Withdraws every injection not yet used (jobs already created keep theirs).
    void clear_injections() {
        std::lock_guard lock(state_->service.mutex);
        state_->service.faults.clear();
    }

    /// The chunk size of the streaming `send` (at least 1).
    void set_chunk_size(std::size_t bytes) {
        std::lock_guard lock(state_->service.mutex);
        state_->service.options.chunk_size = std::max<std::size_t>(1, bytes);
    }

    [[nodiscard]] std::size_t job_count() const {
        std::lock_guard lock(state_->service.mutex);
        return state_->service.jobs.size();
    }
    /// The ids of the jobs held, oldest first.
    [[nodiscard]] std::vector<std::string> job_names() const {
        std::lock_guard lock(state_->service.mutex);
        std::vector<std::string> names;
        for (const auto& job : state_->service.jobs.jobs()) names.push_back(job.name);
        return names;
    }
    [[nodiscard]] std::size_t file_count() const {
        std::lock_guard lock(state_->service.mutex);
        return state_->service.files.list().size();
    }
    [[nodiscard]] std::size_t call_count() const {
        std::lock_guard lock(state_->service.mutex);
        return state_->service.requests.size();
    }
    /// Every request received so far, in order (file uploads without their bytes).
    [[nodiscard]] std::vector<HttpRequest> requests() const {
        std::lock_guard lock(state_->service.mutex);
        return state_->service.requests;
    }

    [[nodiscard]] C& clock() noexcept { return state_->clock; }
    [[nodiscard]] const C& clock() const noexcept { return state_->clock; }
    [[nodiscard]] const Options& options() const noexcept { return state_->service.options; }

    /// The jobs (with their answers), the files, uploads and pending injections, as JSON. The
    /// clock, the options, the responder and the request log are not part of it.
    [[nodiscard]] Json to_json() const {
        std::lock_guard lock(state_->service.mutex);
        return state_->service.to_json();
    }

    /// Replaces the state with one saved by `to_json`.
    /// @throws std::invalid_argument when `saved` is not such a state (nothing changes).
    void restore(const Json& saved) {
        std::lock_guard lock(state_->service.mutex);
        state_->service.restore(saved);
    }

protected:
    struct State {
        State(C c, Options o) : clock(std::move(c)), service(std::move(o)) {}
        C clock;
        Service service;
    };

    [[nodiscard]] SysTime utc_now() { return utc_now_of(state_->clock); }

    [[nodiscard]] std::shared_ptr<Service> service() const { return std::shared_ptr<Service>(state_, &state_->service); }

    /// Runs `f(service, now)` with the service locked.
    template <class F>
    decltype(auto) locked(F&& f) {
        std::lock_guard lock(state_->service.mutex);
        return f(state_->service, utc_now());
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

}  // namespace llmbatch::testing::detail
