#include "llmbatch/testing/emulator/gemini_files.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "llmbatch/testing/gemini_emulator.hpp"

namespace tests_testing_emulator_gemini_files {

namespace {

using namespace std::chrono_literals;
using llmbatch::HttpRequest;
using llmbatch::HttpResponse;
using llmbatch::Json;
using llmbatch::testing::GeminiEmulator;
using llmbatch::testing::GeminiEmulatorOptions;
using llmbatch::testing::ManualClock;

const std::string host = "https://generativelanguage.googleapis.com";

HttpRequest request(std::string method, const std::string& url, std::string body = {}) {
    HttpRequest r{std::move(method), url.rfind("http", 0) == 0 ? url : host + url, {}, std::move(body)};
    r.headers.set("x-goog-api-key", "test-key");
    return r;
}

/// One JSONL input line asking `prompt` under `key`.
std::string input_line(const std::string& key, const std::string& prompt) {
    return Json{{"key", key}, {"request", {{"contents", Json::array({{{"parts", Json::array({{{"text", prompt}}})}}})}}}}
               .dump() +
           "\n";
}

std::string input_file(const std::vector<std::string>& prompts) {
    std::string text;
    for (std::size_t i = 0; i < prompts.size(); ++i) text += input_line("k" + std::to_string(i), prompts[i]);
    return text;
}

/// Creates a file-input job over `file` and returns the Operation.
Json create_file_job(GeminiEmulator& gemini, const std::string& file, int expected = 200) {
    const Json body = {{"batch", {{"displayName", "file-job"}, {"inputConfig", {{"fileName", file}}}}}};
    const HttpResponse r = gemini.send(request("POST", "/v1beta/models/gemini-2.5-flash:batchGenerateContent", body.dump()));
    CHECK(r.status == expected);
    return Json::parse(r.body);
}

std::vector<Json> lines_of(const std::string& body) {
    std::vector<Json> out;
    std::size_t at = 0;
    while (at < body.size()) {
        const auto nl = body.find('\n', at);
        out.push_back(Json::parse(body.substr(at, nl - at)));
        at = nl == std::string::npos ? body.size() : nl + 1;
    }
    return out;
}

std::string download_url(const std::string& file) { return "/download/v1beta/" + file + ":download?alt=media"; }

}  // namespace

TEST_SUITE("testing") {

TEST_CASE("Gemini Files API: resumable upload in chunks as the SDKs do it, then get, list, delete") {
    ManualClock clock;
    GeminiEmulator gemini(clock);
    const std::string content = input_file({"Geography of Wales", "French verbs", "Physics of light"});

    HttpRequest start = request("POST", "http://127.0.0.1:8080/upload/v1beta/files",
                                R"({"file":{"displayName":"my-input","mimeType":"application/jsonl"}})");
    start.headers.set("Content-Type", "application/json");
    start.headers.set("X-Goog-Upload-Protocol", "resumable");
    start.headers.set("X-Goog-Upload-Command", "start");
    start.headers.set("X-Goog-Upload-Header-Content-Length", std::to_string(content.size()));
    start.headers.set("X-Goog-Upload-Header-Content-Type", "application/jsonl");
    const HttpResponse started = gemini.send(start);
    REQUIRE(started.status == 200);
    CHECK(started.headers.get("x-goog-upload-status") == std::optional<std::string>("active"));
    const std::string url = started.headers.get("X-Goog-Upload-URL").value_or("");
    CHECK(url.rfind("http://127.0.0.1:8080/upload/v1beta/files?upload_id=", 0) == 0);

    const auto chunk = [&](std::size_t offset, std::size_t size, const std::string& command) {
        HttpRequest r{"POST", url, {}, content.substr(offset, size)};  // no key: the upload URL is the credential
        r.headers.set("X-Goog-Upload-Command", command);
        r.headers.set("X-Goog-Upload-Offset", std::to_string(offset));
        return gemini.send(r);
    };
    HttpResponse r = chunk(0, 40, "upload");
    CHECK(r.status == 200);
    CHECK(r.headers.get("x-goog-upload-status") == std::optional<std::string>("active"));
    r = chunk(30, 10, "upload");  // wrong offset
    CHECK(r.status == 400);
    CHECK(Json::parse(r.body)["error"]["status"] == "INVALID_ARGUMENT");
    r = chunk(40, 10, "upload, finalize");  // short of the declared size
    CHECK(r.status == 400);
    r = chunk(40, content.size() - 40, "upload, finalize");
    REQUIRE(r.status == 200);
    CHECK(r.headers.get("x-goog-upload-status") == std::optional<std::string>("final"));
    const Json file = Json::parse(r.body).at("file");
    CHECK(std::regex_match(file["name"].get<std::string>(), std::regex("files/[a-z0-9]{12}")));
    CHECK(file["displayName"] == "my-input");
    CHECK(file["mimeType"] == "application/jsonl");
    CHECK(file["sizeBytes"] == std::to_string(content.size()));
    CHECK(file["state"] == "ACTIVE");
    CHECK(file["source"] == "UPLOADED");
    CHECK(file["createTime"] == "2026-01-01T00:00:00.000000000Z");
    CHECK(file["expirationTime"] == "2026-01-03T00:00:00.000000000Z");
    CHECK(file["uri"] == "http://127.0.0.1:8080/v1beta/" + file["name"].get<std::string>());
    CHECK(chunk(content.size(), 0, "upload, finalize").status == 404);  // the session is gone
    CHECK(gemini.requests().back().body.empty());  // the log keeps no uploaded bytes

    const std::string name = file["name"];
    CHECK(Json::parse(gemini.send(request("GET", "http://127.0.0.1:8080/v1beta/" + name)).body) == file);
    CHECK(gemini.send(request("GET", download_url(name))).body == content);
    const Json listed = Json::parse(gemini.send(request("GET", "/v1beta/files")).body);
    CHECK(listed["files"].size() == 1);
    CHECK(gemini.send(request("DELETE", "/v1beta/" + name)).status == 200);
    const HttpResponse gone = gemini.send(request("GET", "/v1beta/" + name));
    CHECK(gone.status == 403);
    CHECK(Json::parse(gone.body)["error"]["status"] == "PERMISSION_DENIED");
    CHECK(gemini.file_count() == 0);

    HttpRequest no_protocol = start;
    no_protocol.headers.set("X-Goog-Upload-Protocol", "multipart");
    CHECK(gemini.send(no_protocol).status == 400);
    HttpRequest no_size = start;
    no_size.headers.set("X-Goog-Upload-Header-Content-Length", "many");
    CHECK(gemini.send(no_size).status == 400);
}

TEST_CASE("Gemini Files API: list pages newest first, and files expire after 48 hours") {
    ManualClock clock;
    GeminiEmulator gemini(clock);
    const std::string a = gemini.add_file("a", "text/plain", "a");
    const std::string b = gemini.add_file("b", "text/plain", "b");
    const std::string c = gemini.add_file("c", "text/plain", "c");
    Json page = Json::parse(gemini.send(request("GET", "/v1beta/files?pageSize=2")).body);
    REQUIRE(page["files"].size() == 2);
    CHECK(page["files"][0]["name"] == c);
    CHECK(page["files"][1]["name"] == b);
    page = Json::parse(gemini.send(request("GET", "/v1beta/files?pageSize=2&pageToken=" + page["nextPageToken"].get<std::string>())).body);
    CHECK(page["files"][0]["name"] == a);
    CHECK_FALSE(page.contains("nextPageToken"));
    clock.advance(48h);
    CHECK(Json::parse(gemini.send(request("GET", "/v1beta/files")).body) == Json::object());
}

TEST_CASE("Gemini file-input batch: lines checked at create time, results file downloadable") {
    ManualClock clock;
    GeminiEmulator gemini(clock);
    gemini.inject_request_error(1, 3, "Request contains an invalid argument.", "INVALID_ARGUMENT");
    const std::string file = gemini.add_file("in", "application/jsonl", input_file({"history", "french", "physics"}));
    const Json created = create_file_job(gemini, file);
    const std::string job = created["name"];
    CHECK(created["metadata"]["inputConfig"] == Json{{"fileName", file}});
    CHECK(created["metadata"]["batchStats"]["requestCount"] == "3");

    const std::string results = "files/batch-" + job.substr(8);
    CHECK(gemini.send(request("GET", download_url(results))).status == 403);  // not ready yet
    clock.advance(1min);
    const Json done = Json::parse(gemini.send(request("GET", "/v1beta/" + job)).body);
    CHECK(done["metadata"]["state"] == "BATCH_STATE_SUCCEEDED");
    CHECK(done["metadata"]["output"] == Json{{"responsesFile", results}});
    CHECK(done["response"]["responsesFile"] == results);
    CHECK(done["metadata"]["batchStats"]["failedRequestCount"] == "1");

    const HttpResponse downloaded = gemini.send(request("GET", download_url(results)));
    CHECK(downloaded.status == 200);
    const auto lines = lines_of(downloaded.body);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0]["key"] == "k0");
    CHECK(lines[0]["response"]["usageMetadata"]["totalTokenCount"].is_number());
    CHECK(lines[0]["response"]["candidates"][0]["content"]["parts"][0]["text"].get<std::string>().find("Humanities") !=
          std::string::npos);
    CHECK(lines[1]["key"] == "k1");
    CHECK(lines[1]["error"]["code"] == 3);
    CHECK_FALSE(lines[1].contains("response"));
    // The path the SDKs use serves the same bytes; the file's metadata is out of reach, as in the API.
    CHECK(gemini.send(request("GET", "/v1beta/" + results + ":download?alt=media")).body == downloaded.body);
    CHECK(gemini.send(request("GET", "/v1beta/" + results)).status == 400);
    CHECK(gemini.send(request("GET", "/download/v1beta/" + results + ":download")).status == 400);  // no alt=media
}

