// Tests of llmbatch/http.hpp: header lists, response status, and URL helpers.
#include "llmbatch/http.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

namespace tests_unit_http {

namespace {

using namespace llmbatch;

std::vector<std::pair<std::string, std::string>> fields_of(const HttpHeaders& h) {
    return {h.begin(), h.end()};
}

}  // namespace

TEST_SUITE("unit") {

TEST_CASE("HttpHeaders looks names up without regard to case") {
    HttpHeaders h{{"Content-Type", "application/json"}, {"x-goog-api-key", "secret"}};
    CHECK(h.size() == 2);
    CHECK_FALSE(h.empty());
    CHECK(h.get("content-type") == "application/json");
    CHECK(h.get("CONTENT-TYPE") == "application/json");
    CHECK(h.get("X-Goog-Api-Key") == "secret");
    CHECK(h.contains("x-GOOG-api-KEY"));
    CHECK_FALSE(h.contains("Content-Length"));
    CHECK_FALSE(h.get("Content-Length").has_value());
    // A name that is a prefix of another is a different name.
    CHECK_FALSE(h.contains("Content"));
    CHECK_FALSE(h.contains("Content-Type2"));
}

TEST_CASE("an empty HttpHeaders holds nothing") {
    const HttpHeaders h;
    CHECK(h.empty());
    CHECK(h.size() == 0);
    CHECK(h.begin() == h.end());
    CHECK_FALSE(h.get("Anything").has_value());
}

TEST_CASE("HttpHeaders::add keeps earlier fields of the same name; get returns the first") {
    HttpHeaders h;
    h.add("Accept", "application/json");
    h.add("accept", "text/plain");
    CHECK(h.size() == 2);
    CHECK(h.get("ACCEPT") == "application/json");
    CHECK(fields_of(h) == std::vector<std::pair<std::string, std::string>>{{"Accept", "application/json"},
                                                                         {"accept", "text/plain"}});
}

TEST_CASE("HttpHeaders::set replaces every field of that name, whatever its case") {
    HttpHeaders h;
    h.add("Host", "example.com");
    h.add("Accept", "a");
    h.add("User-Agent", "llmbatch");
    h.add("ACCEPT", "b");
    h.set("accept", "c");
    CHECK(h.size() == 3);
    CHECK(h.get("Accept") == "c");
    // The other fields keep their order; the new field is appended under the name given to set.
    CHECK(fields_of(h) == std::vector<std::pair<std::string, std::string>>{
                              {"Host", "example.com"}, {"User-Agent", "llmbatch"}, {"accept", "c"}});

    SUBCASE("set on an absent name adds it") {
        h.set("Content-Type", "application/json");
        CHECK(h.size() == 4);
        CHECK(h.get("content-type") == "application/json");
    }
}

TEST_CASE("HttpHeaders::erase removes every field of that name and nothing else") {
    HttpHeaders h{{"A", "1"}, {"b", "2"}, {"a", "3"}, {"C", "4"}};
    h.erase("a");
    CHECK_FALSE(h.contains("A"));
    CHECK(fields_of(h) == std::vector<std::pair<std::string, std::string>>{{"b", "2"}, {"C", "4"}});
    h.erase("missing");
    CHECK(h.size() == 2);
}

TEST_CASE("HttpHeaders iterates in insertion order") {
    HttpHeaders h;
    h.add("Z", "1");
    h.add("A", "2");
    h.add("M", "3");
    std::string names;
    for (const auto& [name, value] : h) names += name + "=" + value + ";";
    CHECK(names == "Z=1;A=2;M=3;");
}

TEST_CASE("HttpRequest and HttpResponse defaults") {
    const HttpRequest req;
    CHECK(req.method.empty());
    CHECK(req.url.empty());
    CHECK(req.headers.empty());
    CHECK(req.body.empty());

    const HttpResponse res;
    CHECK(res.status == 200);
    CHECK(res.ok());
    CHECK(res.headers.empty());
    CHECK(res.body.empty());
}

TEST_CASE("HttpResponse::ok is true exactly for 2xx") {
    HttpResponse r;
    r.status = 199;
    CHECK_FALSE(r.ok());
    r.status = 200;
    CHECK(r.ok());
    r.status = 204;
    CHECK(r.ok());
    r.status = 299;
    CHECK(r.ok());
    r.status = 300;
    CHECK_FALSE(r.ok());
    r.status = 404;
    CHECK_FALSE(r.ok());
    r.status = 429;
    CHECK_FALSE(r.ok());
    r.status = 500;
    CHECK_FALSE(r.ok());
    r.status = 0;
    CHECK_FALSE(r.ok());
}

TEST_CASE("url_path extracts the path of a URL") {
    CHECK(url_path("https://generativelanguage.googleapis.com/v1beta/batches/abc") == "/v1beta/batches/abc");
    CHECK(url_path("https://host:1/v1beta/batches/x?a=b") == "/v1beta/batches/x");
    CHECK(url_path("http://localhost:8080/v1/files?pageSize=10&pageToken=t#frag") == "/v1/files");
    CHECK(url_path("https://host/v1/x#frag") == "/v1/x");
    CHECK(url_path("https://host/") == "/");
    SUBCASE("no path gives /") {
        CHECK(url_path("https://host") == "/");
        CHECK(url_path("https://host:443") == "/");
        CHECK(url_path("https://host?x=1") == "/");
    }
    SUBCASE("a URL without a scheme is taken as a path") {
        CHECK(url_path("/v1beta/batches/x?pageSize=5") == "/v1beta/batches/x");
        CHECK(url_path("/v1beta/models/gemini-2.5-flash:batchGenerateContent") ==
              "/v1beta/models/gemini-2.5-flash:batchGenerateContent");
    }
}

TEST_CASE("url_path of a URL without a path ignores slashes in its query or fragment") {
    CHECK(url_path("https://host?next=/x") == "/");
    CHECK(url_path("https://host#/section") == "/");
}

TEST_CASE("url_query returns the query without ? and fragment") {
    CHECK(url_query("https://host/v1/batches?pageSize=10&pageToken=abc") == "pageSize=10&pageToken=abc");
    CHECK(url_query("https://host/v1/batches?pageSize=10#frag") == "pageSize=10");
    CHECK(url_query("https://host/v1/batches") == "");
    CHECK(url_query("https://host/v1/batches#frag") == "");
    CHECK(url_query("https://host/v1/batches?") == "");
    CHECK(url_query("/v1/batches?a=1") == "a=1");
}

TEST_CASE("url_query ignores a ? inside the fragment") {
    CHECK(url_query("https://host/p#frag?x=1") == "");
}

TEST_CASE("query_param finds a parameter by its exact name") {
    const std::string q = "pageSize=10&pageToken=abc&filter=";
    CHECK(query_param(q, "pageSize") == "10");
    CHECK(query_param(q, "pageToken") == "abc");
    SUBCASE("absent") {
        CHECK_FALSE(query_param(q, "page").has_value());
        CHECK_FALSE(query_param(q, "size").has_value());
        CHECK_FALSE(query_param("", "pageSize").has_value());
    }
    SUBCASE("present with an empty value") {
        CHECK(query_param(q, "filter") == "");
        CHECK(query_param("a=1&flag&b=2", "flag") == "");
    }
    SUBCASE("a name that is a prefix of another does not match the longer one") {
        CHECK(query_param("pageSize=10&page=2", "page") == "2");
        CHECK(query_param("page=2&pageSize=10", "pageSize") == "10");
        CHECK_FALSE(query_param("pageSize=10", "page").has_value());
        CHECK_FALSE(query_param("page=2", "pageSize").has_value());
    }
    SUBCASE("the first occurrence wins and values are not decoded") {
        CHECK(query_param("a=1&a=2", "a") == "1");
        CHECK(query_param("token=a%2Fb", "token") == "a%2Fb");
        CHECK(query_param("expr=x=y", "expr") == "x=y");
    }
    SUBCASE("names are case-sensitive") {
        CHECK_FALSE(query_param("PageSize=10", "pageSize").has_value());
    }
}

TEST_CASE("query_param of url_query reads a parameter from a full URL") {
    const std::string url = "https://generativelanguage.googleapis.com/v1beta/batches?pageSize=50&pageToken=next";
    CHECK(query_param(url_query(url), "pageToken") == "next");
    CHECK(query_param(url_query(url), "pageSize") == "50");
}

TEST_CASE("is_path_safe_id takes ids that cannot alter a URL path, and nothing else") {
    using llmbatch::detail::is_path_safe_id;
    CHECK(is_path_safe_id("batch_abc-DEF.123", 200));
    CHECK(is_path_safe_id(std::string(128, 'a'), 128));
    CHECK_FALSE(is_path_safe_id(std::string(129, 'a'), 128));
    CHECK_FALSE(is_path_safe_id("", 10));
    CHECK_FALSE(is_path_safe_id(".", 10));
    CHECK_FALSE(is_path_safe_id("..", 10));
    CHECK(is_path_safe_id("...", 10));
    for (const char* bad : {"a/b", "a?b", "a#b", "a%2Fb", "a b", "a\\b", "a:b", "caf\xC3\xA9", "a\nb"})
        CHECK_MESSAGE(!is_path_safe_id(bad, 200), bad);
    static_assert(is_path_safe_id("models", 10));
    // A narrower set, as file ids and Anthropic ids take: no '.'.
    CHECK(is_path_safe_id("file-ABC_123", 64, "-_"));
    CHECK_FALSE(is_path_safe_id("file.txt", 64, "-_"));
    CHECK_FALSE(is_path_safe_id("a/b", 64, "-_"));
}

}  // TEST_SUITE("unit")

}  // namespace tests_unit_http
