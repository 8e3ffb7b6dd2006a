#pragma once

// Status and Result<T>: the only way errors cross a module boundary in kassa.
//
// A Status is a code from the canonical set shared by gRPC and Pigweed plus a
// static detail string (never allocated, never freed). Variable context goes
// to the log where the failure happens. Field validation errors use the detail
// form "field: what is wrong", so callers can name the field to the user.
//
// Result<T> holds either a value or a non-OK Status.

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace kassa {

enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// Lower-case snake name of `code`, e.g. "invalid_argument".
const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  constexpr Status() = default;
  // REQUIRES: `detail` has static storage duration.
  constexpr Status(StatusCode code, const char* detail) : code_(code), detail_(detail) {}

  static constexpr Status Ok() { return Status(); }

  constexpr bool ok() const { return code_ == StatusCode::kOk; }
  constexpr StatusCode code() const { return code_; }
  constexpr const char* detail() const { return detail_; }

  // For a detail of the form "field: message", the field; otherwise empty.
  std::string_view field() const;
  // For a detail of the form "field: message", the message; otherwise the detail.
  std::string_view message() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  const char* detail_ = "";
};

// For parsers of nested input (JSON bodies, configuration files): names the
// member at fault by its path in `field` ("default_customer.currency") and
// returns kInvalidArgument with `message`, which names no member.
// REQUIRES: `message` has static storage duration.
Status InvalidAt(std::string& field, std::string path, const char* message);

// Logs `expr` and `file:line`, then aborts. For broken invariants only, never
// for anything the field can cause.
[[noreturn]] void CheckFailed(const char* expr, const char* file, int line);

#define KASSA_CHECK(cond)                                      \
  do {                                                         \
    if (!(cond)) ::kassa::CheckFailed(#cond, __FILE__, __LINE__); \
  } while (0)

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(status) {      // NOLINT: implicit by design
    KASSA_CHECK(!status.ok());
  }

  bool ok() const { return value_.has_value(); }
  Status status() const { return status_; }

  T& value() & {
    KASSA_CHECK(ok());
    return *value_;
  }
  const T& value() const& {
    KASSA_CHECK(ok());
    return *value_;
  }
  T&& value() && {
    KASSA_CHECK(ok());
    return std::move(*value_);
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

namespace internal {
inline Status AsStatus(const Status& s) { return s; }
template <typename T>
Status AsStatus(const Result<T>& r) {
  return r.status();
}
}  // namespace internal

#define KASSA_CONCAT_INNER(a, b) a##b
#define KASSA_CONCAT(a, b) KASSA_CONCAT_INNER(a, b)

// Returns the Status of `expr` (a Status or a Result) from the enclosing
// function when it is not OK.
#define KASSA_TRY(expr) KASSA_TRY_IMPL(KASSA_CONCAT(kassa_try_s_, __COUNTER__), expr)
#define KASSA_TRY_IMPL(tmp, expr)                                   \
  do {                                                              \
    if (auto tmp = ::kassa::internal::AsStatus(expr); !tmp.ok())    \
      return tmp;                                                   \
  } while (0)

// `KASSA_TRY_ASSIGN(T x, ResultExpr)`: declares and assigns on success,
// returns the Status otherwise.
#define KASSA_TRY_ASSIGN(lhs, expr) \
  KASSA_TRY_ASSIGN_IMPL(KASSA_CONCAT(kassa_try_r_, __COUNTER__), lhs, expr)
#define KASSA_TRY_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

}  // namespace kassa
