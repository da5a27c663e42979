#pragma once
/// @file testing/emulator/anthropic_service.hpp
/// `detail::AnthropicService`: the clock-free state and routes of the Anthropic emulator
/// (Message Batches, their results, Messages). `BasicAnthropicEmulator<C>` owns one through
/// `EmulatorFront`; see `testing/anthropic_emulator.hpp` for the endpoints and behaviour.
///
/// **Example**:
/// ```cpp
/// auto service = std::make_shared<detail::AnthropicService>(AnthropicEmulatorOptions{});
/// std::unique_lock lock(service->mutex);
/// EmulatedResponse r = service->answer(request, now, service);
/// ```

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/anthropic_wire.hpp"
#include "llmbatch/testing/emulator/chat_wire.hpp"
#include "llmbatch/testing/emulator/faults.hpp"
#include "llmbatch/testing/emulator/response.hpp"
#include "llmbatch/testing/emulator/state.hpp"
#include "llmbatch/testing/fake_transport.hpp"

namespace llmbatch::testing::detail {

inline constexpr std::string_view anthropic_state_format = "llmbatch.anthropic-emulator";

/// Files are not part of the Anthropic API; `EmulatorFront::file_count` reads this empty store.
struct NoFiles {
    [[nodiscard]] std::vector<int> list() const { return {}; }
};

/// The Anthropic emulator's state and routes (see the file comment). Every member but the
/// constructor requires the caller to hold `mutex`.
class AnthropicService {
public:
    using Options = AnthropicEmulatorOptions;

    explicit AnthropicService(Options o) : options(std::move(o)) {}

    std::mutex mutex;
    Options options;
    std::function<std::string(const Json&)> responder;
    JobBook<AnthropicJob> jobs;
    FaultPlan faults;
    NoFiles files;
    std::vector<HttpRequest> requests;

    [[nodiscard]] static JobError cancel_error() { return JobError{0, "The batch was canceled.", "canceled"}; }

    [[nodiscard]] EmulatedResponse answer(const HttpRequest& request, SysTime now, const std::shared_ptr<AnthropicService>&) {
        requests.push_back(request);
        EmulatedResponse response;
        try {
            if (auto fault = faults.take_http_fault()) throw fault_error(*fault);
            std::string key = bearer_key(request);
            if (key.empty()) key = request.headers.get("x-api-key").value_or("");
            if (key.empty()) throw WireError(401, "authentication_error", "x-api-key header is required");
            if (!options.required_api_key.empty() && key != options.required_api_key)
                throw WireError(401, "authentication_error", "invalid x-api-key");
            if (options.require_version && request.headers.get("anthropic-version").value_or("").empty())
                throw WireError(400, "invalid_request_error", "anthropic-version: header is required");
            response = route(request, now);
        } catch (const WireError& e) {
            response.head = anthropic_error_response(e);
        }
        response.truncate_after = faults.take_truncation();
        return response;
    }

    void end_job(const std::string& name, JobPhase phase, std::optional<JobError> error, SysTime now) {
        AnthropicJob* job = jobs.find(name);
        if (!job) throw std::invalid_argument(fmt::format("The Anthropic emulator holds no message batch '{}'.", name));
        if (is_final(anthropic_snapshot(*job, now).phase))
            throw std::logic_error(fmt::format("The message batch '{}' has already ended.", name));
        if (phase == JobPhase::cancelled) job->life.cancel(now, std::move(error));
        else job->life.end_at(phase, now, now, std::move(error));
    }

    [[nodiscard]] Json to_json() const {
        return Json{{"format", anthropic_state_format}, {"version", 1}, {"nextSequence", jobs.next_number()},
                    {"jobs", jobs.jobs_json()}, {"injections", faults.to_json()}};
    }

    void restore(const Json& saved) {
        JobBook<AnthropicJob> j;
        FaultPlan f;
        try {
            check_state_envelope(saved, anthropic_state_format, 1, "an Anthropic emulator");
            j.restore(saved.at("jobs"), saved.at("nextSequence").get<std::uint64_t>());
            if (saved.contains("injections")) f = FaultPlan::from_json(saved.at("injections"));
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(fmt::format("Cannot restore the Anthropic emulator: {}.", e.what()));
        } catch (const nlohmann::json::exception& e) {
            throw std::invalid_argument(fmt::format("Cannot restore the Anthropic emulator: {}.", e.what()));
        }
        jobs = std::move(j);
        faults = std::move(f);
    }

private:
    [[nodiscard]] static WireError fault_error(const HttpFault& f) {
        std::string type = f.status.empty() ? anthropic_error_type(f.http_status) : f.status;
        std::string message = f.message;
        if (message.empty())
            message = f.http_status == 429   ? "Number of request tokens has exceeded your per-minute rate limit"
                      : f.http_status == 529 ? "Overloaded"
                                             : "Internal server error";
        WireError e(f.http_status, std::move(type), std::move(message));
        e.retry_after = f.retry_after;
        e.rendered = f.body;
        return e;
    }