TEST_CASE("Gemini file-input batch: bad lines and missing files are refused at create time") {
    ManualClock clock;
    GeminiEmulator gemini(clock);
    const std::string bad = gemini.add_file(
        "bad", "application/jsonl",
        input_line("a", "fine") + R"({"key":"b","request":{"contents":[{"parts":[{"text":"x"}]}],"thinking_config":{}}})" +
            "\nnot json\n");
    Json error = create_file_job(gemini, bad, 400)["error"];
    CHECK(error["status"] == "INVALID_ARGUMENT");
    const std::string message = error["message"];
    CHECK(message.rfind("Error on line 2: Invalid JSON payload received. Unknown name \"thinking_config\"", 0) == 0);
    CHECK(message.find("\nError on line 3: invalid JSON") != std::string::npos);
    CHECK(create_file_job(gemini, "files/nosuchfile", 400)["error"]["status"] == "INVALID_ARGUMENT");
    CHECK(create_file_job(gemini, gemini.add_file("empty", "application/jsonl", ""), 400)["error"]["status"] ==
          "INVALID_ARGUMENT");
    CHECK(gemini.job_count() == 0);
}

TEST_CASE("Gemini results download streams in chunks of the configured size, and can be cut short") {
    ManualClock clock;
    GeminiEmulator gemini(clock);
    gemini.set_out_of_order(true);
    const Json created = create_file_job(gemini, gemini.add_file("in", "application/jsonl",
                                                                 input_file({"a", "b", "c", "d", "e"})));
    clock.advance(1min);
    const std::string url = download_url("files/batch-" + created["name"].get<std::string>().substr(8));
    const std::string whole = gemini.send(request("GET", url)).body;
    const auto lines = lines_of(whole);
    REQUIRE(lines.size() == 5);
    CHECK(lines[0]["key"] == "k4");  // out of order

    gemini.set_chunk_size(7);
    std::vector<std::string> chunks;
    const HttpResponse head = gemini.send(request("GET", url), [&](const HttpResponse& h, std::string_view chunk) {
        CHECK(h.status == 200);
        chunks.emplace_back(chunk);
    });
    CHECK(head.status == 200);
    CHECK(head.body.empty());
    std::string joined;
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        CHECK(chunks[i].size() == (i + 1 < chunks.size() ? 7u : (whole.size() - 1) % 7 + 1));
        joined += chunks[i];
    }
    CHECK(joined == whole);

    gemini.truncate_bodies(1, 50);
    CHECK(gemini.send(request("GET", url)).body == whole.substr(0, 50));
    CHECK(gemini.send(request("GET", url)).body == whole);  // only the next one
    gemini.truncate_bodies(2, 3);
    chunks.clear();
    (void)gemini.send(request("GET", url), [&](const HttpResponse&, std::string_view c) { chunks.emplace_back(c); });
    CHECK(chunks == std::vector<std::string>{whole.substr(0, 3)});
    CHECK(gemini.send(request("GET", "/v1beta/batches")).body == "{\"o");  // any response
}

