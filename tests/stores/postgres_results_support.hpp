// Helpers of the PostgresResultStore tests (stores/postgresql_results.cpp, stores/postgresql_shared.cpp):
// the test server, a fresh schema per case, and outcomes to save.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/result_store.hpp"
#include "llmbatch/stores/postgresql_db.hpp"

#include "../support/temp_dir.hpp"

namespace pg_results_test {

using llmbatch::ErrorStatus;
using llmbatch::Json;
using llmbatch::OutcomeSink;
using llmbatch::RequestOutcome;
using llmbatch::TrackedJob;
using llmbatch::detail::PgConnection;

/// The server's connection string (the test fails clearly without one).
inline std::string server() {
    const char* conninfo = std::getenv("LLMBATCH_TEST_POSTGRES");
    REQUIRE_MESSAGE(conninfo != nullptr, "LLMBATCH_TEST_POSTGRES is not set: run these tests through meson test, whose "
                                         "wrapper (tests/stores/with_postgres.sh) starts a server");
    return conninfo;
}

/// Runs the `;`-separated statements of `sql` one by one.
inline void run_script(PgConnection& db, const std::string& sql) {
    std::size_t start = 0;
    while (start < sql.size()) {
        auto end = sql.find(';', start);
        if (end == std::string::npos) end = sql.size();
        db.exec(std::string_view(sql).substr(start, end - start));
        start = end + 1;
    }
}

/// A fresh folder and a fresh schema of the server named after it.
struct Place {
    llmbatch_test::TempDir dir{"llmbatch-pgres", true};
    std::string conninfo = [&] {
        const auto schema = fmt::format("r{}", std::hash<std::string>{}(dir.path.string()));
        PgConnection(server()).exec(fmt::format("CREATE SCHEMA IF NOT EXISTS {}", schema));
        return fmt::format("{} options='-c search_path={}'", server(), schema);
    }();
};

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline TrackedJob job_named(std::string name, std::string source = "History/h.md", std::int64_t batch = 0) {
    TrackedJob job;
    job.provider = "gemini";
    job.job_name = std::move(name);
    job.source = std::move(source);
    job.batch_index = batch;
    return job;
}

inline RequestOutcome ok(std::size_t index, Json value) {
    RequestOutcome o;
    o.index = index;
    o.key = std::to_string(index);
    o.value = std::move(value);
    o.usage = llmbatch::TokenUsage{.input = 10, .output = 5, .thinking = 0, .cached = 0, .total = 15};
    return o;
}

inline RequestOutcome failed(std::size_t index, std::string message) {
    RequestOutcome o;
    o.index = index;
    o.key = std::to_string(index);
    o.error = ErrorStatus{3, "INVALID_ARGUMENT", std::move(message), Json{{"reason", "test"}}};
    return o;
}

/// A value nested deeper than a result line may hold: saved as an INVALID_JSON error line.
inline Json too_deep() {
    Json v = 1;
    for (std::size_t i = 0; i < llmbatch::detail::max_json_depth + 5; ++i) v = Json::array({std::move(v)});
    return v;
}

/// Hands `outcomes` over in the order given.
inline auto producing(std::vector<RequestOutcome> outcomes) {
    return [outcomes = std::move(outcomes)](const OutcomeSink& sink) {
        for (auto o : outcomes) sink(std::move(o));
    };
}

}  // namespace pg_results_test
