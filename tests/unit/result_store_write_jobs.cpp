// result_store.hpp: writing several jobs' lines at once (ResultStore::write_jobs, as an export
// from a database does) gives the file that saving each job in turn gives; the ResultSaver concept.
#include "llmbatch/result_store.hpp"

#include <doctest/doctest.h>

#include "../support/temp_dir.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tests_unit_result_store_write_jobs {

namespace fs = std::filesystem;
using llmbatch::Json;
using llmbatch::OutcomeSink;
using llmbatch::RequestOutcome;
using llmbatch::ResultStore;
using llmbatch::SavedResults;
using llmbatch::TrackedJob;

// The workflow's store and anything else with the same save.
struct OtherSaver {
    template <class Produce>
    SavedResults save_streamed(const std::string&, const TrackedJob&, std::string_view, Produce&&) {
        return {};
    }
};
struct WrongResult {
    template <class Produce>
    std::filesystem::path save_streamed(const std::string&, const TrackedJob&, std::string_view, Produce&&) {
        return {};
    }
};
struct NoProducer {
    SavedResults save_streamed(const std::string&, const TrackedJob&, std::string_view) { return {}; }
};
static_assert(llmbatch::ResultSaver<ResultStore>);
static_assert(llmbatch::ResultSaver<OtherSaver>);
static_assert(!llmbatch::ResultSaver<WrongResult>);
static_assert(!llmbatch::ResultSaver<NoProducer>);
static_assert(!llmbatch::ResultSaver<const ResultStore>);

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TrackedJob job_named(std::string name) {
    TrackedJob job;
    job.provider = "gemini";
    job.job_name = std::move(name);
    job.source = "s.md";
    return job;
}

RequestOutcome ok(std::size_t index, Json value) {
    RequestOutcome o;
    o.index = index;
    o.key = std::to_string(index);
    o.value = std::move(value);
    return o;
}

using Jobs = std::vector<std::pair<std::string, std::vector<RequestOutcome>>>;

/// Saves each job in turn to `store`.
void save_each(ResultStore& store, const Jobs& jobs) {
    for (const auto& job : jobs)
        store.save_streamed("s.md", job_named(job.first), "gemini", [&](const OutcomeSink& sink) {
            for (auto o : job.second) sink(std::move(o));
        });
}

/// Writes the same jobs at once with write_jobs, their lines as the store makes them.
fs::path write_all(ResultStore& store, const Jobs& jobs) {
    std::map<std::string, std::string> text;
    std::vector<std::string> names;
    for (const auto& [name, outcomes] : jobs) {
        names.push_back(name);
        auto in_order = outcomes;
        std::sort(in_order.begin(), in_order.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
        for (const auto& o : in_order) text[name] += llmbatch::detail::result_line("s.md", job_named(name), "gemini", o);
    }
    return store.write_jobs("s.md", names, [&](const std::string& name, const auto& put) {
        const auto& lines = text.at(name);
        put(std::string_view(lines).substr(0, 10));  // in pieces
        put(std::string_view(lines).substr(10));
    });
}

/// Two stores whose file starts as `initial`.
struct Twins {
    llmbatch_test::TempDir dir{"llmbatch-write-jobs"};
    ResultStore each{dir.path / "each"};
    ResultStore at_once{dir.path / "at_once"};

    explicit Twins(const std::string& initial) {
        for (auto* store : {&each, &at_once}) {
            fs::create_directories(store->output_dir());
            if (!initial.empty()) std::ofstream(store->path_for("s.md"), std::ios::binary) << initial;
        }
    }
    void check(const Jobs& jobs) {
        save_each(each, jobs);
        CHECK(write_all(at_once, jobs) == at_once.path_for("s.md"));
        CHECK(slurp(at_once.path_for("s.md")) == slurp(each.path_for("s.md")));
        const auto first = slurp(at_once.path_for("s.md"));
        write_all(at_once, jobs);  // again: nothing changes
        CHECK(slurp(at_once.path_for("s.md")) == first);
    }
};

std::string line_of(const std::string& job, std::size_t index, int value) {
    return llmbatch::detail::result_line("s.md", job_named(job), "gemini", ok(index, value));
}

TEST_SUITE("unit") {

TEST_CASE("write_jobs: as saving each job in turn, whatever the file held") {
    const Jobs jobs = {{"j0", {ok(1, 1), ok(0, 0)}}, {"j1", {ok(0, 10)}}, {"j2", {ok(0, 20), ok(1, 21)}}};
    const std::string other = line_of("other", 0, 5) + line_of("later", 0, 6);
    const std::string with_j1 = line_of("other", 0, 5) + line_of("j1", 0, 1) + "\n" + line_of("j1", 1, 2) +
                                line_of("later", 0, 6);
    for (const std::string& initial : {std::string(), other, with_j1, other + "\n \n",
                                       with_j1 + "\n\n", other + "{\"job\":\"torn", with_j1 + "{\"job\":\"j0\",\"prov",
                                       other.substr(0, other.size() - 1)}) {  // a last line with no newline
        CAPTURE(initial);
        Twins t(initial);
        t.check(jobs);
    }
    SUBCASE("every job already in the file: trailing blank lines stay") {
        Twins t(with_j1 + "\n\n");
        t.check({{"j1", {ok(0, 3)}}});
    }
}

TEST_CASE("write_jobs: a writer that throws leaves the file as it was; bad arguments are refused") {
    llmbatch_test::TempDir dir{"llmbatch-write-jobs"};
    ResultStore store(dir.path);
    save_each(store, {{"j1", {ok(0, 1)}}});
    const auto before = slurp(store.path_for("s.md"));
    CHECK_THROWS_AS(store.write_jobs("s.md", {"j1", "j2"},
                                     [](const std::string& name, const auto& put) {
                                         put(line_of(name, 0, 9));
                                         if (name == "j2") throw std::runtime_error("the database went away");
                                     }),
                    std::runtime_error);
    CHECK(slurp(store.path_for("s.md")) == before);
    auto nothing = [](const std::string&, const auto&) {};
    CHECK_THROWS_AS(store.write_jobs("s.md", {"j1", ""}, nothing), llmbatch::InvalidArgument);
    CHECK_THROWS_AS(store.write_jobs("../s.md", {"j1"}, nothing), llmbatch::InvalidArgument);
    CHECK(slurp(store.path_for("s.md")) == before);
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(dir.path)) files += entry.is_regular_file() ? 1 : 0;
    CHECK(files == 2);  // the file and its lock: no temporary left behind
}

TEST_CASE("spill file: lines come back by index, each with its index, across pieces") {
    llmbatch_test::TempDir dir{"llmbatch-spill"};
    llmbatch::detail::SpillFile spill(dir.path / "x");
    const std::string big(300'000, 'b');
    for (std::size_t i = 10; i-- > 0;) spill.put(i * 2, fmt::format("{}:{}\n", i * 2, i % 3 == 0 ? big : "small"));
    spill.put(4, "4:again\n");
    std::vector<std::size_t> indices;
    bool matching = true;
    spill.for_each_line_in_order([&](std::size_t index, std::string_view line) {
        indices.push_back(index);
        matching = matching && line.substr(0, line.find(':')) == std::to_string(index) && line.back() == '\n' &&
                   line.find('\n') == line.size() - 1;
        if (index == 4) CHECK(line == "4:again\n");
    });
    CHECK(matching);
    CHECK(indices == std::vector<std::size_t>{0, 2, 4, 6, 8, 10, 12, 14, 16, 18});
}

}  // TEST_SUITE

}  // namespace tests_unit_result_store_write_jobs
