#pragma once
/// @file testing/emulator/mistral_service.hpp
/// `detail::MistralService`: the clock-free state and routes of the Mistral emulator (files,
/// batch jobs, chat completions). `BasicMistralEmulator<C>` owns one through `EmulatorFront`;
/// see `testing/mistral_emulator.hpp` for the endpoints and behaviour. Like the OpenAI
/// emulator's, a finished job's result files are written into the file store the first time the
/// service answers after the job ended.
///
/// **Example**:
/// ```cpp
/// auto service = std::make_shared<detail::MistralService>(MistralEmulatorOptions{});
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
#include "llmbatch/testing/emulator/mistral_wire.hpp"
#include "llmbatch/testing/emulator/response.hpp"
#include "llmbatch/testing/emulator/state.hpp"

namespace llmbatch::testing::detail {

inline constexpr std::string_view mistral_state_format = "llmbatch.mistral-emulator";

/// The Mistral emulator's state and routes (see the file comment). Every member but the
/// constructor requires the caller to hold `mutex`.
class MistralService {
public:
    using Options = MistralEmulatorOptions;

    explicit MistralService(Options o) : options(std::move(o)), files(file_store_options(options)) {}

    std::mutex mutex;
    Options options;
    std::function<std::string(const Json&)> responder;
    JobBook<MistralJob> jobs;
    FaultPlan faults;
    FileStore files;
    std::vector<HttpRequest> requests;

    [[nodiscard]] static FileStoreOptions file_store_options(const Options& o) {
        FileStoreOptions f;
        f.directory = o.file_directory;
        f.seed = "mistral-emulator/file";
        f.uuid_ids = true;
        f.lifetime = std::chrono::hours(24 * 365 * 10);  // Mistral files do not expire
        return f;
    }
    [[nodiscard]] static JobError cancel_error() { return JobError{0, "The batch job was cancelled.", "cancelled"}; }

    [[nodiscard]] EmulatedResponse answer(const HttpRequest& request, SysTime now, const std::shared_ptr<MistralService>& self) {
        const std::string path = url_path(request.url);
        requests.push_back(request.method == "POST" && path == "/v1/files"
                               ? HttpRequest{request.method, request.url, request.headers, {}} : request);
        EmulatedResponse response;
        try {
            if (auto fault = faults.take_http_fault()) throw fault_error(*fault);
            const std::string key = bearer_key(request);
            if (key.empty() || (!options.required_api_key.empty() && key != options.required_api_key))
                throw WireError(401, "unauthorized", "Unauthorized");
            settle(now);
            response = route(request, path, now, self);
        } catch (const WireError& e) {
            response.head = mistral_error_response(e);
        }
        response.truncate_after = faults.take_truncation();
        return response;
    }

    void end_job(const std::string& name, JobPhase phase, std::optional<JobError> error, SysTime now) {
        MistralJob* job = jobs.find(name);
        if (!job) throw std::invalid_argument(fmt::format("The Mistral emulator holds no batch job '{}'.", name));
        const auto snap = mistral_snapshot(*job, now);
        if (is_final(snap.phase))
            throw std::logic_error(fmt::format("The batch job '{}' has already finished ({}).", name, mistral_status(snap.phase)));
        if (phase == JobPhase::cancelled) job->life.cancel(now, std::move(error));
        else job->life.end_at(phase, now, now, std::move(error));
    }

    [[nodiscard]] Json to_json() const {
        return Json{{"format", mistral_state_format}, {"version", 1},       {"nextSequence", jobs.next_number()},
                    {"jobs", jobs.jobs_json()},        {"injections", faults.to_json()}, {"files", files.to_json()}};
    }

    void restore(const Json& saved) {
        JobBook<MistralJob> j;
        FaultPlan f;
        FileStore fs(file_store_options(options));
        try {
            check_state_envelope(saved, mistral_state_format, 1, "a Mistral emulator");
            j.restore(saved.at("jobs"), saved.at("nextSequence").get<std::uint64_t>());
            if (saved.contains("injections")) f = FaultPlan::from_json(saved.at("injections"));
            if (saved.contains("files")) fs.restore(saved.at("files"));
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(fmt::format("Cannot restore the Mistral emulator: {}.", e.what()));
        } catch (const nlohmann::json::exception& e) {
            throw std::invalid_argument(fmt::format("Cannot restore the Mistral emulator: {}.", e.what()));
        }
        jobs = std::move(j);
        faults = std::move(f);
        files = std::move(fs);
    }

private:
    [[nodiscard]] static WireError fault_error(const HttpFault& f) {
        std::string type = f.status;
        if (type.empty()) type = f.http_status == 429 ? "rate_limited" : f.http_status >= 500 ? "internal_server_error" : "invalid_request_error";
        std::string message = f.message;
        if (message.empty()) message = f.http_status == 429 ? "Requests rate limit exceeded" : "Service unavailable.";
        WireError e(f.http_status, std::move(type), std::move(message));
        e.retry_after = f.retry_after;
        e.rendered = f.body;
        return e;
    }

