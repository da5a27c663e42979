#pragma once
/// @file http.hpp
/// The HTTP vocabulary shared by providers and transports: `HttpRequest`, `HttpResponse`,
/// and a header list with case-insensitive look-up.

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace llmbatch {

namespace detail {
[[nodiscard]] inline bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}
/// True when `id` cannot alter a URL path it is put in: 1 to `max_size` ASCII letters, digits
/// and characters of `others` (by default `-`, `_` and `.`), and neither `.` nor `..`.
[[nodiscard]] constexpr bool is_path_safe_id(std::string_view id, std::size_t max_size,
                                             std::string_view others = "-_.") noexcept {
    if (id.empty() || id.size() > max_size || id == "." || id == "..") return false;
    for (const char c : id) {
        const bool letter_or_digit = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!letter_or_digit && others.find(c) == std::string_view::npos) return false;
    }
    return true;
}

}  // namespace detail

/// An ordered list of HTTP header fields; names compare case-insensitively.
class HttpHeaders {
public:
    using value_type = std::pair<std::string, std::string>;
    using const_iterator = std::vector<value_type>::const_iterator;

    HttpHeaders() = default;
    HttpHeaders(std::initializer_list<value_type> fields) : fields_(fields) {}

    /// Replaces every field called `name` with one field `name: value`.
    void set(std::string name, std::string value) {
        erase(name);
        fields_.emplace_back(std::move(name), std::move(value));
    }
    /// Appends a field, keeping any earlier field of the same name.
    void add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }
    /// Removes every field called `name`.
    void erase(std::string_view name) {
        std::erase_if(fields_, [&](const value_type& f) { return detail::iequals(f.first, name); });
    }
    /// The value of the first field called `name`, if any.
    [[nodiscard]] std::optional<std::string> get(std::string_view name) const {
        for (const auto& [k, v] : fields_)
            if (detail::iequals(k, name)) return v;
        return std::nullopt;
    }
    [[nodiscard]] bool contains(std::string_view name) const { return get(name).has_value(); }
    [[nodiscard]] bool empty() const noexcept { return fields_.empty(); }
    [[nodiscard]] std::size_t size() const noexcept { return fields_.size(); }
    [[nodiscard]] const_iterator begin() const noexcept { return fields_.begin(); }
    [[nodiscard]] const_iterator end() const noexcept { return fields_.end(); }

private:
    std::vector<value_type> fields_;
};

/// One HTTP request as a provider hands it to a transport.
struct HttpRequest {
    std::string method;   ///< `GET`, `POST`, `DELETE`, `PATCH`
    std::string url;      ///< absolute URL, query string included
    HttpHeaders headers;  ///< request headers (the API key travels here, never in the URL)
    std::string body;     ///< request body, empty for bodiless methods
};

/// One HTTP response as a transport hands it back. Any status is a successful exchange.
struct HttpResponse {
    int status = 200;
    HttpHeaders headers;
    std::string body;

    [[nodiscard]] bool ok() const noexcept { return status >= 200 && status < 300; }
};

/// Splits an absolute URL into its path (starting with `/`) and drops the query and fragment.
/// `https://host:1/v1beta/batches/x?a=b` gives `/v1beta/batches/x`.
[[nodiscard]] inline std::string url_path(std::string_view url) {
    std::string_view rest = url;
    if (auto scheme = rest.find("://"); scheme != std::string_view::npos) {
        rest.remove_prefix(scheme + 3);
        const auto end_of_host = rest.find_first_of("/?#");
        if (end_of_host == std::string_view::npos || rest[end_of_host] != '/') return "/";
        rest = rest.substr(end_of_host);
    }
    auto cut = rest.find_first_of("?#");
    return std::string(rest.substr(0, cut));
}

/// The query string of an absolute URL, without the `?` (empty when there is none).
[[nodiscard]] inline std::string url_query(std::string_view url) {
    url = url.substr(0, url.find('#'));
    auto q = url.find('?');
    if (q == std::string_view::npos) return {};
    return std::string(url.substr(q + 1));
}

/// The value of parameter `name` in a query string (no percent-decoding).
[[nodiscard]] inline std::optional<std::string> query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        auto amp = query.find('&');
        auto pair = query.substr(0, amp);
        auto eq = pair.find('=');
        if (pair.substr(0, eq) == name) return std::string(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

}  // namespace llmbatch
