#pragma once
/// @file providers/common/jsonl.hpp
/// `JsonlSplitter`: cuts a JSON Lines stream that arrives in arbitrary chunks into lines.
///
/// A line may be split across any number of chunks; `\n` and `\r\n` both end a line; blank lines
/// (spaces and tabs only) are skipped but counted, so line numbers match what an editor shows.
/// Only the unfinished tail of a chunk is copied: a line wholly inside a chunk is handed out as a
/// view into that chunk.
///
/// **Example**:
/// ```cpp
/// llmbatch::JsonlSplitter lines;
/// auto on_line = [](std::string_view line, std::size_t number) { ... };
/// transport.send(request, [&](const HttpResponse&, std::string_view chunk) { lines.feed(chunk, on_line); });
/// lines.finish(on_line);   // the last line, when the body does not end with a newline
/// ```

#include <cstddef>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "llmbatch/error.hpp"

namespace llmbatch {

/// Splits a chunked byte stream into JSON Lines.
class JsonlSplitter {
public:
    /// Lines longer than this are refused (a guard against a stream with no newlines at all).
    static constexpr std::size_t default_max_line_bytes = std::size_t{1} << 30;

    explicit JsonlSplitter(std::size_t max_line_bytes = default_max_line_bytes) : max_line_(max_line_bytes) {}

    /// Hands every line completed by `chunk` to `on_line(std::string_view line, std::size_t number)`.
    /// @throws InvalidArgument when a line grows past the maximum length.
    template <class OnLine>
    void feed(std::string_view chunk, OnLine&& on_line) {
        while (!chunk.empty()) {
            const auto nl = chunk.find('\n');
            if (nl == std::string_view::npos) {
                if (partial_.size() + chunk.size() > max_line_)
                    throw InvalidArgument(fmt::format("line {} of the JSON Lines stream is longer than {} bytes",
                                                      line_ + 1, max_line_));
                partial_.append(chunk);
                return;
            }
            if (partial_.empty()) {
                emit(chunk.substr(0, nl), on_line);
            } else {
                partial_.append(chunk.substr(0, nl));
                emit(partial_, on_line);
                partial_.clear();
            }
            chunk.remove_prefix(nl + 1);
        }
    }

    /// Hands out the last line when the stream did not end with a newline.
    template <class OnLine>
    void finish(OnLine&& on_line) {
        if (partial_.empty()) return;
        std::string last = std::move(partial_);
        partial_.clear();
        emit(last, on_line);
    }

    /// Lines seen so far, blank ones included.
    [[nodiscard]] std::size_t lines() const noexcept { return line_; }

private:
    template <class OnLine>
    void emit(std::string_view line, OnLine& on_line) {
        ++line_;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.find_first_not_of(" \t") == std::string_view::npos) return;
        on_line(line, line_);
    }

    std::string partial_;
    std::size_t line_ = 0;
    std::size_t max_line_;
};

/// Calls `on_line(line, number)` for every non-blank line of a whole JSON Lines text.
template <class OnLine>
void for_each_jsonl_line(std::string_view text, OnLine&& on_line) {
    JsonlSplitter lines(text.size() + 1);
    lines.feed(text, on_line);
    lines.finish(on_line);
}

}  // namespace llmbatch
