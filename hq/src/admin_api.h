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

using http::Call;
using http::Reply;

class AdminApi {
 public:
  // REQUIRES: the references outlive the API.
  AdminApi(Registry& registry, LinkServer& link, Clock& clock);

  void Handle(const http::Request& request, http::Respond respond) const { router_->Handle(request, std::move(respond)); }

  // Every route, in the order docs/API.md lists them.
  static std::vector<http::RouteInfo> Table();

  std::optional<Reply> Health(Call& call);
  std::optional<Reply> StatusReport(Call& call);
  std::optional<Reply> Config(Call& call);
  std::optional<Reply> ReplaceConfig(Call& call);
  std::optional<Reply> Search(Call& call);
  std::optional<Reply> ImportMeasures(Call& call);
  std::optional<Reply> Show(Call& call);
  std::optional<Reply> Timeline(Call& call);

 private:
  Registry& registry_;
  LinkServer& link_;
  Clock& clock_;
  std::unique_ptr<http::Router> router_;
};

}  // namespace kassa::hq
