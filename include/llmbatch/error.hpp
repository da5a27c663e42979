#pragma once
/// @file error.hpp
/// The exception hierarchy of llmbatch.
///
/// The user's document names three error kinds; each has a C++ counterpart:
///
/// | document              | llmbatch                | raised for                                          |
/// |-----------------------|-------------------------|-----------------------------------------------------|
/// | `ValueError`          | `InvalidArgument`       | empty payload, job not ready, unknown provider name |
/// | `LLMProviderError`    | `ProviderError`         | failed job, failed request, HTTP error, bad reply   |
/// | `NotImplementedError` | `UnsupportedOperation`  | an operation the chosen provider does not offer     |
///
/// Every class derives from `llmbatch::Error` (itself a `std::runtime_error`), so one
/// `catch (const llmbatch::Error&)` takes them all. Messages never contain an API key.

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

namespace llmbatch {

/// Base of every exception thrown by llmbatch.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Bad input from the caller (the document's `ValueError`): an empty payload, an empty prompt
/// sequence, an unknown provider name, a malformed job name, a missing system prompt file.
class InvalidArgument : public Error {
public:
    using Error::Error;
};

/// A batch job was asked for its results before it finished (a `ValueError` in the document).
class JobNotReady : public InvalidArgument {
public:
    JobNotReady(std::string message, std::string job_name, std::string state)
        : InvalidArgument(std::move(message)), job_name_(std::move(job_name)), state_(std::move(state)) {}

    /// The job that is not finished.
    [[nodiscard]] const std::string& job_name() const noexcept { return job_name_; }
    /// Its state when asked, as the normalised upper-case name (e.g. `RUNNING`).
    [[nodiscard]] const std::string& state() const noexcept { return state_; }

private:
    std::string job_name_;
    std::string state_;
};

/// A finished job holds no results at all (a `ValueError` in the document).
class ResultsMissing : public InvalidArgument {
public:
    using InvalidArgument::InvalidArgument;
};

/// Model text held no JSON value that `filter_json` could extract.
class JsonExtractionError : public InvalidArgument {
public:
    using InvalidArgument::InvalidArgument;
};

/// The operation is not offered by the chosen provider (the document's `NotImplementedError`).
class UnsupportedOperation : public Error {
public:
    using Error::Error;
};

/// What a provider said when a call failed.
struct ProviderErrorInfo {
    std::string provider;     ///< provider name, e.g. `gemini`
    int http_status = 0;      ///< HTTP status, 0 when no HTTP exchange took place
    std::string api_status;   ///< the API's own status word, e.g. `RESOURCE_EXHAUSTED`
    std::string api_message;  ///< the API's own message
    bool retryable = false;   ///< a later identical call may succeed (429, 5xx, transport)
};

/// A provider call or a batch job failed (the document's `LLMProviderError`).
class ProviderError : public Error {
public:
    ProviderError(std::string message, ProviderErrorInfo info)
        : Error(std::move(message)), info_(std::move(info)) {}

    [[nodiscard]] const ProviderErrorInfo& info() const noexcept { return info_; }
    [[nodiscard]] const std::string& provider() const noexcept { return info_.provider; }
    [[nodiscard]] int http_status() const noexcept { return info_.http_status; }
    [[nodiscard]] const std::string& api_status() const noexcept { return info_.api_status; }
    [[nodiscard]] const std::string& api_message() const noexcept { return info_.api_message; }
    [[nodiscard]] bool retryable() const noexcept { return info_.retryable; }

private:
    ProviderErrorInfo info_;
};

/// The provider refused the call for quota or rate reasons (HTTP 429, `RESOURCE_EXHAUSTED`).
/// `LLMService::generate` falls back to the next provider on this error only.
class QuotaError : public ProviderError {
public:
    using ProviderError::ProviderError;
};

/// The provider refused the credentials (HTTP 401) or the access (HTTP 403): a missing, wrong
/// or revoked API key, or a key without permission for the call.
class AuthenticationError : public ProviderError {
public:
    using ProviderError::ProviderError;
};

/// The provider does not know the job or resource (HTTP 404).
class NotFoundError : public ProviderError {
public:
    using ProviderError::ProviderError;
};

/// The HTTP exchange itself failed (connect, TLS, timeout). Thrown by transports.
class TransportError : public ProviderError {
public:
    /// `request_may_have_been_sent` is false only when the transport is sure nothing reached
    /// the server (e.g. the connection was refused): a non-idempotent call may then be retried.
    explicit TransportError(std::string message, bool request_may_have_been_sent = true,
                            std::string provider = {})
        : ProviderError(std::move(message), ProviderErrorInfo{std::move(provider), 0, {}, {}, true}),
          may_have_been_sent_(request_may_have_been_sent) {}

    [[nodiscard]] bool request_may_have_been_sent() const noexcept { return may_have_been_sent_; }

private:
    bool may_have_been_sent_;
};

/// The batch job ended without results: failed, cancelled or expired.
class JobFailed : public ProviderError {
public:
    JobFailed(std::string message, ProviderErrorInfo info, std::string job_name, std::string state)
        : ProviderError(std::move(message), std::move(info)), job_name_(std::move(job_name)),
          state_(std::move(state)) {}

    [[nodiscard]] const std::string& job_name() const noexcept { return job_name_; }
    /// The job's normalised state name (`FAILED`, `CANCELLED`, `EXPIRED`).
    [[nodiscard]] const std::string& state() const noexcept { return state_; }

private:
    std::string job_name_;
    std::string state_;
};

/// One request of a finished job failed; thrown only by the strict accessor
/// `BatchResults::values()`. The per-request error itself stays available as data.
class RequestFailed : public ProviderError {
public:
    RequestFailed(std::string message, ProviderErrorInfo info, std::string job_name, std::size_t index)
        : ProviderError(std::move(message), std::move(info)), job_name_(std::move(job_name)), index_(index) {}

    [[nodiscard]] const std::string& job_name() const noexcept { return job_name_; }
    /// Zero-based position of the failed request in the submitted payload.
    [[nodiscard]] std::size_t index() const noexcept { return index_; }

private:
    std::string job_name_;
    std::size_t index_;
};

}  // namespace llmbatch
