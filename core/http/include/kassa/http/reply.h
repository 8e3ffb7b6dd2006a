#pragma once

// What a route of either daemon answers, and the one error envelope both
// send (docs/API.md "Errors"):
//   {"error": {"code": "not_found", "field": "customer", "message": "..."}}
// with the HTTP status given by one table from the Status code
// (HttpStatusOf), so kassad and kassa-hq answer the same error for the same
// Status.

#include <boost/json/value.hpp>
#include <string>

#include "kassa/base/status.h"
#include "kassa/http/http_server.h"

namespace kassa::http {

// An error as the API reports it: HTTP status, code, the field and a message.
struct ApiError {
  unsigned http_status = 400;
  std::string code;     // "invalid_argument", "not_found", ...
  std::string field;    // empty when no single field is at fault
  std::string message;
};

// kInvalidArgument and kOutOfRange 400, kUnauthenticated 401,
// kPermissionDenied 403, kNotFound 404, kAborted, kAlreadyExists and
// kFailedPrecondition 409, kResourceExhausted 507 (storage full),
// kUnimplemented 501, kUnavailable 503, kDeadlineExceeded 504, else 500.
unsigned HttpStatusOf(StatusCode code);
ApiError ToApiError(const Status& status);
boost::json::value ErrorJson(const ApiError& error);

struct Reply {
  unsigned status = 200;
  boost::json::value body;
  // Set: the answer is `text` with this media type instead of `body` as JSON
  // (GET /v1/metrics: the Prometheus text format).
  std::string content_type{};
  std::string text{};
};

Reply Error(const ApiError& error);
Reply Error(const Status& status);
// A Status whose detail names a generic field ("attributes: ..."), with the
// field made exact ("attributes.likes"); unchanged when `exact_field` is empty.
Reply Error(const Status& status, const std::string& exact_field);
// 400 invalid_argument naming `field`.
Reply Invalid(std::string field, std::string message);
Reply NotFoundRoute();
Reply MethodNotAllowed();

// The request's body as a JSON object.
// Returns: kOk; kInvalidArgument "body: ..." when it is not valid JSON or not
// an object.
Result<boost::json::object> ParseJsonObject(const Request& request);

}  // namespace kassa::http
