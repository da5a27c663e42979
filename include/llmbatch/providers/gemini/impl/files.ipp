#pragma once
/// @file providers/gemini/impl/files.ipp
/// The definitions of `llmbatch/providers/gemini/files.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include "llmbatch/detail/json_util.hpp"
#include "llmbatch/detail/time.hpp"
#include "llmbatch/error.hpp"
#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/progress.hpp"
#include "llmbatch/retry.hpp"
#include "llmbatch/providers/gemini/files.hpp"

namespace llmbatch {

namespace detail {

LLMBATCH_DECL std::string gemini_file_id(std::string_view file) {
    if (file.rfind("files/", 0) == 0) file.remove_prefix(6);
    if (!is_path_safe_id(file, 128, "-_"))
        throw InvalidArgument(fmt::format("'{}' is not a Gemini file name (expected files/<id>)", excerpt(file, 80)));
    return std::string(file);
}

LLMBATCH_DECL FileInfo gemini_file_info(const nlohmann::json& file) {
    FileInfo info;
    info.name = get_string(file, "name");
    info.display_name = get_string(file, "displayName");
    info.mime_type = get_string(file, "mimeType");
    info.size_bytes = get_int64(file, "sizeBytes").value_or(0);
    info.state = get_string(file, "state");
    if (auto t = get_string(file, "createTime"); !t.empty()) info.create_time = parse_rfc3339(t);
    if (auto t = get_string(file, "expirationTime"); !t.empty()) info.expire_time = parse_rfc3339(t);
    info.raw = file;
    return info;
}

}  // namespace detail

}  // namespace llmbatch