    [[nodiscard]] static WireError not_found(std::string message) { return WireError(404, "invalid_request_error", std::move(message)); }
    [[nodiscard]] static WireError bad(std::string message, Json param = nullptr) {
        return WireError(400, "invalid_request_error", std::move(message), nullptr, std::move(param));
    }

    EmulatedResponse route(const HttpRequest& request, const std::string& path, SysTime now,
                           const std::shared_ptr<MistralService>& self) {
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
        const auto none = [&] { return WireError(404, "invalid_request_error", fmt::format("Not Found: {} {}", method, path)); };
        if (seg.size() < 2 || seg[0] != "v1") throw none();
        if (seg[1] == "files") {
            if (seg.size() == 2 && method == "POST") {
                const StoredFile f = upload_form_file(request, files, now, FormUploadRules{{"fine-tune", "batch", "ocr"}, false, 10LL * 365 * 24 * 3600});
                StoredFile* held = files.find_mutable(f.id);
                held->source = "upload";
                return wrap(mistral_file_json(*held, count_lines(files, f.id)));
            }
            if (seg.size() == 2 && method == "GET") {
                Json data = Json::array();
                for (auto it = files.list().rbegin(); it != files.list().rend(); ++it) data.push_back(mistral_file_json(*it, std::nullopt));
                return wrap({{"data", data}, {"object", "list"}, {"total", data.size()}});
            }
            if (seg.size() < 3 || seg.size() > 4 || (seg.size() == 4 && (seg[3] != "content" || method != "GET")) ||
                (method != "GET" && method != "DELETE"))
                throw none();
            const StoredFile* file = files.find(seg[2]);
            if (!file) throw not_found(fmt::format("File {} not found", seg[2]));
            if (seg.size() == 4) return file_content_response(self, *file);
            if (method == "GET") return wrap(mistral_file_json(*file, count_lines(files, file->id)));
            files.remove(seg[2]);
            return wrap(file_deleted_json(seg[2]));
        }
        if (seg[1] == "batch" && seg.size() >= 3 && seg[2] == "jobs") {
            if (seg.size() == 3 && method == "POST") return wrap(create_job(parse_body(request), now));
            if (seg.size() == 3 && method == "GET") return wrap(list_jobs(request, now));
            if (seg.size() < 4) throw none();
            MistralJob* job = jobs.find(seg[3]);
            if (!job && seg.size() <= 5) throw not_found(fmt::format("Batch job {} not found", seg[3]));
            if (seg.size() == 4 && method == "GET") {
                const bool with_outputs = query_param(url_query(request.url), "inline").value_or("") == "true";
                return wrap(mistral_job_json(*job, mistral_snapshot(*job, now), with_outputs, options.partial_results));
            }
            if (seg.size() == 4 && method == "DELETE") {
                const std::string id = job->name;
                jobs.erase(id);
                return wrap({{"id", id}, {"object", "batch"}, {"deleted", true}});
            }
            if (seg.size() == 5 && seg[4] == "cancel" && method == "POST") {
                const auto snap = mistral_snapshot(*job, now);
                if (is_final(snap.phase))
                    throw bad(fmt::format("Batch job {} has already finished ({}).", job->name, mistral_status(snap.phase)));
                job->life.cancel(now, cancel_error());
                return wrap(mistral_job_json(*job, mistral_snapshot(*job, now), false, options.partial_results));
            }
            throw none();
        }
        if (seg.size() == 3 && seg[1] == "chat" && seg[2] == "completions" && method == "POST") {
            const Json body = parse_body(request);
            if (!body.contains("model") || !body["model"].is_string()) throw bad("model is required", "model");
            if (!body.contains("messages") || !body["messages"].is_array() || body["messages"].empty())
                throw bad("messages is required", "messages");
            return wrap(mistral_completion(body, body["model"].get<std::string>(),
                                           derived_token(fmt::format("chat#{}", requests.size()), 32, "0123456789abcdef"),
                                           unix_seconds(now)));
        }
        throw none();
    }

