#pragma once

// kassad's local API as one route table (docs/API.md): the core routes
// (health, store, status, outbox, sync, quarantine, doctor, devices,
// customers, receipts) handled in api_routes.cc, the sign-in and
// clienteling routes in clienteling_routes.cc, every one guarded by
// ClientelingGuard with the access written beside it. Most routes answer at once; a sync-mode create
// and a chain search answer when headquarters does.

#include <memory>
#include <string>
#include <vector>

#include "clienteling_routes.h"
#include "kassa/base/clock.h"
#include "kassa/customers/customer_service.h"
#include "kassa/devices/device_flows.h"
#include "kassa/http/router.h"
#include "kassa/http/static_files.h"
#include "kassa/storage/terminal_tables.h"

namespace kassa::api {

class ApiRoutes {
 public:
  // `devices` may be null (no peripherals wired). REQUIRES: the references
  // outlive the routes.
  ApiRoutes(customers::CustomerService& customers, storage::Diagnostics& diagnostics,
            storage::QuarantineView& quarantine, Clock& clock, devices::DeviceFlows* devices,
            clienteling::OperatorSessions& sessions, clienteling::ClientelingService& clienteling, std::string ui_root);

  // Answers `request`: an API route under /v1/, else a file of the screens.
  void Handle(const http::Request& request, http::Respond respond) const { router_->Handle(request, std::move(respond)); }

  // Every route, in the order docs/API.md lists them.
  static std::vector<http::RouteInfo> Table();

  ~ApiRoutes();

  struct Context;  // what the handlers work with (api_routes.cc)

 private:
  std::unique_ptr<Context> context_;
  std::unique_ptr<http::Router> router_;
};

}  // namespace kassa::api
