#pragma once
/// @file progress_line.hpp
/// `ProgressLine`: how the `llmbatch` tool shows a long upload or download on stderr. On a
/// terminal one line is rewritten as bytes arrive (done, total, rate, time left); elsewhere a line
/// when the transfer starts and one when it ends, so logs stay short.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>

#include <fmt/format.h>

#include "llmbatch/progress.hpp"

namespace llmbatch::cli::detail {

/// "12.3 MB" (decimal units, as transfer rates are given).
[[nodiscard]] inline std::string megabytes(double bytes) { return fmt::format("{:.1f} MB", bytes / 1e6); }

/// Shows `TransferProgress` reports on `out` (see the file comment).
class ProgressLine {
public:
    /// How often a terminal line is rewritten at most.
    static constexpr std::chrono::milliseconds refresh{250};

    ProgressLine(std::ostream& out, bool terminal) : out_(out), terminal_(terminal) {}

    void operator()(const TransferProgress& p) {
        const bool first = p.what != what_ || started_finished_;
        if (first) {
            what_ = p.what;
            started_finished_ = false;
            shown_at_ = std::chrono::milliseconds(-refresh.count());
            width_ = 0;
        }
        if (p.finished) started_finished_ = true;
        if (!terminal_) {
            if (first)
                out_ << fmt::format("{}: {}: started{}\n", p.provider, p.what,
                                    p.total ? fmt::format(" ({})", megabytes(static_cast<double>(*p.total))) : "");
            if (p.finished) out_ << fmt::format("{}: {}: {}\n", p.provider, p.what, done_text(p));
            return;
        }
        if (!p.finished && p.elapsed - shown_at_ < refresh) return;
        shown_at_ = p.elapsed;
        const std::string line = fmt::format("{}: {}: {}", p.provider, p.what, p.finished ? done_text(p) : now_text(p));
        out_ << '\r' << line << std::string(width_ > line.size() ? width_ - line.size() : 0, ' ');
        width_ = line.size();
        if (p.finished) out_ << '\n';
        out_.flush();
    }

    /// "12.3 of 50.0 MB, 8.1 MB/s, 5 s left" (what is known of it).
    [[nodiscard]] static std::string now_text(const TransferProgress& p) {
        const double seconds = static_cast<double>(p.elapsed.count()) / 1000.0;
        const double rate = seconds > 0 ? static_cast<double>(p.bytes) / seconds : 0;
        std::string s = p.total ? fmt::format("{:.1f} of {}", static_cast<double>(p.bytes) / 1e6,
                                              megabytes(static_cast<double>(*p.total)))
                                : megabytes(static_cast<double>(p.bytes));
        if (rate > 0) {
            s += fmt::format(", {}/s", megabytes(rate));
            if (p.total && *p.total >= p.bytes)
                s += fmt::format(", {:.0f} s left", static_cast<double>(*p.total - p.bytes) / rate);
        }
        return s;
    }

    /// "50.0 MB in 6.2 s (8.1 MB/s)".
    [[nodiscard]] static std::string done_text(const TransferProgress& p) {
        const double seconds = static_cast<double>(p.elapsed.count()) / 1000.0;
        std::string s = fmt::format("{} in {:.1f} s", megabytes(static_cast<double>(p.bytes)), seconds);
        if (seconds > 0) s += fmt::format(" ({}/s)", megabytes(static_cast<double>(p.bytes) / seconds));
        return s;
    }

private:
    std::ostream& out_;
    bool terminal_;
    std::string what_{};
    bool started_finished_ = false;
    std::chrono::milliseconds shown_at_{0};
    std::size_t width_ = 0;
};

}  // namespace llmbatch::cli::detail
