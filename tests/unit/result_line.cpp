// detail/result_line.hpp: a result line is written byte for byte as the format's definition
// (an ordered JSON object of the fields, dumped compactly, invalid UTF-8 replaced) gives it,
// for values of every kind of string, number and nesting.
#include "llmbatch/detail/result_line.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace tests_unit_result_line {

using Json = nlohmann::json;
using Ordered = nlohmann::ordered_json;
using llmbatch::ErrorStatus;
using llmbatch::RequestOutcome;
using llmbatch::TokenUsage;
using llmbatch::TrackedJob;

namespace {

/// The line as the format defines it.
std::string defined_line(const std::string& source, const TrackedJob& job, const std::string& provider,
                         const RequestOutcome& outcome) {
    Ordered line;
    line["job"] = job.job_name;
    line["provider"] = provider;
    line["source"] = source;
    line["batch_index"] = job.batch_index;
    line["request_index"] = outcome.index;
    line["request_key"] = outcome.index < job.request_keys.size() ? job.request_keys[outcome.index] : outcome.key;
    if (!outcome.model.empty()) line["model"] = outcome.model;
    line["labels"] = Ordered::object();
    for (const auto& [k, v] : job.labels) line["labels"][k] = v;
    if (outcome.ok()) {
        line["status"] = "ok";
        line["value"] = Ordered(*outcome.value);
        line["error"] = nullptr;
    } else {
        const auto& err = *outcome.error;
        line["status"] = "error";
        line["value"] = nullptr;
        line["error"] = {{"code", err.code}, {"status", err.status}, {"message", err.message}};
        if (!err.details.is_null()) line["error"]["details"] = Ordered(err.details);
    }
    if (outcome.usage)
        line["usage"] = {{"input", outcome.usage->input},       {"output", outcome.usage->output},
                         {"thinking", outcome.usage->thinking}, {"cached", outcome.usage->cached},
                         {"total", outcome.usage->total}};
    return line.dump(-1, ' ', false, Ordered::error_handler_t::replace) + '\n';
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("result_line: every value is written as the format defines it, byte for byte") {
    const std::string long_plain(5000, 'x');
    const std::vector<std::string> strings{"",
                                           "plain text",
                                           long_plain,
                                           long_plain + "\"" + long_plain,
                                           "back\\slash",
                                           "tab\tnew\nline\r\x01\x1f",
                                           "del \x7f",
                                           "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                                           "bad \xff\xfe utf-8 \xc3",
                                           std::string("nul \0 inside", 12),
                                           std::string(63, 'a') + "\"" + std::string(70, 'b')};
    std::vector<Json> values;
    for (const auto& s : strings) {
        values.push_back(s);
        values.push_back(Json{{s, s}, {"n", 1}});
    }
    values.push_back(Json::parse(R"({"b": [1, -2, 3.5, 1e300, -0.0, 0, true, false, null, {}, []], "a": {"z": {"y": "x"}}})"));
    values.push_back(Json(18446744073709551615ULL));
    values.push_back(Json(-9223372036854775807LL - 1));
    values.push_back(Json(0.1));
    values.push_back(Json::array());

    TrackedJob job;
    job.job_name = "batches/j\xc3\xa9";
    job.batch_index = 7;
    job.labels = {{"subject", "Hist\"ory"}, {"a", "\xff"}};
    job.request_keys = {"k0", "k\n1"};
    for (std::size_t i = 0; i < values.size(); ++i) {
        RequestOutcome o;
        o.index = i % 3;
        o.key = "provider-key";
        o.value = values[i];
        if (i % 2) o.model = "gemini-2.5-flash";
        if (i % 3 == 0) o.usage = TokenUsage{10, 20, 3, 4, 33};
        CAPTURE(values[i].dump());
        const auto line = llmbatch::detail::result_line("Maths/m.md", job, "gemini", o);
        CHECK(line == defined_line("Maths/m.md", job, "gemini", o));
        CHECK(line.rfind(llmbatch::detail::result_line_prefix(job.job_name), 0) == 0);  // how the job's lines are found
    }

    RequestOutcome failed;
    failed.index = 1;
    failed.error = ErrorStatus{429, "RESOURCE_EXHAUSTED", "quota \xff", Json{{"retry", "later"}}};
    CHECK(llmbatch::detail::result_line("s.md", job, "openai", failed) == defined_line("s.md", job, "openai", failed));
    TrackedJob bare;
    bare.job_name = "j";
    RequestOutcome plain;
    plain.value = Json{{"category", "STEM"}};
    CHECK(llmbatch::detail::result_line("s.md", bare, "gemini", plain) == defined_line("s.md", bare, "gemini", plain));
}

}

}  // namespace tests_unit_result_line
