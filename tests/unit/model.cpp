// Tests of llmbatch/model.hpp (payloads, system prompts, generation defaults, job states,
// batch results) and of the tolerant JSON readers in llmbatch/detail/json_util.hpp.
#include "llmbatch/model.hpp"

#include <doctest/doctest.h>

#include "llmbatch/detail/json_util.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <fmt/format.h>

namespace tests_unit_model {

namespace {

using namespace llmbatch;

// A file under the system's temporary directory, removed when the object goes away.
class TempFile {
public:
    TempFile(const std::string& stem, const std::string& content) {
        const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
        path_ = std::filesystem::temp_directory_path() / fmt::format("llmbatch-{}-{}.md", stem, stamp);
        std::ofstream out(path_, std::ios::binary);
        out << content;
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    ~TempFile() {
        std::error_code ec;
        std::filesystem::remove(path_, ec);
    }
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

std::string message_of_invalid_argument(const auto& call) {
    try {
        call();
    } catch (const InvalidArgument& e) {
        return e.what();
    }
    return "<no InvalidArgument thrown>";
}

RequestOutcome success(std::size_t index, Json value) {
    RequestOutcome o;
    o.index = index;
    o.key = fmt::format("request-{}", index);
    o.value = std::move(value);
    return o;
}

RequestOutcome failure(std::size_t index, ErrorStatus error) {
    RequestOutcome o;
    o.index = index;
    o.key = fmt::format("request-{}", index);
    o.error = std::move(error);
    return o;
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("validate_payload accepts a payload whose every request has prompts") {
    CHECK_NOTHROW(validate_payload({{"prompt1"}}));
    CHECK_NOTHROW(validate_payload({{"prompt1"}, {"prompt2", "context"}}));
    // An empty prompt string is still a prompt.
    CHECK_NOTHROW(validate_payload({{""}}));
}

TEST_CASE("validate_payload rejects an empty payload") {
    CHECK_THROWS_AS(validate_payload({}), InvalidArgument);
    CHECK(message_of_invalid_argument([] { validate_payload({}); }) == "batch_payload must not be empty.");
}

TEST_CASE("validate_payload rejects an empty prompt sequence and names its index") {
    const BatchPayload payload{{"a"}, {"b"}, {}, {"d"}};
    CHECK_THROWS_AS(validate_payload(payload), InvalidArgument);
    const std::string message = message_of_invalid_argument([&] { validate_payload(payload); });
    CHECK(message.find("request 2 is empty") != std::string::npos);
    CHECK(message.find("must not be empty") != std::string::npos);

    SUBCASE("the first empty request is the one named") {
        const std::string first =
            message_of_invalid_argument([] { validate_payload({{}, {"b"}, {}}); });
        CHECK(first.find("request 0 is empty") != std::string::npos);
    }
}

TEST_CASE("join_prompts joins a request's prompts with newlines") {
    CHECK(join_prompts({"only"}) == "only");
    CHECK(join_prompts({"prompt2", "context"}) == "prompt2\ncontext");
    CHECK(join_prompts({"a", "", "c"}) == "a\n\nc");
    CHECK(join_prompts({}) == "");
}

TEST_CASE("select_requests picks requests in the order given") {
    const BatchPayload payload{{"p0"}, {"p1", "c1"}, {"p2"}, {"p3"}};
    CHECK(select_requests(payload, {2, 0}) == BatchPayload{{"p2"}, {"p0"}});
    CHECK(select_requests(payload, {1}) == BatchPayload{{"p1", "c1"}});
    CHECK(select_requests(payload, {}).empty());
    CHECK(select_requests(payload, {3, 3}) == BatchPayload{{"p3"}, {"p3"}});

    SUBCASE("an index out of range is an InvalidArgument naming it") {
        CHECK_THROWS_AS((void)select_requests(payload, {0, 4}), InvalidArgument);
        const std::string message = message_of_invalid_argument([&] { (void)select_requests(payload, {4}); });
        CHECK(message.find("4") != std::string::npos);
        CHECK(message.find("out of range") != std::string::npos);
        CHECK_THROWS_AS((void)select_requests({}, {0}), InvalidArgument);
    }
}

TEST_CASE("SystemPrompt::from_text keeps the text as given") {
    CHECK(SystemPrompt::from_text("You are a careful classifier.").text() == "You are a careful classifier.");
    // A string that looks like a path is still text.
    CHECK(SystemPrompt::from_text("prompts/categorise.md").text() == "prompts/categorise.md");
    CHECK(SystemPrompt::from_text("").text().empty());
}

TEST_CASE("SystemPrompt::from_file reads the whole file") {
    const std::string content = "# Categorise\n\nReturn JSON with a \"subject\" field.\r\nLast line without newline";
    const TempFile file("system-prompt", content);
    CHECK(SystemPrompt::from_file(file.path()).text() == content);

    SUBCASE("an empty file gives an empty prompt") {
        const TempFile empty("empty-prompt", "");
        CHECK(SystemPrompt::from_file(empty.path()).text().empty());
    }
}

TEST_CASE("SystemPrompt::from_file of a missing file is an InvalidArgument naming the path") {
    const auto missing = std::filesystem::temp_directory_path() / "llmbatch-no-such-dir" / "no-such-prompt.md";
    CHECK_THROWS_AS((void)SystemPrompt::from_file(missing), InvalidArgument);
    const std::string message = message_of_invalid_argument([&] { (void)SystemPrompt::from_file(missing); });
    CHECK(message.find(missing.string()) != std::string::npos);
}

TEST_CASE("SystemPrompt::from_file of a directory is an InvalidArgument") {
    CHECK_THROWS_AS((void)SystemPrompt::from_file(std::filesystem::temp_directory_path()), InvalidArgument);
}

TEST_CASE("GenerationConfig leaves every choice to the provider; options default to unset") {
    const GenerationConfig config;
    CHECK(config.model.empty());
    CHECK_FALSE(config.temperature.has_value());
    CHECK_FALSE(config.thinking_budget.has_value());
    CHECK_FALSE(config.max_output_tokens.has_value());
    CHECK_FALSE(config.system_prompt.has_value());
    CHECK_FALSE(config.filter_json);
    CHECK(config.json_mime_type_when_filtering);

    const CreateOptions create;
    CHECK_FALSE(create.filter_json.has_value());
    CHECK(create.display_name.empty());
    const FetchOptions fetch;
    CHECK_FALSE(fetch.filter_json.has_value());
}

TEST_CASE("JobState names and terminal states") {
    struct Row {
        JobState state;
        const char* name;
        bool terminal;
    };
    const Row rows[] = {
        {JobState::unspecified, "UNSPECIFIED", false}, {JobState::pending, "PENDING", false},
        {JobState::running, "RUNNING", false},         {JobState::cancelling, "CANCELLING", false},
        {JobState::succeeded, "SUCCEEDED", true},      {JobState::failed, "FAILED", true},
        {JobState::cancelled, "CANCELLED", true},      {JobState::expired, "EXPIRED", true},
    };
    for (const auto& row : rows) {
        CAPTURE(row.name);
        CHECK(to_string(row.state) == row.name);
        CHECK(is_terminal(row.state) == row.terminal);
        CHECK(fmt::format("{}", row.state) == row.name);
    }
    static_assert(to_string(JobState::running) == "RUNNING");
    static_assert(is_terminal(JobState::expired));
    static_assert(!is_terminal(JobState::cancelling));
    // A value outside the enumerators reads as UNSPECIFIED.
    CHECK(to_string(static_cast<JobState>(99)) == "UNSPECIFIED");
}

TEST_CASE("fmt formats a JobState by its name and honours width specs") {
    CHECK(fmt::format("{}", JobState::running) == "RUNNING");
    CHECK(fmt::format("job is {}", JobState::succeeded) == "job is SUCCEEDED");
    CHECK(fmt::format("[{:>9}]", JobState::failed) == "[   FAILED]");
    CHECK(fmt::format("[{:<9}]", JobState::pending) == "[PENDING  ]");
}

TEST_CASE("BatchJob, RequestCounts and ErrorStatus defaults and equality") {
    const BatchJob job;
    CHECK(job.state == JobState::unspecified);
    CHECK_FALSE(job.done);
    CHECK(job.counts == RequestCounts{});
    CHECK_FALSE(job.create_time.has_value());
    CHECK_FALSE(job.error.has_value());

    CHECK(RequestCounts{3, 2, 1, 0} == RequestCounts{3, 2, 1, 0});
    CHECK_FALSE(RequestCounts{3, 2, 1, 0} == RequestCounts{3, 1, 2, 0});
    CHECK(ErrorStatus{3, "INVALID_ARGUMENT", "bad", nullptr} == ErrorStatus{3, "INVALID_ARGUMENT", "bad", nullptr});
    CHECK_FALSE(ErrorStatus{3, "INVALID_ARGUMENT", "bad", nullptr} == ErrorStatus{3, "INVALID_ARGUMENT", "bad", 1});
}

TEST_CASE("RequestOutcome is ok exactly when it holds a value") {
    CHECK_FALSE(RequestOutcome{}.ok());
    CHECK(success(0, Json{{"a", 1}}).ok());
    CHECK(success(0, nullptr).ok());  // a JSON null answer is still an answer
    CHECK_FALSE(failure(0, ErrorStatus{13, "INTERNAL", "boom", nullptr}).ok());
}

TEST_CASE("BatchResults of a fully successful job") {
    const BatchResults results("gemini", "batches/ok",
                               {success(0, Json{{"subject", "Geography"}}), success(1, Json{{"subject", "French"}}),
                                success(2, Json{{"subject", "Mathematics"}})});
    CHECK(results.provider() == "gemini");
    CHECK(results.job_name() == "batches/ok");
    CHECK(results.size() == 3);
    CHECK_FALSE(results.empty());
    CHECK(results.all_succeeded());
    CHECK(results.failed_count() == 0);
    CHECK(results.succeeded_count() == 3);
    CHECK(results.failed_indices().empty());

    std::vector<std::size_t> order;
    for (const auto& outcome : results) order.push_back(outcome.index);
    CHECK(order == std::vector<std::size_t>{0, 1, 2});
    CHECK(results[1].key == "request-1");
    CHECK(results.at(2).value == Json{{"subject", "Mathematics"}});
    CHECK_THROWS_AS((void)results.at(3), std::out_of_range);
    CHECK(results.outcomes().size() == 3);

    const std::vector<Json> values = results.values();
    CHECK(values == std::vector<Json>{Json{{"subject", "Geography"}}, Json{{"subject", "French"}},
                                      Json{{"subject", "Mathematics"}}});
}

TEST_CASE("BatchResults with failed requests") {
    const BatchPayload payload{{"Geography GCSE"}, {"French GCSE"}, {"Maths GCSE"}, {"History GCSE"}};
    const BatchResults results(
        "gemini", "batches/x",
        {success(0, Json{{"subject", "Geography"}}),
         failure(1, ErrorStatus{3, "INVALID_ARGUMENT", "Request contains an invalid argument.", nullptr}),
         success(2, Json{{"subject", "Mathematics"}}), failure(3, ErrorStatus{13, "INTERNAL", "Internal error.", nullptr})});

    CHECK(results.size() == 4);
    CHECK_FALSE(results.all_succeeded());
    CHECK(results.failed_count() == 2);
    CHECK(results.succeeded_count() == 2);
    CHECK(results.failed_indices() == std::vector<std::size_t>{1, 3});

    SUBCASE("values() throws RequestFailed for the first failure") {
        CHECK_THROWS_AS((void)results.values(), RequestFailed);
        CHECK_THROWS_AS((void)results.values(), ProviderError);
        try {
            (void)results.values();
            FAIL("values() did not throw");
        } catch (const RequestFailed& e) {
            CHECK(e.index() == 1);
            CHECK(e.job_name() == "batches/x");
            CHECK(e.provider() == "gemini");
            CHECK(e.api_status() == "INVALID_ARGUMENT");
            CHECK(e.api_message() == "Request contains an invalid argument.");
            CHECK_FALSE(e.retryable());
            const std::string message = e.what();
            CHECK(message.find("Request 1 in batch job batches/x (gemini) failed") != std::string::npos);
            CHECK(message.find("Request contains an invalid argument.") != std::string::npos);
        }
    }

    SUBCASE("the failed indices select the payload to resubmit") {
        CHECK(select_requests(payload, results.failed_indices()) == BatchPayload{{"French GCSE"}, {"History GCSE"}});
    }
}

TEST_CASE("BatchResults::values() on a failure without error details still names the request") {
    RequestOutcome bare;
    bare.index = 0;
    const BatchResults results("gemini", "batches/bare", {bare});
    try {
        (void)results.values();
        FAIL("values() did not throw");
    } catch (const RequestFailed& e) {
        CHECK(e.index() == 0);
        CHECK(std::string(e.what()).find("Request 0 in batch job batches/bare (gemini) failed") != std::string::npos);
    }
}

TEST_CASE("an empty BatchResults has no values and nothing failed") {
    const BatchResults results;
    CHECK(results.empty());
    CHECK(results.size() == 0);
    CHECK(results.all_succeeded());
    CHECK(results.values().empty());
}

// ---- llmbatch/detail/json_util.hpp -------------------------------------------------------

TEST_CASE("as_int64 reads integers written as numbers or decimal strings") {
    using detail::as_int64;
    CHECK(as_int64(Json("42")) == 42);
    CHECK(as_int64(Json(42)) == 42);
    CHECK(as_int64(Json("-7")) == -7);
    CHECK(as_int64(Json(-7)) == -7);
    CHECK(as_int64(Json("0")) == 0);
    CHECK(as_int64(Json(2.0)) == 2);
    CHECK(as_int64(Json("9223372036854775807")) == std::numeric_limits<std::int64_t>::max());
    CHECK(as_int64(Json(std::uint64_t{5})) == 5);

    SUBCASE("anything else is nullopt") {
        CHECK_FALSE(as_int64(Json("")).has_value());
        CHECK_FALSE(as_int64(Json("4x")).has_value());
        CHECK_FALSE(as_int64(Json(" 4")).has_value());
        CHECK_FALSE(as_int64(Json("1.5")).has_value());
        CHECK_FALSE(as_int64(Json(1.5)).has_value());
        CHECK_FALSE(as_int64(Json(true)).has_value());
        CHECK_FALSE(as_int64(Json(nullptr)).has_value());
        CHECK_FALSE(as_int64(Json::object()).has_value());
        CHECK_FALSE(as_int64(Json::array({1})).has_value());
        CHECK_FALSE(as_int64(Json("9223372036854775808")).has_value());
        CHECK_FALSE(as_int64(Json(1e30)).has_value());
    }
}

TEST_CASE("as_int64 of an unsigned number beyond int64 is nullopt") {
    CHECK_FALSE(detail::as_int64(Json(std::numeric_limits<std::uint64_t>::max())).has_value());
}

TEST_CASE("get_int64 treats an absent member as 0 and a malformed one as nullopt") {
    using detail::get_int64;
    const Json j = {{"total", "12"}, {"done", 3}, {"bad", "x1"}, {"none", nullptr}, {"flag", true}};
    CHECK(get_int64(j, "total") == 12);
    CHECK(get_int64(j, "done") == 3);
    CHECK(get_int64(j, "missing") == 0);
    CHECK(get_int64(j, "none") == 0);
    CHECK_FALSE(get_int64(j, "bad").has_value());
    CHECK_FALSE(get_int64(j, "flag").has_value());
    CHECK(get_int64(Json::array({1, 2}), "total") == 0);
}

TEST_CASE("get_string and get_bool fall back when the member is absent or of another type") {
    using detail::get_bool;
    using detail::get_string;
    const Json j = {{"name", "batches/x"}, {"count", 3}, {"done", true}, {"off", false}, {"text", "true"}};
    CHECK(get_string(j, "name") == "batches/x");
    CHECK(get_string(j, "missing") == "");
    CHECK(get_string(j, "missing", "default") == "default");
    CHECK(get_string(j, "count", "default") == "default");
    CHECK(get_string(Json("not an object"), "name", "fb") == "fb");

    CHECK(get_bool(j, "done"));
    CHECK_FALSE(get_bool(j, "off", true));
    CHECK_FALSE(get_bool(j, "missing"));
    CHECK(get_bool(j, "missing", true));
    CHECK(get_bool(j, "text", true));
    CHECK_FALSE(get_bool(j, "text", false));
    CHECK_FALSE(get_bool(j, "count"));
}

TEST_CASE("find and find_path follow object keys and return null on a missing step") {
    using detail::find;
    using detail::find_path;
    const Json j = {{"metadata", {{"output", {{"inlinedResponses", {{"inlinedResponses", Json::array({1, 2})}}}}}}},
                    {"name", "batches/x"}};
    REQUIRE(find(j, "name") != nullptr);
    CHECK(*find(j, "name") == "batches/x");
    CHECK(find(j, "missing") == nullptr);
    CHECK(find(Json::array({1}), "name") == nullptr);

    const Json* deep = find_path(j, {"metadata", "output", "inlinedResponses", "inlinedResponses"});
    REQUIRE(deep != nullptr);
    CHECK(*deep == Json::array({1, 2}));
    CHECK(find_path(j, {"metadata", "missing", "inlinedResponses"}) == nullptr);
    CHECK(find_path(j, {"name", "inner"}) == nullptr);  // a string has no members
    CHECK(find_path(j, {}) == &j);
}

TEST_CASE("member of a missing key is an empty object, so readers can chain") {
    using detail::member;
    const Json j = {{"metadata", {{"state", "BATCH_STATE_RUNNING"}}}};
    CHECK(member(j, "metadata") == Json{{"state", "BATCH_STATE_RUNNING"}});
    CHECK(&member(j, "metadata") == &j.at("metadata"));  // no copy
    const Json& missing = member(j, "error");
    CHECK(missing.is_object());
    CHECK(missing.empty());
    CHECK(member(member(j, "error"), "code").is_object());
    CHECK(member(Json(5), "x").is_object());
    CHECK(detail::get_string(member(j, "metadata"), "state") == "BATCH_STATE_RUNNING");
    CHECK(detail::get_string(member(member(j, "nothing"), "deeper"), "state", "none") == "none");
}

TEST_CASE("excerpt shortens long text and marks the cut") {
    using detail::excerpt;
    CHECK(excerpt("short") == "short");
    CHECK(excerpt("") == "");
    CHECK(excerpt("abcdef", 6) == "abcdef");
    CHECK(excerpt("abcdefg", 6) == "abcdef...");
    const std::string long_text(250, 'x');
    CHECK(excerpt(long_text) == std::string(200, 'x') + "...");
    CHECK(excerpt(std::string(200, 'y')) == std::string(200, 'y'));
}

TEST_CASE("excerpt never cuts a UTF-8 character in two, so the result stays valid UTF-8") {
    using detail::excerpt;
    const std::string euro = "\xE2\x82\xAC";  // three bytes
    const std::string text = std::string(199, 'a') + euro + "tail";
    CHECK(excerpt(text) == std::string(199, 'a') + "...");
    CHECK(excerpt(std::string(198, 'a') + euro + "tail") == std::string(198, 'a') + "...");
    CHECK(excerpt(std::string(197, 'a') + euro + "tail") == std::string(197, 'a') + euro + "...");
    CHECK_NOTHROW((void)Json(excerpt(text)).dump());
}

}  // TEST_SUITE("unit")

}  // namespace tests_unit_model
