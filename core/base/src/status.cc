#include "kassa/base/status.h"

#include <cstdio>
#include <cstring>

namespace kassa {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kCancelled: return "cancelled";
    case StatusCode::kUnknown: return "unknown";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kDeadlineExceeded: return "deadline_exceeded";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kAlreadyExists: return "already_exists";
    case StatusCode::kPermissionDenied: return "permission_denied";
    case StatusCode::kResourceExhausted: return "resource_exhausted";
    case StatusCode::kFailedPrecondition: return "failed_precondition";
    case StatusCode::kAborted: return "aborted";
    case StatusCode::kOutOfRange: return "out_of_range";
    case StatusCode::kUnimplemented: return "unimplemented";
    case StatusCode::kInternal: return "internal";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kDataLoss: return "data_loss";
    case StatusCode::kUnauthenticated: return "unauthenticated";
  }
  return "unknown";
}

namespace {
// Position of the ": " that separates a field name from the message, or npos.
// A field name is [a-z0-9_.\[\]]+, so free text with a colon is not split.
std::string_view::size_type FieldSeparator(std::string_view detail) {
  const auto pos = detail.find(": ");
  if (pos == std::string_view::npos || pos == 0) return std::string_view::npos;
  for (char c : detail.substr(0, pos)) {
    const bool allowed = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                         c == '.' || c == '[' || c == ']';
    if (!allowed) return std::string_view::npos;
  }
  return pos;
}
}  // namespace

std::string_view Status::field() const {
  const std::string_view d(detail_);
  const auto pos = FieldSeparator(d);
  return pos == std::string_view::npos ? std::string_view() : d.substr(0, pos);
}

std::string_view Status::message() const {
  const std::string_view d(detail_);
  const auto pos = FieldSeparator(d);
  return pos == std::string_view::npos ? d : d.substr(pos + 2);
}

Status InvalidAt(std::string& field, std::string path, const char* message) {
  field = std::move(path);
  return Status(StatusCode::kInvalidArgument, message);
}

void CheckFailed(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "FATAL %s:%d: check failed: %s\n", file, line, expr);
  std::fflush(stderr);
  std::abort();
}

}  // namespace kassa
