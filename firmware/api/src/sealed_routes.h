#pragma once

// kassad's API while the terminal serves no customer data (customers/
// access.h: locked or wiped): the same route table, in which GET /v1/health
// and GET /v1/status answer with the terminal's state and every other route
// answers 423 "locked" with the reason; everything outside /v1/ is still a
// file of the screens (which show the state). No session is needed or
// accepted: there is nothing to sign in to.

#include <functional>
#include <memory>
#include <string>

#include "kassa/customers/access.h"
#include "kassa/http/router.h"
#include "kassa/http/static_files.h"

namespace kassa::api {

struct SealedContext {
  std::string terminal_id;
  customers::Access access;
  // Members GET /v1/status adds while locked (link and outbox: what
  // unlocks it and what waits); null: none (wiped).
  std::function<boost::json::object()> details;
  http::StaticFiles ui;
};

// What the terminal's state says to a person ("access" in /v1/status).
boost::json::object AccessJson(const customers::Access& access);

// REQUIRES: `context` outlives the router.
std::unique_ptr<http::Router> MakeSealedRouter(SealedContext& context);

}  // namespace kassa::api