TEST_CASE("Gemini inline jobs can answer with a responses file; partial results on cancel and expiry") {
    ManualClock clock;
    GeminiEmulatorOptions options;
    options.inline_file_output = true;
    options.partial_results = true;
    GeminiEmulator gemini(clock, options);
    Json requests = Json::array();
    for (int i = 0; i < 4; ++i)
        requests.push_back({{"request", {{"contents", Json::array({{{"parts", Json::array({{{"text", "q"}}})}}})}}},
                            {"metadata", {{"key", std::to_string(i)}}}});
    const std::string body = Json{{"batch", {{"inputConfig", {{"requests", {{"requests", requests}}}}}}}}.dump();
    const auto create = [&] {
        return Json::parse(gemini.send(request("POST", "/v1beta/models/m:batchGenerateContent", body)).body)["name"]
            .get<std::string>();
    };
    const std::string cancelled = create();
    const std::string expired = create();
    clock.advance(40s);  // two of four done
    CHECK(gemini.send(request("POST", "/v1beta/" + cancelled + ":cancel")).status == 200);
    gemini.expire_job(expired);
    const std::string finished = create();
    clock.advance(2min);

    for (const auto& job : {cancelled, expired}) {
        const Json op = Json::parse(gemini.send(request("GET", "/v1beta/" + job)).body);
        CHECK(op["done"] == true);
        const std::string file = op["response"]["responsesFile"];
        const auto lines = lines_of(gemini.send(request("GET", download_url(file))).body);
        REQUIRE(lines.size() == 2);
        CHECK(lines[0]["key"] == "0");
        CHECK(lines[0]["metadata"] == Json{{"key", "0"}});
        CHECK(lines[1]["key"] == "1");
    }
    const Json op = Json::parse(gemini.send(request("GET", "/v1beta/" + finished)).body);
    CHECK(lines_of(gemini.send(request("GET", download_url(op["response"]["responsesFile"]))).body).size() == 4);
}

