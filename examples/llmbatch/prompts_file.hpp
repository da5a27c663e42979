#pragma once
/// @file prompts_file.hpp
/// The `llmbatch` tool's prompts file: a JSON array of items or JSON Lines, each item one request
/// of a source (`load_prompts`).

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "llmbatch/detail/file_io.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/providers/common/jsonl.hpp"
#include "llmbatch/result_store.hpp"

#include "backend.hpp"

namespace llmbatch::cli {

/// One request of a prompts file.
struct PromptItem {
    std::string source{};
    PromptSequence prompts{};                    ///< `prompt` as one element, or `prompts`
    std::string key{};                           ///< `id`, else the item's 0-based position in its source
    std::map<std::string, std::string> labels{};
    std::string where{};                         ///< `line 3` (for messages)
};

/// The items of one source, in file order.
struct PromptSource {
    std::string name{};
    std::vector<PromptItem> items{};

    [[nodiscard]] const PromptItem* find(const std::string& key) const {
        for (const auto& item : items)
            if (item.key == key) return &item;
        return nullptr;
    }
};

/// A loaded prompts file: its sources in order of first appearance.
struct PromptsFile {
    std::filesystem::path path{};
    std::vector<PromptSource> sources{};

    [[nodiscard]] std::size_t prompt_count() const {
        std::size_t n = 0;
        for (const auto& s : sources) n += s.items.size();
        return n;
    }
    [[nodiscard]] const PromptSource* find(const std::string& name) const {
        for (const auto& s : sources)
            if (s.name == name) return &s;
        return nullptr;
    }
};

namespace detail {

/// Byte offsets of the elements of the top-level JSON array `text` (already known to parse).
[[nodiscard]] inline std::vector<std::size_t> array_element_offsets(std::string_view text) {
    std::vector<std::size_t> out;
    int depth = 0;
    bool in_string = false, escaped = false, expect_value = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
        if (expect_value && depth == 1 && c != ']') out.push_back(i);
        expect_value = false;
        if (c == '"') in_string = true;
        else if (c == '[' || c == '{') {
            ++depth;
            if (depth == 1) expect_value = true;
        } else if (c == ']' || c == '}') --depth;
        else if (c == ',' && depth == 1) expect_value = true;
    }
    return out;
}

[[nodiscard]] inline std::size_t line_of(std::string_view text, std::size_t offset) {
    offset = std::min(offset, text.size());
    return 1 + static_cast<std::size_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}


/// Why `e` was thrown, with the column but without the parser's line: that counts from the
/// start of the text it was given (one line of a JSON Lines file), so it would name line 1
/// whatever the line. E.g. "column 29: syntax error while parsing value - unexpected '}'".
[[nodiscard]] inline std::string parse_reason(const Json::parse_error& e) {
    const std::string_view what = e.what();
    const auto column = what.find("column ");
    if (column == std::string_view::npos) return std::string(what);
    return std::string(what.substr(column));
}

}  // namespace detail

