#pragma once

// The terminal's local HTTP/JSON API (documented in docs/API.md), served on a
// loopback address only.
//
// Threading: everything runs on the io_context's one thread; handlers call the
// customer service and store synchronously (each call is one short LMDB
// transaction), so no transaction is ever held across an asynchronous wait.
// Calls to headquarters (a sync-mode create, a chain search) answer later.

#include <boost/asio/any_io_executor.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/clienteling/clienteling_service.h"
#include "kassa/clienteling/operator_sessions.h"
#include "kassa/customers/access_recorder.h"
#include "kassa/customers/customer_service.h"
#include "kassa/devices/device_flows.h"
#include "kassa/http/router.h"
#include "kassa/base/clock.h"
#include "kassa/storage/terminal_tables.h"

namespace kassa::api {

// Largest request body accepted; a customer in JSON is a few KB at most.
inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;

class ApiServer {
 public:
  // Every route of the API with the access it needs (docs/API.md lists it).
  static std::vector<http::RouteInfo> RouteTable();

  // Binds `address`:`port` (port 0 picks a free one) and starts accepting.
  //
  // Returns:
  //   kOk               the running server.
  //   kInvalidArgument  "listen: ..." the address is not an IP address, or
  //                     not a loopback address.
  //   kUnavailable      "listen: ..." the port cannot be bound (in use).
  static Result<std::unique_ptr<ApiServer>> Start(boost::asio::any_io_executor executor,
                                                  const std::string& address, std::uint16_t port,
                                                  customers::CustomerService& customers,
                                                  storage::Diagnostics& diagnostics, storage::QuarantineView& quarantine,
                                                  storage::OutboxView& outbox, Clock& clock,
                                                  devices::DeviceFlows* devices,
                                                  clienteling::OperatorSessions& sessions,
                                                  clienteling::ClientelingService& clienteling,
                                                  customers::AccessRecorder& access,
                                                  const std::string& ui_root);
  // The API of a terminal that serves no customer data from its start (a
  // wiped one): sealed_routes.h's answers on every route; SetAccess never
  // opens it. Same results as Start.
  static Result<std::unique_ptr<ApiServer>> StartSealed(boost::asio::any_io_executor executor,
                                                        const std::string& address, std::uint16_t port,
                                                        const std::string& terminal_id, customers::Access access,
                                                        const std::string& ui_root);
  ~ApiServer();

  // Follows the terminal's access (customers/access.h): while it is not
  // open every route but health and status answers 423 and the event stream
  // is closed; open again, the whole API serves again. `details` adds
  // members to the sealed status (null: none).
  void SetAccess(const customers::Access& access, std::function<boost::json::object()> details = nullptr);

  // The bound port.
  // Answers `request` as the API listener would (the metrics listener
  // passes its scrapes here, after its own checks).
  void Handle(const http::Request& request, http::Respond respond);

  std::uint16_t port() const;

  // Sends `event` to every client of the event stream (WebSocket /v1/events)
  // as {"type": "customer_found", "device", "code", "customer", ...}.
  void Publish(const devices::Event& event);
  // Sends {"type": "sync"} (link, outbox or distribution changed: screens
  // re-read /v1/sync) and one {"type": "account_assigned", "customer"} per
  // customer that just took its account number.
  void PublishSync(const std::vector<model::Customer>& accounts_assigned);

  // Stops accepting and closes open connections, so io_context::run() can
  // return.
  void Stop();

  struct Impl;

 private:
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kassa::api
