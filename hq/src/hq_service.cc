#include "kassa/hq/hq_service.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "admin_api.h"
#include "kassa/base/log.h"
#include "kassa/config/store_config_json.h"
#include "kassa/base/system_clock.h"
#include "kassa/hq/link_server.h"
#include "kassa/hq/registry.h"
#include "kassa/http/http_server.h"
#include "kassa/storage/chain_store.h"

namespace kassa::hq {

struct HqService::Parts {
  boost::asio::io_context io{1};                         // the one thread's event loop
  boost::asio::signal_set signals{io, SIGINT, SIGTERM};  // graceful stop
  SystemClock clock;                           // stamps and status times
  std::unique_ptr<storage::ChainStore> store;            // the system of record
  std::unique_ptr<Registry> registry;                    // operations, numbers, distribution, config
  std::unique_ptr<LinkServer> link;                      // terminals
  std::unique_ptr<AdminApi> admin_api;                   // the admin routes
  std::unique_ptr<http::HttpServer> admin;               // admin API on loopback
};

HqService::HqService(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
HqService::~HqService() = default;

Result<std::unique_ptr<HqService>> HqService::Create(const HqOptions& options) {
  auto parts = std::make_unique<Parts>();
  KASSA_TRY_ASSIGN(parts->store, storage::OpenLmdbChainStore(options.data_dir, options.map_size_bytes));
  std::optional<ChainConfig> initial;
  if (!options.config_path.empty()) {
    boost::json::value root;
    ChainConfig config;
    auto error = config::ReadJsonFile(options.config_path, root);
    if (!error) {
      if (auto e = ParseChainConfig(root, config)) error = options.config_path + ": " + *e;
    }
    if (error) {
      KASSA_LOG(kError) << "chain configuration " << *error;
      return Status(StatusCode::kInvalidArgument, "config: the chain configuration file is not valid (see log)");
    }
    initial = std::move(config);
  }
  KASSA_TRY_ASSIGN(parts->registry, Registry::Open(*parts->store, parts->clock, std::move(initial)));
  KASSA_TRY_ASSIGN(parts->link, LinkServer::Start(parts->io.get_executor(), options.link_address, options.link_port,
                                                  *parts->registry, LinkServerOptions{}));
  parts->admin_api = std::make_unique<AdminApi>(*parts->registry, *parts->link, parts->clock);
  Parts* p = parts.get();
  KASSA_TRY_ASSIGN(parts->admin,
                   http::HttpServer::Start(parts->io.get_executor(), options.admin_address, options.admin_port,
                                           http::ServerOptions{256 * 1024, nullptr},
                                           [p](const http::Request& req, http::Respond respond) {
                                             p->admin_api->Handle(req, std::move(respond));
                                           }));
  p->signals.async_wait([p](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    KASSA_LOG(kInfo) << "signal " << signal << ": stopping";
    p->link->Stop();
    p->admin->Stop();
  });
  KASSA_LOG(kInfo) << "kassa-hq serving terminals on " << options.link_address << ':' << parts->link->port()
                   << ", admin API on " << options.admin_address << ':' << parts->admin->port();
  return std::unique_ptr<HqService>(new HqService(std::move(parts)));
}

std::vector<http::RouteInfo> HqService::AdminRouteTable() { return AdminApi::Table(); }

std::uint16_t HqService::link_port() const { return parts_->link->port(); }
std::uint16_t HqService::admin_port() const { return parts_->admin->port(); }

void HqService::Run() {
  parts_->io.run();
  KASSA_LOG(kInfo) << "stopped";
}

}  // namespace kassa::hq
