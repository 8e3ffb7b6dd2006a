#include "kassa/api/api_server.h"

#include "kassa/http/http_server.h"
#include "router.h"

namespace kassa::api {

struct ApiServer::Impl {
  Router router;
  std::unique_ptr<http::HttpServer> server;
};

ApiServer::ApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiServer::~ApiServer() { Stop(); }

Result<std::unique_ptr<ApiServer>> ApiServer::Start(boost::asio::any_io_executor executor, const std::string& address,
                                                    std::uint16_t port, customers::CustomerService& customers,
                                                    storage::CustomerStore& store, hal::Clock& clock) {
  auto impl = std::unique_ptr<Impl>(new Impl{Router(customers, store, clock), nullptr});
  Router* router = &impl->router;
  KASSA_TRY_ASSIGN(impl->server,
                   http::HttpServer::Start(executor, address, port, http::ServerOptions{kMaxBodyBytes},
                                           [router](const http::Request& req, http::Respond respond) {
                                             router->Handle(req, std::move(respond));
                                           }));
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

std::uint16_t ApiServer::port() const { return impl_->server->port(); }

void ApiServer::Stop() {
  if (impl_ && impl_->server) impl_->server->Stop();
}

}  // namespace kassa::api
