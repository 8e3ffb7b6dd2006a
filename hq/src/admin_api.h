#pragma once

// Headquarters' admin API (HTTP/JSON on loopback, docs/API.md "kassa-hq"):
// one route table (admin_api.cc) on the shared HTTP edge, with the same
// error envelope and Status->HTTP table as kassad's API.

#include <functional>
#include <memory>
#include <vector>

#include "kassa/base/clock.h"
#include "kassa/daemon/batch_loop.h"
#include "kassa/storage/key_rotation.h"
#include "kassa/hq/link_server.h"
#include "kassa/hq/registry.h"
#include "kassa/http/router.h"

namespace kassa::hq {

// What the handlers work with. REQUIRES: the references outlive the router.
struct AdminContext {
  Registry& registry;
  LinkServer& link;
  Clock& clock;
  storage::KeyRotation& rotation;  // the store's master key rotation
  daemon::BatchLoop& rotating;     // runs it between requests
  std::function<void()> start_retention;  // the retention sweep, now
  http::RouteMetrics route_metrics{};      // answers per route, for /v1/metrics
};

// The router of every admin route over `context`.
// REQUIRES: `context` outlives the router.
std::unique_ptr<http::Router> MakeAdminRouter(AdminContext& context);

// Every route with the access it needs, in the order docs/API.md lists them.
std::vector<http::RouteInfo> AdminRouteTable();

}  // namespace kassa::hq
