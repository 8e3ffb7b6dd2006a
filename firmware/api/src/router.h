#pragma once

// Maps API requests to the customer service, the store and the link to
// headquarters. Most routes answer at once; a sync-mode create and a chain
// search answer when headquarters does. Every route that reads or changes
// customer data runs as a signed-in operator (ClientelingRoutes) and checks
// the operator's permission.

#include "clienteling_routes.h"
#include "kassa/customers/customer_service.h"
#include "kassa/devices/device_flows.h"
#include "kassa/base/clock.h"
#include "kassa/http/http_server.h"
#include "kassa/http/static_files.h"
#include "kassa/storage/terminal_tables.h"

namespace kassa::api {

using http::Request;
using http::Response;

class Router {
 public:
  // `devices` may be null (no peripherals wired).
  Router(customers::CustomerService& customers, storage::Diagnostics& diagnostics, storage::QuarantineView& quarantine,
         Clock& clock,
         devices::DeviceFlows* devices, clienteling::OperatorSessions& sessions,
         clienteling::ClientelingService& clienteling, std::string ui_root)
      : customers_(customers),
        diagnostics_(diagnostics),
        quarantine_(quarantine),
        clock_(clock),
        devices_(devices),
        clienteling_(sessions, clienteling),
        ui_(std::move(ui_root)) {}

  void Handle(const Request& request, http::Respond respond);

 private:
  customers::CustomerService& customers_;
  storage::Diagnostics& diagnostics_;
  storage::QuarantineView& quarantine_;
  Clock& clock_;
  devices::DeviceFlows* devices_;
  ClientelingRoutes clienteling_;  // sign-in, and every route of customer data checks it
  http::StaticFiles ui_;           // the web UI: every path outside /v1/
};

}  // namespace kassa::api
