#pragma once
/// @file testing/emulator/openai_service.hpp
/// `detail::OpenAIService`: the clock-free state and routes of the OpenAI emulator (files,
/// uploads, batches, chat completions). `BasicOpenAIEmulator<C>` owns one through
/// `EmulatorFront`; see `testing/openai_emulator.hpp` for the endpoints and behaviour.
///
/// A finished job's output and error files are written into the file store the first time the
/// service answers after the job ended ("settling"), so they are ordinary files from then on.
///
/// **Example**:
/// ```cpp
/// auto service = std::make_shared<detail::OpenAIService>(OpenAIEmulatorOptions{});
/// std::unique_lock lock(service->mutex);
/// EmulatedResponse r = service->answer(request, now, service);
/// ```

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
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/chat_wire.hpp"
#include "llmbatch/testing/emulator/faults.hpp"
#include "llmbatch/testing/emulator/file_store.hpp"
#include "llmbatch/testing/emulator/form_files.hpp"
#include "llmbatch/testing/emulator/openai_uploads.hpp"
#include "llmbatch/testing/emulator/openai_wire.hpp"
#include "llmbatch/testing/emulator/response.hpp"
#include "llmbatch/testing/emulator/state.hpp"

namespace llmbatch::testing::detail {

inline constexpr std::string_view openai_state_format = "llmbatch.openai-emulator";

/// The OpenAI emulator's state and routes (see the file comment). Every member but the
/// constructor requires the caller to hold `mutex`.
class OpenAIService {
public:
    using Options = OpenAIEmulatorOptions;

    explicit OpenAIService(Options o) : options(std::move(o)), files(file_store_options(options)) {}

    std::mutex mutex;
    Options options;
    std::function<std::string(const Json&)> responder;
    JobBook<OpenAIJob> jobs;
    FaultPlan faults;
    FileStore files;
    UploadBook uploads;
    std::vector<HttpRequest> requests;

    [[nodiscard]] static FileStoreOptions file_store_options(const Options& o) {
        FileStoreOptions f;
        f.directory = o.file_directory;
        f.seed = "openai-emulator/file";
        f.id_prefix = "file-";
        f.id_length = 22;
        f.id_alphabet = std::string(openai_alnum);
        f.lifetime = std::chrono::hours(24 * 30);
        return f;
    }
    [[nodiscard]] static JobError cancel_error() { return JobError{0, "The batch was cancelled.", "batch_cancelled"}; }

    [[nodiscard]] EmulatedResponse answer(const HttpRequest& request, SysTime now, const std::shared_ptr<OpenAIService>& self) {
        const std::string path = url_path(request.url);
        const bool upload = request.method == "POST" &&
                            (path == "/v1/files" || (path.rfind("/v1/uploads/", 0) == 0 && path.size() > 6 &&
                                                     path.compare(path.size() - 6, 6, "/parts") == 0));
        requests.push_back(upload ? HttpRequest{request.method, request.url, request.headers, {}} : request);
        EmulatedResponse response;
        try {
            if (auto fault = faults.take_http_fault()) throw fault_error(*fault);
            check_api_key(request);
            files.remove_expired(now);
            settle(now);
            response = route(request, path, now, self);
        } catch (const WireError& e) {
            response.head = error_response(e);
        }
        // Every answer of the API names its request, as the SDKs' `_request_id` reads it.
        response.head.headers.set("x-request-id", "req_" + derived_token(fmt::format("http#{}", requests.size()), 32,
                                                                          "0123456789abcdef"));
        response.truncate_after = faults.take_truncation();
        return response;
    }

    void end_job(const std::string& name, JobPhase phase, std::optional<JobError> error, SysTime now) {
        OpenAIJob* job = jobs.find(name);
        if (!job) throw std::invalid_argument(fmt::format("The OpenAI emulator holds no batch '{}'.", name));
        const auto snap = openai_snapshot(*job, now);
        if (is_final(snap.phase))
            throw std::logic_error(fmt::format("The batch '{}' has already finished ({}).", name, openai_status(snap.phase)));
        if (phase == JobPhase::cancelled) job->life.cancel(now, std::move(error));
        else job->life.end_at(phase, now, now, std::move(error));
    }

    [[nodiscard]] Json to_json() const {
        return Json{{"format", openai_state_format}, {"version", 1},
                    {"nextSequence", jobs.next_number()}, {"jobs", jobs.jobs_json()},
                    {"injections", faults.to_json()}, {"files", files.to_json()}, {"uploads", uploads.to_json()}};
    }