    [[nodiscard]] static WireError bad(std::string message) { return WireError(400, "invalid_request_error", std::move(message)); }
    [[nodiscard]] static WireError not_found(std::string message) { return WireError(404, "not_found_error", std::move(message)); }

    [[nodiscard]] static Json parse_body(const HttpRequest& request) {
        Json body = Json::parse(request.body, nullptr, false);
        if (body.is_discarded() || !body.is_object()) throw bad("The request body is not a valid JSON object.");
        return body;
    }

    [[nodiscard]] static EmulatedResponse wrap(const Json& body) {
        return EmulatedResponse{json_response(200, body, HttpHeaders{{"Content-Type", "application/json"}}), {}, std::nullopt};
    }

    /// Checks a Messages body (`model`, `max_tokens` >= 1, non-empty `messages`), naming `where`.
    static void check_params(const Json& params, const std::string& where) {
        if (!params.is_object()) throw bad(where + ": Input should be an object");
        if (!params.contains("model") || !params["model"].is_string()) throw bad(where + "model: Field required");
        if (!params.contains("max_tokens") || !params["max_tokens"].is_number_integer())
            throw bad(where + "max_tokens: Field required");
        if (params["max_tokens"].get<std::int64_t>() < 1) throw bad(where + "max_tokens: Input should be greater than or equal to 1");
        if (!params.contains("messages") || !params["messages"].is_array() || params["messages"].empty())
            throw bad(where + "messages: Field required");
    }

    EmulatedResponse route(const HttpRequest& request, SysTime now) {
        const std::string path = url_path(request.url);
        const auto& method = request.method;
        const auto none = [&] { return not_found(fmt::format("Not Found: {} {}", method, path)); };
        if (path == "/v1/messages" && method == "POST") {
            const Json params = parse_body(request);
            check_params(params, "");
            return wrap(anthropic_message_json(params, answer_text(params),
                                               "msg_" + derived_token(fmt::format("message#{}", requests.size()), 24, lower_alnum)));
        }
        constexpr std::string_view prefix = "/v1/messages/batches";
        if (path.rfind(prefix, 0) != 0) throw none();
        std::string rest = path.substr(prefix.size());
        if (rest.empty()) {
            if (method == "POST") return wrap(create_job(parse_body(request), now, url_origin(request.url)));
            if (method == "GET") return wrap(list_jobs(request, now));
            throw none();
        }
        if (rest[0] != '/') throw none();
        rest.erase(0, 1);
        const auto slash = rest.find('/');
        const std::string id = rest.substr(0, slash);
        const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
        AnthropicJob* job = jobs.find(id);
        if (!job) throw not_found(fmt::format("message batch {} not found", id));
        const auto snap = anthropic_snapshot(*job, now);
        const std::string origin = url_origin(request.url);
        if (action.empty() && method == "GET") return wrap(anthropic_batch_json(*job, snap, now, origin, options));
        if (action.empty() && method == "DELETE") {
            if (!is_final(snap.phase))
                throw bad(fmt::format("Batch {} cannot be deleted while it is still processing; cancel it first.", id));
            jobs.erase(id);
            return wrap({{"id", id}, {"type", "message_batch_deleted"}});
        }
        if (action == "cancel" && method == "POST") {
            if (!is_final(snap.phase)) job->life.cancel(now, cancel_error());
            return wrap(anthropic_batch_json(*job, anthropic_snapshot(*job, now), now, origin, options));
        }
        if (action == "results" && method == "GET") {
            if (!is_final(snap.phase)) throw bad(fmt::format("Batch {} has not ended; its results are not available yet.", id));
            if (anthropic_archived_at(*job, snap, now, options)) throw not_found(fmt::format("The results of batch {} were archived.", id));
            return results_response(*job, snap);
        }
        throw none();
    }

    [[nodiscard]] EmulatedResponse results_response(const AnthropicJob& job, const JobSnapshot& snap) const {
        auto held = std::make_shared<const AnthropicJob>(job);
        const std::size_t kept = anthropic_kept(snap, options.partial_results);
        EmulatedResponse r;
        r.head = HttpResponse{200, HttpHeaders{{"Content-Type", "application/x-jsonl"}}, {}};
        r.producer = [held, snap, kept](const BodyWriter& write) {
            const std::size_t n = held->items.size();
            for (std::size_t k = 0; k < n; ++k) {
                const std::size_t i = held->out_of_order ? n - 1 - k : k;
                write(anthropic_result_line(*held, snap, kept, i).dump() + "\n");
            }
        };
        return r;
    }

