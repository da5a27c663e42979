// testing/persistent_emulator.hpp: an emulator's state kept in a file, one section per emulator.
#include "llmbatch/testing/persistent_emulator.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "llmbatch/testing/gemini_emulator.hpp"
#include "llmbatch/testing/manual_clock.hpp"
#include "llmbatch/testing/openai_emulator.hpp"

namespace tests_testing_persistent_emulator {

namespace {

namespace fs = std::filesystem;
using llmbatch::HttpRequest;
using llmbatch::Json;
using llmbatch::testing::EmulatorStateFile;
using llmbatch::testing::GeminiEmulator;
using llmbatch::testing::ManualClock;
using llmbatch::testing::OpenAIEmulator;
using llmbatch::testing::PersistentEmulatorTransport;

struct StateDir {
    fs::path path;
    StateDir() {
        std::string pattern = (fs::temp_directory_path() / "llmbatch-persist-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~StateDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    StateDir(const StateDir&) = delete;
    StateDir& operator=(const StateDir&) = delete;
};

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::shared_ptr<EmulatorStateFile> state_file(const fs::path& path, std::string section) {
    auto file = std::make_shared<EmulatorStateFile>();
    file->path = path;
    file->section = std::move(section);
    return file;
}

/// Creates a one-request Gemini batch through `transport` and returns the job's name.
template <class Transport>
std::string create_gemini_job(Transport& transport) {
    const Json body{{"batch",
                     {{"displayName", "t"},
                      {"inputConfig",
                       {{"requests",
                         {{"requests", Json::array({Json{{"request", {{"contents", Json::array({Json{
                                                                          {"parts", Json::array({Json{{"text", "hi"}}})}}})}}},
                                                        {"metadata", {{"key", "0"}}}}})}}}}}}}};
    const HttpRequest create{"POST",
                             "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:batchGenerateContent",
                             {{"x-goog-api-key", "k"}, {"Content-Type", "application/json"}},
                             body.dump()};
    const llmbatch::HttpResponse response = transport.send(create);
    REQUIRE(response.status == 200);
    const std::string name = Json::parse(response.body)["name"];
    return name;
}

}  // namespace

TEST_SUITE("testing") {

TEST_CASE("persistent emulator: a job created through one transport is seen by a fresh emulator on the same file") {
    StateDir dir;
    const auto path = dir.path / "emulators.json";
    ManualClock clock;
    PersistentEmulatorTransport<GeminiEmulator> first(GeminiEmulator(clock), state_file(path, "gemini"));
    CHECK_FALSE(first.open());
    const auto job = create_gemini_job(first);
    REQUIRE(fs::exists(path));
    CHECK(Json::parse(slurp(path)).contains("gemini"));

    GeminiEmulator later(clock);
    PersistentEmulatorTransport<GeminiEmulator> second(later, state_file(path, "gemini"));
    CHECK(second.open());
    CHECK(later.job_count() == 1);
    const HttpRequest get{"GET", "https://generativelanguage.googleapis.com/v1beta/" + job, {{"x-goog-api-key", "k"}}, {}};
    CHECK(second.send(get).status == 200);
}

TEST_CASE("persistent emulator: emulators of different providers share one file, each in its own section") {
    StateDir dir;
    const auto path = dir.path / "emulators.json";
    ManualClock clock;
    PersistentEmulatorTransport<GeminiEmulator> gemini(GeminiEmulator(clock), state_file(path, "gemini"));
    PersistentEmulatorTransport<OpenAIEmulator> openai(OpenAIEmulator(clock), state_file(path, "openai"));
    (void)gemini.open();
    (void)openai.open();
    const HttpRequest upload{"GET", "https://api.openai.com/v1/batches", {{"Authorization", "Bearer k"}}, {}};
    CHECK(openai.send(upload).status == 200);
    const auto job = create_gemini_job(gemini);
    const auto doc = Json::parse(slurp(path));
    CHECK(doc.contains("openai"));
    REQUIRE(doc.contains("gemini"));
    CHECK(doc["gemini"].dump().find(job) != std::string::npos);
    CHECK(doc["openai"].dump().find(job) == std::string::npos);

    // Another call of the OpenAI emulator keeps the Gemini section as it is.
    CHECK(openai.send(upload).status == 200);
    CHECK(Json::parse(slurp(path))["gemini"] == doc["gemini"]);
}

TEST_CASE("persistent emulator: an unusable file is a TransportError and is left unchanged") {
    StateDir dir;
    const auto path = dir.path / "emulators.json";
    std::ofstream(path, std::ios::binary) << "{not json";
    ManualClock clock;
    PersistentEmulatorTransport<GeminiEmulator> transport(GeminiEmulator(clock), state_file(path, "gemini"));
    CHECK_THROWS_AS((void)transport.open(), llmbatch::InvalidArgument);
    const HttpRequest list{"GET", "https://generativelanguage.googleapis.com/v1beta/batches", {{"x-goog-api-key", "k"}}, {}};
    try {
        (void)transport.send(list);
        FAIL("expected TransportError");
    } catch (const llmbatch::TransportError& e) {
        CHECK(std::string(e.what()).find("cannot be used") != std::string::npos);
    }
    CHECK(slurp(path) == "{not json");
}

TEST_CASE("persistent emulator: without a path it is the emulator itself") {
    ManualClock clock;
    GeminiEmulator emulator(clock);
    PersistentEmulatorTransport<GeminiEmulator> transport(emulator, std::make_shared<EmulatorStateFile>());
    CHECK_FALSE(transport.open());
    (void)create_gemini_job(transport);
    CHECK(emulator.job_count() == 1);
}

}  // TEST_SUITE

}  // namespace tests_testing_persistent_emulator
