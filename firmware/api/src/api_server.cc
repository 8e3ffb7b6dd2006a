#include "kassa/api/api_server.h"

#include <boost/json.hpp>

#include "event_hub.h"
#include "api_routes.h"
#include "json_mapping.h"
#include "kassa/http/customer_json.h"
#include "kassa/http/http_server.h"
#include "kassa/http/router.h"

namespace kassa::api {

struct ApiServer::Impl {
  std::unique_ptr<clienteling::PinVerifier> pins;  // before the context, which refers to it
  ApiContext context;
  std::unique_ptr<http::Router> router;
  EventHub events;
  std::unique_ptr<http::HttpServer> server;
};

std::vector<http::RouteInfo> ApiServer::RouteTable() { return ApiRouteTable(); }

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiServer::~ApiServer() { Stop(); }

Result<std::unique_ptr<ApiServer>> ApiServer::Start(boost::asio::any_io_executor executor, const std::string& address,
                                                    std::uint16_t port, customers::CustomerService& customers,
                                                    storage::Diagnostics& diagnostics, storage::QuarantineView& quarantine,
                                                  Clock& clock,
                                                    devices::DeviceFlows* devices,
                                                    clienteling::OperatorSessions& sessions,
                                                    clienteling::ClientelingService& clienteling,
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
  auto impl = std::unique_ptr<Impl>(
      new Impl{std::move(pins),
               ApiContext{customers, diagnostics, quarantine, clock, devices, sessions, verifier, executor, clienteling,
                          http::StaticFiles(ui_root)},
               nullptr, EventHub(std::move(authorize)), nullptr});
  impl->router = MakeApiRouter(impl->context);
  Impl* p = impl.get();
  http::ServerOptions options;
  options.max_body_bytes = kMaxBodyBytes;
  options.on_upgrade = [p](boost::beast::tcp_stream stream, http::Request request) {
    p->events.Accept(std::move(stream), std::move(request));
  };
  KASSA_TRY_ASSIGN(impl->server, http::HttpServer::Start(executor, address, port, options,
                                                         [p](const http::Request& req, http::Respond respond) {
                                                           p->router->Handle(req, std::move(respond));
                                                         }));
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
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

void ApiServer::Publish(const devices::Event& event) {
  impl_->events.Publish(boost::json::serialize(EventJson(event)), /*carries_customer=*/event.customer.has_value());
}

void ApiServer::Stop() {
  if (!impl_) return;
  if (impl_->server) impl_->server->Stop();
  impl_->events.CloseAll();
}

}  // namespace kassa::api
