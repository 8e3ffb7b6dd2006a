#pragma once

// The local API of sign-in and clienteling (docs/API.md "Operators" and
// "Clienteling"): its route table (the handlers stay in the .cc), and the
// guard that signs every kassad call in. Sessions travel as
// "Authorization: Bearer TOKEN".

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

// What the sign-in and clienteling routes work with.
struct ClientelingContext {
  clienteling::OperatorSessions& sessions;
  clienteling::ClientelingService& service;
};

// The guard of every kassad route: "public" lets anyone through; "session"
// needs a signed-in operator (401 otherwise); a permission name
// ("create_customer") needs an operator whose role allows it (403). Sets the
// call's identity to the clienteling::Caller.
std::optional<Reply> ClientelingGuard(ClientelingContext& context, Call& call);

// The sign-in and clienteling routes (POST/GET/DELETE /v1/session,
// /v1/clienteling, /v1/operators, /v1/clientbook..., /v1/customers/{ref}/card,
// /timeline, /activities, /notes) with their access.
std::vector<http::RouteInfo> ClientelingRouteTable();
// REQUIRES: `context` outlives the routes.
std::vector<http::Route> BindClientelingRoutes(ClientelingContext& context);

}  // namespace kassa::api
