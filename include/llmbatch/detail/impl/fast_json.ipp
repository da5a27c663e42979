#pragma once
/// @file detail/impl/fast_json.ipp
/// The definitions of `detail/fast_json.hpp`: included by it (header-only), or compiled once in
/// `<llmbatch/src.hpp>` (`LLMBATCH_SEPARATE_COMPILATION`).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#if defined(LLMBATCH_HAVE_SIMDJSON) && LLMBATCH_HAVE_SIMDJSON
#include <simdjson.h>
#endif

#include "llmbatch/detail/fast_json.hpp"

namespace llmbatch::detail {

#if defined(LLMBATCH_HAVE_SIMDJSON) && LLMBATCH_HAVE_SIMDJSON

namespace fast_json_impl {

/// `element` as nlohmann reads the same text; false when it may hold what nlohmann reads as
/// another type: a negative zero (simdjson reads `-0` as the integer 0, which nlohmann keeps
/// signed, and `-0.0` as a float), looked for only when the text has `-0` (`minus_zero`).
inline bool convert(const simdjson::dom::element& element, nlohmann::json& out, bool minus_zero) {
    using simdjson::dom::element_type;
    switch (element.type()) {
        case element_type::OBJECT: {
            out = nlohmann::json::object();
            const simdjson::dom::object object = element.get_object().value_unsafe();
            for (const auto field : object)
                if (!convert(field.value, out[std::string(field.key)], minus_zero)) return false;
            return true;
        }
        case element_type::ARRAY: {
            out = nlohmann::json::array();
            const simdjson::dom::array array = element.get_array().value_unsafe();
            out.get_ref<nlohmann::json::array_t&>().reserve(array.size());
            for (const auto item : array) {
                nlohmann::json& slot = out.emplace_back();
                if (!convert(item, slot, minus_zero)) return false;
            }
            return true;
        }
        case element_type::INT64: {
            const std::int64_t v = element.get_int64().value_unsafe();
            if (v == 0 && minus_zero) return false;
            if (v >= 0) out = static_cast<std::uint64_t>(v);
            else out = v;
            return true;
        }
        case element_type::UINT64: out = element.get_uint64().value_unsafe(); return true;
        case element_type::DOUBLE: {
            const double v = element.get_double().value_unsafe();
            if (v == 0 && minus_zero) return false;
            out = v;
            return true;
        }
        case element_type::STRING: out = std::string(element.get_string().value_unsafe()); return true;
        case element_type::BOOL: out = element.get_bool().value_unsafe(); return true;
        case element_type::NULL_VALUE: out = nullptr; return true;
    }
    return false;
}

inline bool parse_with(simdjson::dom::parser& parser, std::string_view text, nlohmann::json& out) {
    simdjson::dom::element root;
    if (parser.parse(text.data(), text.size(), true).get(root) != simdjson::SUCCESS) return false;
    return convert(root, out, text.find("-0") != std::string_view::npos);
}

}  // namespace fast_json_impl

LLMBATCH_DECL nlohmann::json parse_json(std::string_view text) {
    if (text.size() <= fast_json_cached_bytes) {
        thread_local simdjson::dom::parser parser;
        nlohmann::json out;
        if (fast_json_impl::parse_with(parser, text, out)) return out;
    }
    return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

#else

LLMBATCH_DECL nlohmann::json parse_json(std::string_view text) {
    return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

#endif

}  // namespace llmbatch::detail
