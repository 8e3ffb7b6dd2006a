#pragma once

// What a route answers, and the error replies every route shares.
// Private to kassa::api.

#include <boost/json.hpp>
#include <optional>

#include "json_mapping.h"
#include "kassa/http/http_server.h"

namespace kassa::api {

struct Reply {
  unsigned status;
  boost::json::value body;
};

inline Reply Error(const ApiError& e) { return {e.http_status, ErrorJson(e)}; }
inline Reply Error(const Status& s) { return Error(ToApiError(s)); }
// A Status whose detail names a generic field ("attributes: ..."), with the
// field made exact ("attributes.likes").
inline Reply Error(const Status& s, const std::string& exact_field) {
  ApiError e = ToApiError(s);
  if (!exact_field.empty()) e.field = exact_field;
  return Error(e);
}
inline Reply NotFoundRoute() { return Error(ApiError{404, "not_found", "", "no such API path; see docs/API.md"}); }
inline Reply MethodNotAllowed() {
  return Error(ApiError{405, "method_not_allowed", "", "this path does not take that method"});
}

inline std::optional<ApiError> ParseBody(const http::Request& req, boost::json::value& out) {
  boost::system::error_code ec;
  out = boost::json::parse(req.body(), ec);
  if (ec) return ApiError{400, "invalid_argument", "body", "not valid JSON: " + ec.message()};
  if (!out.is_object()) return ApiError{400, "invalid_argument", "body", "must be a JSON object"};
  return std::nullopt;
}

}  // namespace kassa::api
