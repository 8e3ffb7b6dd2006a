#include "kassa/http/reply.h"

#include <boost/json.hpp>

namespace kassa::http {
namespace json = boost::json;

unsigned HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument:
    case StatusCode::kOutOfRange: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAborted:
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kResourceExhausted: return 507;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    default: return 500;
  }
}

ApiError ToApiError(const Status& status) {
  return ApiError{HttpStatusOf(status.code()), StatusCodeName(status.code()), std::string(status.field()),
                  std::string(status.message())};
}

json::value ErrorJson(const ApiError& e) {
  json::object err{{"code", e.code}, {"message", e.message}};
  if (!e.field.empty()) err["field"] = e.field;
  return json::object{{"error", std::move(err)}};
}

Reply Error(const ApiError& e) { return {e.http_status, ErrorJson(e)}; }
Reply Error(const Status& s) { return Error(ToApiError(s)); }
Reply Error(const Status& s, const std::string& exact_field) {
  ApiError e = ToApiError(s);
  if (!exact_field.empty()) e.field = exact_field;
  return Error(e);
}
Reply Invalid(std::string field, std::string message) {
  return Error(ApiError{400, "invalid_argument", std::move(field), std::move(message)});
}
Reply NotFoundRoute() { return Error(ApiError{404, "not_found", "", "no such API path; see docs/API.md"}); }
Reply MethodNotAllowed() { return Error(ApiError{405, "method_not_allowed", "", "this path does not take that method"}); }

Result<json::object> ParseJsonObject(const Request& request) {
  boost::system::error_code ec;
  json::value body = json::parse(request.body(), ec);
  if (ec) return Status(StatusCode::kInvalidArgument, "body: not valid JSON");
  if (!body.is_object()) return Status(StatusCode::kInvalidArgument, "body: must be a JSON object");
  return std::move(body.get_object());
}

}  // namespace kassa::http
