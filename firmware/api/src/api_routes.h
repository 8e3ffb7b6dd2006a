#pragma once

// kassad's local API as one route table (docs/API.md), on the shared HTTP
// edge: the core routes (health, store, status, outbox, sync, quarantine,
// doctor, devices, customers, receipts) handled in api_routes.cc, the
// sign-in and clienteling routes in clienteling_routes.cc, every one
// guarded by ClientelingGuard with the access written beside it in the
// table. Everything outside /v1/ is a file of the screens.

#include <memory>
#include <vector>

#include "kassa/base/clock.h"
#include "kassa/clienteling/clienteling_service.h"
#include "kassa/clienteling/operator_sessions.h"
#include "kassa/clienteling/pin_verifier.h"
#include "kassa/customers/customer_service.h"
#include "kassa/devices/device_flows.h"
#include "kassa/http/router.h"
#include "kassa/http/static_files.h"
#include "kassa/storage/terminal_tables.h"

namespace kassa::api {

// What the handlers work with. REQUIRES: the references outlive the router.
struct ApiContext {
  customers::CustomerService& customers;
  storage::Diagnostics& diagnostics;
  storage::QuarantineView& quarantine;
  storage::OutboxView& outbox;                 // what waits for headquarters (a customer's changes)
  Clock& clock;
  devices::DeviceFlows* devices;               // null: no peripherals wired
  clienteling::OperatorSessions& sessions;     // who is signed in; the guard
  clienteling::PinVerifier& pins;              // PIN hashes off the event loop
  boost::asio::any_io_executor executor;       // the event loop, where answers are sent
  clienteling::ClientelingService& clienteling;  // books, cards, timelines
  customers::AccessRecorder& access;           // the audit trail: who opened, listed, printed whom
  http::StaticFiles ui;                        // the web UI: every path outside /v1/
  http::RouteMetrics route_metrics{};          // answers per route, for /v1/metrics
};

// The router of every route over `context`.
// REQUIRES: `context` outlives the router.
std::unique_ptr<http::Router> MakeApiRouter(ApiContext& context);

// Every route with the access it needs, in the order docs/API.md lists them.
std::vector<http::RouteInfo> ApiRouteTable();

}  // namespace kassa::api
