#pragma once
/// @file testing/emulator/gemini_service.hpp
/// `detail::GeminiService`: the clock-free state and the routes of the Gemini emulator (batches,
/// generateContent, the Files API, downloads). `BasicGeminiEmulator<C>` owns one, locks it and
/// passes it the time; see `testing/gemini_emulator.hpp` for the endpoints and behaviour.
///
/// **Example**:
/// ```cpp
/// auto service = std::make_shared<detail::GeminiService>(GeminiEmulatorOptions{});
/// std::unique_lock lock(service->mutex);
/// EmulatedResponse r = service->answer(request, now, service);
/// lock.unlock();
/// HttpResponse whole = materialize(std::move(r));  // a produced body locks the service itself
/// ```

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
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
#include "llmbatch/testing/emulator/faults.hpp"
#include "llmbatch/testing/emulator/file_store.hpp"
#include "llmbatch/testing/emulator/gemini_files.hpp"
#include "llmbatch/testing/emulator/gemini_schema.hpp"
#include "llmbatch/testing/emulator/gemini_wire.hpp"
#include "llmbatch/testing/emulator/lifecycle.hpp"
#include "llmbatch/testing/emulator/response.hpp"
#include "llmbatch/testing/emulator/state.hpp"

namespace llmbatch::testing::detail {

inline constexpr std::string_view state_format = "llmbatch.gemini-emulator";
inline constexpr int state_version = 1;
inline constexpr int max_page_size = 1000;

/// The Gemini emulator's state and routes, without a clock (see the file comment). Every member
/// but the constructor requires the caller to hold `mutex`.
class GeminiService {
public:
    explicit GeminiService(GeminiEmulatorOptions o) : options(std::move(o)), files(file_store_options(options)) {}

    std::mutex mutex;
    GeminiEmulatorOptions options;
    std::function<std::string(const Json&)> responder;
    JobBook<GeminiJob> jobs;
    FaultPlan faults;
    FileStore files;
    std::vector<HttpRequest> requests;

    [[nodiscard]] static FileStoreOptions file_store_options(const GeminiEmulatorOptions& o) {
        FileStoreOptions f;
        f.directory = o.file_directory;
        f.seed = "gemini-emulator/file";
        return f;
    }

    [[nodiscard]] static JobError cancelled_status() { return JobError{1, "The batch was cancelled.", {}}; }

    /// Records and answers `request` at `now`. `self` owns this service: a produced body keeps it
    /// and locks `mutex` while it renders.
    [[nodiscard]] EmulatedResponse answer(const HttpRequest& request, SysTime now, const std::shared_ptr<GeminiService>& self) {
        const bool to_upload_url = !upload_id(request).empty();
        // The log keeps no uploaded bytes: a large file would sit in memory twice.
        requests.push_back(to_upload_url ? HttpRequest{request.method, request.url, request.headers, {}} : request);
        EmulatedResponse response;
        try {
            if (auto fault = faults.take_http_fault()) {
                ApiError e(fault->http_status, fault->status, fault->message, nullptr, fault->retry_after);
                e.rendered = fault->body;
                throw e;
            }
            if (!to_upload_url) check_api_key(request);
            files.remove_expired(now);
            response = route(request, now, self);
        } catch (const ApiError& e) {
            response.head = error_response(e);
        }
        response.truncate_after = faults.take_truncation();
        return response;
    }

