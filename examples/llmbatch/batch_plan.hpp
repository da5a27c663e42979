#pragma once
/// @file batch_plan.hpp
/// How `create` cuts a source of the prompts file into batches, one provider batch job each.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/model.hpp"

#include "backend.hpp"
#include "prompts_file.hpp"

namespace llmbatch::cli {

/// One batch of one source: the requests of one provider batch job.
struct PlannedBatch {
    std::string source{};
    std::int64_t index = 0;
    std::vector<const PromptItem*> items{};
    std::map<std::string, std::string> labels{};  ///< the items' labels (they must agree)

    [[nodiscard]] BatchPayload payload() const {
        BatchPayload out;
        for (const auto* item : items) out.push_back(item->prompts);
        return out;
    }
    [[nodiscard]] std::vector<std::string> keys() const {
        std::vector<std::string> out;
        for (const auto* item : items) out.push_back(item->key);
        return out;
    }
};

/// Cuts `source` into consecutive batches of `batch_size` items. A job carries one set of
/// labels, so the items of one batch must not give one label two values.
/// @throws UsageError naming both lines when they do.
[[nodiscard]] inline std::vector<PlannedBatch> plan_batches(const PromptSource& source, std::size_t batch_size,
                                                            const std::filesystem::path& file) {
    std::vector<PlannedBatch> out;
    for (std::size_t start = 0; start < source.items.size(); start += batch_size) {
        PlannedBatch batch;
        batch.source = source.name;
        batch.index = static_cast<std::int64_t>(out.size());
        std::map<std::string, const PromptItem*> label_from;
        for (std::size_t i = start; i < std::min(source.items.size(), start + batch_size); ++i) {
            const auto* item = &source.items[i];
            batch.items.push_back(item);
            for (const auto& [k, v] : item->labels) {
                const auto [it, fresh] = batch.labels.emplace(k, v);
                if (!fresh && it->second != v)
                    throw UsageError(fmt::format(
                        "Prompts file '{}', {}: label \"{}\" is \"{}\" but {}, in the same batch (batch {} of '{}'), "
                        "gives \"{}\"; a batch job carries one set of labels, so the items of a batch must agree.",
                        file.string(), item->where, k, v, label_from[k]->where, batch.index, source.name, it->second));
                label_from.emplace(k, item);
            }
        }
        out.push_back(std::move(batch));
    }
    return out;
}

}  // namespace llmbatch::cli
