#pragma once
/// @file testing/emulator/openai_uploads.hpp
/// `UploadBook`: OpenAI's Uploads API for large files. `POST /v1/uploads {filename, purpose,
/// bytes, mime_type}` opens an Upload (`pending`, expires after an hour); `POST
/// /v1/uploads/{id}/parts` adds a Part (the multipart field `data`); `POST
/// /v1/uploads/{id}/complete {part_ids, md5?}` joins the Parts in that order into a File (their
/// total must equal `bytes`) and answers the Upload `completed` with its `file`; `POST
/// /v1/uploads/{id}/cancel` answers it `cancelled`. The Parts' bytes are held in memory until
/// completion.
///
/// **Example**:
/// ```text
/// POST /v1/uploads {"filename":"in.jsonl","purpose":"batch","bytes":10,"mime_type":"text/jsonl"} -> {"id":"upload_...",...}
/// POST /v1/uploads/upload_.../parts  (form: data=<10 bytes>)  -> {"id":"part_...","object":"upload.part",...}
/// POST /v1/uploads/upload_.../complete {"part_ids":["part_..."]} -> {"status":"completed","file":{...}}
/// ```

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "llmbatch/http.hpp"
#include "llmbatch/model.hpp"
#include "llmbatch/testing/emulator/chat_wire.hpp"
#include "llmbatch/testing/emulator/file_store.hpp"
#include "llmbatch/testing/emulator/ids.hpp"
#include "llmbatch/testing/emulator/multipart.hpp"
#include "llmbatch/testing/emulator/openai_wire.hpp"

namespace llmbatch::testing::detail {

/// The Uploads in progress or done (see the file comment).
class UploadBook {
public:
    struct Part {
        std::string id;
        std::string bytes;
        std::int64_t created_at = 0;
    };
    struct Upload {
        std::string id;
        std::string filename;
        std::string purpose;
        std::string mime_type;
        std::int64_t bytes = 0;
        std::int64_t created_at = 0;
        std::string status = "pending";
        std::vector<Part> parts;
        std::string file_id;
        Json file = nullptr;  ///< the FileObject once completed
    };

    Json create(const Json& body, SysTime now) {
        for (const char* field : {"filename", "purpose", "mime_type"})
            if (!body.contains(field) || !body[field].is_string())
                throw WireError(400, "invalid_request_error", fmt::format("Missing required parameter: '{}'.", field),
                                "missing_required_parameter", field);
        if (!body.contains("bytes") || !body["bytes"].is_number_integer() || body["bytes"].get<std::int64_t>() < 0)
            throw WireError(400, "invalid_request_error", "Missing required parameter: 'bytes'.",
                            "missing_required_parameter", "bytes");
        Upload u;
        u.id = "upload_" + ids_.next(24, openai_alnum);
        u.filename = body["filename"].get<std::string>();
        u.purpose = body["purpose"].get<std::string>();
        u.mime_type = body["mime_type"].get<std::string>();
        u.bytes = body["bytes"].get<std::int64_t>();
        u.created_at = unix_seconds(now);
        uploads_[u.id] = u;
        return upload_json(uploads_[u.id]);
    }

    Json add_part(const std::string& id, const HttpRequest& request, SysTime now) {
        Upload& u = pending(id);
        std::vector<FormPart> form;
        try {
            form = parse_multipart(request.headers.get("Content-Type").value_or(""), request.body);
        } catch (const MultipartError& e) {
            throw WireError(400, "invalid_request_error", e.what());
        }
        const FormPart* data = find_part(form, "data");
        if (!data) throw WireError(400, "invalid_request_error", "Missing required parameter: 'data'.", nullptr, "data");
        Part p{"part_" + ids_.next(24, openai_alnum), std::string(data->content), unix_seconds(now)};
        u.parts.push_back(p);
        return Json{{"id", p.id}, {"object", "upload.part"}, {"created_at", p.created_at}, {"upload_id", u.id}};
    }

