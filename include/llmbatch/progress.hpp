#pragma once
/// @file progress.hpp
/// Progress of long transfers: `TransferProgress`, what a provider's `on_transfer` observer is
/// told while an input file or a large job is uploaded and while results are downloaded, and
/// `TransferMeter`, which measures one transfer and tells the observer.
///
/// Only transfers of at least `TransferMeter::min_reported_bytes` are reported, so the many small
/// calls of a batch workflow stay silent. The observer is called on the thread doing the
/// transfer, after each piece (a download chunk, an upload chunk) and once at the end; it should
/// return quickly (a progress line is rewritten at most a few times a second by the caller).
///
/// **Example**:
/// ```cpp
/// llmbatch::GeminiConfig config;
/// config.on_transfer = [](const llmbatch::TransferProgress& p) {
///     std::cerr << p.what << ": " << p.bytes << " of " << p.total.value_or(0) << " bytes\n";
/// };
/// ```

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace llmbatch {

/// One report on a transfer (see the file comment).
struct TransferProgress {
    enum class Direction { upload, download };

    std::string provider{};                ///< e.g. `openai`
    Direction direction = Direction::download;
    std::string what{};                    ///< the operation, e.g. `download results of batch_abc`
    std::uint64_t bytes = 0;               ///< bytes moved so far
    std::optional<std::uint64_t> total{};  ///< all the bytes, when known (e.g. from Content-Length)
    std::chrono::milliseconds elapsed{0};  ///< since the transfer started
    bool finished = false;                 ///< the last report of this transfer (it succeeded)
};

/// What a provider calls with `TransferProgress` reports (empty: nobody listens).
using TransferObserver = std::function<void(const TransferProgress&)>;

/// Measures one transfer on `clock` and reports it to an observer (see the file comment).
template <class ClockT>
class TransferMeter {
public:
    /// Transfers smaller than this are not reported.
    static constexpr std::uint64_t min_reported_bytes = 1024 * 1024;

    TransferMeter(const TransferObserver& observer, ClockT& clock, std::string_view provider,
                  TransferProgress::Direction direction, std::string what, std::optional<std::uint64_t> total = {})
        : observer_(observer), clock_(clock), start_(clock.now()) {
        progress_.provider = std::string(provider);
        progress_.direction = direction;
        progress_.what = std::move(what);
        progress_.total = total;
    }

    /// The total, once known (a download learns it from the response head).
    void set_total(std::optional<std::uint64_t> total) { progress_.total = total; }

    /// `n` more bytes moved.
    void add(std::uint64_t n) {
        progress_.bytes += n;
        report();
    }

    /// The transfer ended well: the last report.
    void finish() {
        progress_.finished = true;
        report();
    }

private:
    [[nodiscard]] bool reported() const noexcept {
        return observer_ && (progress_.total.value_or(progress_.bytes) >= min_reported_bytes);
    }

    void report() {
        if (!reported()) return;
        progress_.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now() - start_);
        observer_(progress_);
    }

    const TransferObserver& observer_;
    ClockT& clock_;
    decltype(std::declval<ClockT&>().now()) start_;
    TransferProgress progress_{};
};

}  // namespace llmbatch
