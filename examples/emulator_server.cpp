// A batch API emulator (Gemini, OpenAI, Mistral or Anthropic) served over real HTTP on a loopback address,
// so a client with a real transport (libcurl, cpp-httplib, or another language's SDK) can be
// pointed at it with a base URL. It serves Gemini unless told otherwise.
//
//   emulator_server [--provider gemini|openai|mistral|anthropic] [--host 127.0.0.1] [--port 0] [--port-file PATH]
//                   [--advance-per-poll SECONDS] [--pending-seconds S] [--running-seconds S]
//                   [--file-dir DIR] [--inline-file-output] [--partial-results]
//
// Port 0 picks a free port; the chosen port is printed ("listening on http://127.0.0.1:PORT") and,
// with --port-file, written to that file once the socket listens.
// Time is virtual: it starts at 2026-01-01T00:00:00Z and moves only when told, either by
// --advance-per-poll (each GET of one job — Gemini `batches/{id}`, OpenAI `/v1/batches/{id}`,
// Mistral `/v1/batch/jobs/{id}`, Anthropic `/v1/messages/batches/{id}` — moves it on after answering, so a client polling every N
// virtual seconds sees what it would see in memory) or through the control endpoints of
// llmbatch/testing/emulator_server.hpp (`POST /_emulator/advance {"seconds": 60}`,
// `POST /_emulator/inject-http-errors`, `POST /_emulator/truncate-bodies`, `POST /_emulator/shutdown`).
// --pending-seconds is the PENDING / validating / QUEUED phase; --file-dir keeps files in DIR
// instead of memory; --inline-file-output (Gemini) makes inline jobs answer with a responses file;
// --partial-results shows the completed requests of cancelled and expired Gemini jobs (OpenAI and
// Mistral always keep them). Results files are streamed as they are rendered.
#include <llmbatch/testing/anthropic_emulator.hpp>
#include <llmbatch/testing/emulator_server.hpp>
#include <llmbatch/testing/gemini_emulator.hpp>
#include <llmbatch/testing/manual_clock.hpp>
#include <llmbatch/testing/mistral_emulator.hpp>
#include <llmbatch/testing/openai_emulator.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace {

struct Options {
    std::string program = "emulator_server";
    std::string provider = "gemini";
    std::string host = "127.0.0.1";
    int port = 0;
    std::string port_file;
    double advance_per_poll = 0;
    double pending_seconds = 20;
    double running_seconds = 40;
    std::string file_dir;
    bool inline_file_output = false;
    bool partial_results = false;
};

[[noreturn]] void usage(const Options& o, const std::string& why, int code = 2) {
    fmt::print(code ? stderr : stdout,
               "{}usage: {} [--provider gemini|openai|mistral|anthropic] [--host H] [--port P] [--port-file PATH]\n"
               "       [--advance-per-poll S] [--pending-seconds S] [--running-seconds S]\n"
               "       [--file-dir DIR] [--inline-file-output] [--partial-results]\n",
               why.empty() ? "" : o.program + ": " + why + "\n", o.program);
    std::exit(code);
}

Options parse_args(int argc, char** argv) {
    Options o;
    if (argc > 0) {
        const std::string_view self = argv[0];
        const auto slash = self.find_last_of('/');
        o.program = std::string(slash == std::string_view::npos ? self : self.substr(slash + 1));
    }
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") usage(o, "", 0);
        if (arg == "--inline-file-output" || arg == "--partial-results") {
            (arg == "--inline-file-output" ? o.inline_file_output : o.partial_results) = true;
            continue;
        }
        if (i + 1 >= argc) usage(o, fmt::format("unknown option or missing value: '{}'", arg));
        const std::string value = argv[++i];
        auto number = [&] {
            char* end = nullptr;
            const double d = std::strtod(value.c_str(), &end);
            if (end == value.c_str() || *end != '\0' || !(d >= 0)) usage(o, fmt::format("{} takes a number >= 0", arg));
            return d;
        };
        if (arg == "--provider") {
            if (value != "gemini" && value != "openai" && value != "mistral" && value != "anthropic")
                usage(o, fmt::format("--provider takes gemini, openai, mistral or anthropic, not '{}'", value));
            o.provider = value;
        } else if (arg == "--host") o.host = value;
        else if (arg == "--port") o.port = static_cast<int>(number());
        else if (arg == "--port-file") o.port_file = value;
        else if (arg == "--advance-per-poll") o.advance_per_poll = number();
        else if (arg == "--pending-seconds") o.pending_seconds = number();
        else if (arg == "--running-seconds") o.running_seconds = number();
        else if (arg == "--file-dir") o.file_dir = value;
        else usage(o, fmt::format("unknown option '{}'", arg));
    }
    return o;
}