    Json complete(const std::string& id, const Json& body, FileStore& files, SysTime now) {
        Upload& u = pending(id);
        if (!body.contains("part_ids") || !body["part_ids"].is_array())
            throw WireError(400, "invalid_request_error", "Missing required parameter: 'part_ids'.",
                            "missing_required_parameter", "part_ids");
        std::string joined;
        for (const auto& pid : body["part_ids"]) {
            const auto it = std::find_if(u.parts.begin(), u.parts.end(), [&](const Part& p) { return pid == p.id; });
            if (it == u.parts.end())
                throw WireError(400, "invalid_request_error", fmt::format("No part {} in upload {}.", pid.dump(), id), nullptr,
                                "part_ids");
            joined += it->bytes;
        }
        if (static_cast<std::int64_t>(joined.size()) != u.bytes)
            throw WireError(400, "invalid_request_error",
                            fmt::format("The parts hold {} bytes, but the upload was created with bytes={}.",
                                        joined.size(), u.bytes), nullptr, "part_ids");
        StoredFile f = files.add(u.filename, u.mime_type, joined, now);
        StoredFile* held = files.find_mutable(f.id);
        held->purpose = u.purpose;
        u.status = "completed";
        u.parts.clear();
        u.file_id = f.id;
        u.file = openai_file_json(*held);
        return upload_json(u);
    }

    Json cancel(const std::string& id) {
        Upload& u = pending(id);
        u.status = "cancelled";
        u.parts.clear();
        return upload_json(u);
    }

    [[nodiscard]] Json to_json() const {
        Json list = Json::array();
        for (const auto& [id, u] : uploads_) {
            Json parts = Json::array();
            for (const auto& p : u.parts)
                parts.push_back({{"id", p.id}, {"bytes", base64_encode(p.bytes)}, {"createdAt", p.created_at}});
            list.push_back({{"id", id}, {"filename", u.filename}, {"purpose", u.purpose}, {"mimeType", u.mime_type},
                            {"bytes", u.bytes}, {"createdAt", u.created_at}, {"status", u.status},
                            {"parts", parts}, {"fileId", u.file_id}, {"file", u.file}});
        }
        return Json{{"nextNumber", ids_.next_number()}, {"uploads", list}};
    }
    [[nodiscard]] static UploadBook from_json(const Json& j) {
        UploadBook book;
        book.ids_.set_next_number(j.at("nextNumber").get<std::uint64_t>());
        for (const auto& u : j.at("uploads")) {
            Upload up{u.at("id").get<std::string>(), u.at("filename").get<std::string>(), u.at("purpose").get<std::string>(),
                      u.at("mimeType").get<std::string>(), u.at("bytes").get<std::int64_t>(),
                      u.at("createdAt").get<std::int64_t>(), u.at("status").get<std::string>(), {},
                      u.value("fileId", std::string{}), u.value("file", Json(nullptr))};
            for (const auto& p : u.at("parts"))
                up.parts.push_back(Part{p.at("id").get<std::string>(), base64_decode(p.at("bytes").get<std::string>()),
                                        p.at("createdAt").get<std::int64_t>()});
            book.uploads_[up.id] = std::move(up);
        }
        return book;
    }

private:
    Upload& pending(const std::string& id) {
        const auto it = uploads_.find(id);
        if (it == uploads_.end())
            throw WireError(404, "invalid_request_error", fmt::format("No such upload: '{}'.", id), nullptr, "upload_id");
        if (it->second.status != "pending")
            throw WireError(400, "invalid_request_error",
                            fmt::format("The upload {} is already {}.", id, it->second.status));
        return it->second;
    }

    [[nodiscard]] static Json upload_json(const Upload& u) {
        Json j = {{"id", u.id},           {"object", "upload"},      {"bytes", u.bytes},
                  {"created_at", u.created_at}, {"expires_at", u.created_at + 3600}, {"filename", u.filename},
                  {"purpose", u.purpose}, {"status", u.status},      {"file", u.file}};
        return j;
    }

    IdSequence ids_{"openai-emulator/upload"};
    std::map<std::string, Upload> uploads_;
};

}  // namespace llmbatch::testing::detail
