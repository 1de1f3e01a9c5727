#pragma once

// Status and Result<T>: how every fallible call in posflow reports an expected failure.
// A Status is a code plus a one-line message meant for an operator: it says what failed and,
// where we know it, what to do. Messages never contain credentials (see redact.h).

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace posflow {

class [[nodiscard]] Status {
 public:
  enum class Code {
    kOk = 0,
    kInvalidArgument,     // bad input from the user: a flag, a config value, a file
    kNotFound,            // a named thing does not exist
    kAlreadyExists,       // a thing to create is there already
    kFailedPrecondition,  // the system is not in the state the call needs
    kAborted,             // a concurrent actor won (e.g. a fenced ingest batch); redo from fresh state
    kUnavailable,         // a service (PostgreSQL, Kafka, MongoDB) cannot be reached; retryable
    kCorruption,          // stored state contradicts itself (e.g. a changed migration)
    kIoError,             // a local file or stream failed
    kInternal,            // a bug
  };

  // An OK status.
  Status() = default;

  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string message) {
    return Status(Code::kInvalidArgument, std::move(message));
  }
  static Status NotFound(std::string message) {
    return Status(Code::kNotFound, std::move(message));
  }
  static Status AlreadyExists(std::string message) {
    return Status(Code::kAlreadyExists, std::move(message));
  }
  static Status FailedPrecondition(std::string message) {
    return Status(Code::kFailedPrecondition, std::move(message));
  }
  static Status Aborted(std::string message) {
    return Status(Code::kAborted, std::move(message));
  }
  static Status Unavailable(std::string message) {
    return Status(Code::kUnavailable, std::move(message));
  }
  static Status Corruption(std::string message) {
    return Status(Code::kCorruption, std::move(message));
  }
  static Status IoError(std::string message) {
    return Status(Code::kIoError, std::move(message));
  }
  static Status Internal(std::string message) {
    return Status(Code::kInternal, std::move(message));
  }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

  // "invalid argument: <message>", or "OK".
  std::string ToString() const;

  // A copy whose message is prefixed by `context` ("connecting to PostgreSQL: ...").
  Status WithContext(std::string_view context) const;

 private:
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  Code code_ = Code::kOk;
  std::string message_;
};

std::string_view CodeName(Status::Code code);

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : state_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(state_).ok() && "Result needs a value or a failed Status");
  }

  bool ok() const { return std::holds_alternative<T>(state_); }

  // The failure, or OK when there is a value.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(state_); }

  // REQUIRES: ok()
  T& value() & {
    assert(ok() && "Result::value() on a failure");
    return std::get<T>(state_);
  }
  const T& value() const& {
    assert(ok() && "Result::value() on a failure");
    return std::get<T>(state_);
  }
  T&& value() && {
    assert(ok() && "Result::value() on a failure");
    return std::get<T>(std::move(state_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> state_;
};

}  // namespace posflow

// Returns early from the enclosing function when `expr` (a Status) is not OK.
#define POSFLOW_RETURN_IF_ERROR(expr)              \
  do {                                             \
    ::posflow::Status posflow_status_ = (expr);    \
    if (!posflow_status_.ok()) return posflow_status_; \
  } while (false)