    [[nodiscard]] static Json parse_body(const HttpRequest& request) {
        Json body = Json::parse(request.body, nullptr, false);
        if (body.is_discarded()) throw unprocessable("", "json_invalid", "JSON decode error", request.body);
        if (!body.is_object()) throw unprocessable("", "model_attributes_type", "Input should be a valid dictionary", body);
        return body;
    }

    /// A Mistral chat completion: the OpenAI shape with `tool_calls` and without `refusal`/`logprobs`.
    [[nodiscard]] Json mistral_completion(const Json& request, const std::string& model, std::string id, std::int64_t created) const {
        Json c = chat_completion_json(request, answer_text(request), model, std::move(id), created);
        Json& choice = c["choices"][0];
        choice.erase("logprobs");
        choice["message"].erase("refusal");
        choice["message"]["tool_calls"] = nullptr;
        return c;
    }

    Json create_job(const Json& body, SysTime now) {
        if (!body.contains("endpoint")) throw unprocessable("endpoint", "missing", "Field required", body);
        const std::string endpoint = body["endpoint"].is_string() ? body["endpoint"].get<std::string>() : "";
        if (std::find(std::begin(mistral_endpoints), std::end(mistral_endpoints), endpoint) == std::end(mistral_endpoints))
            throw unprocessable("endpoint", "enum", "Input should be one of the supported endpoints", body["endpoint"]);
        const Json files_field = body.value("input_files", Json(nullptr));
        const Json requests_field = body.value("requests", Json(nullptr));
        if (files_field.is_null() == requests_field.is_null())
            throw bad("Exactly one of input_files and requests must be given.", "input_files");
        const std::string model = body.value("model", Json(nullptr)).is_string() ? body["model"].get<std::string>() : "";
        const std::string agent = body.value("agent_id", Json(nullptr)).is_string() ? body["agent_id"].get<std::string>() : "";
        if (model.empty() && agent.empty()) throw bad("Either model or agent_id must be given.", "model");
        const Json metadata = body.value("metadata", Json(nullptr));
        if (!metadata.is_null()) {
            if (!metadata.is_object()) throw unprocessable("metadata", "dict_type", "Input should be a valid dictionary", metadata);
            for (const auto& [k, v] : metadata.items())
                if (!v.is_string()) throw unprocessable("metadata", "string_type", "Input should be a valid string", v);
        }
        const Json hours = body.value("timeout_hours", Json(24));
        if (!hours.is_number_integer())
            throw unprocessable("timeout_hours", "int_type", "Input should be a valid integer", hours);
        if (hours.get<std::int64_t>() < 1 || hours.get<std::int64_t>() > 168)
            throw bad("timeout_hours must be between 1 and 168.", "timeout_hours");

        MistralJob job;
        std::vector<std::pair<std::string, Json>> lines;  // custom_id, body
        std::size_t bad_lines = 0;
        std::string first_bad;
        const auto take = [&](const Json& item, std::size_t index, std::size_t number) {
            if (!item.is_object() || !item.contains("body") || !item["body"].is_object()) {
                if (bad_lines++ == 0) first_bad = fmt::format("Invalid request on line {}: expected {{\"custom_id\", \"body\"}}.", number);
                return;
            }
            const Json id = item.value("custom_id", Json(nullptr));
            lines.emplace_back(id.is_string() ? id.get<std::string>() : std::to_string(index), item["body"]);
        };
        if (!files_field.is_null()) {
            if (!files_field.is_array() || files_field.empty()) throw bad("input_files must be a non-empty list.", "input_files");
            for (const auto& id : files_field) {
                if (!id.is_string() || !files.find(id.get<std::string>()))
                    throw not_found(fmt::format("File {} not found", id.is_string() ? id.get<std::string>() : id.dump()));
                job.input_files.push_back(id.get<std::string>());
            }
            for (const auto& id : job.input_files)
                files.for_each_line(id, [&](std::string_view text, std::size_t number) {
                    if (text.find_first_not_of(" \t") == std::string_view::npos) return;
                    take(Json::parse(text, nullptr, false), lines.size() + bad_lines, number);
                });
        } else {
            if (!requests_field.is_array() || requests_field.empty()) throw bad("requests must be a non-empty list.", "requests");
            job.inline_input = true;
            for (std::size_t i = 0; i < requests_field.size(); ++i) take(requests_field[i], i, i + 1);
        }

        job.sequence = jobs.take_number();
        job.name = jobs.unique_name(job.sequence, [](std::uint64_t n, unsigned salt) {
            return uuid_for(fmt::format("mistral-emulator/{}/{}", n, salt));
        });
        job.endpoint = endpoint;
        job.model = model;
        job.agent_id = agent;
        job.metadata = metadata;
        const auto nanos = [](auto d) { return std::chrono::duration_cast<Nanos>(d); };
        job.life.create_time = now;
        job.life.timing = JobTiming{nanos(options.pending_for), nanos(options.running_for), Nanos{0},
                                    nanos(options.cancelling_for), std::chrono::hours(hours.get<std::int64_t>())};
        JobFaults taken = faults.take_job_faults();
        job.out_of_order = taken.out_of_order;
        if (bad_lines > 0 || lines.empty()) {
            job.errors.push_back({{"message", lines.empty() && bad_lines == 0 ? "The input has no requests." : first_bad},
                                  {"count", std::max<std::size_t>(1, bad_lines)}});
            job.life.end = JobEnd{JobPhase::failed, now + job.life.timing.pending_for, std::nullopt, std::nullopt};
        } else {
            for (std::size_t i = 0; i < lines.size(); ++i) {
                ChatItem item{lines[i].first, 200, nullptr, {}};
                if (const JobError* error = taken.request_error(i, faults)) {
                    item.status_code = error->code;
                    item.body = {{"object", "error"}, {"message", error->message},
                                 {"type", error->status.empty() ? "invalid_request_error" : error->status},
                                 {"param", nullptr}, {"code", nullptr}};
                } else {
                    item.body = mistral_completion(lines[i].second, model.empty() ? agent : model,
                                                   derived_token(fmt::format("{}#{}", job.name, i), 32, "0123456789abcdef"),
                                                   unix_seconds(now));
                }
                job.items.push_back(std::move(item));
            }
            job.life.fail_at_finish = std::move(taken.fail_at_finish);
        }
        job.life.total = job.items.size();
        const MistralJob& created = jobs.add(std::move(job));
        return mistral_job_json(created, mistral_snapshot(created, now), false, options.partial_results);
    }