    void restore(const Json& saved) {
        JobBook<OpenAIJob> j;
        FaultPlan f;
        FileStore fs(file_store_options(options));
        UploadBook u;
        try {
            check_state_envelope(saved, openai_state_format, 1, "an OpenAI emulator");
            j.restore(saved.at("jobs"), saved.at("nextSequence").get<std::uint64_t>());
            if (saved.contains("injections")) f = FaultPlan::from_json(saved.at("injections"));
            if (saved.contains("files")) fs.restore(saved.at("files"));
            if (saved.contains("uploads")) u = UploadBook::from_json(saved.at("uploads"));
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(fmt::format("Cannot restore the OpenAI emulator: {}.", e.what()));
        } catch (const nlohmann::json::exception& e) {
            throw std::invalid_argument(fmt::format("Cannot restore the OpenAI emulator: {}.", e.what()));
        }
        jobs = std::move(j);
        faults = std::move(f);
        files = std::move(fs);
        uploads = std::move(u);
    }

    /// The error body of `e`: `{"error": {"message", "type", "param", "code"}}`.
    [[nodiscard]] static HttpResponse error_response(const WireError& e) {
        HttpResponse r{e.http_status, HttpHeaders{{"Content-Type", "application/json"}},
                       e.rendered.empty() ? Json{{"error", openai_error_object(e)}}.dump() : e.rendered};
        if (e.retry_after) r.headers.set("Retry-After", *e.retry_after);
        return r;
    }

private:
    [[nodiscard]] static WireError fault_error(const HttpFault& f) {
        std::string type = f.http_status >= 500 ? "server_error" : "invalid_request_error";
        std::string message = f.message;
        if (f.http_status == 429) {
            type = f.status == "insufficient_quota" ? "insufficient_quota" : "requests";
            if (message.empty())
                message = f.status == "insufficient_quota"
                              ? "You exceeded your current quota, please check your plan and billing details."
                              : "Rate limit reached for requests. Please try again later.";
        }
        if (message.empty()) message = f.http_status >= 500 ? "The server had an error while processing your request."
                                                            : "The request could not be served.";
        Json code = f.status.empty() ? (f.http_status == 429 ? Json("rate_limit_exceeded") : Json(nullptr)) : Json(f.status);
        WireError e(f.http_status, std::move(type), std::move(message), std::move(code));
        e.retry_after = f.retry_after;
        e.rendered = f.body;
        return e;
    }

    void check_api_key(const HttpRequest& request) const {
        const std::string key = bearer_key(request);
        if (key.empty())
            throw WireError(401, "invalid_request_error",
                            "You didn't provide an API key. You need to provide your API key in an Authorization "
                            "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).");
        if (!options.required_api_key.empty() && key != options.required_api_key)
            throw WireError(401, "invalid_request_error",
                            fmt::format("Incorrect API key provided: {}. You can find your API key at "
                                        "https://platform.openai.com/account/api-keys.",
                                        key.size() > 8 ? key.substr(0, 3) + "***" + key.substr(key.size() - 4) : "***"),
                            "invalid_api_key");
    }

    [[nodiscard]] static WireError no_route(const HttpRequest& request, const std::string& path) {
        return WireError(404, "invalid_request_error", fmt::format("Invalid URL ({} {})", request.method, path));
    }

    [[nodiscard]] static Json parse_json_body(const HttpRequest& request) {
        Json body = Json::parse(request.body, nullptr, false);
        if (body.is_discarded() || !body.is_object())
            throw WireError(400, "invalid_request_error",
                            "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
                            "using your HTTP library correctly.)");
        return body;
    }

