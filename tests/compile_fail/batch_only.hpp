#pragma once
// The provider the compile-fail cases share: batch jobs only (no cancel, delete, list or generate).
// `Tag` makes distinct types that all call themselves "batch-only".
#include <string>
#include <string_view>

#include "llmbatch/service.hpp"

template <int Tag = 0>
struct BatchOnly {
    static constexpr std::string_view name = "batch-only";
    bool is_available() const { return true; }
    std::string create_batch_job(const llmbatch::BatchPayload&, const llmbatch::CreateOptions&) { return "job"; }
    llmbatch::BatchJob get_batch_job(const std::string&) { return {}; }
    llmbatch::BatchResults fetch_batch_results(const std::string&, const llmbatch::FetchOptions&) { return {}; }
};
