#pragma once
/// @file testing/persistent_emulator.hpp
/// `PersistentEmulatorTransport<Emulator>`: an `HttpTransport` answering with any of the emulators
/// (Gemini, OpenAI, Mistral, Anthropic, or one of yours) whose state lives in a file, so a job
/// created by one process is seen by a later one. Several emulators can share one file, each in
/// its own section (`{"gemini": {...}, "openai": {...}}`).
///
/// Example:
/// @code
/// auto file = std::make_shared<llmbatch::testing::EmulatorStateFile>();
/// file->path = "emulators.json";
/// file->section = "gemini";
/// llmbatch::testing::GeminiEmulator emulator(clock);
/// llmbatch::testing::PersistentEmulatorTransport<llmbatch::testing::GeminiEmulator> transport(emulator, file);
/// transport.open();  // takes in the jobs an earlier process saved
/// @endcode

#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "llmbatch/detail/file_io.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/http.hpp"

namespace llmbatch::testing {

/// Where one emulator's state is kept, shared by the copies of its transport.
struct EmulatorStateFile {
    std::filesystem::path path{};        ///< empty: the state lives in memory only
    std::string section{};               ///< the emulator's key in the file's object (empty: the whole file)
    std::optional<std::string> known{};  ///< the section's text last read from or written to `path`
};

/// An `HttpTransport` that answers with an emulator whose state lives in a file: every call is a
/// transaction under the file's lock (`FileLock`) that first takes in changes another process
/// wrote, then answers, then saves the new state atomically (other sections are kept as they are).
/// Copies share the emulator and the file. Without a path it is the emulator itself.
/// Requirements: `Emulator` has `send(request)`, `to_json()` and `restore(json)`, and its copies
/// share their state.
/// Errors: a state file that cannot be read, understood or written is a `TransportError`
/// (nothing is answered then), so a caller keeps its jobs as they were.
template <class Emulator>
class PersistentEmulatorTransport {
public:
    PersistentEmulatorTransport(Emulator emulator, std::shared_ptr<EmulatorStateFile> file)
        : emulator_(std::move(emulator)), file_(std::move(file)) {}

    HttpResponse send(const HttpRequest& request) {
        if (!file_ || file_->path.empty()) return emulator_.send(request);
        try {
            ::llmbatch::detail::FileLock lock(file_->path);
            sync(emulator_, *file_);
            HttpResponse response = emulator_.send(request);
            save(emulator_, *file_);
            return response;
        } catch (const FileError& e) {
            throw TransportError(fmt::format("The emulator state could not be used: {}", e.what()), false);
        } catch (const InvalidArgument& e) {
            throw TransportError(e.what(), false);
        }
    }

    /// Takes in the file's state now (under its lock).
    /// @returns whether the file held a state for this emulator.
    /// @throws InvalidArgument naming the file when it is not an emulator state; FileError.
    bool open() {
        file_->known.reset();
        if (file_->path.empty()) return false;
        ::llmbatch::detail::FileLock lock(file_->path);
        sync(emulator_, *file_);
        return file_->known.has_value();
    }

    /// Takes in the file's state when it differs from what this process last read or wrote.
    /// Requirement: the caller holds the file's lock.
    /// @throws InvalidArgument naming the file when it is not an emulator state.
    static void sync(Emulator& emulator, EmulatorStateFile& file) {
        const auto text = ::llmbatch::detail::read_file_if_exists(file.path);
        if (!text) return;
        try {
            const Json doc = Json::parse(*text);
            if (!file.section.empty() && !doc.is_object()) throw InvalidArgument("not a JSON object");
            const auto section = file.section.empty() ? doc.dump() : section_text(doc, file.section);
            if (section.empty() || section == file.known) return;
            emulator.restore(file.section.empty() ? doc : doc.at(file.section));
            file.known = section;
        } catch (const std::exception& e) {
            throw InvalidArgument(fmt::format("Emulator state file '{}' cannot be used ({}); it was left unchanged. "
                                              "Move it away to start with no jobs.",
                                              file.path.string(), e.what()));
        }
    }

    /// Writes the emulator's state when it changed, keeping the file's other sections.
    /// Requirement: the caller holds the file's lock.
    static void save(const Emulator& emulator, EmulatorStateFile& file) {
        const Json state = emulator.to_json();
        std::string section = state.dump();
        if (section == file.known) return;
        Json doc = state;
        if (!file.section.empty()) {
            const auto text = ::llmbatch::detail::read_file_if_exists(file.path);
            doc = text ? Json::parse(*text) : Json::object();
            doc[file.section] = state;
        }
        ::llmbatch::detail::atomic_write_file(file.path, doc.dump(2) + "\n");
        file.known = std::move(section);
    }

    /// The emulator (copies share its state).
    [[nodiscard]] Emulator& emulator() noexcept { return emulator_; }

private:
    [[nodiscard]] static std::string section_text(const Json& doc, const std::string& key) {
        const auto it = doc.find(key);
        return it == doc.end() ? std::string() : it->dump();
    }

    Emulator emulator_;
    std::shared_ptr<EmulatorStateFile> file_;
};

}  // namespace llmbatch::testing