    EmulatedResponse route(const HttpRequest& request, const std::string& path, SysTime now,
                           const std::shared_ptr<OpenAIService>& self) {
        const auto& method = request.method;
        const auto wrap = [](const Json& body) {
            return EmulatedResponse{json_response(200, body, HttpHeaders{{"Content-Type", "application/json"}}), {}, std::nullopt};
        };
        std::vector<std::string> seg;
        for (std::size_t at = 1; at <= path.size();) {
            auto slash = path.find('/', at);
            if (slash == std::string::npos) slash = path.size();
            seg.push_back(path.substr(at, slash - at));
            at = slash + 1;
        }
        if (seg.size() < 2 || seg[0] != "v1") throw no_route(request, path);
        const std::string& kind = seg[1];
        if (kind == "files") {
            if (seg.size() == 2 && method == "POST")
                return wrap(openai_file_json(upload_form_file(request, files, now, FormUploadRules{{}, true})));
            if (seg.size() == 2 && method == "GET") {
                Json data = Json::array();
                for (auto it = files.list().rbegin(); it != files.list().rend(); ++it) data.push_back(openai_file_json(*it));
                return wrap({{"object", "list"}, {"data", data}, {"has_more", false},
                             {"first_id", data.empty() ? Json(nullptr) : data.front()["id"]},
                             {"last_id", data.empty() ? Json(nullptr) : data.back()["id"]}});
            }
            if (seg.size() < 3 || seg.size() > 4) throw no_route(request, path);
            const StoredFile* file = files.find(seg[2]);
            if (seg.size() == 4 && (seg[3] != "content" || method != "GET")) throw no_route(request, path);
            if (method != "GET" && method != "DELETE") throw no_route(request, path);
            if (!file) throw WireError(404, "invalid_request_error", fmt::format("No such File object: {}", seg[2]), nullptr, "id");
            if (seg.size() == 4) return file_content_response(self, *file);
            if (method == "GET") return wrap(openai_file_json(*file));
            files.remove(seg[2]);
            return wrap(file_deleted_json(seg[2]));
        }
        if (kind == "uploads" && method == "POST") {
            if (seg.size() == 2) return wrap(uploads.create(parse_json_body(request), now));
            if (seg.size() == 4 && seg[3] == "parts") return wrap(uploads.add_part(seg[2], request, now));
            if (seg.size() == 4 && seg[3] == "complete") return wrap(uploads.complete(seg[2], parse_json_body(request), files, now));
            if (seg.size() == 4 && seg[3] == "cancel") return wrap(uploads.cancel(seg[2]));
            throw no_route(request, path);
        }
        if (kind == "batches") {
            if (seg.size() == 2 && method == "POST") return wrap(create_batch(parse_json_body(request), now));
            if (seg.size() == 2 && method == "GET") return wrap(list_batches(request, now));
            if (seg.size() < 3) throw no_route(request, path);
            OpenAIJob* job = jobs.find(seg[2]);
            if (seg.size() == 3 && method == "GET") return wrap(batch_of(job, seg[2], now));
            if (seg.size() == 4 && seg[3] == "cancel" && method == "POST") {
                if (!job) throw WireError(404, "invalid_request_error", fmt::format("No batch found with id '{}'.", seg[2]));
                const auto snap = openai_snapshot(*job, now);
                if (is_final(snap.phase))
                    throw WireError(400, "invalid_request_error",
                                    fmt::format("Cannot cancel a batch with status '{}'.", openai_status(snap.phase)));
                job->life.cancel(now, cancel_error());
                return wrap(batch_of(job, seg[2], now));
            }
            throw no_route(request, path);
        }
        if (kind == "chat" && seg.size() == 3 && seg[2] == "completions" && method == "POST") {
            const Json body = parse_json_body(request);
            if (!body.contains("model") || !body["model"].is_string())
                throw WireError(400, "invalid_request_error", "you must provide a model parameter", nullptr, "model");
            if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
                throw WireError(400, "invalid_request_error", "Missing required parameter: 'messages'.",
                                "missing_required_parameter", "messages");
            const std::string id = "chatcmpl-" + derived_token(fmt::format("chat#{}", requests.size()), 29, openai_alnum);
            return wrap(chat_completion_json(body, answer_text(body), body["model"].get<std::string>(), id, unix_seconds(now)));
        }
        throw no_route(request, path);
    }

    [[nodiscard]] Json batch_of(const OpenAIJob* job, const std::string& id, SysTime now) const {
        if (!job) throw WireError(404, "invalid_request_error", fmt::format("No batch found with id '{}'.", id));
        return batch_json(*job, openai_snapshot(*job, now), now, options.partial_results);
    }

