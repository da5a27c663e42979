#pragma once
/// @file impl/json_filter.ipp
/// The search behind `filter_json` (json_filter.hpp), and its definitions: included by
/// json_filter.hpp (header-only), or compiled once in `<llmbatch/src.hpp>`
/// (`LLMBATCH_SEPARATE_COMPILATION`).

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/fast_json.hpp"
#include "llmbatch/json_filter.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"

namespace llmbatch {

namespace detail {

/// The UTF-8 byte order mark, skipped at the start of model text.
inline constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

/// Whitespace as JSON defines it.
[[nodiscard]] constexpr bool is_json_space(char ch) noexcept {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

[[nodiscard]] constexpr bool is_digit(char ch) noexcept { return ch >= '0' && ch <= '9'; }

/// Whether only whitespace separates `text[i]` from a closing bracket.
[[nodiscard]] constexpr bool closer_follows(std::string_view text, std::size_t i) noexcept {
    while (i < text.size() && is_json_space(text[i])) ++i;
    return i < text.size() && (text[i] == '}' || text[i] == ']');
}

/// Follows JSON strings through a scan: `step(ch)` takes the next byte and says whether it
/// belongs to a string (its quotes included), minding escaped quotes.
struct JsonStringScan {
    bool in_string = false;
    bool escaped = false;

    constexpr bool step(char ch) noexcept {
        if (in_string) {
            if (escaped)
                escaped = false;
            else if (ch == '\\')
                escaped = true;
            else if (ch == '"')
                in_string = false;
            return true;
        }
        in_string = ch == '"';
        return in_string;
    }
};

/// Reads `text` from an opening bracket as JSON input in which every trailing comma reads as
/// a space. A trailing comma is a comma outside strings that follows a value (not `[`, `{`,
/// `,` or `:`) and precedes, past whitespace only, `}` or `]`. Byte offsets are those of
/// `text`, so a parser's error position points into the text itself. An input iterator for
/// nlohmann's iterator-pair `parse` and `sax_parse`.
class TrailingCommaReader {
public:
    using iterator_category = std::input_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = char;

    TrailingCommaReader() = default;
    /// Reads `text` from `pos`, which must be outside any string.
    TrailingCommaReader(std::string_view text, std::size_t pos) noexcept : text_(text), pos_(pos) {}

    [[nodiscard]] char operator*() const noexcept {
        const char ch = text_[pos_];
        if (ch == ',' && !strings_.in_string && after_value() && closer_follows(text_, pos_ + 1)) return ' ';
        return ch;
    }

    TrailingCommaReader& operator++() noexcept {
        const char ch = text_[pos_];
        const bool was_in_string = strings_.in_string;
        if (strings_.step(ch)) {
            if (was_in_string) last_ = ch;  // the opening quote is not yet a value
        } else if (!is_json_space(ch)) {
            last_ = ch;
        }
        ++pos_;
        return *this;
    }

    TrailingCommaReader operator++(int) noexcept {
        TrailingCommaReader before = *this;
        ++*this;
        return before;
    }

    friend bool operator==(const TrailingCommaReader& a, const TrailingCommaReader& b) noexcept {
        return a.pos_ == b.pos_;
    }

private:
    [[nodiscard]] bool after_value() const noexcept {
        return last_ != '[' && last_ != '{' && last_ != ',' && last_ != ':';
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    JsonStringScan strings_;
    char last_ = '[';  // the last byte outside strings that is not whitespace
};

/// The outcome of `structural_check`.
struct StructuralCheck {
    enum Kind { complete, error, out_of_input } kind = complete;
    std::size_t token = 0;        ///< for `error`: where the token that cannot be there starts
    std::size_t scanned = 0;      ///< bytes examined
    bool trailing_comma = false;  ///< whether a trailing comma was dropped on the way
};

[[nodiscard]] constexpr bool is_hex_digit(char ch) noexcept {
    return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/// A quick check of the grammar of `text[p, end)` (an opening bracket onwards), with trailing
/// commas dropped as `TrailingCommaReader` drops them. It does not check UTF-8 or surrogate
/// pairs, so `complete` and `out_of_input` still need the full parser; but an `error` is one
/// the full parser reports too, at that token or before it. It is much cheaper than the full
/// parser when the text fails early, as prose in brackets does. `frames` is scratch space.
[[nodiscard]] inline StructuralCheck structural_check(std::string_view text, std::size_t p, std::size_t end,
                                                      std::vector<char>& frames) {
    enum class Want { value, value_or_close, key, key_or_close, colon, comma_or_close };
    frames.clear();
    Want want = Want::value;
    std::size_t i = p;
    bool trailing_comma = false;
    const auto outcome = [&](StructuralCheck::Kind kind, std::size_t token) {
        return StructuralCheck{kind, token, std::min(i, end) - p + 1, trailing_comma};
    };
    const auto fail = [&](std::size_t token) { return outcome(StructuralCheck::error, token); };
    const auto out_of_input = [&] { return outcome(StructuralCheck::out_of_input, end); };
    // Reads the digits at `i`; whether there was one.
    const auto digits = [&] {
        const std::size_t first = i;
        while (i < end && is_digit(text[i])) ++i;
        return i > first;
    };

    while (i < end) {
        const char ch = text[i];
        if (is_json_space(ch)) {
            ++i;
            continue;
        }
        const std::size_t token = i;
        const bool closes = ch == '}' || ch == ']';
        if (closes && (want == Want::comma_or_close || (want == Want::value_or_close && ch == ']') ||
                       (want == Want::key_or_close && ch == '}'))) {
            if ((ch == '}') != (frames.back() == '{')) return fail(token);
            frames.pop_back();
            ++i;
            if (frames.empty()) return i == end ? outcome(StructuralCheck::complete, 0) : fail(i);
            want = Want::comma_or_close;
            continue;
        }
        switch (want) {
            case Want::colon:
                if (ch != ':') return fail(token);
                want = Want::value;
                ++i;
                continue;
            case Want::comma_or_close:
                if (ch != ',') return fail(token);
                if (closer_follows(text.substr(0, end), i + 1))
                    trailing_comma = true;
                else
                    want = frames.back() == '{' ? Want::key : Want::value;
                ++i;
                continue;
            case Want::key:
            case Want::key_or_close:
                if (ch != '"') return fail(token);
                break;
            case Want::value:
            case Want::value_or_close:
                break;
        }
        if (ch == '{' || ch == '[') {
            frames.push_back(ch);
            want = ch == '{' ? Want::key_or_close : Want::value_or_close;
            ++i;
            continue;
        }
        want = (want == Want::key || want == Want::key_or_close) ? Want::colon : Want::comma_or_close;
        if (ch == '"') {
            for (++i;; ++i) {
                if (i == end) return out_of_input();
                const auto byte = static_cast<unsigned char>(text[i]);
                if (byte == '"') break;
                if (byte < 0x20u) return fail(token);  // a control character must be escaped
                if (byte != '\\') continue;
                if (++i == end) return out_of_input();
                const char escaped = text[i];
                if (escaped == 'u') {
                    for (int hex = 0; hex < 4; ++hex) {
                        if (++i == end) return out_of_input();
                        if (!is_hex_digit(text[i])) return fail(token);
                    }
                } else if (std::string_view("\"\\/bfnrt").find(escaped) == std::string_view::npos) {
                    return fail(token);
                }
            }
            ++i;
            continue;
        }
        if (ch == '-' || is_digit(ch)) {
            // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, read as the full parser reads it.
            if (text[i] == '-') ++i;
            if (i < end && text[i] == '0')
                ++i;
            else if (!digits())
                return i == end ? out_of_input() : fail(token);
            if (i < end && text[i] == '.') {
                ++i;
                if (!digits()) return i == end ? out_of_input() : fail(token);
            }
            if (i < end && (text[i] == 'e' || text[i] == 'E')) {
                ++i;
                if (i < end && (text[i] == '+' || text[i] == '-')) ++i;
                if (!digits()) return i == end ? out_of_input() : fail(token);
            }
            continue;
        }
        const std::string_view literal = ch == 't' ? "true" : ch == 'f' ? "false" : ch == 'n' ? "null" : "";
        if (literal.empty()) return fail(token);
        const std::string_view rest = text.substr(i, std::min(literal.size(), end - i));
        if (rest != literal.substr(0, rest.size())) return fail(token);
        if (rest.size() < literal.size()) return out_of_input();
        i += literal.size();
    }
    return out_of_input();
}

/// A SAX handler that only checks syntax and remembers where an error was found.
struct JsonSyntaxCheck {
    bool failed = false;
    std::size_t error_position = 0;  ///< bytes read when the error was found (nlohmann's position)

    bool null() { return true; }
    bool boolean(bool) { return true; }
    bool number_integer(Json::number_integer_t) { return true; }
    bool number_unsigned(Json::number_unsigned_t) { return true; }
    bool number_float(Json::number_float_t, const Json::string_t&) { return true; }
    bool string(Json::string_t&) { return true; }
    bool binary(Json::binary_t&) { return true; }
    bool start_object(std::size_t) { return true; }
    bool key(Json::string_t&) { return true; }
    bool end_object() { return true; }
    bool start_array(std::size_t) { return true; }
    bool end_array() { return true; }
    bool parse_error(std::size_t position, const std::string&, const Json::exception&) {
        failed = true;
        error_position = position;
        return false;
    }
};

/// A SAX handler that builds the value as `Json::parse` does and, like `JsonSyntaxCheck`,
/// remembers where an error was found: one pass both checks a candidate and reads it. Nesting
/// is followed on a stack of its own, not by recursion.
class JsonDomBuilder {
public:
    bool failed = false;
    std::size_t error_position = 0;  ///< bytes read when the error was found (nlohmann's position)
    Json value;                      ///< the value read, complete when the parse succeeded

    bool null() { return put(nullptr); }
    bool boolean(bool b) { return put(b); }
    bool number_integer(Json::number_integer_t n) { return put(n); }
    bool number_unsigned(Json::number_unsigned_t n) { return put(n); }
    bool number_float(Json::number_float_t x, const Json::string_t&) { return put(x); }
    bool string(Json::string_t& s) { return put(std::move(s)); }
    bool binary(Json::binary_t& b) { return put(b); }
    bool start_object(std::size_t) { return open(Json::value_t::object); }
    bool key(Json::string_t& k) {
        // As Json::parse: a repeated key keeps its place and takes the later value.
        member_ = &(*open_.back())[std::move(k)];
        return true;
    }
    bool end_object() { return close(); }
    bool start_array(std::size_t) { return open(Json::value_t::array); }
    bool end_array() { return close(); }
    bool parse_error(std::size_t position, const std::string&, const Json::exception&) {
        failed = true;
        error_position = position;
        return false;
    }

private:
    /// Stores `v` where the next value goes: the root, the end of the open array, or the
    /// member of the open object whose key was read last.
    template <class V>
    Json* place(V&& v) {
        if (open_.empty()) {
            value = Json(std::forward<V>(v));
            return &value;
        }
        Json& parent = *open_.back();
        if (parent.is_array()) {
            parent.emplace_back(std::forward<V>(v));
            return &parent.back();
        }
        *member_ = Json(std::forward<V>(v));
        return member_;
    }

    template <class V>
    bool put(V&& v) {
        place(std::forward<V>(v));
        return true;
    }

    bool open(Json::value_t type) {
        open_.push_back(place(type));
        return true;
    }

    bool close() {
        open_.pop_back();
        return true;
    }

    std::vector<Json*> open_;  // the arrays and objects being read, innermost last
    Json* member_ = nullptr;
};

/// How much scanning and parsing one extraction may do before it gives up. Realistic text uses
/// a few bytes of work per byte; only adversarial mixes of quotes, escapes and unbalanced
/// brackets come near the limit.
class WorkBudget {
public:
    explicit WorkBudget(std::size_t text_size) noexcept : left_(32 * text_size + (std::size_t{1} << 20)) {}

    /// Takes `amount` from the budget; false (and the budget empty) when it was not there.
    bool spend(std::size_t amount) noexcept {
        if (amount > left_) {
            left_ = 0;
            exhausted_ = true;
            return false;
        }
        left_ -= amount;
        return true;
    }

    [[nodiscard]] bool exhausted() const noexcept { return exhausted_; }

private:
    std::size_t left_;
    bool exhausted_ = false;
};

/// What a search for the first JSON value found.
enum class JsonSearchStatus {
    found,      ///< `value` holds the first complete object or array
    none,       ///< no object or array in the text
    cut_off,    ///< the first candidate is valid JSON cut off by the end of the text
    exhausted,  ///< the work budget ran out
};

struct JsonSearch {
    JsonSearchStatus status = JsonSearchStatus::none;
    Json value = nullptr;
    std::size_t offset = 0;  ///< where the value (or the cut-off one) starts, after any byte order mark
};

/// The search for the first complete JSON object or array in one piece of text.
///
/// Every `{` and `[` is a candidate. A candidate's extent comes from a scan that skips JSON
/// strings; the scan of one candidate also settles every bracket it meets outside strings
/// (each of those brackets would scan the same bytes), so a text is mostly scanned once
/// however many unmatched brackets it holds. Only brackets that lay inside a string from an
/// earlier candidate's point of view need a scan of their own.
class FirstJsonValueSearch {
public:
    FirstJsonValueSearch(std::string_view text, WorkBudget& budget) : text_(text), budget_(budget) {}

    /// Passes over the candidates in `text[begin, end)`: none of them is returned.
    void exclude(std::size_t begin, std::size_t end) { excluded_.emplace_back(begin, end); }

    [[nodiscard]] JsonSearch run() {
        std::size_t pos = 0;
        for (;;) {
            const std::size_t p = text_.find_first_of("{[", pos);
            if (p == std::string_view::npos) return {};
            pos = p + 1;
            if (close_.empty()) {
                close_.assign(text_.size(), unknown);
                rejected_.assign(text_.size(), false);
                for (const auto& [begin, end] : excluded_)
                    for (std::size_t i = begin; i < end && i < text_.size(); ++i) rejected_[i] = true;
            }
            if (rejected_[p]) continue;
            if (close_[p] == unknown && !budget_.spend(scan_brackets(p)))
                return {JsonSearchStatus::exhausted, nullptr, p};
            const std::size_t c = close_[p];
            if (c == mismatched) continue;

            const bool cut_off = c == unclosed;
            const std::size_t end = cut_off ? text_.size() : c + 1;
            auto [error_position, work, value] = read_candidate(p, end);
            if (!budget_.spend(work)) return {JsonSearchStatus::exhausted, nullptr, p};
            if (error_position == 0) return {JsonSearchStatus::found, std::move(value), p};
            // A parser that read past the last byte ran out of input while everything so far
            // was valid: the value was cut off, and nothing inside it is a value of its own.
            if (cut_off && error_position > end - p) return {JsonSearchStatus::cut_off, nullptr, p};
            rejected_[p] = true;
            if (!budget_.spend(reject_nested(p, p + error_position)))
                return {JsonSearchStatus::exhausted, nullptr, p};
        }
    }

private:
    static constexpr std::size_t unknown = static_cast<std::size_t>(-1);
    static constexpr std::size_t unclosed = static_cast<std::size_t>(-2);    // reaches the end of the text
    static constexpr std::size_t mismatched = static_cast<std::size_t>(-3);  // `[` closed by `}` or the reverse

    [[nodiscard]] static bool is_settled_span(std::size_t close) noexcept { return close < mismatched; }

    /// Scans the candidate at `start` and settles it and every bracket it meets outside strings.
    /// Returns the number of bytes examined.
    std::size_t scan_brackets(std::size_t start) {
        stack_.clear();
        stack_.push_back(start);
        const auto settle_all = [this](std::size_t outcome) {
            for (const std::size_t open : stack_) close_[open] = outcome;
            stack_.clear();
        };
        JsonStringScan strings;
        for (std::size_t i = start + 1; i < text_.size(); ++i) {
            const char ch = text_[i];
            if (strings.step(ch)) continue;
            switch (ch) {
                case '{':
                case '[': {
                    const std::size_t known = close_[i];
                    if (known == unknown) {
                        stack_.push_back(i);
                    } else if (is_settled_span(known)) {
                        i = known;  // already scanned: a balanced span, continue after it
                    } else {
                        settle_all(known);  // it fails, and so does everything around it
                        return i - start;
                    }
                    break;
                }
                case '}':
                case ']': {
                    const std::size_t top = stack_.back();
                    if ((text_[top] == '{') != (ch == '}')) {
                        settle_all(mismatched);
                        return i - start;
                    }
                    close_[top] = i;
                    stack_.pop_back();
                    if (stack_.empty()) return i - start + 1;
                    break;
                }
                default:
                    break;
            }
        }
        settle_all(unclosed);
        return text_.size() - start;
    }

    struct CandidateRead {
        std::size_t error_position = 0;  ///< 0: valid; else bytes read from `p` when the error was found
        std::size_t work = 0;            ///< bytes examined
        Json value = nullptr;            ///< the value, when valid
    };

    /// Whether `text_[p, end)` is one JSON value once trailing commas are dropped, and that
    /// value; if not, the error position, one more than the span's length when the input ran
    /// out. A span the quick check finds complete is read into a value in the same pass that
    /// checks it; one that runs out of input cannot be a value, and is only checked.
    [[nodiscard]] CandidateRead read_candidate(std::size_t p, std::size_t end) {
        const StructuralCheck quick = structural_check(text_, p, end, frames_);
        if (quick.kind == StructuralCheck::error) return {quick.token - p + 1, quick.scanned};

        const std::string_view span = text_.substr(0, end);
        const auto parse = [&](auto& handler) {
            const bool ok = Json::sax_parse(TrailingCommaReader(span, p), TrailingCommaReader(span, end), &handler);
            return ok && !handler.failed;
        };
        const auto failed = [&](std::size_t error_position) -> CandidateRead {
            const std::size_t position = error_position == 0 ? 1 : error_position;
            return {position, quick.scanned + position};
        };
        if (quick.kind == StructuralCheck::out_of_input) {
            JsonSyntaxCheck check;
            if (!parse(check)) return failed(check.error_position);
        }
        JsonDomBuilder read;
        if (!parse(read)) return failed(read.error_position);
        return {0, quick.scanned + (end - p), std::move(read.value)};
    }

    /// After the candidate at `p` failed to parse, with the error in the bytes before
    /// `error_end`: every bracket nested in it that opens before the erroneous token and does
    /// not close before `error_end` holds the same error, so it is rejected without a parse.
    /// Brackets inside strings are left alone. Returns the number of bytes examined.
    std::size_t reject_nested(std::size_t p, std::size_t error_end) {
        const std::size_t limit = std::min(error_end - 1, text_.size());
        JsonStringScan strings;
        for (std::size_t q = p + 1; q < limit; ++q) {
            const char ch = text_[q];
            if (strings.step(ch)) continue;
            if (ch == '{' || ch == '[') {
                const std::size_t c = close_[q];
                if (c == unclosed || (is_settled_span(c) && c >= error_end)) rejected_[q] = true;
            }
        }
        return limit > p ? limit - p : 0;
    }

    std::string_view text_;
    WorkBudget& budget_;
    std::vector<std::size_t> close_;  // per byte: the matching closer of a bracket, or a sentinel
    std::vector<bool> rejected_;      // per byte: a candidate known not to be the answer
    std::vector<std::size_t> stack_;
    std::vector<char> frames_;
    std::vector<std::pair<std::size_t, std::size_t>> excluded_;
};

/// A fenced code block of Markdown text.
struct CodeFence {
    std::string_view language;  ///< first word of the info string, empty if none
    std::string_view content;   ///< the lines between the fences
};

/// The line `[begin, end)` without a trailing `\r`.
[[nodiscard]] inline std::string_view line_at(std::string_view text, std::size_t begin, std::size_t end) noexcept {
    std::string_view line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

[[nodiscard]] inline std::string_view trim_horizontal(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

/// The fenced code blocks of `text`, in order. An opening fence is a line of three or more
/// backticks (or tildes), possibly indented, then an info string (which, for backticks, holds
/// no backtick); the block ends at a line of at least as many of the same character and
/// nothing else, or at the end of the text. Lines inside a block open no block.
[[nodiscard]] inline std::vector<CodeFence> find_code_fences(std::string_view text) {
    std::vector<CodeFence> fences;
    const auto line_end_from = [&](std::size_t begin) {
        const std::size_t nl = text.find('\n', begin);
        return nl == std::string_view::npos ? text.size() : nl;
    };
    const auto fence_run = [](std::string_view line, char& fence_char) -> std::size_t {
        line = trim_horizontal(line);
        if (line.size() < 3 || (line[0] != '`' && line[0] != '~')) return 0;
        fence_char = line[0];
        std::size_t run = 0;
        while (run < line.size() && line[run] == fence_char) ++run;
        return run >= 3 ? run : 0;
    };

    std::size_t begin = 0;
    while (begin < text.size()) {
        const std::size_t end = line_end_from(begin);
        const std::string_view line = trim_horizontal(line_at(text, begin, end));
        char fence_char = 0;
        const std::size_t run = fence_run(line, fence_char);
        const std::string_view info = run ? trim_horizontal(line.substr(run)) : std::string_view{};
        if (run == 0 || (fence_char == '`' && info.find('`') != std::string_view::npos)) {
            begin = end + 1;
            continue;
        }
        CodeFence fence;
        fence.language = info.substr(0, info.find_first_of(" \t"));
        const std::size_t content_begin = std::min(end + 1, text.size());
        std::size_t next = content_begin;
        std::size_t content_end = text.size();
        while (next < text.size()) {
            const std::size_t next_end = line_end_from(next);
            const std::string_view candidate = trim_horizontal(line_at(text, next, next_end));
            char closing_char = 0;
            const std::size_t closing_run = fence_run(candidate, closing_char);
            if (closing_run >= run && closing_char == fence_char && closing_run == candidate.size()) {
                content_end = next;
                next = next_end + 1;
                break;
            }
            next = next_end + 1;
        }
        fence.content = text.substr(content_begin, content_end - content_begin);
        fences.push_back(fence);
        begin = next;
    }
    return fences;
}

[[nodiscard]] inline bool is_json_language(std::string_view language) noexcept {
    if (language.size() != 4) return false;
    constexpr std::string_view json = "json";
    for (std::size_t i = 0; i < 4; ++i) {
        const char ch = language[i] >= 'A' && language[i] <= 'Z' ? static_cast<char>(language[i] - 'A' + 'a') : language[i];
        if (ch != json[i]) return false;
    }
    return true;
}

/// `text` without a UTF-8 byte order mark at its start.
[[nodiscard]] inline std::string_view without_bom(std::string_view text) noexcept {
    if (text.substr(0, utf8_bom.size()) == utf8_bom) text.remove_prefix(utf8_bom.size());
    return text;
}

/// Applies rules 2 to 4 documented at `filter_json` to `text` (its byte order mark removed),
/// whose code blocks are `fences`, and says what they found.
[[nodiscard]] inline JsonSearch search_json_in(std::string_view text, const std::vector<CodeFence>& fences) {
    WorkBudget budget(text.size());

    FirstJsonValueSearch whole_text(text, budget);
    std::optional<JsonSearch> first_cut_off;
    for (const bool json_tagged : {true, false}) {
        for (const CodeFence& fence : fences) {
            if (json_tagged ? !is_json_language(fence.language) : !fence.language.empty()) continue;
            JsonSearch found = FirstJsonValueSearch(fence.content, budget).run();
            const auto content_offset = static_cast<std::size_t>(fence.content.data() - text.data());
            found.offset += content_offset;
            if (found.status == JsonSearchStatus::found || found.status == JsonSearchStatus::exhausted) return found;
            if (found.status == JsonSearchStatus::cut_off) {
                // A truncated answer: no part of it may stand in for the whole.
                whole_text.exclude(found.offset, content_offset + fence.content.size());
                if (!first_cut_off || found.offset < first_cut_off->offset) first_cut_off = found;
            }
        }
    }
    JsonSearch found = whole_text.run();
    if (found.status == JsonSearchStatus::none && first_cut_off) return *first_cut_off;
    return found;
}

/// Applies the rules documented at `filter_json` by the search alone and says what they found.
[[nodiscard]] inline JsonSearch search_json(std::string_view text) {
    text = without_bom(text);
    return search_json_in(text, find_code_fences(text));
}

/// The value `text` is, when `text` is nothing but one JSON object or array (trailing commas
/// dropped) with JSON whitespace around it; `base` is the offset of `text` in the text
/// searched. One quick check, then one parse: with the text's own bytes when the check met no
/// trailing comma, else as the search reads a candidate.
[[nodiscard]] inline std::optional<JsonSearch> whole_json_value(std::string_view text, std::size_t base) {
    std::size_t first = 0;
    std::size_t last = text.size();
    while (first < last && is_json_space(text[first])) ++first;
    while (last > first && is_json_space(text[last - 1])) --last;
    if (last - first < 2 || (text[first] != '{' && text[first] != '[')) return std::nullopt;
    std::vector<char> frames;
    const StructuralCheck quick = structural_check(text, first, last, frames);
    if (quick.kind != StructuralCheck::complete) return std::nullopt;
    if (!quick.trailing_comma) {
        Json value = parse_json(text.substr(first, last - first));
        if (value.is_discarded()) return std::nullopt;
        return JsonSearch{JsonSearchStatus::found, std::move(value), base + first};
    }
    const std::string_view span = text.substr(0, last);
    JsonDomBuilder read;
    if (!Json::sax_parse(TrailingCommaReader(span, first), TrailingCommaReader(span, last), &read) || read.failed)
        return std::nullopt;
    return JsonSearch{JsonSearchStatus::found, std::move(read.value), base + first};
}

/// What `search_json` finds, with one parse in the common case. When the text, its byte order
/// mark and surrounding whitespace aside, is one object or array (trailing commas dropped),
/// the search would take it: it is the text's first candidate, and such a text has no line a
/// code block could open with (every line starts outside strings, with whitespace or a JSON
/// token). Likewise the value that is the whole content of the first block tagged `json` (or,
/// with none, of the first block without an info string) is the first candidate the search
/// tries. Otherwise the search runs, on the code blocks already found.
[[nodiscard]] inline JsonSearch find_json(std::string_view text) {
    text = without_bom(text);
    if (std::optional<JsonSearch> whole = whole_json_value(text, 0)) return std::move(*whole);
    const std::vector<CodeFence> fences = find_code_fences(text);
    const auto tagged = std::find_if(fences.begin(), fences.end(),
                                     [](const CodeFence& f) { return is_json_language(f.language); });
    const auto first_tried = tagged != fences.end()
                                 ? tagged
                                 : std::find_if(fences.begin(), fences.end(),
                                                [](const CodeFence& f) { return f.language.empty(); });
    if (first_tried != fences.end()) {
        const auto content_offset = static_cast<std::size_t>(first_tried->content.data() - text.data());
        if (std::optional<JsonSearch> inside = whole_json_value(first_tried->content, content_offset))
            return std::move(*inside);
    }
    return search_json_in(text, fences);
}

/// The start of `text`, at most `max_bytes` long (never splitting a UTF-8 sequence), quoted,
/// with control characters, quotes and backslashes escaped, and `...` when shortened.
[[nodiscard]] inline std::string text_excerpt(std::string_view text, std::size_t max_bytes = 60) {
    bool shortened = false;
    if (text.size() > max_bytes) {
        std::size_t cut = max_bytes;
        while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0u) == 0x80u) --cut;
        text = text.substr(0, cut);
        shortened = true;
    }
    std::string out = "\"";
    for (const char ch : text) {
        switch (ch) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(ch) < 0x20u)
                    out += fmt::format("\\x{:02x}", static_cast<unsigned>(static_cast<unsigned char>(ch)));
                else
                    out += ch;
        }
    }
    out += shortened ? "...\"" : "\"";
    return out;
}

/// The message of the `JsonExtractionError` for `text` and what the search found.
[[nodiscard]] inline std::string json_extraction_message(std::string_view text, const JsonSearch& search) {
    std::string_view body = text;
    const std::size_t bom = body.substr(0, utf8_bom.size()) == utf8_bom ? utf8_bom.size() : 0;
    body.remove_prefix(bom);
    std::size_t first = 0;
    while (first < body.size() && is_json_space(body[first])) ++first;
    if (first == body.size())
        return body.empty() ? "The model text is empty, so it holds no JSON object or array."
                            : "The model text is only whitespace, so it holds no JSON object or array.";

    const std::string excerpt = text_excerpt(body.substr(first));
    switch (search.status) {
        case JsonSearchStatus::cut_off:
            return fmt::format(
                "The model text holds no complete JSON object or array: the JSON value at byte {} is cut off "
                "before its closing bracket, so the answer looks truncated ({} bytes, starting {}).",
                bom + search.offset, text.size(), excerpt);
        case JsonSearchStatus::exhausted:
            return fmt::format(
                "The model text holds too many unbalanced brackets and quotes to search it for a JSON object "
                "or array ({} bytes, starting {}).",
                text.size(), excerpt);
        default:
            return fmt::format("The model text holds no complete JSON object or array ({} bytes, starting {}).",
                               text.size(), excerpt);
    }
}

/// `filter_json` by the search alone, without the one-parse shortcut of `find_json`: the same
/// value, or the same error, for every text (tests hold the two to that).
[[nodiscard]] inline Json search_filter_json(std::string_view text) {
    JsonSearch search = search_json(text);
    if (search.status == JsonSearchStatus::found) return std::move(search.value);
    throw JsonExtractionError(json_extraction_message(text, search));
}

}  // namespace detail

LLMBATCH_DECL Json filter_json(std::string_view text) {
    detail::JsonSearch search = detail::find_json(text);
    if (search.status == detail::JsonSearchStatus::found) return std::move(search.value);
    throw JsonExtractionError(detail::json_extraction_message(text, search));
}

LLMBATCH_DECL std::optional<Json> try_filter_json(std::string_view text) noexcept {
    try {
        detail::JsonSearch search = detail::find_json(text);
        if (search.status == detail::JsonSearchStatus::found) return std::optional<Json>(std::move(search.value));
    } catch (...) {
    }
    return std::nullopt;
}

}  // namespace llmbatch
