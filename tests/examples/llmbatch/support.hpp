// The world of the llmbatch tool's tests (examples/llmbatch/): temporary files, a manual clock,
// the emulators and the backend, and helpers to run the tool in process and read what it wrote.
#pragma once

#include "cli.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/testing/gemini_emulator.hpp"
#include "llmbatch/testing/manual_clock.hpp"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using llmbatch::Json;
using llmbatch::JobTracker;
using llmbatch::TrackedJob;
using llmbatch::TrackedStatus;
using llmbatch::testing::GeminiEmulator;
using llmbatch::testing::ManualClock;
using Backend = llmbatch::cli::EmulatorBackend<ManualClock>;

/// The emulator's default lifecycle is 20 s pending + 40 s running: this is past it.
constexpr auto job_finishes = 61s;

struct TempDir {
    fs::path path;
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "llmbatch-cli-XXXXXX").string();
        const char* made = ::mkdtemp(pattern.data());
        REQUIRE(made != nullptr);
        path = made;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

struct Outcome {
    int code = -1;
    std::string out;
    std::string err;
};

inline std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline std::vector<Json> jsonl(const fs::path& p) {
    std::vector<Json> out;
    std::istringstream in(slurp(p));
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(Json::parse(line));
    return out;
}

/// `{source, count}` pairs as a JSON Lines prompts file text, prompts numbered per source.
inline std::string prompts_text(const std::vector<std::pair<std::string, int>>& sources) {
    std::string text;
    for (const auto& [source, count] : sources)
        for (int i = 0; i < count; ++i)
            text += Json{{"source", source}, {"prompt", fmt::format("Categorize {} part {}", source, i)}}.dump() + "\n";
    return text;
}

/// One test's world: a temp dir for the files, a manual clock, the emulator and the backend.
struct World {
    TempDir dir;
    ManualClock clock;
    GeminiEmulator emulator{clock};
    Backend backend{emulator};

    [[nodiscard]] fs::path tracking_file() const { return dir.path / "jobs.json"; }
    [[nodiscard]] fs::path state_file() const { return dir.path / "state.json"; }
    [[nodiscard]] fs::path output_dir() const { return dir.path / "results"; }

    /// Runs the tool with this world's files appended to `args`.
    Outcome run(std::vector<std::string> args, bool terminal = false) {
        return run_on(backend, std::move(args), terminal);
    }

    /// `--store` for every run instead of this world's tracking and state files (empty: those).
    std::string store{};

    template <class B>
    Outcome run_on(B& b, std::vector<std::string> args, bool terminal = false) {
        if (store.empty())
            args.insert(args.end(), {"--tracking-file", tracking_file().string(), "--state-file", state_file().string()});
        else
            args.insert(args.end(), {"--store", store});
        args.insert(args.end(), {"--output-dir", output_dir().string()});
        std::ostringstream out, err;
        llmbatch::cli::RunOptions options;
        options.out_is_terminal = terminal;
        Outcome o;
        o.code = llmbatch::cli::run(args, b, out, err, options);
        o.out = out.str();
        o.err = err.str();
        return o;
    }

    fs::path write(const std::string& name, const std::string& text) {
        const auto p = dir.path / name;
        std::ofstream(p, std::ios::binary) << text;
        return p;
    }

    [[nodiscard]] JobTracker tracker() const { return JobTracker(tracking_file(), state_file()); }

    [[nodiscard]] TrackedJob job_for(const std::string& source, std::int64_t batch) const {
        TrackedJob found;
        int n = 0;
        for (const auto& j : tracker().jobs())
            if (j.source == source && j.batch_index == batch) {
                found = j;
                ++n;
            }
        REQUIRE(n == 1);
        return found;
    }

    [[nodiscard]] fs::path results_of(const std::string& source) const { return output_dir() / (source + ".jsonl"); }

    /// The user texts of every batch create request the emulator received, one list per job.
    [[nodiscard]] std::vector<std::vector<std::string>> created_requests() const {
        std::vector<std::vector<std::string>> out;
        for (const auto& r : emulator.requests()) {
            if (r.method != "POST" || r.url.find(":batchGenerateContent") == std::string::npos) continue;
            const auto body = Json::parse(r.body);
            std::vector<std::string> texts;
            for (const auto& item : body["batch"]["inputConfig"]["requests"]["requests"]) {
                std::string text;
                for (const auto& part : item["request"]["contents"][0]["parts"]) text += part["text"].get<std::string>();
                texts.push_back(text);
            }
            out.push_back(texts);
        }
        return out;
    }

    /// The emulator's state word for a job, asked the way any client would.
    [[nodiscard]] std::string emulator_state(const std::string& job_name) {
        llmbatch::HttpRequest get{"GET", "https://generativelanguage.googleapis.com/v1beta/" + job_name,
                                  {{"x-goog-api-key", "k"}}, {}};
        const auto body = Json::parse(emulator.send(get).body);
        return body["metadata"]["state"].get<std::string>();
    }
};

/// The summary block commands print: a rule, "Summary:", the lines indented, a rule.
inline std::string summary_block(std::initializer_list<std::string> lines) {
    std::string s = "\n" + std::string(60, '=') + "\nSummary:\n";
    for (const auto& l : lines) s += "  " + l + "\n";
    return s + std::string(60, '=') + "\n";
}

inline bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace
