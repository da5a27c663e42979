// batch_generate and finish_batch_job: a batch as one blocking call, on one provider and through
// LLMService (first available provider, no second job once one exists), against the Gemini
// emulator on a manual clock shared with the provider (its waits move the emulator's time).
#include "llmbatch/batch_generate.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "llmbatch/providers/gemini.hpp"
#include "llmbatch/service.hpp"
#include "llmbatch/testing/gemini_emulator.hpp"
#include "llmbatch/testing/manual_clock.hpp"

#include "../support/fake_providers.hpp"

namespace tests_unit_batch_generate {

namespace {

using namespace std::chrono_literals;
using llmbatch::BatchGenerateOptions;
using llmbatch::JobState;
using llmbatch::Json;
using llmbatch::testing::GeminiEmulator;
using llmbatch::testing::ManualClock;

using Gemini = llmbatch::GeminiProvider<GeminiEmulator, ManualClock>;

/// A Gemini provider and its emulator on one manual clock; answers echo the first prompt.
struct World {
    ManualClock clock;
    GeminiEmulator emulator{clock};
    Gemini gemini{config(), emulator, clock};

    World() {
        emulator.set_responder([](const Json& request) {
            const std::string text = request["contents"][0]["parts"][0]["text"].get<std::string>();
            return Json{{"echo", text.substr(0, text.find('\n'))}}.dump();
        });
    }
    static llmbatch::GeminiConfig config() {
        llmbatch::GeminiConfig c;
        c.api_key = "blocking-key-0123456789";
        c.retry.jitter = 0;
        return c;
    }
};

const llmbatch::BatchPayload three{{"first"}, {"second", "context"}, {"third"}};

BatchGenerateOptions json_options() {
    BatchGenerateOptions o;
    o.create.filter_json = true;
    o.poll.initial_interval = 5s;
    o.poll.jitter = 0;
    return o;
}

}  // namespace

TEST_SUITE("unit") {
    TEST_CASE("batch_generate creates, waits on the provider's clock and returns the results in input order") {
        World w;
        const auto results = llmbatch::batch_generate(w.gemini, three, json_options());
        REQUIRE(results.size() == 3);
        CHECK((*results[0].value)["echo"] == "first");
        CHECK((*results[1].value)["echo"] == "second");
        CHECK((*results[2].value)["echo"] == "third");
        CHECK(w.emulator.job_count() == 1);
        CHECK_FALSE(w.clock.sleeps().empty());  // it waited, on the manual clock
        CHECK(w.clock.elapsed() >= 60s);        // the emulator's job takes a minute
    }

    TEST_CASE("finish_batch_job cancels a job whose wait passed its deadline, and says so") {
        World w;
        auto options = json_options();
        options.poll.deadline = 30s;  // the job needs a minute
        const std::string job = w.gemini.create_batch_job(three, options.create);
        const auto message = fakes::message_of([&] { (void)llmbatch::finish_batch_job(w.gemini, job, options); });
        CHECK(message.find("Timed out") != std::string::npos);
        CHECK(message.find(job) != std::string::npos);
        CHECK(message.find("the job was cancelled on gemini") != std::string::npos);
        CHECK(w.gemini.get_batch_job(job).state == JobState::cancelled);
        // Finishing it again finds it ended by the cancellation, without results.
        CHECK_THROWS_AS((void)llmbatch::finish_batch_job(w.gemini, job, options), llmbatch::JobFailed);
    }

    TEST_CASE("with cancel_on_abandon false a timed-out job keeps running and the error names it") {
        World w;
        auto options = json_options();
        options.poll.deadline = 30s;
        options.cancel_on_abandon = false;
        const std::string job = w.gemini.create_batch_job(three, options.create);
        const auto message = fakes::message_of([&] { (void)llmbatch::finish_batch_job(w.gemini, job, options); });
        CHECK(message.find("the job is still running on gemini as " + job) != std::string::npos);
        CHECK_FALSE(w.gemini.get_batch_job(job).done);
    }

    TEST_CASE("a progress callback that stops the wait abandons the job like a timeout") {
        World w;
        auto options = json_options();
        int seen = 0;
        options.on_progress = [&](const llmbatch::BatchJob&) {
            return ++seen == 2 ? llmbatch::WaitControl::stop : llmbatch::WaitControl::keep_waiting;
        };
        try {
            (void)llmbatch::batch_generate(w.gemini, three, options);
            FAIL("batch_generate returned although the wait was stopped");
        } catch (const llmbatch::WaitTimeout& e) {
            CHECK(std::string(e.what()).find("was stopped") != std::string::npos);
            CHECK(std::string(e.what()).find("cancelled on gemini") != std::string::npos);
            CHECK_FALSE(e.last_status().done);
        }
        CHECK(seen == 2);
        CHECK(w.gemini.get_batch_job(w.emulator.job_names().at(0)).state == JobState::cancelled);
    }

    TEST_CASE("a job that fails makes batch_generate raise JobFailed") {
        World w;
        w.emulator.fail_next_job(13, "Internal error encountered.");
        CHECK_THROWS_AS((void)llmbatch::batch_generate(w.gemini, three, json_options()), llmbatch::JobFailed);
    }

    TEST_CASE("a bad payload is refused before anything is sent") {
        World w;
        CHECK_THROWS_AS((void)llmbatch::batch_generate(w.gemini, {}, json_options()), llmbatch::InvalidArgument);
        CHECK(w.emulator.call_count() == 0);
    }

    TEST_CASE("LLMService::batch_generate runs on the first available provider after a quota refusal") {
        World w;
        fakes::FullProvider<fakes::Alpha> busy;
        busy.create_outcome = fakes::Outcome::quota;
        llmbatch::LLMService service{busy, w.gemini};
        const auto results = service.batch_generate(three, json_options());
        REQUIRE(results.size() == 3);
        CHECK(results.provider() == "gemini");
        CHECK((*results[2].value)["echo"] == "third");
        CHECK(w.emulator.job_count() == 1);
    }

    TEST_CASE("LLMService::batch_generate never falls back once a job exists") {
        World w;
        w.emulator.fail_next_job();
        fakes::FullProvider<fakes::Beta> spare;
        llmbatch::LLMService service{w.gemini, spare};
        CHECK_THROWS_AS((void)service.batch_generate(three, json_options()), llmbatch::JobFailed);
        CHECK(service.provider<fakes::FullProvider<fakes::Beta>>().log.calls.empty());
    }
}

}  // namespace tests_unit_batch_generate
