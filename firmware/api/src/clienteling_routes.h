#pragma once

// The local API of sign-in and clienteling (docs/API.md "Operators" and
// "Clienteling"): the handlers of the routes in kClientelingRoutes
// (api_routes.cc lists them with the core routes), and the guard that signs
// every call in. Sessions travel as "Authorization: Bearer TOKEN".

#include <optional>
#include <vector>

#include "kassa/clienteling/clienteling_service.h"
#include "kassa/clienteling/operator_sessions.h"
#include "kassa/http/router.h"

namespace kassa::api {

using http::Call;
using http::Reply;

// Checks and normalizes a create or edit's attribute values against the
// caller's legal entity's definitions; the reply on a bad one.
std::optional<Reply> CheckAttributes(const clienteling::Caller& caller, std::vector<model::AttributeValue>& attributes);

// The signed-in operator of a call the guard let through.
// REQUIRES: the route's access is not "public".
const clienteling::Caller& CallerOf(const Call& call);

class ClientelingRoutes {
 public:
  ClientelingRoutes(clienteling::OperatorSessions& sessions, clienteling::ClientelingService& service)
      : sessions_(sessions), service_(service) {}

  // The guard of every kassad route: "public" lets anyone through;
  // "session" needs a signed-in operator (401 otherwise); a permission name
  // ("create_customer") needs an operator whose role allows it (403).
  std::optional<Reply> Guard(Call& call);

  std::optional<Reply> SignIn(Call& call);
  std::optional<Reply> SessionInfo(Call& call);
  std::optional<Reply> SignOut(Call& call);
  std::optional<Reply> Configuration(Call& call);
  std::optional<Reply> Operators(Call& call);
  std::optional<Reply> Book(Call& call);
  std::optional<Reply> AddToBook(Call& call);
  std::optional<Reply> RemoveFromBook(Call& call);
  std::optional<Reply> Reassign(Call& call);
  std::optional<Reply> Card(Call& call);
  std::optional<Reply> Timeline(Call& call);
  std::optional<Reply> AddActivity(Call& call);
  std::optional<Reply> AddNote(Call& call);

 private:
  std::optional<Reply> AddTimelineEntry(Call& call, bool activity);

  clienteling::OperatorSessions& sessions_;
  clienteling::ClientelingService& service_;
};

}  // namespace kassa::api
