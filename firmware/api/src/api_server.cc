#include "kassa/api/api_server.h"

#include <boost/json.hpp>

#include "event_hub.h"
#include "api_routes.h"
#include "json_mapping.h"
#include "sealed_routes.h"
#include "kassa/http/customer_json.h"
#include "kassa/http/http_server.h"
#include "kassa/http/router.h"

namespace kassa::api {

struct ApiServer::Impl {
  std::unique_ptr<clienteling::PinVerifier> pins;  // before the context, which refers to it
  std::optional<ApiContext> context;               // absent: started sealed (StartSealed)
  std::unique_ptr<http::Router> router;            // the whole API over `context`
  SealedContext sealed;
  std::unique_ptr<http::Router> sealed_router;     // while customer data is not served
  bool is_sealed = false;
  EventHub events;
  std::unique_ptr<http::HttpServer> server;

  // Starts the HTTP server: requests go to the router of the moment, the
  // event stream only while not sealed.
  Status Listen(boost::asio::any_io_executor executor, const std::string& address, std::uint16_t port) {
    sealed_router = MakeSealedRouter(sealed);
    http::ServerOptions options;
    options.max_body_bytes = kMaxBodyBytes;
    options.on_upgrade = [this](boost::beast::tcp_stream stream, http::Request request) {
      if (is_sealed) return;  // the stream closes as it goes out of scope
      events.Accept(std::move(stream), std::move(request));
    };
    KASSA_TRY_ASSIGN(server, http::HttpServer::Start(executor, address, port, options,
                                                     [this](const http::Request& req, http::Respond respond) {
                                                       (is_sealed ? sealed_router : router)->Handle(req, std::move(respond));
                                                     }));
    return Status::Ok();
  }
};

std::vector<http::RouteInfo> ApiServer::RouteTable() { return ApiRouteTable(); }

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiServer::~ApiServer() { Stop(); }

Result<std::unique_ptr<ApiServer>> ApiServer::Start(boost::asio::any_io_executor executor, const std::string& address,
                                                    std::uint16_t port, customers::CustomerService& customers,
                                                    storage::Diagnostics& diagnostics, storage::QuarantineView& quarantine,
                                                    storage::OutboxView& outbox, Clock& clock,
                                                    devices::DeviceFlows* devices,
                                                    clienteling::OperatorSessions& sessions,
                                                    clienteling::ClientelingService& clienteling,
                                                    customers::AccessRecorder& access,
                                                    const std::string& ui_root) {
  // Events with customers go to signed-in operators only: their token comes
  // as ?token= (browsers cannot set headers on a WebSocket) or as a header.
  EventHub::Authorize authorize = [&sessions](const http::Request& req) {
    std::string token = http::QueryParam(req, "token").value_or("");
    const auto header = req.find(boost::beast::http::field::authorization);
    if (token.empty() && header != req.end() && header->value().starts_with("Bearer ")) {
      token = std::string(header->value().substr(7));
    }
    if (token.empty()) return false;
    // Kiosk sessions get no customer events: they see only their own sign-up.
    const auto caller = sessions.Authenticate(token);
    return caller.ok() && !caller->kiosk;
  };
  auto pins = std::make_unique<clienteling::PinVerifier>();
  clienteling::PinVerifier& verifier = *pins;
  auto impl = std::unique_ptr<Impl>(new Impl{
      std::move(pins),
      ApiContext{customers, diagnostics, quarantine, outbox, clock, devices, sessions, verifier, executor, clienteling,
                 access, http::StaticFiles(ui_root)},
      nullptr, SealedContext{customers.terminal_id(), customers::Access{}, nullptr, http::StaticFiles(ui_root)},
      nullptr, false, EventHub(std::move(authorize)), nullptr});
  impl->router = MakeApiRouter(*impl->context);
  KASSA_TRY(impl->Listen(executor, address, port));
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

Result<std::unique_ptr<ApiServer>> ApiServer::StartSealed(boost::asio::any_io_executor executor,
                                                          const std::string& address, std::uint16_t port,
                                                          const std::string& terminal_id, customers::Access access,
                                                          const std::string& ui_root) {
  auto impl = std::unique_ptr<Impl>(new Impl{
      nullptr, std::nullopt, nullptr, SealedContext{terminal_id, access, nullptr, http::StaticFiles(ui_root)},
      nullptr, true, EventHub([](const http::Request&) { return false; }), nullptr});
  KASSA_TRY(impl->Listen(executor, address, port));
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

void ApiServer::SetAccess(const customers::Access& access, std::function<boost::json::object()> details) {
  impl_->sealed.access = access;
  impl_->sealed.details = std::move(details);
  const bool seal = !access.open() || !impl_->router;
  if (seal && !impl_->is_sealed) impl_->events.CloseAll();
  impl_->is_sealed = seal;
}

void ApiServer::PublishSync(const std::vector<model::Customer>& accounts_assigned) {
  for (const auto& c : accounts_assigned) {
    impl_->events.Publish(
        boost::json::serialize(boost::json::object{{"type", "account_assigned"}, {"customer", http::CustomerJson(c)}}),
        /*carries_customer=*/true);
  }
  impl_->events.Publish(R"({"type":"sync"})", /*carries_customer=*/false);
}

std::uint16_t ApiServer::port() const { return impl_->server->port(); }

void ApiServer::Handle(const http::Request& request, http::Respond respond) {
  (impl_->is_sealed ? impl_->sealed_router : impl_->router)->Handle(request, std::move(respond));
}

void ApiServer::Publish(const devices::Event& event) {
  impl_->events.Publish(boost::json::serialize(EventJson(event)), /*carries_customer=*/event.customer.has_value());
}

void ApiServer::Stop() {
  if (!impl_) return;
  if (impl_->server) impl_->server->Stop();
  impl_->events.CloseAll();
}

}  // namespace kassa::api
