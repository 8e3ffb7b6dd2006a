#pragma once

// kassad's local API as one route table (docs/API.md): the core routes
// (health, store, status, outbox, sync, quarantine, doctor, devices,
// customers, receipts) handled here, the sign-in and clienteling routes by
// ClientelingRoutes, every one guarded by ClientelingRoutes::Guard with the
// access written beside it. Most routes answer at once; a sync-mode create
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

  std::optional<Reply> Health(Call& call);
  std::optional<Reply> Store(Call& call);
  std::optional<Reply> StatusReport(Call& call);
  std::optional<Reply> Outbox(Call& call);
  std::optional<Reply> SyncStatus(Call& call);
  std::optional<Reply> SyncNow(Call& call);
  std::optional<Reply> Quarantine(Call& call);
  std::optional<Reply> Doctor(Call& call);
  std::optional<Reply> Devices(Call& call);
  std::optional<Reply> Search(Call& call);
  std::optional<Reply> Create(Call& call);
  std::optional<Reply> Show(Call& call);
  std::optional<Reply> Edit(Call& call);
  std::optional<Reply> Receipt(Call& call);

 private:
  customers::CustomerService& customers_;
  storage::Diagnostics& diagnostics_;
  storage::QuarantineView& quarantine_;
  Clock& clock_;
  devices::DeviceFlows* devices_;  // null: no peripherals
  ClientelingRoutes clienteling_;  // sign-in, sessions, books, timelines; the guard
  http::StaticFiles ui_;           // the web UI: every path outside /v1/
  std::unique_ptr<http::Router> router_;
};

}  // namespace kassa::api
