#pragma once

// The local API of sign-in and clienteling (docs/API.md "Operators" and
// "Clienteling"): the handlers, and the guard that signs every kassad call
// in. Sessions travel as "Authorization: Bearer TOKEN".

#include <optional>
#include <vector>

#include "api_routes.h"
#include "kassa/clienteling/clienteling_service.h"
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

// Who the caller of `call` is in the access audit trail: the kiosk, or the
// operator's worker id.
std::string_view ActorOf(const Call& call);

// The guard of every kassad route: "public" lets anyone through; "session"
// needs a signed-in operator (401 otherwise); a permission name
// ("create_customer") needs an operator whose role allows it (403). Sets the
// call's identity to the clienteling::Caller.
std::optional<Reply> ClientelingGuard(ApiContext& context, Call& call);

// The handlers of the sign-in and clienteling routes (api_routes.cc's table
// says which path and access each has).
std::optional<Reply> SignIn(ApiContext& context, Call& call);
std::optional<Reply> OpenSwipe(ApiContext& context, Call& call);
std::optional<Reply> StartKiosk(ApiContext& context, Call& call);
// Whether a kiosk session may call `route` (sign a customer up, show it
// back, print its receipt, its own session).
bool KioskMay(const http::RouteInfo& route);
std::optional<Reply> SessionInfo(ApiContext& context, Call& call);
std::optional<Reply> SignOut(ApiContext& context, Call& call);
std::optional<Reply> Configuration(ApiContext& context, Call& call);
std::optional<Reply> Operators(ApiContext& context, Call& call);
std::optional<Reply> Book(ApiContext& context, Call& call);
std::optional<Reply> AddToBook(ApiContext& context, Call& call);
std::optional<Reply> RemoveFromBook(ApiContext& context, Call& call);
std::optional<Reply> Reassign(ApiContext& context, Call& call);
std::optional<Reply> Card(ApiContext& context, Call& call);
std::optional<Reply> Timeline(ApiContext& context, Call& call);
std::optional<Reply> Consents(ApiContext& context, Call& call);
std::optional<Reply> ConsentTexts(ApiContext& context, Call& call);
std::optional<Reply> AddActivity(ApiContext& context, Call& call);
std::optional<Reply> AddNote(ApiContext& context, Call& call);

}  // namespace kassa::api