    Json create_job(const Json& body, SysTime now, const std::string& origin) {
        const Json requests_field = body.value("requests", Json(nullptr));
        if (!requests_field.is_array() || requests_field.empty()) throw bad("requests: Field required (a non-empty list)");
        if (requests_field.size() > 100'000) throw bad("requests: a batch holds at most 100000 requests");
        std::unordered_set<std::string> ids;
        for (std::size_t i = 0; i < requests_field.size(); ++i) {
            const Json& r = requests_field[i];
            const std::string where = fmt::format("requests.{}.", i);
            if (!r.is_object() || !r.contains("custom_id") || !r["custom_id"].is_string()) throw bad(where + "custom_id: Field required");
            const std::string id = r["custom_id"].get<std::string>();
            const bool valid = !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
                return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
            });
            if (!valid) throw bad(where + "custom_id: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'");
            if (!ids.insert(id).second) throw bad(fmt::format("Duplicate custom_id '{}' in the batch.", id));
            if (!r.contains("params")) throw bad(where + "params: Field required");
            check_params(r["params"], where + "params.");
        }
        AnthropicJob job;
        job.sequence = jobs.take_number();
        job.name = jobs.unique_name(job.sequence, [](std::uint64_t n, unsigned salt) {
            return "msgbatch_" + derived_token(fmt::format("anthropic-emulator/{}/{}", n, salt), 24, url_safe_alphabet.substr(0, 62));
        });
        const auto nanos = [](auto d) { return std::chrono::duration_cast<Nanos>(d); };
        job.life.create_time = now;
        job.life.timing = JobTiming{nanos(options.pending_for), nanos(options.running_for), Nanos{0},
                                    nanos(options.cancelling_for), nanos(options.expire_after)};
        JobFaults taken = faults.take_job_faults();
        job.out_of_order = taken.out_of_order;
        for (std::size_t i = 0; i < requests_field.size(); ++i) {
            const Json& r = requests_field[i];
            ChatItem item{r["custom_id"].get<std::string>(), 200, nullptr,
                          "req_" + derived_token(fmt::format("{}#{}", job.name, i), 24, lower_alnum)};
            const JobError* error = taken.request_error(i, faults);
            if (taken.fail_at_finish) {
                item.status_code = 500;
                item.body = {{"type", "api_error"}, {"message", taken.fail_at_finish->message}};
            } else if (error) {
                item.status_code = error->code >= 400 ? error->code : 400;
                item.body = {{"type", error->status.empty() ? anthropic_error_type(item.status_code) : error->status},
                             {"message", error->message}};
            } else {
                item.body = anthropic_message_json(r["params"], answer_text(r["params"]),
                                                   "msg_" + derived_token(fmt::format("{}#{}#msg", job.name, i), 24, lower_alnum));
            }
            job.items.push_back(std::move(item));
        }
        job.life.total = job.items.size();
        const AnthropicJob& created = jobs.add(std::move(job));
        return anthropic_batch_json(created, anthropic_snapshot(created, now), now, origin, options);
    }

    Json list_jobs(const HttpRequest& request, SysTime now) const {
        const std::string query = url_query(request.url);
        std::size_t limit = 20;
        if (const auto text = query_param(query, "limit"); text && !text->empty()) {
            if (text->find_first_not_of("0123456789") != std::string::npos || text->size() > 5) throw bad("limit: invalid integer");
            limit = static_cast<std::size_t>(std::stoul(*text));
            if (limit < 1 || limit > 1000) throw bad("limit: Input should be between 1 and 1000");
        }
        const auto after = query_param(query, "after_id");
        const auto before = query_param(query, "before_id");
        std::vector<const AnthropicJob*> all;  // newest first
        for (auto it = jobs.jobs().rbegin(); it != jobs.jobs().rend(); ++it) all.push_back(&*it);
        const auto position = [&](const std::string& id) {
            const auto it = std::find_if(all.begin(), all.end(), [&](const AnthropicJob* j) { return j->name == id; });
            if (it == all.end()) throw bad(fmt::format("Invalid cursor '{}'.", id));
            return static_cast<std::size_t>(it - all.begin());
        };
        std::size_t from = 0, to = all.size();
        if (after && !after->empty()) from = position(*after) + 1;
        if (before && !before->empty()) {
            to = position(*before);
            from = to > limit ? std::max(from, to - limit) : from;
        }
        Json data = Json::array();
        std::size_t i = from;
        for (; i < to && data.size() < limit; ++i)
            data.push_back(anthropic_batch_json(*all[i], anthropic_snapshot(*all[i], now), now, url_origin(request.url), options));
        const bool more = before && !before->empty() ? from > 0 : i < all.size();
        return Json{{"data", data},
                    {"has_more", more},
                    {"first_id", data.empty() ? Json(nullptr) : data.front()["id"]},
                    {"last_id", data.empty() ? Json(nullptr) : data.back()["id"]}};
    }

    [[nodiscard]] static std::string url_origin(std::string_view url) {
        const auto scheme = url.find("://");
        const auto slash = url.find('/', scheme == std::string_view::npos ? 0 : scheme + 3);
        return std::string(url.substr(0, slash));
    }

    [[nodiscard]] std::string answer_text(const Json& params) const {
        return responder ? responder(params) : chat_default_answer(params);
    }
};

}  // namespace llmbatch::testing::detail
