#pragma once

// Headquarters' admin API (HTTP/JSON on loopback, docs/API.md "kassa-hq"):
// one route table (kAdminRoutes in admin_api.cc) on the shared HTTP edge,
// the same error envelope and Status->HTTP table as kassad's API.

#include <memory>
#include <optional>
#include <vector>

#include "kassa/base/clock.h"
#include "kassa/hq/link_server.h"
#include "kassa/hq/registry.h"
#include "kassa/http/router.h"

namespace kassa::hq {

class AdminApi {
 public:
  // REQUIRES: the references outlive the API.
  AdminApi(Registry& registry, LinkServer& link, Clock& clock);

  void Handle(const http::Request& request, http::Respond respond) const { router_->Handle(request, std::move(respond)); }

  // Every route, in the order docs/API.md lists them.
  static std::vector<http::RouteInfo> Table();

  ~AdminApi();

  struct Context;  // what the handlers work with (admin_api.cc)

 private:
  std::unique_ptr<Context> context_;
  std::unique_ptr<http::Router> router_;
};

}  // namespace kassa::hq
