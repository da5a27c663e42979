#pragma once
/// @file json_filter.hpp
/// `filter_json`: lenient extraction of one JSON object or array from a model's free text.
///
/// Models asked for JSON often wrap it in prose ("Here is the result: ..."), in a Markdown code
/// fence, or add a trailing comma. `filter_json` finds the value the model meant and parses it,
/// and refuses, with `JsonExtractionError`, when there is none, rather than guess.

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "llmbatch/detail/config.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/results.hpp"

namespace llmbatch {

/// Extracts the JSON object or array a model's answer holds, tolerating the usual wrapping.
///
/// The rule, in order:
/// 1. A UTF-8 byte order mark at the start is skipped. Whitespace and prose around the value
///    are ignored.
/// 2. **Code fences first.** A fenced code block opens with a line of three or more backticks
///    (or tildes), possibly indented, followed by an info string (without backticks, for a
///    backtick fence); it closes with a line holding only at least as many of the same
///    character, else at the end of the text. Lines inside a block open no block. Blocks whose
///    info string starts with the word `json` (any case) are tried first, then blocks with no
///    info string, each group in text order; the first whose content holds a complete value
///    (rule 3, applied to the content alone) gives that value. Blocks tagged with another
///    language are not preferred, but their text is part of the whole text of rule 3.
/// 3. **First complete value.** Otherwise the whole text is searched. Every `{` and `[` is a
///    candidate, taken in text order. A candidate's extent runs to its matching bracket, found
///    by a scan that skips JSON strings (brackets, quotes and `\"` inside strings do not
///    count). The candidate is the answer when its brackets match and close, and the extent is
///    strict JSON (RFC 8259, UTF-8) once trailing commas are dropped: a comma outside strings
///    that follows a value and is followed only by whitespace and `}` or `]`. Nothing else is
///    repaired (no comments, single quotes, raw line breaks in strings, missing commas). The
///    earliest such candidate wins, so: an outer value wins over the values inside it; a
///    stray, unmatched bracket in the prose before the value is passed over; of several values
///    the first is returned, never merged with what follows; and a citation such as `[1]` in
///    the prose is itself a complete value, which wins unless a preferred block holds a value.
/// 4. **Truncation is an error.** When the earliest candidate not yet ruled out is valid JSON
///    up to the end of the text but never closes, the answer was cut off: extraction fails
///    rather than return a fragment of it. Likewise, the values inside a value cut off by the
///    end of a preferred block's content are never returned; a complete value elsewhere in
///    the text still is.
/// 5. A scalar alone (`42`, `"text"`) is not an object or array and is never returned.
///
/// Strings keep their bytes, so non-ASCII text is preserved. A text that is nothing but one
/// object or array (whitespace, a byte order mark and trailing commas aside), or whose first
/// preferred block holds nothing else, is read with a single parse: it is the value rules 2
/// and 3 would choose. The search of rules 2 to 4 runs only otherwise. It is linear in
/// practice (one scan settles every bracket it meets); a work limit of about 32 bytes examined
/// per byte of text stops adversarial inputs (escaped quotes in prose, among thousands of
/// brackets), and extraction then fails.
///
/// @throws JsonExtractionError (an `InvalidArgument`) when the text holds no complete object
///         or array, when the first one is cut off, or when the work limit is reached; the
///         message says which and quotes the start of the text.
///
/// **Example**:
/// ```
/// Json v = llmbatch::filter_json("Sure! Here it is: {\"key\": \"value\",} Hope this helps.");
/// // v == Json{{"key", "value"}}
/// ```
[[nodiscard]] LLMBATCH_DECL Json filter_json(std::string_view text);

/// As `filter_json`, but gives an empty optional instead of throwing (also on allocation
/// failure).
[[nodiscard]] LLMBATCH_DECL std::optional<Json> try_filter_json(std::string_view text) noexcept;

}  // namespace llmbatch

#if !defined(LLMBATCH_SEPARATE_COMPILATION)
#include "llmbatch/impl/json_filter.ipp"
#endif
