#include "kassa/service/service.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "kassa/api/api_server.h"
#include "kassa/base/log.h"
#include "kassa/customers/customer_service.h"
#include "kassa/hal/lnx/system_clock.h"
#include "kassa/model/limits.h"
#include "kassa/config/store_config_json.h"
#include "kassa/storage/customer_store.h"
#include "kassa/uplink/uplink.h"

namespace kassa::service {

struct Service::Parts {
  boost::asio::io_context io{1};                        // the one thread's event loop
  boost::asio::signal_set signals{io, SIGINT, SIGTERM}; // graceful stop
  hal::lnx::SystemClock clock;                          // stamps on customers and the outbox
  std::unique_ptr<storage::CustomerStore> store;        // LMDB: customers, indexes, outbox, config
  std::unique_ptr<customers::CustomerService> customers;  // create, edit, find, search
  std::unique_ptr<uplink::Uplink> uplink;               // link to headquarters (absent without --hq)
  std::unique_ptr<api::ApiServer> api;                  // local HTTP/JSON API on loopback
};

Service::Service(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
Service::~Service() = default;

Result<std::unique_ptr<Service>> Service::Create(const ServiceOptions& options) {
  if (options.terminal_id.empty() || options.terminal_id.size() > model::kMaxTerminalIdBytes) {
    return Status(StatusCode::kInvalidArgument, "terminal: the terminal id must be 1 to 32 bytes");
  }
  auto parts = std::make_unique<Parts>();
  KASSA_TRY_ASSIGN(parts->store, storage::CustomerStore::Open({options.data_dir, options.map_size_bytes}));

  model::StoreConfig config;
  if (!options.config_path.empty()) {
    if (auto error = config::LoadStoreConfigFile(options.config_path, config)) {
      KASSA_LOG(kError) << "store configuration " << *error;
      return Status(StatusCode::kInvalidArgument, "config: the store configuration file is not valid (see log)");
    }
    KASSA_TRY(parts->store->SaveStoreConfig(config));
  } else {
    KASSA_TRY_ASSIGN(auto saved, parts->store->LoadStoreConfig());
    if (!saved) {
      return Status(StatusCode::kFailedPrecondition,
                    "config: this data directory has no store configuration yet; start once with --config FILE");
    }
    config = std::move(*saved);
    KASSA_TRY(model::ValidateStoreConfig(config));
  }

  parts->customers = std::make_unique<customers::CustomerService>(*parts->store, parts->clock,
                                                                  options.terminal_id, std::move(config));
  Parts* p = parts.get();
  if (!options.hq_host.empty()) {
    uplink::UplinkOptions link;
    link.host = options.hq_host;
    link.port = options.hq_port;
    const std::string config_path = options.config_path;
    parts->uplink = std::make_unique<uplink::Uplink>(
        parts->io.get_executor(), *parts->customers, *parts->store, parts->clock, link,
        [p, config_path](const model::StoreConfig& distributed) {
          if (distributed == p->customers->store_config()) return;
          KASSA_LOG(kInfo) << "store configuration from headquarters: creation mode "
                           << model::ToString(distributed.creation_mode) << ", offline creation "
                           << (distributed.allow_offline_creation ? "allowed" : "forbidden");
          p->customers->SetStoreConfig(distributed);
          if (!config_path.empty()) {
            if (Status s = config::WriteStoreConfigFile(config_path, distributed); !s.ok()) {
              KASSA_LOG(kError) << "cannot replace " << config_path << " with headquarters' configuration";
            }
          }
        });
    parts->customers->SetHeadquarters(parts->uplink.get());
    parts->uplink->Start();
  }
  KASSA_TRY_ASSIGN(parts->api, api::ApiServer::Start(parts->io.get_executor(), options.listen_address, options.port,
                                                     *parts->customers, *parts->store, parts->clock));
  p->signals.async_wait([p](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    KASSA_LOG(kInfo) << "signal " << signal << ": stopping";
    p->api->Stop();
    if (p->uplink) p->uplink->Stop();
  });
  return std::unique_ptr<Service>(new Service(std::move(parts)));
}

std::uint16_t Service::port() const { return parts_->api->port(); }

void Service::Run() {
  parts_->io.run();
  KASSA_LOG(kInfo) << "stopped";
}

}  // namespace kassa::service
