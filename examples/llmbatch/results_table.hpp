#pragma once
/// @file results_table.hpp
/// The results of sources as a table for spreadsheets and scripts (`llmbatch export --format`):
/// one row per request, as CSV (RFC 4180) or JSON Lines, with the current outcome of each request
/// (a resubmitted request's newest line) unless every line is asked for.

#include <cstddef>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "llmbatch/result_store.hpp"

namespace llmbatch::cli::detail {

/// How `write_results_table` writes.
struct TableOptions {
    enum class Format { csv, jsonl };
    Format format = Format::csv;
    /// Every saved line (a request resubmitted has one per job); else the newest per request key.
    bool every_line = false;
};

/// The columns, in order.
inline constexpr std::string_view table_columns[] = {"source",   "request_key", "status",        "text",
                                                     "job",      "batch_index", "request_index", "error_status",
                                                     "error_message"};

/// One field of CSV: quoted when it holds a comma, a quote or a line break (quotes doubled).
[[nodiscard]] inline std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
    std::string out = "\"";
    for (char c : text) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + '"';
}

/// A results line's row: the answer's text (JSON text when it is not a string), the error's parts.
[[nodiscard]] inline std::vector<std::string> table_row(const nlohmann::json& line) {
    auto text_of = [](const nlohmann::json& v) -> std::string {
        if (v.is_null()) return {};
        if (v.is_string()) return v.get<std::string>();
        return v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    };
    auto field = [&](const char* key) { return line.contains(key) ? text_of(line.at(key)) : std::string(); };
    std::string error_status, error_message;
    if (const auto e = line.find("error"); e != line.end() && e->is_object()) {
        if (e->contains("status")) error_status = text_of(e->at("status"));
        if (e->contains("message")) error_message = text_of(e->at("message"));
    }
    return {field("source"), field("request_key"), field("status"),     field("value"),  field("job"),
            field("batch_index"), field("request_index"), error_status, error_message};
}

/// Writes the results of `sources` from `store` to `out` as one table; returns the rows written.
/// @throws ResultFileError, FileError as the store's reads.
inline std::size_t write_results_table(const ResultStore& store, const std::vector<std::string>& sources,
                                       const TableOptions& options, std::ostream& out) {
    std::size_t rows = 0;
    auto emit = [&](const std::vector<std::string>& row) {
        if (options.format == TableOptions::Format::csv) {
            for (std::size_t i = 0; i < row.size(); ++i) out << (i ? "," : "") << csv_field(row[i]);
            out << "\r\n";
        } else {
            nlohmann::ordered_json doc;
            for (std::size_t i = 0; i < row.size(); ++i) doc[std::string(table_columns[i])] = row[i];
            out << doc.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
        }
        ++rows;
    };
    if (options.format == TableOptions::Format::csv) {
        std::vector<std::string> header(std::begin(table_columns), std::end(table_columns));
        for (std::size_t i = 0; i < header.size(); ++i) out << (i ? "," : "") << header[i];
        out << "\r\n";
    }
    for (const auto& source : sources) {
        if (options.every_line) {
            store.for_each(source, [&](const nlohmann::json& line) { emit(table_row(line)); });
            continue;
        }
        // The newest line of each request key wins (a resubmit's lines follow the original's in the
        // file); rows keep the order in which their keys first appear.
        std::vector<std::string> order;
        std::map<std::string, std::vector<std::string>> newest;
        store.for_each(source, [&](const nlohmann::json& line) {
            auto row = table_row(line);
            const auto key = row[1].empty() ? row[4] + "#" + row[6] : row[1];
            if (newest.find(key) == newest.end()) order.push_back(key);
            newest[key] = std::move(row);
        });
        for (const auto& key : order) emit(newest[key]);
    }
    return rows;
}

}  // namespace llmbatch::cli::detail