std::chrono::steady_clock::duration seconds(double s) {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

/// Whether `path` reads one job: `.../batches/{id}` (Gemini, OpenAI, Anthropic) or
/// `/v1/batch/jobs/{id}` (Mistral), without a verb or a sub-resource after it.
bool is_job_get(const std::string& path) {
    for (const std::string_view marker : {"/batches/", "/batch/jobs/"}) {
        const auto pos = path.find(marker);
        if (pos == std::string::npos) continue;
        const auto id = path.substr(pos + marker.size());
        return !id.empty() && id.find(':') == std::string::npos && id.find('/') == std::string::npos;
    }
    return false;
}

template <class Emulator>
int serve(const Options& options, llmbatch::testing::ManualClock& clock, Emulator emulator) {
    // A single-job GET moves virtual time on after it is answered.
    auto after = [&](const std::string& method, const std::string& path, int status) {
        if (options.advance_per_poll > 0 && method == "GET" && status == 200 && is_job_get(path))
            clock.advance(seconds(options.advance_per_poll));
    };
    llmbatch::testing::EmulatorServer server(std::move(emulator), [&](double s) { clock.advance(seconds(s)); }, after);
    server.bind(options.host, options.port);
    // The socket already listens (the kernel queues connections), so the port can be announced now.
    fmt::print("listening on {}\n", server.base_url());
    std::fflush(stdout);
    if (!options.port_file.empty()) {
        const std::string tmp = options.port_file + ".tmp";
        std::ofstream(tmp) << server.port() << '\n';
        std::rename(tmp.c_str(), options.port_file.c_str());
    }
    return server.serve() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    try {
        options = parse_args(argc, argv);
        llmbatch::testing::ManualClock clock;
        if (options.provider == "openai") {
            llmbatch::testing::OpenAIEmulatorOptions o;
            o.pending_for = seconds(options.pending_seconds);
            o.running_for = seconds(options.running_seconds);
            o.file_directory = options.file_dir;
            return serve(options, clock, llmbatch::testing::OpenAIEmulator(clock, o));
        }
        if (options.provider == "anthropic") {
            llmbatch::testing::AnthropicEmulatorOptions o;
            o.pending_for = seconds(options.pending_seconds);
            o.running_for = seconds(options.running_seconds);
            return serve(options, clock, llmbatch::testing::AnthropicEmulator(clock, o));
        }
        if (options.provider == "mistral") {
            llmbatch::testing::MistralEmulatorOptions o;
            o.pending_for = seconds(options.pending_seconds);
            o.running_for = seconds(options.running_seconds);
            o.file_directory = options.file_dir;
            return serve(options, clock, llmbatch::testing::MistralEmulator(clock, o));
        }
        llmbatch::testing::GeminiEmulatorOptions o;
        o.pending_for = seconds(options.pending_seconds);
        o.running_for = seconds(options.running_seconds);
        o.file_directory = options.file_dir;
        o.inline_file_output = options.inline_file_output;
        o.partial_results = options.partial_results;
        return serve(options, clock, llmbatch::testing::GeminiEmulator(clock, o));
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: {}\n", options.program, e.what());
        return 1;
    }
}
