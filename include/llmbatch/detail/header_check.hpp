#pragma once
/// @file detail/header_check.hpp
/// Checks the HTTP transports run on a request before sending any byte of it, and the URL form
/// they put in diagnostics.
///
/// A header value holding CR or LF would let one header smuggle in others (or a second request);
/// a NUL would silently cut the value short in C APIs. Such a request is refused with
/// `InvalidArgument` naming the header, never its value (the value may be an API key).

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"

namespace llmbatch::detail {

/// True for the characters RFC 9110 allows in a token (a header name or a method).
[[nodiscard]] constexpr bool is_token_char(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
        case '-': case '.': case '^': case '_': case '`': case '|': case '~':
            return true;
        default:
            return false;
    }
}

/// True when `s` is a non-empty token.
[[nodiscard]] constexpr bool is_token(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_token_char(c)) return false;
    return true;
}

/// True when `c` may appear in a header value: anything but the control characters
/// (CR, LF, NUL, the other C0 controls and DEL); horizontal tab is allowed.
[[nodiscard]] constexpr bool is_header_value_char(char c) noexcept {
    const auto u = static_cast<unsigned char>(c);
    return u == '\t' || (u >= 0x20 && u != 0x7f);
}

/// `s` with every byte outside printable ASCII written as `\xNN`, for diagnostics.
[[nodiscard]] inline std::string printable(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f)
            out += c;
        else
            out += fmt::format("\\x{:02X}", static_cast<unsigned>(u));
    }
    return out;
}

/// Refuses header fields that cannot be sent as they are.
///
/// A name must be a non-empty token (no CR, LF, `:`, space or other separator); a value must hold
/// no control character other than horizontal tab (in particular no CR, LF or NUL).
/// @throws InvalidArgument naming the first offending header; the message never contains a value.
///
/// **Example**: `check_header_safety({{"x-goog-api-key", "a\r\nb"}})` throws
/// `InvalidArgument("The value of request header 'x-goog-api-key' contains a control character ...")`.
inline void check_header_safety(const HttpHeaders& headers) {
    for (const auto& [name, value] : headers) {
        if (!is_token(name))
            throw InvalidArgument(fmt::format(
                "The request header name '{}' is not a valid HTTP token (it is empty or contains a control "
                "character, a colon, a space or another separator); the request was not sent.",
                printable(name)));
        for (char c : value)
            if (!is_header_value_char(c))
                throw InvalidArgument(fmt::format(
                    "The value of request header '{}' contains a control character (such as CR, LF or NUL); "
                    "the request was not sent.",
                    name));
    }
}

/// The URL as it may appear in diagnostics: without user information, query string or fragment
/// (a query string may carry a key). `https://u:p@host/v1/x?key=k` gives `https://host/v1/x`.
[[nodiscard]] inline std::string url_for_messages(std::string_view url) {
    url = url.substr(0, url.find_first_of("?#"));
    std::string_view scheme;
    if (auto sep = url.find("://"); sep != std::string_view::npos) {
        scheme = url.substr(0, sep + 3);
        url.remove_prefix(sep + 3);
    }
    const auto end_of_authority = url.find('/');
    const auto at = url.substr(0, end_of_authority).rfind('@');
    if (at != std::string_view::npos) url.remove_prefix(at + 1);
    return printable(std::string(scheme) + std::string(url));
}

/// Refuses a method that is not a token and a URL holding spaces or control characters.
/// @throws InvalidArgument; the URL is named without its query string.
inline void check_request_line_safety(const HttpRequest& request) {
    if (!is_token(request.method))
        throw InvalidArgument(fmt::format(
            "The request method '{}' is not a valid HTTP token; the request was not sent.", printable(request.method)));
    for (char c : request.url) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f)
            throw InvalidArgument(fmt::format(
                "The URL of {} {} contains a space or a control character; the request was not sent.",
                request.method, url_for_messages(request.url)));
    }
}

/// Runs `check_request_line_safety` and `check_header_safety` on `request`.
/// @throws InvalidArgument when the request cannot be sent as it is.
inline void check_request_safety(const HttpRequest& request) {
    check_request_line_safety(request);
    check_header_safety(request.headers);
}

}  // namespace llmbatch::detail
