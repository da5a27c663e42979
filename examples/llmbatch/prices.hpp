#pragma once
/// @file prices.hpp
/// `--prices FILE`: token prices by model, and what tokens cost at batch prices (`PriceList`).
///
/// The file is JSON; only `models` is required:
/// @code
/// {"currency": "USD", "per_tokens": 1000000, "batch_discount": 0.5,
///  "models": {"gemini-2.5-flash": {"input": 0.30, "output": 2.50, "thinking": 2.50, "cached_input": 0.03}}}
/// @endcode
/// Prices are the interactive (list) prices per `per_tokens` tokens (default 1,000,000); a batch
/// job costs `1 - batch_discount` of them (default 0.5: half price). `thinking` defaults to
/// `output` and `cached_input` (prompt tokens served from a cache) to `input`. A model is priced by
/// the entry named as it is, else by the longest entry its name starts with, so
/// `claude-sonnet-4-5` prices `claude-sonnet-4-5-20250929`.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/results.hpp"

#include "backend.hpp"

namespace llmbatch::cli::detail {

/// One model's interactive prices per `PriceList::per_tokens` tokens.
struct ModelPrice {
    double input = 0;
    double output = 0;
    double thinking = 0;
    double cached_input = 0;
};

/// What some tokens cost (see `PriceList::estimate`).
struct CostEstimate {
    double cost = 0;                                    ///< at batch prices, for the priced models
    std::map<std::string, std::int64_t> unpriced{};     ///< models without a price: their tokens
};

/// The prices of a `--prices` file (see the file comment).
class PriceList {
public:
    std::string currency = "USD";
    double per_tokens = 1'000'000;
    double batch_discount = 0.5;
    std::map<std::string, ModelPrice, std::less<>> models{};

    /// Reads `file`.
    /// @throws UsageError naming the file and what is wrong with it.
    [[nodiscard]] static PriceList load(const std::filesystem::path& file) {
        std::ifstream in(file, std::ios::binary);
        if (!in) throw UsageError(fmt::format("--prices: cannot read '{}'", file.string()));
        std::ostringstream text;
        text << in.rdbuf();
        const auto fail = [&](std::string_view what) {
            return UsageError(fmt::format("--prices file '{}': {}", file.string(), what));
        };
        nlohmann::json doc;
        try {
            doc = nlohmann::json::parse(text.str());
        } catch (const nlohmann::json::exception& e) {
            throw fail(fmt::format("not JSON ({})", e.what()));
        }
        if (!doc.is_object() || !doc.contains("models") || !doc["models"].is_object() || doc["models"].empty())
            throw fail(R"(expected {"models": {"<model>": {"input": <price>, "output": <price>}, ...}})");
        const auto number = [&](const nlohmann::json& j, std::string_view key, std::string_view where,
                                std::optional<double> fallback) {
            const auto it = j.find(key);
            if (it == j.end()) {
                if (!fallback) throw fail(fmt::format("{} has no \"{}\"", where, key));
                return *fallback;
            }
            if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < 0)
                throw fail(fmt::format("\"{}\" of {} is not a number of at least 0", key, where));
            return it->get<double>();
        };
        PriceList list;
        list.currency = doc.value("currency", list.currency);
        list.per_tokens = number(doc, "per_tokens", "the file", list.per_tokens);
        list.batch_discount = number(doc, "batch_discount", "the file", list.batch_discount);
        if (list.per_tokens <= 0) throw fail("\"per_tokens\" must be above 0");
        if (list.batch_discount > 1) throw fail("\"batch_discount\" is a fraction from 0 to 1 (0.5: half price)");
        for (const auto& [name, p] : doc["models"].items()) {
            const auto where = fmt::format("model \"{}\"", name);
            if (!p.is_object()) throw fail(fmt::format("{} is not an object of prices", where));
            ModelPrice price;
            price.input = number(p, "input", where, std::nullopt);
            price.output = number(p, "output", where, std::nullopt);
            price.thinking = number(p, "thinking", where, price.output);
            price.cached_input = number(p, "cached_input", where, price.input);
            list.models.emplace(name, price);
        }
        return list;
    }

    /// The price of `model` (a leading `models/` ignored), or null.
    [[nodiscard]] const ModelPrice* find(std::string_view model) const {
        if (model.substr(0, 7) == "models/") model.remove_prefix(7);
        if (const auto it = models.find(model); it != models.end()) return &it->second;
        const ModelPrice* best = nullptr;
        std::size_t best_size = 0;
        for (const auto& [name, price] : models)
            if (name.size() > best_size && model.substr(0, name.size()) == name) {
                best = &price;
                best_size = name.size();
            }
        return best;
    }

    /// What `usage` (tokens by the model that answered) costs at batch prices.
    [[nodiscard]] CostEstimate estimate(const std::map<std::string, TokenUsage>& usage) const {
        CostEstimate e;
        const double factor = (1.0 - batch_discount) / per_tokens;
        for (const auto& [model, u] : usage) {
            const auto tokens = u.input + u.output + u.thinking;
            if (tokens == 0) continue;
            const ModelPrice* p = find(model);
            if (!p) {
                e.unpriced[model.empty() ? std::string("(not named)") : model] += tokens;
                continue;
            }
            const auto cached = std::min(u.cached, u.input);
            e.cost += factor * (static_cast<double>(u.input - cached) * p->input +
                                static_cast<double>(cached) * p->cached_input +
                                static_cast<double>(u.output) * p->output + static_cast<double>(u.thinking) * p->thinking);
        }
        return e;
    }

    /// "Estimated cost: 0.0123 USD at batch prices (50% off the listed prices)", and the models
    /// left out.
    [[nodiscard]] std::string describe(const CostEstimate& e) const {
        std::string s = fmt::format("Estimated cost: {:.4f} {} at batch prices ({:g}% off the listed prices)", e.cost,
                                    currency, batch_discount * 100);
        for (const auto& [model, tokens] : e.unpriced)
            s += fmt::format("; no price for model {} ({} token(s) left out)", model, tokens);
        return s;
    }

    /// The estimate as JSON: `{"amount": ..., "currency": ..., "unpriced_models": {...}}`.
    [[nodiscard]] nlohmann::ordered_json to_json(const CostEstimate& e) const {
        return {{"amount", e.cost}, {"currency", currency}, {"unpriced_models", e.unpriced}};
    }
};

/// The tokens a saved results line records, if any.
[[nodiscard]] inline std::optional<TokenUsage> saved_usage(const nlohmann::json& line) {
    const auto u = line.find("usage");
    if (u == line.end() || !u->is_object()) return std::nullopt;
    TokenUsage usage;
    const auto get = [&](const char* key) {
        const auto it = u->find(key);
        return it != u->end() && it->is_number_integer() ? it->get<std::int64_t>() : std::int64_t{0};
    };
    usage.input = get("input");
    usage.output = get("output");
    usage.thinking = get("thinking");
    usage.cached = get("cached");
    usage.total = get("total");
    return usage;
}

/// "Tokens: 120 input, 80 output, 0 thinking".
[[nodiscard]] inline std::string tokens_line(const TokenUsage& u) {
    return fmt::format("Tokens: {} input, {} output, {} thinking", u.input, u.output, u.thinking);
}

}  // namespace llmbatch::cli::detail