    Json list_jobs(const HttpRequest& request, SysTime now) const {
        const std::string query = url_query(request.url);
        const auto number = [&](const char* name, std::size_t fallback, std::size_t low) {
            const auto text = query_param(query, name);
            if (!text || text->empty()) return fallback;
            if (text->find_first_not_of("0123456789") != std::string::npos || text->size() > 6 || std::stoul(*text) < low)
                throw bad(fmt::format("Invalid {} '{}'.", name, *text), name);
            return static_cast<std::size_t>(std::stoul(*text));
        };
        const std::size_t page = number("page", 0, 0);
        const std::size_t page_size = number("page_size", 100, 1);
        const auto statuses = query_values(query, "status");
        const auto model = query_param(query, "model");
        std::vector<Json> all;
        for (auto it = jobs.jobs().rbegin(); it != jobs.jobs().rend(); ++it) {
            const auto snap = mistral_snapshot(*it, now);
            if (!statuses.empty() && std::find(statuses.begin(), statuses.end(), mistral_status(snap.phase)) == statuses.end())
                continue;
            if (model && !model->empty() && it->model != *model) continue;
            all.push_back(mistral_job_json(*it, snap, false, options.partial_results));
        }
        Json data = Json::array();
        for (std::size_t i = page * page_size; i < all.size() && data.size() < page_size; ++i) data.push_back(all[i]);
        return Json{{"data", data}, {"object", "list"}, {"total", all.size()}};
    }

    void settle(SysTime now) {
        for (auto& job : jobs.jobs()) {
            if (job.settled) continue;
            const auto snap = mistral_snapshot(job, now);
            if (!is_final(snap.phase)) continue;
            job.settled = true;
            if (snap.phase == JobPhase::failed) continue;
            const bool stopped = snap.phase == JobPhase::cancelled || snap.phase == JobPhase::expired;
            const bool expired = snap.phase == JobPhase::expired;
            const auto made = write_result_files(
                files, job.items, stopped && !options.partial_results ? 0 : snap.completed, job.out_of_order,
                expired ? "batch_expired" : "batch_cancelled",
                expired ? "The batch job timed out before this request ran." : "The batch job was cancelled before this request ran.",
                *snap.end_time, job.name, [&](std::size_t i) { return mistral_line_id(job.name, i); },
                [&](StoredFile& f, bool) {
                    f.purpose = "batch";
                    f.source = "mistral";
                    f.expire_time = *snap.end_time + std::chrono::hours(24 * 365 * 10);
                });
            job.output_file = made.output;
            job.error_file = made.error;
        }
    }

    [[nodiscard]] std::string answer_text(const Json& body) const {
        return responder ? responder(body) : chat_default_answer(body);
    }
};

}  // namespace llmbatch::testing::detail
