// The Gemini emulator served over real HTTP on a loopback address, so a client with a real
// transport (libcurl, cpp-httplib, or another language's SDK) can be pointed at it with a base URL.
//
//   gemini_emulator_server [--host 127.0.0.1] [--port 0] [--port-file PATH]
//                          [--advance-per-poll SECONDS] [--pending-seconds S] [--running-seconds S]
//                          [--file-dir DIR] [--inline-file-output] [--partial-results]
//
// Port 0 picks a free port; the chosen port is printed ("listening on http://127.0.0.1:PORT") and,
// with --port-file, written to that file once the socket listens.
// Time is virtual: it starts at 2026-01-01T00:00:00Z and moves only when told, either by
// --advance-per-poll (each `GET batches/{id}` moves it on after answering, so a client polling
// every N virtual seconds sees what it would see in memory) or through the control endpoints of
// llmbatch/testing/emulator_server.hpp (`POST /_emulator/advance {"seconds": 60}`,
// `POST /_emulator/inject-http-errors`, `POST /_emulator/truncate-bodies`, `POST /_emulator/shutdown`).
// --file-dir keeps uploaded files in DIR instead of memory; --inline-file-output makes inline jobs
// answer with a responses file; --partial-results shows the completed requests of cancelled and
// expired jobs. Results files are streamed as they are rendered.
#include <llmbatch/testing/emulator_server.hpp>
#include <llmbatch/testing/gemini_emulator.hpp>
#include <llmbatch/testing/manual_clock.hpp>

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

[[noreturn]] void usage(const std::string& why, int code = 2) {
    fmt::print(code ? stderr : stdout,
               "{}usage: gemini_emulator_server [--host H] [--port P] [--port-file PATH] [--advance-per-poll S]\n"
               "                              [--pending-seconds S] [--running-seconds S]\n"
               "                              [--file-dir DIR] [--inline-file-output] [--partial-results]\n",
               why.empty() ? "" : "gemini_emulator_server: " + why + "\n");
    std::exit(code);
}

Options parse_args(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") usage("", 0);
        if (arg == "--inline-file-output" || arg == "--partial-results") {
            (arg == "--inline-file-output" ? o.inline_file_output : o.partial_results) = true;
            continue;
        }
        if (i + 1 >= argc) usage(fmt::format("unknown option or missing value: '{}'", arg));
        const std::string value = argv[++i];
        auto number = [&] {
            char* end = nullptr;
            const double d = std::strtod(value.c_str(), &end);
            if (end == value.c_str() || *end != '\0' || !(d >= 0)) usage(fmt::format("{} takes a number >= 0", arg));
            return d;
        };
        if (arg == "--host") o.host = value;
        else if (arg == "--port") o.port = static_cast<int>(number());
        else if (arg == "--port-file") o.port_file = value;
        else if (arg == "--advance-per-poll") o.advance_per_poll = number();
        else if (arg == "--pending-seconds") o.pending_seconds = number();
        else if (arg == "--running-seconds") o.running_seconds = number();
        else if (arg == "--file-dir") o.file_dir = value;
        else usage(fmt::format("unknown option '{}'", arg));
    }
    return o;
}

std::chrono::steady_clock::duration seconds(double s) {
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

int main(int argc, char** argv) try {
    const Options options = parse_args(argc, argv);
    llmbatch::testing::ManualClock clock;
    llmbatch::testing::GeminiEmulatorOptions emulator_options;
    emulator_options.pending_for = seconds(options.pending_seconds);
    emulator_options.running_for = seconds(options.running_seconds);
    emulator_options.file_directory = options.file_dir;
    emulator_options.inline_file_output = options.inline_file_output;
    emulator_options.partial_results = options.partial_results;
    llmbatch::testing::GeminiEmulator emulator(clock, emulator_options);

    // A single-job GET (`.../batches/{id}`, no `:verb`) moves virtual time on after it is answered.
    auto after = [&](const std::string& method, const std::string& path, int status) {
        const auto pos = path.find("/batches/");
        if (options.advance_per_poll > 0 && method == "GET" && status == 200 && pos != std::string::npos &&
            path.find(':', pos) == std::string::npos)
            clock.advance(seconds(options.advance_per_poll));
    };
    llmbatch::testing::EmulatorServer server(emulator, [&](double s) { clock.advance(seconds(s)); }, after);
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
} catch (const std::exception& e) {
    fmt::print(stderr, "gemini_emulator_server: {}\n", e.what());
    return 1;
}