/// Reads a prompts file: a JSON array of items, or JSON Lines (one item per line; blank lines
/// are skipped). An item is `{"source": "...", "prompt": "..."}` or `{"source": "...",
/// "prompts": ["...", ...]}` (the prompts of one request, joined with a newline), with an
/// optional `"id"` (string or integer; the request key, unique within its source; default: the
/// item's 0-based position within its source) and optional `"labels"` (an object of strings).
/// A source must be a relative path of plain parts (it names the results file).
/// @throws UsageError naming the file and the line for anything else (nothing is half-loaded).
[[nodiscard]] inline PromptsFile load_prompts(const std::filesystem::path& path) {
    auto fail = [&](const std::string& where, const std::string& what) -> UsageError {
        return UsageError(where.empty() ? fmt::format("Prompts file '{}': {}", path.string(), what)
                                        : fmt::format("Prompts file '{}', {}: {}", path.string(), where, what));
    };
    std::optional<std::string> text;
    try {
        text = ::llmbatch::detail::read_file_if_exists(path);
    } catch (const FileError& e) {
        throw UsageError(fmt::format("Prompts file '{}' cannot be read: {}", path.string(), e.what()));
    }
    if (!text) throw UsageError(fmt::format("Prompts file '{}' not found.", path.string()));
    std::string_view body = *text;
    if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);

    std::vector<std::pair<Json, std::string>> raw;  // item, where
    const auto first = body.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && body[first] == '[') {
        Json doc;
        try {
            doc = Json::parse(body);
        } catch (const Json::parse_error& e) {
            throw fail(fmt::format("line {}", detail::line_of(body, e.byte > 0 ? e.byte - 1 : 0)),
                       fmt::format("invalid JSON ({})", detail::parse_reason(e)));
        }
        const auto offsets = detail::array_element_offsets(body);
        // Lines counted as the offsets ascend: one pass over the text, whatever the item count.
        std::size_t counted_to = 0, line = 1;
        raw.reserve(doc.size());
        for (std::size_t i = 0; i < doc.size(); ++i) {
            std::size_t item_line = 0;
            if (i < offsets.size()) {
                const auto offset = std::max(counted_to, std::min(offsets[i], body.size()));
                line += static_cast<std::size_t>(std::count(body.begin() + static_cast<std::ptrdiff_t>(counted_to),
                                                            body.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
                counted_to = offset;
                item_line = line;
            }
            raw.emplace_back(std::move(doc[i]), fmt::format("line {} (item {})", item_line, i + 1));
        }
    } else {
        for_each_jsonl_line(body, [&](std::string_view line, std::size_t number) {
            const std::string where = fmt::format("line {}", number);
            try {
                raw.emplace_back(Json::parse(line), where);
            } catch (const Json::parse_error& e) {
                throw fail(where, fmt::format("invalid JSON ({})", detail::parse_reason(e)));
            }
        });
    }
    if (raw.empty()) throw fail("", "it holds no prompts");

    PromptsFile file;
    file.path = path;
    const ResultStore paths(".");
    std::map<std::string, std::map<std::string, std::string>> key_owner;  // source -> key -> where
    std::map<std::string, std::size_t> source_index;                      // source -> its place in file.sources
    for (auto& [item, where] : raw) {
        if (!item.is_object()) throw fail(where, "expected a JSON object with \"source\" and \"prompt\" or \"prompts\"");
        for (const auto& [field, value] : item.items())
            if (field != "source" && field != "prompt" && field != "prompts" && field != "id" && field != "labels")
                throw fail(where, fmt::format("unknown field \"{}\" (expected source, prompt, prompts, id, labels)", field));
        PromptItem p;
        p.where = where;
        const auto source = item.find("source");
        if (source == item.end()) throw fail(where, "\"source\" is missing");
        if (!source->is_string() || source->get_ref<const std::string&>().empty())
            throw fail(where, "\"source\" must be a non-empty string");
        p.source = source->get<std::string>();
        if (std::any_of(p.source.begin(), p.source.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; }))
            throw fail(where, "\"source\" must not contain control characters (such as a newline or a tab)");
        try {
            (void)paths.path_for(p.source);
        } catch (const InvalidArgument& e) {
            throw fail(where, e.what());
        }
        const auto prompt = item.find("prompt");
        const auto prompts = item.find("prompts");
        if (prompt != item.end() && prompts != item.end()) throw fail(where, "give \"prompt\" or \"prompts\", not both");
        if (prompt != item.end()) {
            if (!prompt->is_string() || prompt->get_ref<const std::string&>().empty())
                throw fail(where, "\"prompt\" must be a non-empty string");
            p.prompts.push_back(prompt->get<std::string>());
        } else if (prompts != item.end()) {
            if (!prompts->is_array() || prompts->empty())
                throw fail(where, "\"prompts\" must be a non-empty array of strings");
            for (const auto& s : *prompts) {
                if (!s.is_string() || s.get_ref<const std::string&>().empty())
                    throw fail(where, "\"prompts\" must be a non-empty array of non-empty strings");
                p.prompts.push_back(s.get<std::string>());
            }
        } else {
            throw fail(where, "\"prompt\" (or \"prompts\") is missing");
        }
        if (const auto labels = item.find("labels"); labels != item.end() && !labels->is_null()) {
            if (!labels->is_object()) throw fail(where, "\"labels\" must be an object of strings");
            for (const auto& [k, v] : labels->items()) {
                if (!v.is_string()) throw fail(where, fmt::format("label \"{}\" must be a string", k));
                p.labels.emplace(k, v.get<std::string>());
            }
        }
        auto [found, added] = source_index.try_emplace(p.source, file.sources.size());
        if (added) file.sources.push_back(PromptSource{p.source, {}});
        auto it = file.sources.begin() + static_cast<std::ptrdiff_t>(found->second);
        if (const auto id = item.find("id"); id != item.end() && !id->is_null()) {
            if (id->is_string() && !id->get_ref<const std::string&>().empty()) p.key = id->get<std::string>();
            else if (id->is_number_integer()) p.key = id->dump();
            else throw fail(where, "\"id\" must be a non-empty string or an integer");
        } else {
            p.key = std::to_string(it->items.size());
        }
        auto& owners = key_owner[p.source];
        if (const auto taken = owners.find(p.key); taken != owners.end())
            throw fail(where, fmt::format("request key '{}' of source '{}' is already used on {}; ids must be unique "
                                          "within a source (an item without an id is keyed by its position)",
                                          p.key, p.source, taken->second));
        owners.emplace(p.key, where);
        it->items.push_back(std::move(p));
    }
    return file;
}

}  // namespace llmbatch::cli