TEST_CASE("Gemini emulator: finalizing and cancelling phases show as RUNNING, cancel_job ends a job") {
    ManualClock clock;
    GeminiEmulatorOptions options;
    options.finalizing_for = 30s;
    options.cancelling_for = 10s;
    GeminiEmulator gemini(clock, options);
    const std::string body = R"({"batch":{"inputConfig":{"requests":{"requests":[{"request":{"contents":[{"parts":[{"text":"x"}]}]}}]}}}})";
    const auto create = [&] {
        return Json::parse(gemini.send(request("POST", "/v1beta/models/m:batchGenerateContent", body)).body)["name"]
            .get<std::string>();
    };
    const auto state = [&](const std::string& name) {
        return Json::parse(gemini.send(request("GET", "/v1beta/" + name)).body)["metadata"]["state"].get<std::string>();
    };
    const std::string slow = create();
    const std::string cancelled = create();
    clock.advance(30s);
    gemini.cancel_job(cancelled);
    clock.advance(5s);
    CHECK(state(cancelled) == "BATCH_STATE_RUNNING");
    clock.advance(5s);
    CHECK(state(cancelled) == "BATCH_STATE_CANCELLED");
    clock.advance(30s);  // 70 s: past the requests, finalizing
    CHECK(state(slow) == "BATCH_STATE_RUNNING");
    clock.advance(20s);
    CHECK(state(slow) == "BATCH_STATE_SUCCEEDED");
    CHECK_THROWS_AS(gemini.cancel_job(slow), std::logic_error);
}

