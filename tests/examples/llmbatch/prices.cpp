// `--prices FILE` (examples/llmbatch/prices.hpp): the prices file, the batch discount, models
// priced by the longest name they start with, and the estimates fetch and show print.
#include "cli.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support.hpp"

TEST_SUITE("cli") {

using llmbatch::cli::detail::PriceList;
using llmbatch::TokenUsage;

TEST_CASE("a prices file gives each model its price, thinking as output and cached input as input by default") {
    World w;
    const auto file = w.write("prices.json", R"({"currency": "EUR", "models": {
        "claude-sonnet-4-5": {"input": 3, "output": 15},
        "claude-sonnet-4-5-2025": {"input": 2, "output": 10, "thinking": 12, "cached_input": 0.5},
        "gpt-4o-mini": {"input": 0.15, "output": 0.6}}})");
    const auto prices = PriceList::load(file);
    CHECK(prices.currency == "EUR");
    CHECK(prices.batch_discount == 0.5);
    REQUIRE(prices.find("claude-sonnet-4-5-20250929") != nullptr);
    CHECK(prices.find("claude-sonnet-4-5-20250929")->input == 2);  // the longest name it starts with
    CHECK(prices.find("claude-sonnet-4-5-x")->input == 3);
    CHECK(prices.find("claude-sonnet-4-5")->thinking == 15);
    CHECK(prices.find("claude-sonnet-4-5")->cached_input == 3);
    CHECK(prices.find("models/gpt-4o-mini") != nullptr);
    CHECK(prices.find("gpt-4") == nullptr);

    TokenUsage u;
    u.input = 1'000'000;
    u.cached = 400'000;
    u.output = 200'000;
    u.thinking = 100'000;
    TokenUsage other;
    other.input = 10;
    const auto e = prices.estimate(std::map<std::string, TokenUsage>{{"claude-sonnet-4-5-20250929", u}, {"mystery-model", other}});
    // Half of 0.6 M × 2 + 0.4 M × 0.5 + 0.2 M × 10 + 0.1 M × 12 (per million) = half of 4.6.
    CHECK(e.cost == doctest::Approx(2.3));
    CHECK(e.unpriced == std::map<std::string, std::int64_t>{{"mystery-model", 10}});
    CHECK(prices.describe(e) == "Estimated cost: 2.3000 EUR at batch prices (50% off the listed prices); no price "
                                "for model mystery-model (10 token(s) left out)");
}

TEST_CASE("a prices file that cannot be used is refused, naming the file and the problem") {
    World w;
    const std::vector<std::pair<std::string, std::string>> cases{
        {"{", "not JSON"},
        {R"({"models": {}})", R"(expected {"models")"},
        {R"({"models": {"m": {"input": 1}}})", R"(model "m" has no "output")"},
        {R"({"models": {"m": {"input": -1, "output": 1}}})", R"("input" of model "m" is not a number of at least 0)"},
        {R"({"batch_discount": 2, "models": {"m": {"input": 1, "output": 1}}})", "\"batch_discount\" is a fraction"}};
    for (const auto& [text_, message_] : cases) {
        const std::string text = text_, message = message_;  // (a structured binding cannot be captured)
        CAPTURE(text);
        const auto file = w.write("p.json", text);
        try {
            (void)PriceList::load(file);
            FAIL("expected UsageError");
        } catch (const llmbatch::cli::UsageError& e) {
            CHECK(contains(e.what(), "--prices file '" + file.string() + "': "));
            CHECK(contains(e.what(), message));
        }
    }
    CHECK_THROWS_AS((void)PriceList::load(w.dir.path / "missing.json"), llmbatch::cli::UsageError);
}

TEST_CASE("fetch and show give the tokens, the model that answered and the batch cost of the saved requests") {
    World w;
    std::string text;
    for (int i = 0; i < 3; ++i)
        text += Json{{"source", "A/a.md"}, {"prompt", fmt::format("Question {}", i)}, {"id", fmt::format("q{}", i)}}
                    .dump() +
                "\n";
    const auto p = w.write("p.jsonl", text);
    REQUIRE(w.run({"create", "--prompts", p.string(), "--provider", "anthropic"}).code == 0);
    const auto job = w.job_for("A/a.md", 0);
    w.clock.advance(job_finishes + 30s);
    // Listed prices per million tokens; the answering model is priced by its prefix "claude".
    const auto prices = w.write("prices.json", R"({"models": {"claude": {"input": 4, "output": 20}}})");
    auto o = w.run({"fetch", "--check-all-pending", "--prices", prices.string()});
    REQUIRE(o.code == 0);

    const auto lines = jsonl(w.results_of("A/a.md"));
    REQUIRE(lines.size() == 3);
    TokenUsage total;
    for (const auto& line : lines) {
        CHECK(line["model"].get<std::string>().rfind("claude", 0) == 0);
        total.input += line["usage"]["input"].get<std::int64_t>();
        total.output += line["usage"]["output"].get<std::int64_t>();
    }
    REQUIRE(total.input > 0);
    REQUIRE(total.output > 0);
    CHECK_FALSE(contains(w.run({"fetch", "--refetch-hours", "1"}).out, "Tokens:"));  // only when asked for
    const double cost = 0.5 * (static_cast<double>(total.input) * 4 + static_cast<double>(total.output) * 20) / 1e6;
    CHECK(contains(o.out, fmt::format("Tokens: {} input, {} output, 0 thinking\n", total.input, total.output)));
    CHECK(contains(o.out, fmt::format("Estimated cost: {:.4f} USD at batch prices (50% off the listed prices)\n", cost)));

    o = w.run({"show", job.job_name, "--prices", prices.string()});
    CHECK(o.code == 0);
    CHECK(contains(o.out, fmt::format("  Tokens: {} input, {} output, 0 thinking\n", total.input, total.output)));
    CHECK(contains(o.out, fmt::format("  Estimated cost: {:.4f} USD", cost)));
    o = w.run({"show", job.job_name, "--prices", prices.string(), "--json"});
    CHECK(Json::parse(o.out)["jobs"][0]["cost"]["amount"].get<double>() == doctest::Approx(cost));

    // A bad prices file is refused before anything is fetched.
    const auto bad = w.write("bad.json", "[]");
    o = w.run({"fetch", "--refetch-hours", "1", "--prices", bad.string()});
    CHECK(o.code == 2);
    CHECK(contains(o.err, "--prices file"));
}

}
