// The OpenAI and Mistral emulators served on a loopback port by EmulatorServer and driven with
// the cpp-httplib transport: a multipart upload, a batch run on the server's clock, a streamed
// results file, and the error-injection control endpoint in each provider's error shape.
#include "llmbatch/testing/emulator_server.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "llmbatch/testing/manual_clock.hpp"
#include "llmbatch/testing/mistral_emulator.hpp"
#include "llmbatch/testing/openai_emulator.hpp"
#include "llmbatch/transport/httplib.hpp"

namespace tests_transport_chat_emulators_loopback {

using llmbatch::HttpRequest;
using llmbatch::HttpResponse;
using llmbatch::Json;
using llmbatch::testing::EmulatorServer;
using llmbatch::testing::ManualClock;

namespace {

/// A server over emulator `E` whose `/_emulator/advance` moves the emulator's clock.
template <class E>
struct Served {
    ManualClock clock;
    E emulator{clock};
    EmulatorServer<E> server{emulator, [this](double s) {
                                 clock.advance(std::chrono::duration_cast<ManualClock::duration>(std::chrono::duration<double>(s)));
                             }};
    llmbatch::HttplibTransport transport;

    Served() { server.start(); }

    HttpResponse send(std::string method, const std::string& path, std::string body = {},
                      std::string content_type = "application/json") {
        HttpRequest r{std::move(method), server.base_url() + path, {{"Authorization", "Bearer loopback-key"}}, std::move(body)};
        if (!r.body.empty()) r.headers.set("Content-Type", content_type);
        return transport.send(r);
    }
    Json json(std::string method, const std::string& path, std::string body = {}, int status = 200) {
        const HttpResponse r = send(std::move(method), path, std::move(body));
        CHECK(r.status == status);
        return Json::parse(r.body);
    }
    Json upload(const std::string& bytes) {
        std::string type;
        const std::string form = llmbatch::testing::build_multipart({{"purpose", "batch"}}, "file", "in.jsonl", bytes, type);
        const HttpResponse r = send("POST", "/v1/files", form, type);
        CHECK(r.status == 200);
        return Json::parse(r.body);
    }
    void advance(int seconds) {
        CHECK(transport.send({"POST", server.base_url() + "/_emulator/advance", {{"Content-Type", "application/json"}},
                              Json{{"seconds", seconds}}.dump()}).status == 200);
    }
    HttpResponse control_error(const Json& body) {
        return transport.send({"POST", server.base_url() + "/_emulator/inject-http-errors",
                               {{"Content-Type", "application/json"}}, body.dump()});
    }
};

std::string chat_line(const std::string& id, const std::string& prompt, bool openai) {
    Json body = {{"messages", Json::array({{{"role", "user"}, {"content", prompt}}})}};
    if (!openai) return Json{{"custom_id", id}, {"body", body}}.dump() + "\n";
    body["model"] = "gpt-4o-mini";
    return Json{{"custom_id", id}, {"method", "POST"}, {"url", "/v1/chat/completions"}, {"body", body}}.dump() + "\n";
}

}  // namespace

TEST_SUITE("transport") {
    TEST_CASE("loopback: the OpenAI emulator runs a batch over HTTP and injects quota errors") {
        Served<llmbatch::testing::OpenAIEmulator> s;
        const Json file = s.upload(chat_line("a", "Physics", true) + chat_line("b", "French", true));
        CHECK(file["purpose"] == "batch");
        const Json batch = s.json("POST", "/v1/batches",
                                  Json{{"input_file_id", file["id"]}, {"endpoint", "/v1/chat/completions"},
                                       {"completion_window", "24h"}}.dump());
        CHECK(batch["status"] == "validating");
        s.advance(3600);
        const Json done = s.json("GET", "/v1/batches/" + batch["id"].get<std::string>());
        CHECK(done["status"] == "completed");
        std::string streamed;
        HttpRequest content{"GET", s.server.base_url() + "/v1/files/" + done["output_file_id"].get<std::string>() + "/content",
                            {{"Authorization", "Bearer k"}, {"Accept", "application/binary"}}, {}};
        const HttpResponse head = s.transport.send(content, [&](const HttpResponse&, std::string_view chunk) { streamed.append(chunk); });
        CHECK(head.status == 200);
        CHECK(std::count(streamed.begin(), streamed.end(), '\n') == 2);
        CHECK(Json::parse(streamed.substr(0, streamed.find('\n')))["custom_id"] == "a");

        CHECK(s.control_error({{"count", 1}, {"status", 429}, {"api_status", "insufficient_quota"}, {"retry_after", "1"}}).status == 200);
        const HttpResponse quota = s.send("GET", "/v1/batches");
        CHECK(quota.status == 429);
        CHECK(Json::parse(quota.body)["error"]["code"] == "insufficient_quota");
        CHECK(s.control_error({{"count", 1}, {"status", 503}}).status == 200);
        const HttpResponse down = s.send("GET", "/v1/batches");
        CHECK(down.status == 503);
        CHECK(Json::parse(down.body)["error"]["type"] == "server_error");
        CHECK(s.json("GET", "/v1/batches")["data"].size() == 1);
    }

    TEST_CASE("loopback: the Mistral emulator runs a job over HTTP and injects rate limits") {
        Served<llmbatch::testing::MistralEmulator> s;
        const Json file = s.upload(chat_line("0", "Physics", false) + chat_line("1", "French", false));
        CHECK(file["num_lines"] == 2);
        const Json job = s.json("POST", "/v1/batch/jobs",
                                Json{{"input_files", {file["id"]}}, {"endpoint", "/v1/chat/completions"},
                                     {"model", "mistral-small-latest"}, {"timeout_hours", 24}}.dump());
        CHECK(job["status"] == "QUEUED");
        s.advance(3600);
        const Json done = s.json("GET", "/v1/batch/jobs/" + job["id"].get<std::string>());
        CHECK(done["status"] == "SUCCESS");
        const HttpResponse content = s.send("GET", "/v1/files/" + done["output_file"].get<std::string>() + "/content");
        CHECK(content.status == 200);
        CHECK(std::count(content.body.begin(), content.body.end(), '\n') == 2);

        CHECK(s.control_error({{"count", 1}, {"status", 429}}).status == 200);
        const HttpResponse limited = s.send("GET", "/v1/batch/jobs");
        CHECK(limited.status == 429);
        CHECK(Json::parse(limited.body)["type"] == "rate_limited");
        CHECK(s.json("GET", "/v1/batch/jobs")["total"] == 1);
    }
}

}  // namespace tests_transport_chat_emulators_loopback
