// The job store contract for JobTracker, the document's tracking and state JSON files (their
// file formats and crash behaviour: tests/unit/tracking.cpp).
#include "llmbatch/tracking.hpp"

#include "contract.hpp"

#include <fstream>
#include <iterator>
#include <string>

namespace tests_stores_json {

namespace {

struct JsonFiles {
    using Store = llmbatch::JobTracker;
    static Store open(const std::filesystem::path& folder) { return Store(folder / "batch_jobs.json", folder / "batch_state.json"); }
    static std::string bytes(const std::filesystem::path& folder) {
        std::string out;
        for (const auto* name : {"batch_jobs.json", "batch_state.json"}) {
            std::ifstream in(folder / name, std::ios::binary);
            out += std::string(std::istreambuf_iterator<char>(in), {}) + "\n--\n";
        }
        return out;
    }
};

}  // namespace

TEST_SUITE("stores") {
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_empty, JsonFiles);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_add_find, JsonFiles);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_order, JsonFiles);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_add_refused, JsonFiles);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_duplicates, JsonFiles);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_update, JsonFiles);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_status, JsonFiles);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_refetch, JsonFiles);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_creates, JsonFiles);
TEST_CASE_TEMPLATE_INVOKE(store_contract::store_concurrent, JsonFiles);

TEST_CASE("copy_job_store copies JSON files into other JSON files through AnyJobStore, losing nothing") {
    llmbatch_test::TempDir a("llmbatch-copy", true), b("llmbatch-copy", true);
    llmbatch::AnyJobStore from(JsonFiles::open(a.path));
    llmbatch::AnyJobStore to(JsonFiles::open(b.path));
    CHECK(from.get<llmbatch::JobTracker>() != nullptr);
    store_contract::check_copy(from, to);
}
}

}  // namespace tests_stores_json
