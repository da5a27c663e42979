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

namespace fast_json_impl {

/// nlohmann's SAX events built into a value as `nlohmann::json::parse` builds it, except the
/// value at the keys `skip`, which is left out without being built.
class SkippingBuilder {
public:
    using Json = nlohmann::json;

    SkippingBuilder(Json& root, KeyPath skip) : root_(root), skip_(skip) {}
    [[nodiscard]] bool skipped() const noexcept { return skipped_; }

    bool null() { return value(nullptr); }
    bool boolean(bool v) { return value(v); }
    bool number_integer(Json::number_integer_t v) { return value(v); }
    bool number_unsigned(Json::number_unsigned_t v) { return value(v); }
    bool number_float(Json::number_float_t v, const Json::string_t& /*text*/) { return value(v); }
    bool string(Json::string_t& v) { return value(std::move(v)); }
    bool binary(Json::binary_t& v) { return value(std::move(v)); }
    bool start_object(std::size_t /*size*/) {
        if (!enter_skipped()) open_.push_back(place(Json::object()));
        return true;
    }
    bool start_array(std::size_t /*size*/) {
        if (!enter_skipped()) open_.push_back(place(Json::array()));
        return true;
    }
    bool end_object() { return close(); }
    bool end_array() { return close(); }
    bool key(Json::string_t& key) {
        if (skipping_ > 0) return true;
        // A key of the object at depth `level` (the root's keys: 1) is on the path when every
        // object above it was entered by the path's key at its depth.
        const std::size_t level = open_.size();
        if (level <= skip_.size()) {
            matched_ = std::min(matched_, level - 1);
            if (matched_ == level - 1 && key == skip_[level - 1]) {
                matched_ = level;
                if (level == skip_.size()) {
                    pending_ = skipped_ = true;
                    return true;
                }
            }
        }
        slot_ = &open_.back()->operator[](std::move(key));
        return true;
    }
    bool parse_error(std::size_t /*position*/, const std::string& /*token*/, const Json::exception& /*error*/) {
        return false;
    }

private:
    /// True when the value starting here is (inside) the one left out.
    bool enter_skipped() {
        if (pending_) {
            pending_ = false;
            skipping_ = 1;
            return true;
        }
        if (skipping_ > 0) ++skipping_;
        return skipping_ > 0;
    }
    bool close() {
        if (skipping_ > 0) --skipping_;
        else open_.pop_back();
        return true;
    }
    template <class V>
    bool value(V&& v) {
        if (pending_) pending_ = false;
        else if (skipping_ == 0) place(Json(std::forward<V>(v)));
        return true;
    }
    Json* place(Json&& v) {
        if (open_.empty()) {
            root_ = std::move(v);
            return &root_;
        }
        if (open_.back()->is_array()) return &open_.back()->emplace_back(std::move(v));
        *slot_ = std::move(v);
        return slot_;
    }

    Json& root_;
    KeyPath skip_;
    std::vector<Json*> open_;    // the containers being filled, the root first
    Json* slot_ = nullptr;       // where the value of the last key goes
    std::size_t matched_ = 0;    // keys of `skip_` matched by the open objects at depths 1..matched_
    std::size_t skipping_ = 0;   // containers open inside the value left out
    bool pending_ = false;       // the next value is the one left out
    bool skipped_ = false;
};

/// nlohmann's parse, leaving out the value at `skip` (not built at all).
LLMBATCH_DECL nlohmann::json parse_nlohmann(std::string_view text, KeyPath skip, bool* skipped) {
    if (skipped) *skipped = false;
    if (skip.empty()) return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    nlohmann::json out;
    SkippingBuilder builder(out, skip);
    if (!nlohmann::json::sax_parse(text, &builder)) return nlohmann::json(nlohmann::json::value_t::discarded);
    if (skipped) *skipped = builder.skipped();
    return out;
}

}  // namespace fast_json_impl

#if defined(LLMBATCH_HAVE_SIMDJSON) && LLMBATCH_HAVE_SIMDJSON

namespace fast_json_impl {

/// `element` as nlohmann reads the same text; false when it may hold what nlohmann reads as
/// another type: a negative zero (simdjson reads `-0` as the integer 0, which nlohmann keeps
/// signed, and `-0.0` as a float), looked for only when the text has `-0` (`minus_zero`).
/// `skip` (may be empty) is a path of object keys below `element` whose value is left out;
/// `skipped` is set when one was.
inline bool convert(const simdjson::dom::element& element, nlohmann::json& out, bool minus_zero,
                    KeyPath skip = {}, bool* skipped = nullptr) {
    using simdjson::dom::element_type;
    switch (element.type()) {
        case element_type::OBJECT: {
            out = nlohmann::json::object();
            const simdjson::dom::object object = element.get_object().value_unsafe();
            for (const auto field : object) {
                if (!skip.empty() && field.key == skip.front()) {
                    if (skip.size() == 1) {
                        if (skipped) *skipped = true;
                        continue;
                    }
                    if (!convert(field.value, out[std::string(field.key)], minus_zero, skip.subspan(1), skipped))
                        return false;
                    continue;
                }
                if (!convert(field.value, out[std::string(field.key)], minus_zero)) return false;
            }
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

inline bool parse_with(simdjson::dom::parser& parser, std::string_view text, nlohmann::json& out, KeyPath skip,
                       bool* skipped) {
    simdjson::dom::element root;
    if (parser.parse(text.data(), text.size(), true).get(root) != simdjson::SUCCESS) return false;
    bool left_out = false;
    if (!convert(root, out, text.find("-0") != std::string_view::npos, skip, &left_out)) return false;
    if (skipped) *skipped = left_out;
    return true;
}

}  // namespace fast_json_impl

LLMBATCH_DECL nlohmann::json parse_json_without(std::string_view text, KeyPath skip, bool* skipped) {
    if (text.size() <= fast_json_cached_bytes) {
        thread_local simdjson::dom::parser parser;
        nlohmann::json out;
        if (fast_json_impl::parse_with(parser, text, out, skip, skipped)) return out;
    }
    return fast_json_impl::parse_nlohmann(text, skip, skipped);
}

#else

LLMBATCH_DECL nlohmann::json parse_json_without(std::string_view text, KeyPath skip, bool* skipped) {
    return fast_json_impl::parse_nlohmann(text, skip, skipped);
}

#endif

LLMBATCH_DECL nlohmann::json parse_json(std::string_view text) { return parse_json_without(text, {}, nullptr); }

}  // namespace llmbatch::detail
