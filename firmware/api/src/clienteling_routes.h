#pragma once

// The local API of sign-in and clienteling (docs/API.md "Operators" and
// "Clienteling"):
//   POST/GET/DELETE /v1/session
//   GET  /v1/clienteling                  roles, attributes, activity types
//   GET  /v1/operators                    this store's associates and managers
//   GET  /v1/clientbook                   a book, or the store's (?store=true), filtered
//   POST /v1/clientbook/entries           add;  DELETE /v1/clientbook/entries/{ref}
//   POST /v1/clientbook/reassign
//   GET  /v1/customers/{ref}/card | /timeline
//   POST /v1/customers/{ref}/activities | /notes
// Sessions travel as "Authorization: Bearer TOKEN".

#include <optional>
#include <string_view>
#include <variant>

#include "kassa/clienteling/clienteling_service.h"
#include "kassa/clienteling/operator_sessions.h"
#include "route_reply.h"

namespace kassa::api {

// Checks and normalizes a create or edit's attribute values against the
// caller's legal entity's definitions; the reply on a bad one.
std::optional<Reply> CheckAttributes(const clienteling::Caller& caller, std::vector<model::AttributeValue>& attributes);

class ClientelingRoutes {
 public:
  ClientelingRoutes(clienteling::OperatorSessions& sessions, clienteling::ClientelingService& service)
      : sessions_(sessions), service_(service) {}

  // The answer when `route` (the path after /v1/) is one of these routes.
  std::optional<Reply> Handle(const http::Request& req, std::string_view route, std::string_view query);

  // The signed-in caller of `req`, or the 401 reply to send.
  std::variant<clienteling::Caller, Reply> Authenticate(const http::Request& req);

 private:
  std::optional<Reply> Session(const http::Request& req);

  clienteling::OperatorSessions& sessions_;
  clienteling::ClientelingService& service_;
};

}  // namespace kassa::api
