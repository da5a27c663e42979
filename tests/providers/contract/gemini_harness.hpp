// The contract harness of GeminiProvider over the Gemini emulator: in memory (`GeminiLink`
// = the emulator itself) or, in tests/transport, through a real transport to the emulator served
// on a loopback port. See contract.hpp for what a harness offers.
#pragma once

#include <chrono>
#include <string>

#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/testing/gemini_emulator.hpp"
#include "llmbatch/testing/lossy_transport.hpp"
#include "llmbatch/testing/manual_clock.hpp"

namespace contract {

/// The in-memory link: the provider talks to the emulator object directly.
struct InMemoryLink {
    using Transport = llmbatch::testing::GeminiEmulator;
    explicit InMemoryLink(llmbatch::testing::GeminiEmulator& emulator) : emulator_(emulator) {}
    [[nodiscard]] Transport transport() const { return emulator_; }
    [[nodiscard]] std::string base_url() const { return std::string(llmbatch::GeminiConfig::default_base_url); }
    llmbatch::testing::GeminiEmulator emulator_;
};

template <class Link>
struct GeminiHarness {
    using Provider = llmbatch::GeminiProvider<llmbatch::testing::LossyTransport<typename Link::Transport>,
                                              llmbatch::testing::ManualClock>;

    llmbatch::testing::ManualClock emulator_clock;
    llmbatch::testing::GeminiEmulator emulator{emulator_clock, options()};
    Link link{emulator};
    llmbatch::testing::ManualClock provider_clock;
    std::size_t answer_size = 0;

    GeminiHarness() { set_responder(); }

    static llmbatch::testing::GeminiEmulatorOptions options() {
        llmbatch::testing::GeminiEmulatorOptions o;
        o.partial_results = true;
        o.chunk_size = 4096;  // streamed bodies come in many pieces
        return o;
    }

    Provider provider() {
        llmbatch::GeminiConfig config;
        config.api_key = "contract-key-0123456789";
        config.base_url = link.base_url();
        config.retry.jitter = 0;
        return Provider(config, llmbatch::testing::LossyTransport<typename Link::Transport>(link.transport()),
                        provider_clock);
    }

    /// Requests "item 0" .. "item n-1" (each followed by a second prompt of `padding` bytes); the
    /// responder answers each with {"echo": <its first prompt>}.
    [[nodiscard]] static llmbatch::BatchPayload payload(std::size_t n, std::size_t padding = 0) {
        llmbatch::BatchPayload out;
        for (std::size_t i = 0; i < n; ++i) {
            out.push_back({"item " + std::to_string(i)});
            if (padding) out.back().push_back(std::string(padding, 'p'));
        }
        return out;
    }

    void answer_bytes(std::size_t n) {
        answer_size = n;
        set_responder();
    }

    void advance(std::chrono::steady_clock::duration d) { emulator_clock.advance(d); }
    void finish() { advance(std::chrono::hours(1)); }
    [[nodiscard]] static std::chrono::steady_clock::duration halfway() {
        const auto o = options();
        return o.pending_for + o.running_for / 2;
    }
    void out_of_order() { emulator.set_out_of_order(true); }
    void request_error(std::size_t i) { emulator.inject_request_error(i, 3, "Request contains an invalid argument.", "INVALID_ARGUMENT"); }
    void fail_next_job() { emulator.fail_next_job(); }
    void http_errors(std::size_t n, int status) {
        emulator.inject_http_errors(n, status, status == 429 ? "RESOURCE_EXHAUSTED" : "UNAVAILABLE",
                                    status == 429 ? "Resource has been exhausted." : "The service is unavailable.");
    }
    void expire(const std::string& job) { emulator.expire_job(job); }
    void lose_next_reply(Provider& p) { p.transport().lose_reply_of_call(p.transport().calls() + 1); }
    [[nodiscard]] std::size_t jobs_held() const { return emulator.job_count(); }

private:
    void set_responder() {
        const std::size_t size = answer_size;
        emulator.set_responder([size](const llmbatch::Json& request) {
            std::string text;
            for (const auto& part : request["contents"][0]["parts"]) text += part.value("text", "");
            text = text.substr(0, text.find('\n'));
            llmbatch::Json answer = {{"echo", text}};
            if (size > text.size()) answer["filler"] = std::string(size - text.size(), 'f');
            return answer.dump();
        });
    }
};

}  // namespace contract