    /// Ends job `name` as `phase` at `now` (a cancellation goes through `cancelling_for`).
    /// @throws std::invalid_argument for an unknown job; std::logic_error for a finished one.
    void end_job(const std::string& name, JobPhase phase, std::optional<JobError> error, SysTime now) {
        GeminiJob* job = jobs.find(name);
        if (!job) throw std::invalid_argument(fmt::format("The Gemini emulator holds no job named '{}'.", name));
        const auto snap = snapshot(*job, now);
        if (is_final(snap.phase))
            throw std::logic_error(fmt::format("The job '{}' has already finished ({}).", name, wire_name(snap.phase)));
        if (phase == JobPhase::cancelled) job->life.cancel(now, std::move(error));
        else job->life.end_at(phase, now, now, std::move(error));
    }

private:
    void check_api_key(const HttpRequest& request) const {
        const auto key = request.headers.get("x-goog-api-key");
        if (!key || key->empty())
            throw ApiError(403, "PERMISSION_DENIED",
                           "Method doesn't allow unregistered callers (callers without established "
                           "identity). Please use API Key or other form of API consumer identity to call "
                           "this API.");
        if (!options.required_api_key.empty() && *key != options.required_api_key)
            throw ApiError(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.",
                           Json::array({{{"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
                                         {"reason", "API_KEY_INVALID"},
                                         {"domain", "googleapis.com"},
                                         {"metadata", {{"service", "generativelanguage.googleapis.com"}}}}}));
    }

    EmulatedResponse route(const HttpRequest& request, SysTime now, const std::shared_ptr<GeminiService>& self) {
        const std::string path = url_path(request.url);
        const auto& method = request.method;
        const auto no_method = [&] { return not_found(fmt::format("The method {} {} is not found.", method, path)); };
        const auto wrap = [](HttpResponse r) { return EmulatedResponse{std::move(r), {}, std::nullopt}; };
        const std::string api_base = url_origin(request.url) + "/" + options.api_version;
        std::string_view rest = path;
        const auto strip = [&](std::string_view prefix) {
            if (rest.rfind(prefix, 0) != 0) return false;
            rest.remove_prefix(prefix.size());
            return true;
        };
        if (strip("/upload/")) {
            const auto slash = rest.find('/');
            if (slash == std::string_view::npos || rest.substr(slash) != "/files" || method != "POST") throw no_method();
            if (const std::string id = upload_id(request); !id.empty())
                return wrap(upload_chunk(request, id, files, now, api_base));
            return wrap(start_upload(request, files, now));
        }
        if (strip("/download/")) {
            const auto slash = rest.find('/');
            rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
            if (!strip("files/") || method != "GET") throw no_method();
            const auto colon = rest.find(':');
            if (colon == std::string_view::npos || rest.substr(colon) != ":download") throw no_method();
            return download(request, std::string(rest.substr(0, colon)), now, self);
        }
        if (!strip("/" + options.api_version + "/")) throw no_method();

        if (rest.rfind("models/", 0) == 0) {
            const auto colon = rest.rfind(':');
            if (colon == std::string_view::npos) throw no_method();
            const std::string model(rest.substr(0, colon));
            const std::string_view verb = rest.substr(colon + 1);
            if (model.size() <= 7 || model.find('/', 7) != std::string::npos) throw no_method();
            if (method == "POST" && verb == "batchGenerateContent") return wrap(create_batch(request, model, now));
            if (method == "POST" && verb == "generateContent") return wrap(generate_content(request, model));
            throw no_method();
        }
        if (rest == "batches" || rest == "files") {
            if (method != "GET") throw no_method();
            return wrap(rest == "batches" ? list_batches(request, now) : list_files(request, files, api_base));
        }
        const bool is_batch = strip("batches/");
        if (!is_batch && !strip("files/")) throw no_method();
        std::string_view id = rest;
        std::string_view verb;
        if (const auto colon = id.find(':'); colon != std::string_view::npos) {
            verb = id.substr(colon + 1);
            id = id.substr(0, colon);
        }
        if (id.empty() || id.find('/') != std::string_view::npos) throw no_method();
        if (!is_batch) {
            if (verb == "download" && method == "GET") return download(request, std::string(id), now, self);
            if (!verb.empty()) throw no_method();
            check_file_id(id);
            const StoredFile* file = files.find(id);
            if (!file || (method != "GET" && method != "DELETE")) throw method == "GET" || method == "DELETE" ? file_not_found(id) : no_method();
            if (method == "GET") return wrap(ok_response(file_json(*file, api_base)));
            files.remove(id);
            return wrap(ok_response(Json::object()));
        }
        const std::string name = "batches/" + std::string(id);
        if (verb.empty() && method == "GET") return wrap(get_batch(name, now));
        if (verb.empty() && method == "DELETE") {
            if (!jobs.erase(name)) throw not_found();
            return wrap(ok_response(Json::object()));
        }
        if (verb == "cancel" && method == "POST") return wrap(cancel_batch(request, name, now));
        throw no_method();
    }

    // ---- batches ----------------------------------------------------------------------------

    HttpResponse create_batch(const HttpRequest& request, const std::string& model, SysTime now) {
        const Json body = parse_body(request.body);
        check_message(body, batch_request_spec, "");
        const Json* batch = find_field(body, "batch");
        if (!batch) throw invalid_argument("* BatchGenerateContentRequest.batch: batch is required.", "batch");
        const Json* input = find_field(*batch, "inputConfig");
        if (!input)
            throw invalid_argument("* BatchGenerateContentRequest.batch.input_config: input_config is required.",
                                   "batch.input_config");
        const Json* file_name = find_field(*input, "fileName");
        const Json* wrapper = find_field(*input, "requests");
        if (file_name && wrapper)
            throw invalid_argument("* BatchGenerateContentRequest.batch.input_config: only one of file_name and "
                                   "requests may be set.", "batch.input_config");
        std::vector<InputLine> lines;
        if (file_name) {
            const std::string text = file_name->get<std::string>();
            if (text.rfind("files/", 0) != 0 || text.size() == 6)
                throw invalid_argument(fmt::format("* BatchGenerateContentRequest.batch.input_config.file_name: "
                                                   "'{}' is not a file name (files/...).", text),
                                       "batch.input_config.file_name");
            if (!files.find(std::string_view(text).substr(6)))
                throw invalid_argument(fmt::format("* BatchGenerateContentRequest.batch.input_config.file_name: "
                                                   "the file {} does not exist.", text),
                                       "batch.input_config.file_name");
            lines = read_input_file(files, std::string_view(text).substr(6));
        } else {
            const Json* list = wrapper ? find_field(*wrapper, "requests") : nullptr;
            if (!list || list->empty())
                throw invalid_argument(
                    "* BatchGenerateContentRequest.batch.input_config.requests.requests: requests must not be empty.",
                    "batch.input_config.requests.requests");
            for (std::size_t i = 0; i < list->size(); ++i) {
                const std::string path = fmt::format("batch.input_config.requests.requests[{}].request", i);
                const Json* item_request = find_field((*list)[i], "request");
                if (!item_request)
                    throw invalid_argument(fmt::format("* BatchGenerateContentRequest.{}: request is required.", path), path);
                check_generate_content_request(*item_request, path);
                const Json* metadata = find_field((*list)[i], "metadata");
                lines.push_back(InputLine{{}, *item_request});
                lines.back().metadata = metadata ? *metadata : Json(nullptr);
            }
        }

        GeminiJob job;
        job.sequence = jobs.take_number();
        job.name = jobs.unique_name(job.sequence, [](std::uint64_t n, unsigned salt) {
            return batch_name_for(fmt::format("gemini-emulator/{}/{}", n, salt));
        });
        job.model = model;
        if (const Json* display = find_field(*batch, "displayName")) job.display_name = display->get<std::string>();
        if (const Json* priority = find_field(*batch, "priority")) job.priority = to_int64(*priority, "batch.priority");
        if (file_name) job.input_file = file_name->get<std::string>();
        job.file_output = file_name || options.inline_file_output;
        const auto nanos = [](auto d) { return std::chrono::duration_cast<Nanos>(d); };
        job.life.create_time = now;
        job.life.total = lines.size();
        job.life.timing = JobTiming{nanos(options.pending_for), nanos(options.running_for),
                                    nanos(options.finalizing_for), nanos(options.cancelling_for),
                                    nanos(options.expire_after)};
        JobFaults taken = faults.take_job_faults();
        job.out_of_order = taken.out_of_order;
        job.echo_metadata = taken.echo_metadata;
        job.life.fail_at_finish = std::move(taken.fail_at_finish);
        const std::string model_id = model.substr(7);
        for (std::size_t i = 0; i < lines.size(); ++i) {
            GeminiItem item;
            if (file_name) item.key = lines[i].key;
            item.metadata = std::move(lines[i].metadata);
            if (const JobError* error = taken.request_error(i, faults)) item.error = *error;
            else item.response = generate_content_response(lines[i].request, answer_text(lines[i].request), model_id,
                                                           response_id_for(fmt::format("{}#{}", job.name, i)));
            item.omitted = faults.omitted(i);
            job.items.push_back(std::move(item));
        }
        const GeminiJob& created = jobs.add(std::move(job));
        return ok_response(operation_json(created, snapshot(created, now), true, options.partial_results));
    }

    HttpResponse get_batch(const std::string& name, SysTime now) const {
        const GeminiJob* job = jobs.find(name);
        if (!job) throw not_found();
        return ok_response(operation_json(*job, snapshot(*job, now), true, options.partial_results));
    }

    HttpResponse list_batches(const HttpRequest& request, SysTime now) const {
        const std::string query = url_query(request.url);
        int page_size = options.default_page_size;
        if (auto text = query_param(query, "pageSize"); text && !text->empty()) {
            if (!is_integer_text(*text) || text->size() > 9 || (*text)[0] == '-')
                throw invalid_argument(fmt::format("Invalid value at 'page_size' (TYPE_INT32), \"{}\"", *text), "page_size");
            page_size = std::stoi(*text);
        }
        if (page_size <= 0) page_size = options.default_page_size;
        page_size = std::clamp(page_size, 1, max_page_size);
        std::uint64_t before = std::numeric_limits<std::uint64_t>::max();  // jobs created before this number
        if (auto token = query_param(query, "pageToken"); token && !token->empty()) {
            const std::string digits = token->substr(1);
            if ((*token)[0] != 'p' || !is_integer_text(digits) || digits[0] == '-' || digits.size() > 19)
                throw invalid_argument("Invalid page token.", "page_token");
            before = std::stoull(digits);
        }
        Json operations = Json::array();
        std::optional<std::uint64_t> last;
        bool more = false;
        const auto& all = jobs.jobs();
        for (auto it = all.rbegin(); it != all.rend(); ++it) {
            if (it->sequence >= before) continue;
            if (operations.size() == static_cast<std::size_t>(page_size)) {
                more = true;
                break;
            }
            operations.push_back(operation_json(*it, snapshot(*it, now), false, false));
            last = it->sequence;
        }
        Json body = Json::object();
        if (!operations.empty()) body["operations"] = std::move(operations);
        if (more) body["nextPageToken"] = fmt::format("p{}", *last);
        return ok_response(body);
    }

    HttpResponse cancel_batch(const HttpRequest& request, const std::string& name, SysTime now) {
        if (!request.body.empty()) check_message(parse_body(request.body), MessageSpec{"CancelOperationRequest", {}}, "");
        GeminiJob* job = jobs.find(name);
        if (!job) throw not_found();
        const auto snap = snapshot(*job, now);
        if (is_final(snap.phase))
            throw ApiError(400, "FAILED_PRECONDITION",
                           fmt::format("The batch {} has already finished ({}) and cannot be cancelled.", name,
                                       wire_name(snap.phase)));
        job->life.cancel(now, cancelled_status());
        return ok_response(Json::object());
    }

    HttpResponse generate_content(const HttpRequest& request, const std::string& model) {
        const Json body = parse_body(request.body);
        check_message(body, generate_content_request_spec, "");
        check_generate_content_request(body, "");
        const std::string text = answer_text(body);
        const std::string id_seed = fmt::format("{}#{}#{}", model, requests.size(), user_text(body));
        return ok_response(generate_content_response(body, text, model.substr(7), response_id_for(id_seed)));
    }

    // ---- downloads --------------------------------------------------------------------------

    EmulatedResponse download(const HttpRequest& request, const std::string& id, SysTime now,
                              const std::shared_ptr<GeminiService>& self) {
        if (query_param(url_query(request.url), "alt").value_or("") != "media")
            throw invalid_argument("A download needs alt=media.", "alt");
        EmulatedResponse r;
        r.head.status = 200;
        if (id.rfind("batch-", 0) == 0) {
            const GeminiJob* job = jobs.find("batches/" + id.substr(6));
            if (!job || !job->file_output) throw file_not_found(id);
            const auto snap = snapshot(*job, now);
            if (!has_results(snap, options.partial_results)) throw file_not_found(id);
            r.head.headers.set("Content-Type", "application/jsonl");
            r.producer = [self, name = job->name, order = result_order(*job, snap)](const BodyWriter& write) {
                std::string buffer;
                for (std::size_t next = 0; next < order.size();) {
                    {
                        std::lock_guard lock(self->mutex);
                        const GeminiJob* held = self->jobs.find(name);
                        if (!held) return;
                        for (; next < order.size() && buffer.size() < default_chunk_size; ++next)
                            buffer.append(result_entry(*held, held->items[order[next]], true).dump()).push_back('\n');
                    }
                    write(buffer);
                    buffer.clear();
                }
            };
            return r;
        }
        check_file_id(id);
        const StoredFile* file = files.find(id);
        if (!file) throw file_not_found(id);
        r.head.headers.set("Content-Type", file->mime_type);
        r.producer = [self, id, size = file->size](const BodyWriter& write) {
            for (std::uint64_t at = 0; at < size;) {
                std::string piece;
                {
                    std::lock_guard lock(self->mutex);
                    if (!self->files.find(id)) return;
                    piece = self->files.read_at(id, at, default_chunk_size);
                }
                if (piece.empty()) return;
                at += piece.size();
                write(piece);
            }
        };
        return r;
    }

    [[nodiscard]] std::string answer_text(const Json& generate_content_request) const {
        return responder ? responder(generate_content_request) : default_answer(generate_content_request);
    }
};

}  // namespace llmbatch::testing::detail