TEST_CASE("Gemini emulator state keeps files and file jobs across processes") {
    ManualClock clock;
    GeminiEmulator first(clock);
    const Json created = create_file_job(first, first.add_file("in", "application/jsonl", input_file({"x", "y"})));
    first.truncate_bodies(1, 4);
    const Json saved = Json::parse(first.to_json().dump());

    ManualClock later(ManualClock::default_utc_start());
    GeminiEmulator second = GeminiEmulator::from_json(saved, later);
    CHECK(second.file_count() == 1);
    later.advance(1min);
    clock.advance(1min);
    const std::string url = download_url("files/batch-" + created["name"].get<std::string>().substr(8));
    CHECK(second.send(request("GET", url)).body.size() == 4);  // the pending truncation came along
    CHECK(second.send(request("GET", url)).body == (first.send(request("GET", url)), first.send(request("GET", url))).body);
}

TEST_CASE("Gemini emulator serves a pre-rendered error body to the next calls") {
    ManualClock clock;
    GeminiEmulator gemini(clock);
    gemini.inject_http_response(2, 500, "<html>upstream broke</html>", "3");
    for (int i = 0; i < 2; ++i) {
        const HttpResponse r = gemini.send(request("GET", "/v1beta/batches"));
        CHECK(r.status == 500);
        CHECK(r.body == "<html>upstream broke</html>");
        CHECK(r.headers.get("Retry-After") == std::optional<std::string>("3"));
    }
    CHECK(gemini.send(request("GET", "/v1beta/batches")).status == 200);
}

TEST_CASE("Gemini emulator keeps uploaded files in a directory when given one") {
    const auto dir = std::filesystem::temp_directory_path() /
                     fmt::format("llmbatch-gemini-files-{}", std::chrono::steady_clock::now().time_since_epoch().count());
    {
        ManualClock clock;
        GeminiEmulatorOptions options;
        options.file_directory = dir;
        GeminiEmulator gemini(clock, options);
        const std::string content = input_file({"history", "physics"});
        const std::string file = gemini.add_file("in", "application/jsonl", content);
        CHECK(std::filesystem::file_size(dir / file.substr(6)) == content.size());
        CHECK_FALSE(gemini.to_json()["files"]["files"][0].contains("bytes"));
        gemini.set_chunk_size(5);
        std::string streamed;
        (void)gemini.send(request("GET", download_url(file)), [&](const HttpResponse&, std::string_view c) {
            CHECK(c.size() <= 5);
            streamed += c;
        });
        CHECK(streamed == content);
        const Json created = create_file_job(gemini, file);
        clock.advance(1min);
        CHECK(lines_of(gemini.send(request("GET", download_url("files/batch-" + created["name"].get<std::string>().substr(8)))).body)
                  .size() == 2);
    }
    std::filesystem::remove_all(dir);
}

}

}  // namespace tests_testing_emulator_gemini_files
