// The contract harness of a provider over its emulator, written once for every provider: `Traits`
// names the provider, its config, its emulator and what differs between them (how the responder
// reads a request's text, how a per-request error and an HTTP error are injected). `Link` says how
// the provider reaches the emulator: in memory (`InMemoryLink`: the emulator object is the
// transport) or, in tests/transport, through a real transport to the emulator served on a
// loopback port. See contract.hpp for what a harness offers.
#pragma once

#include <chrono>
#include <string>

#include "llmbatch/json_filter.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/lossy_transport.hpp"
#include "llmbatch/testing/manual_clock.hpp"

namespace contract {

/// The in-memory link: the provider talks to the emulator object directly (copies share its state).
template <class Emulator>
struct InMemoryLink {
    using Transport = Emulator;
    explicit InMemoryLink(Emulator& emulator) : emulator_(emulator) {}
    [[nodiscard]] Transport transport() const { return emulator_; }
    /// Empty: the provider keeps its default base URL.
    [[nodiscard]] static std::string base_url() { return {}; }
    Emulator emulator_;
};

template <class Traits, template <class> class LinkOf>
struct EmulatorHarness {
    using Emulator = typename Traits::Emulator;
    using Link = LinkOf<Emulator>;
    using Provider = typename Traits::template Provider<llmbatch::testing::LossyTransport<typename Link::Transport>,
                                                        llmbatch::testing::ManualClock>;

    /// False when the provider's API has no input files (see contract.hpp).
    static constexpr bool has_input_files = [] {
        if constexpr (requires { Traits::has_input_files; }) return Traits::has_input_files;
        else return true;
    }();

    llmbatch::testing::ManualClock emulator_clock;
    Emulator emulator{emulator_clock, options()};
    Link link{emulator};
    llmbatch::testing::ManualClock provider_clock;
    std::size_t answer_size = 0;

    EmulatorHarness() { set_responder(); }

    static typename Traits::Options options() {
        typename Traits::Options o;
        o.partial_results = true;
        o.chunk_size = 4096;  // streamed bodies come in many pieces
        return o;
    }

    Provider provider() {
        typename Traits::Config config;
        config.api_key = "contract-key-0123456789";
        if (const auto url = link.base_url(); !url.empty()) config.base_url = url + std::string(Traits::base_path);
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
    void request_error(std::size_t i) { Traits::request_error(emulator, i); }
    void fail_next_job() { emulator.fail_next_job(); }
    void http_errors(std::size_t n, int status) { Traits::http_errors(emulator, n, status); }
    void expire(const std::string& job) { emulator.expire_job(job); }
    /// p's next create reaches the server but its reply is lost (uploads before it go through).
    void lose_create_reply(Provider& p) { p.transport().lose_reply_of_next(&Traits::is_create); }
    /// p's next create is answered with HTTP `status` by a server that did not take it.
    void refuse_create(Provider& p, int status) { p.transport().refuse_next(&Traits::is_create, status); }
    [[nodiscard]] std::size_t jobs_held() const { return emulator.job_count(); }

private:
    void set_responder() {
        const std::size_t size = answer_size;
        emulator.set_responder([size](const llmbatch::Json& request) {
            std::string text = Traits::request_text(request);
            text = text.substr(0, text.find('\n'));
            llmbatch::Json answer = {{"echo", text}};
            if (size > text.size()) answer["filler"] = std::string(size - text.size(), 'f');
            return answer.dump();
        });
    }
};

}  // namespace contract
