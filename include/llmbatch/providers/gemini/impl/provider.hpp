#pragma once
/// @file providers/gemini/impl/provider.hpp
/// The member definitions of `GeminiProvider` (providers/gemini.hpp). Header-only, gemini.hpp
/// includes them. With `LLMBATCH_SEPARATE_COMPILATION` it does not: the project's one library
/// source file includes this header and instantiates the provider once for each transport and
/// clock it uses, e.g. `template class llmbatch::GeminiProvider<MyTransport>;`.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/providers/gemini.hpp"

namespace llmbatch {

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::create_batch_job(
    const BatchPayload& payload, const CreateOptions& options) -> SubmittedJob {
    return create_batch_job(to_requests(payload), options);
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::create_batch_job(
    std::initializer_list<PromptSequence> payload, const CreateOptions& options) -> SubmittedJob {
    return create_batch_job(BatchPayload(payload), options);
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::create_batch_job(
    const std::vector<BatchRequest>& requests, const CreateOptions& options) -> SubmittedJob {
    validate_requests(requests, name);
    check_client_token(options);
    const bool json_wanted = options.filter_json.value_or(config_.generation.filter_json);
    std::size_t inline_bytes = 0;
    if (!options.force_file_input) {
        Json body = inline_body(requests, json_wanted, display_name(options));
        std::string text = body.dump();
        inline_bytes = text.size();
        if (inline_bytes <= config_.max_inline_bytes) return submit(std::move(text), {});
        if (!config_.files_for_large_jobs)
            throw InvalidArgument(fmt::format(
                "gemini: the batch request body is {} bytes, over the inline limit of {} bytes; split the {} "
                "request(s) into smaller jobs, or allow an input file (GeminiConfig::files_for_large_jobs)",
                inline_bytes, config_.max_inline_bytes, requests.size()));
    }
    const FileInfo input = upload_requests(requests, json_wanted, display_name(options));
    Json body = {{"batch", {{"displayName", display_name(options)}, {"inputConfig", {{"fileName", input.name}}}}}};
    return submit(body.dump(), {input.name});
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::batch_request_body(
    const BatchPayload& payload, const CreateOptions& options) const -> Json {
    const auto requests = to_requests(payload);
    return inline_body(requests, options.filter_json.value_or(config_.generation.filter_json), display_name(options));
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::input_file_line(
    const BatchRequest& request, std::size_t index, bool json_wanted) const -> Json {
    return {{"key", request_key(request, index)}, {"request", generate_request(request, json_wanted)}};
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::get_batch_job(const std::string& job_name) -> BatchJob {
    return read_job("batches/" + job_id(job_name));
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::list_batch_jobs() -> std::vector<BatchJob> {
    std::vector<BatchJob> jobs;
    std::string token;
    for (int page = 0;; ++page) {
        std::string url = api_url("batches") + fmt::format("?pageSize={}", config_.list_page_size);
        if (!token.empty()) url += "&pageToken=" + detail::url_encode(token);
        const Json reply = session_.call("GET", url, {}, "list batch jobs");
        if (const auto* ops = detail::find(reply, "operations")) {
            if (!ops->is_array()) throw Session::bad_reply("list batch jobs", "'operations' is not an array");
            for (const auto& op : *ops) jobs.push_back(session_.redact_job(parse_operation(op)));
        }
        std::string next = detail::get_string(reply, "nextPageToken");
        if (next.empty()) break;
        if (next == token || page > 100000) throw Session::bad_reply("list batch jobs", "the page token does not advance");
        token = std::move(next);
    }
    return jobs;
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::cancel_batch_job(const std::string& job_name) -> void {
    const auto id = job_id(job_name);
    (void)session_.call("POST", api_url("batches/" + id + ":cancel"), {}, "cancel batch job batches/" + id);
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::delete_batch_job(const std::string& job_name) -> void {
    const auto id = job_id(job_name);
    (void)session_.call("DELETE", api_url("batches/" + id), {}, "delete batch job batches/" + id);
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::fetch_batch_results(
    const std::string& job_name, const FetchOptions& options) -> BatchResults {
    BatchJob job = get_batch_job(job_name);
    job.name = "batches/" + job_id(job_name);  // the results name the job as asked for
    OutcomeCollector collected;
    stream_from(job, collected.sink(), options);  // the job is ours: its results are moved, not copied
    return std::move(collected).take(std::string(name), job.name);
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::fetch_batch_results(
    const BatchJob& job, const FetchOptions& options) -> BatchResults {
    OutcomeCollector collected;
    stream_batch_results(job, collected.sink(), options);
    return std::move(collected).take(std::string(name), job.name);
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::stream_batch_results(
    const BatchJob& job, const OutcomeSink& sink, const FetchOptions& options) -> void {
    stream_from(job, sink, options);
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::upload_file(
    const std::filesystem::path& path, std::string_view mime_type, std::string_view display_name) -> FileInfo {
    return files().upload_file(path, mime_type, display_name);
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::download_file(
    const std::string& file, const std::function<void(std::string_view)>& sink) -> void {
    files().download(file, "download file " + file, sink);
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::generate(
    const PromptSequence& prompts, std::optional<bool> filter_json) -> Json {
    if (prompts.empty()) throw InvalidArgument("user_prompts must not be empty.");
    const bool json_wanted = filter_json.value_or(config_.generation.filter_json);
    Json reply = session_.call("POST", model_url(":generateContent"), generate_request(prompts, json_wanted).dump(),
                               "generate content");
    if (!json_wanted) return reply;
    const auto text = detail::gemini_response_text(reply);
    if (!text)
        throw ProviderError(fmt::format("{}: generate content returned no text ({})", name,
                                        detail::gemini_no_text_reason(reply)),
                            ProviderErrorInfo{std::string(name), 200, {}, {}, false});
    return llmbatch::filter_json(*text);  // qualified: the parameter shadows it
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::generate_request(
    const PromptSequence& prompts, bool json_wanted) const -> Json {
    return generate_request(BatchRequest::from_prompts(prompts), json_wanted);
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::generate_request(const BatchRequest& r, bool json_wanted) const -> Json {
    const auto& g = config_.generation;
    const auto& s = r.settings;
    Json generation = Json::object();
    if (auto t = s.temperature ? s.temperature : g.temperature) generation["temperature"] = *t;
    if (g.thinking_budget) generation["thinkingConfig"] = {{"thinkingBudget", *g.thinking_budget}};
    if (auto m = s.max_output_tokens ? s.max_output_tokens : g.max_output_tokens) generation["maxOutputTokens"] = *m;
    if ((json_wanted && g.json_mime_type_when_filtering) || !s.json_schema.is_null())
        generation["responseMimeType"] = "application/json";
    if (!s.json_schema.is_null()) generation["responseJsonSchema"] = s.json_schema;
    Json request = {{"contents", Json::array({{{"role", "user"}, {"parts", Json::array({{{"text", join_prompts(r.parts)}}})}}})},
                    {"generationConfig", std::move(generation)}};
    if (const auto& sp = s.system_prompt ? s.system_prompt : g.system_prompt)
        request["systemInstruction"] = {{"parts", Json::array({{{"text", sp->text()}}})}};
    if (r.provider_options.is_object()) request.merge_patch(r.provider_options);
    return request;
}

template <class Transport, Clock ClockT>
template <class Job>
auto GeminiProvider<Transport, ClockT>::stream_from(
    Job& job, const OutcomeSink& sink, const FetchOptions& options) -> void {
    const std::string full = "batches/" + job_id(job.name);
    check_fetchable(job, full);
    GeminiResultReader reader(full, options, config_.generation.filter_json, job.counts.total, job.state, sink,
                             session_.redactor());
    if (job.inline_results) {
        reader.read_inline_text(job.inline_results.json);
    } else if (auto* inlined = inline_results(job.raw)) {
        reader.read_inline(*inlined);
    } else if (job.results_location == ResultsLocation::file) {
        std::size_t bytes = 0;
        files().download(job.results_ref, "download results of " + full, [&](std::string_view chunk) {
            bytes += chunk.size();
            reader.feed(chunk);
        });
        if (bytes == 0) throw empty_results_error(name, full);
        reader.finish_stream();
    } else {
        job_ended_without_results(job, full);
    }
    reader.finish();
    if (config_.delete_input_files_after_fetch && !job.input_file.empty()) {
        try {
            files().remove(job.input_file);
        } catch (const NotFoundError&) {  // already gone: what was wanted
        }
    }
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::normalised(GeminiConfig c) -> GeminiConfig {
    c.api_key = resolve_api_key(std::move(c.api_key), "GEMINI_API_KEY");
    while (!c.base_url.empty() && c.base_url.back() == '/') c.base_url.pop_back();
    if (c.list_page_size < 1) throw InvalidArgument("GeminiConfig::list_page_size must be at least 1");
    return c;
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::files() -> GeminiFiles<Session> {
    return GeminiFiles<Session>(session_, config_.base_url, config_.api_version, config_.upload_chunk_bytes);
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::api_url(std::string_view rest) const -> std::string {
    return fmt::format("{}/{}/{}", config_.base_url, config_.api_version, rest);
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::model_url(std::string_view method) const -> std::string {
    const auto& m = config_.generation.model;
    std::string_view id = m;
    for (std::string_view prefix : {"models/", "tunedModels/"})
        if (id.substr(0, prefix.size()) == prefix) {
            id.remove_prefix(prefix.size());
            break;
        }
    if (!detail::is_path_safe_id(id, 128))
        throw InvalidArgument(fmt::format("'{}' is not a Gemini model name (expected models/<id> or <id>)",
                                          detail::excerpt(m, 80)));
    return api_url((id.size() == m.size() ? "models/" + m : m) + std::string(method));
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::display_name(const CreateOptions& options) const -> std::string {
    if (!options.display_name.empty()) return detail::gemini_tagged_display_name(options.display_name, options.client_token);
    return detail::gemini_tagged_display_name(
        fmt::format("llmbatch-{:%Y%m%dT%H%M%S}Z", std::chrono::floor<std::chrono::seconds>(session_.clock().utc_now())),
        options.client_token);
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::inline_body(
    const std::vector<BatchRequest>& requests, bool json_wanted, std::string display) const -> Json {
    validate_requests(requests, name);
    Json list = Json::array();
    for (std::size_t i = 0; i < requests.size(); ++i)
        list.push_back({{"request", generate_request(requests[i], json_wanted)},
                        {"metadata", {{"key", request_key(requests[i], i)}, {"filter_json", json_wanted ? "true" : "false"}}}});
    return {{"batch", {{"displayName", std::move(display)}, {"inputConfig", {{"requests", {{"requests", std::move(list)}}}}}}}};
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::upload_requests(
    const std::vector<BatchRequest>& requests, bool json_wanted, const std::string& display) -> FileInfo {
    std::uint64_t size = 0;
    for (std::size_t i = 0; i < requests.size(); ++i) size += input_file_line(requests[i], i, json_wanted).dump().size() + 1;
    std::size_t next = 0;
    std::string pending;
    std::size_t pending_pos = 0;
    return files().upload(size, "application/jsonl", display + "-input", [&](char* out, std::size_t n) {
        while (n > 0) {
            if (pending_pos == pending.size()) {
                pending = input_file_line(requests[next], next, json_wanted).dump() + '\n';
                pending_pos = 0;
                ++next;
            }
            const auto take = std::min(n, pending.size() - pending_pos);
            std::copy_n(pending.data() + pending_pos, take, out);
            pending_pos += take;
            out += take;
            n -= take;
        }
    });
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::submit(std::string body, std::vector<std::string> input_files) -> SubmittedJob {
    const Json op = session_.call("POST", model_url(":batchGenerateContent"), std::move(body), "create batch job",
                                  Idempotency::not_idempotent);
    auto job_name = detail::get_string(op, "name");
    if (job_name.empty()) throw Session::bad_reply("create batch job", "the reply has no job name");
    return SubmittedJob(std::move(job_name), std::move(input_files));
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::job_id(const std::string& job_name) -> std::string {
    std::string_view id = job_name;
    if (id.rfind("batches/", 0) == 0) id.remove_prefix(8);
    if (!detail::is_path_safe_id(id, 128))
        throw InvalidArgument(fmt::format("'{}' is not a Gemini batch job name (expected batches/<id>)",
                                          detail::excerpt(job_name, 80)));
    return std::string(id);
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::read_job(const std::string& full) -> BatchJob {
    const std::string what = "get batch job " + full;
    HttpResponse reply = session_.exchange(HttpRequest{"GET", api_url(full), {}, {}}, what);
    if (reply.body.empty()) return session_.redact_job(parse_operation(Json::object()));
    const auto body = std::make_shared<const std::string>(session_.redact(std::move(reply.body)));
    auto split = detail::split_gemini_operation(body);
    if (split.op.is_discarded())
        throw Session::bad_reply(what, fmt::format("the body is not JSON: {}", detail::excerpt(*body, 120)));
    BatchJob job = session_.redact_job(parse_operation(std::move(split.op)));
    if (job.results_location == ResultsLocation::inline_) job.inline_results = std::move(split.results);
    return job;
}

template <class Transport, Clock ClockT>
template <class J>
auto GeminiProvider<Transport, ClockT>::inline_results(J& op) -> J* {
    auto member = [](J* at, const char* key) -> J* {
        if (!at || !at->is_object()) return nullptr;
        auto it = at->find(key);
        return it == at->end() ? nullptr : &*it;
    };
    if (J* items = member(member(&op, "response"), "inlinedResponses")) return items;
    return member(member(member(&op, "metadata"), "output"), "inlinedResponses");
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::check_fetchable(const BatchJob& job, const std::string& full) const -> void {
    if (!job.done)
        throw JobNotReady(fmt::format("Batch job {} ({}) is not completed yet. Current state: {}", full, name,
                                      job.state),
                          full, std::string(to_string(job.state)));
    const bool partial = job.state == JobState::cancelled || job.state == JobState::expired;
    if (job.state == JobState::failed || (job.state == JobState::succeeded && job.error) ||
        (partial && job.results_location == ResultsLocation::none))
        job_ended_without_results(job, full);
}

template <class Transport, Clock ClockT>
auto GeminiProvider<Transport, ClockT>::job_ended_without_results(
    const BatchJob& job, const std::string& full) const -> void {
    if (job.state == JobState::succeeded && !job.error)
        throw ResultsMissing(fmt::format(
            "Batch job {} ({}) has no results. This may indicate the job failed or was cancelled.", full, name));
    const ErrorStatus err = job.error.value_or(ErrorStatus{});
    const auto state = job.state == JobState::succeeded ? JobState::failed : job.state;
    const std::string message = session_.redact(err.message);
    throw JobFailed(fmt::format("Batch job {} ({}) {}: {}", full, name,
                                state == JobState::cancelled ? "was cancelled"
                                : state == JobState::expired ? "expired"
                                                             : "failed",
                                message.empty() ? std::string("no error message given") : message),
                    ProviderErrorInfo{std::string(name), 0, err.status, message, false}, full,
                    std::string(to_string(state)));
}

}  // namespace llmbatch