    Json create_batch(const Json& body, SysTime now) {
        const BatchCreateParams params = check_create_body(body);
        const std::string& file_id = params.input_file_id;
        const StoredFile* input = files.find(file_id);
        if (!input)
            throw WireError(404, "invalid_request_error", fmt::format("No such File object: {}", file_id), nullptr, "input_file_id");
        if (input->purpose != "batch")
            throw WireError(400, "invalid_request_error",
                            fmt::format("The input file {} must have purpose 'batch', not '{}'.", file_id, input->purpose),
                            nullptr, "input_file_id");

        OpenAIJob job;
        job.sequence = jobs.take_number();
        job.name = jobs.unique_name(job.sequence, [](std::uint64_t n, unsigned salt) {
            return "batch_" + derived_token(fmt::format("openai-emulator/{}/{}", n, salt), 32, "0123456789abcdef");
        });
        job.endpoint = params.endpoint;
        job.input_file_id = file_id;
        job.metadata = params.metadata;
        job.output_expires_after = params.output_expires_after;
        Json problems;
        const auto lines = validate_input_lines(files, file_id, params.endpoint, options.max_tasks, problems, job.model);
        const auto nanos = [](auto d) { return std::chrono::duration_cast<Nanos>(d); };
        job.life.create_time = now;
        job.life.timing = JobTiming{nanos(options.pending_for), nanos(options.running_for),
                                    nanos(options.finalizing_for), nanos(options.cancelling_for),
                                    nanos(options.expire_after)};
        JobFaults taken = faults.take_job_faults();
        job.out_of_order = taken.out_of_order;
        if (problems.empty() && taken.fail_at_finish)
            problems.push_back({{"code", taken.fail_at_finish->status}, {"line", nullptr},
                                {"message", taken.fail_at_finish->message}, {"param", nullptr}});
        if (!problems.empty()) {
            job.validation_errors = std::move(problems);
            job.life.end = JobEnd{JobPhase::failed, now + job.life.timing.pending_for, std::nullopt, std::nullopt};
        } else {
            for (std::size_t i = 0; i < lines.size(); ++i) {
                ChatItem item{lines[i].custom_id, 200, nullptr,
                              "req_" + derived_token(fmt::format("{}#req#{}", job.name, i), 32, "0123456789abcdef")};
                if (const JobError* error = taken.request_error(i, faults)) {
                    item.status_code = error->code;
                    item.body = {{"error", {{"message", error->message},
                                            {"type", error->status.empty() ? "invalid_request_error" : error->status},
                                            {"param", nullptr}, {"code", nullptr}}}};
                } else {
                    item.body = chat_completion_json(lines[i].body, answer_text(lines[i].body), job.model,
                                                     "chatcmpl-" + derived_token(fmt::format("{}#{}", job.name, i), 29, openai_alnum),
                                                     unix_seconds(now));
                }
                job.items.push_back(std::move(item));
            }
        }
        job.life.total = job.items.size();
        const OpenAIJob& created = jobs.add(std::move(job));
        return batch_json(created, openai_snapshot(created, now), now, options.partial_results);
    }

    Json list_batches(const HttpRequest& request, SysTime now) const {
        const std::string query = url_query(request.url);
        int limit = options.default_page_size;
        if (auto text = query_param(query, "limit"); text && !text->empty()) {
            if (text->find_first_not_of("0123456789") != std::string::npos || text->size() > 6)
                throw WireError(400, "invalid_request_error", fmt::format("Invalid 'limit': '{}'.", *text), nullptr, "limit");
            limit = std::stoi(*text);
            if (limit < 1 || limit > 100)
                throw WireError(400, "invalid_request_error",
                                fmt::format("Invalid 'limit': integer below minimum value. Expected a value between 1 and 100, but got {} instead.", limit),
                                "integer_below_min_value", "limit");
        }
        const auto after = query_param(query, "after");
        const auto& all = jobs.jobs();
        auto it = all.rbegin();
        if (after && !after->empty()) {
            while (it != all.rend() && it->name != *after) ++it;
            if (it == all.rend())
                throw WireError(404, "invalid_request_error", fmt::format("No batch found with id '{}'.", *after), nullptr, "after");
            ++it;
        }
        Json data = Json::array();
        for (; it != all.rend() && data.size() < static_cast<std::size_t>(limit); ++it)
            data.push_back(batch_json(*it, openai_snapshot(*it, now), now, options.partial_results));
        return Json{{"object", "list"}, {"data", data},
                    {"first_id", data.empty() ? Json(nullptr) : data.front()["id"]},
                    {"last_id", data.empty() ? Json(nullptr) : data.back()["id"]}, {"has_more", it != all.rend()}};
    }

    /// Writes the output and error files of every job that has ended and has none yet.
    void settle(SysTime now) {
        for (auto& job : jobs.jobs()) {
            if (job.settled) continue;
            const auto snap = openai_snapshot(job, now);
            if (!is_final(snap.phase)) continue;
            job.settled = true;
            if (snap.phase == JobPhase::failed) continue;
            const bool expired = snap.phase == JobPhase::expired;
            const auto files_made = write_result_files(
                files, job.items, kept_requests(snap, options.partial_results), job.out_of_order,
                expired ? "batch_expired" : "batch_cancelled",
                expired ? "This request could not be executed before the completion window expired."
                        : "This request was not executed because the batch was cancelled.",
                *snap.end_time, job.name, [&](std::size_t i) { return batch_request_id(job.name, i); },
                [&](StoredFile& f, bool) {
                    f.purpose = "batch_output";
                    f.expire_time = *snap.end_time + std::chrono::seconds(job.output_expires_after.value_or(30LL * 24 * 3600));
                });
            job.output_file_id = files_made.output;
            job.error_file_id = files_made.error;
        }
    }

    [[nodiscard]] std::string answer_text(const Json& body) const {
        return responder ? responder(body) : chat_default_answer(body);
    }
};

}  // namespace llmbatch::testing::detail
