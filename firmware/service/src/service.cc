#include "kassa/service/service.h"

#include <optional>

#include "kassa/api/api_server.h"
#include "kassa/base/log.h"
#include "kassa/crypto/key_store.h"
#include "kassa/daemon/batch_loop.h"
#include "kassa/storage/key_rotation.h"
#include "kassa/customers/customer_service.h"
#include "kassa/daemon/daemon.h"
#include "kassa/daemon/directory_lock.h"
#include "kassa/devices/device_flows.h"
#include "kassa/base/system_clock.h"
#include "kassa/model/limits.h"
#include "kassa/config/clienteling_json.h"
#include "kassa/config/store_config_json.h"
#include "kassa/storage/customer_store.h"
#include "kassa/uplink/uplink.h"

namespace kassa::service {

struct Service::Parts {
  daemon::Daemon daemon{"kassad"};                      // event loop, signals, systemd readiness and watchdog
  std::optional<daemon::DirectoryLock> lock;            // this process alone on the data directory
  SystemClock clock;                          // stamps on customers and the outbox
  std::unique_ptr<storage::CustomerStore> store;        // LMDB: customers, indexes, outbox, config
  std::unique_ptr<customers::CustomerService> customers;  // create, edit, find, search
  std::unique_ptr<clienteling::OperatorSessions> sessions;  // who is signed in
  std::unique_ptr<clienteling::ClientelingService> clienteling;  // client books, cards, timelines
  std::unique_ptr<uplink::Uplink> uplink;               // link to headquarters (absent without --hq)
  Board board;                                          // peripherals and platform services
  std::unique_ptr<devices::DeviceFlows> devices;        // scans, swipes, receipts, device status
  std::unique_ptr<api::ApiServer> api;                  // local HTTP/JSON API and event stream on loopback
  std::unique_ptr<storage::KeyRotation> rotation;       // master key rotation of the store
  std::unique_ptr<daemon::BatchLoop> rotating;          // its batches, between requests
};

namespace {

// Operators for a terminal that has not reached headquarters yet: stored
// only while the store holds no clienteling configuration (headquarters'
// distribution replaces it).
Status BootstrapClienteling(storage::ClientelingTable& store, const std::string& path, const model::StoreConfig& config) {
  KASSA_TRY_ASSIGN(const auto existing, store.LoadClientelingConfig());
  if (existing) {
    KASSA_LOG(kInfo) << "clienteling: the configuration in the store is used; " << path << " is not needed any more";
    return Status::Ok();
  }
  model::ClientelingConfig clienteling;
  std::vector<model::Operator> operators;
  KASSA_TRY(config::LoadClientelingFile(path, config.legal_entity, clienteling, operators));
  std::vector<storage::ClientelingWrite> writes(1);
  writes[0].record.config = std::move(clienteling);
  for (auto& op : operators) {
    storage::ClientelingWrite w;
    w.record.op = std::move(op);
    writes.push_back(std::move(w));
  }
  KASSA_LOG(kInfo) << "clienteling: " << operators.size() << " operator(s) from " << path;
  return store.WriteClienteling(writes);
}

}  // namespace

Service::Service(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
Service::~Service() = default;

Result<std::unique_ptr<Service>> Service::Create(const ServiceOptions& options) {
  if (options.terminal_id.empty() || options.terminal_id.size() > model::kMaxTerminalIdBytes) {
    return Status(StatusCode::kInvalidArgument, "terminal: the terminal id must be 1 to 32 bytes");
  }
  auto parts = std::make_unique<Parts>();
  auto lock = daemon::DirectoryLock::Acquire(options.data_dir);
  if (!lock.ok()) return lock.status();
  parts->lock.emplace(std::move(*lock));
  if (options.key_file.empty()) return Status(StatusCode::kInvalidArgument, "key_file: the master key file is required");
  KASSA_TRY_ASSIGN(std::shared_ptr<crypto::KeyStore> keys, crypto::FileKeyStore::Open(options.key_file, options.data_dir));
  KASSA_TRY_ASSIGN(parts->store, storage::CustomerStore::Open(
                                     {options.data_dir, options.map_size_bytes, keys, options.key_slots_file}));
  KASSA_LOG(kInfo) << "customer data sealed at rest under the master key in " << options.key_file;

  model::StoreConfig config;
  if (!options.config_path.empty()) {
    KASSA_TRY(config::LoadStoreConfigFile(options.config_path, config));
    KASSA_TRY(parts->store->settings().SaveStoreConfig(config));
  } else {
    KASSA_TRY_ASSIGN(auto saved, parts->store->settings().LoadStoreConfig());
    if (!saved) {
      return Status(StatusCode::kFailedPrecondition,
                    "config: this data directory has no store configuration yet; start once with --config FILE");
    }
    config = std::move(*saved);
    KASSA_TRY(model::ValidateStoreConfig(config));
  }

  if (!options.clienteling_path.empty()) KASSA_TRY(BootstrapClienteling(parts->store->clienteling(), options.clienteling_path, config));
  const std::string store_id = config.store_id;
  parts->customers = std::make_unique<customers::CustomerService>(parts->store->customers(), parts->clock,
                                                                  options.terminal_id, std::move(config));
  parts->sessions = std::make_unique<clienteling::OperatorSessions>(parts->store->clienteling(), parts->store->lockouts(),
                                                                    parts->clock, store_id);
  parts->clienteling = std::make_unique<clienteling::ClientelingService>(
      parts->store->customers(), parts->store->clienteling(), *parts->customers,
                                                                          *parts->sessions, parts->clock);
  Parts* p = parts.get();
  if (!options.hq_host.empty()) {
    uplink::UplinkOptions link;
    link.host = options.hq_host;
    link.port = options.hq_port;
    link.tls_bundle = options.link_bundle;
    link.server_name = options.hq_name;
    if (options.link_bundle.empty() && !options.insecure_plaintext_link) {
      return Status(StatusCode::kInvalidArgument,
                    "link_bundle: --hq needs --link-bundle DIR (kassa-hq pki issue makes one)");
    }
    if (!options.link_bundle.empty()) {
      // A bundle that cannot work is a start-up error, not a retry loop.
      KASSA_TRY(uplink::LoadLinkTls(link, options.terminal_id, store_id));
    }
    const std::string config_path = options.config_path;
    parts->uplink = std::make_unique<uplink::Uplink>(
        parts->daemon.executor(), *parts->customers, parts->store->outbox(), parts->store->sync(), parts->clock, link,
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
    parts->uplink->SetSyncObserver([p](const std::vector<model::LocalId>& bound) {
      if (!p->api) return;
      std::vector<model::Customer> assigned;
      for (const auto& id : bound) {
        if (auto c = p->store->customers().Get(id); c.ok()) assigned.push_back(std::move(*c));
      }
      p->api->PublishSync(assigned);
    });
    parts->customers->SetHeadquarters(parts->uplink.get());
    parts->uplink->Start();
  }
  if (options.board) {
    KASSA_TRY_ASSIGN(parts->board, options.board(parts->daemon.executor()));
    KASSA_LOG(kInfo) << "devices: " << parts->board.description;
    const Board& b = parts->board;
    parts->devices = std::make_unique<devices::DeviceFlows>(
        *parts->customers, parts->clock,
        devices::Devices{b.scanner.get(), b.card_reader.get(), b.printer.get(), b.display.get()},
        [p](const devices::Event& e) {
          if (p->api) p->api->Publish(e);
        },
        [p](const std::string& badge) { return p->sessions->SignInWithBadge(badge); });
  }
  KASSA_TRY_ASSIGN(parts->api, api::ApiServer::Start(parts->daemon.executor(), options.listen_address, options.port,
                                                     *parts->customers, parts->store->diagnostics(),
                                                     parts->store->quarantine(), parts->clock,
                                                     parts->devices.get(), *parts->sessions, *parts->clienteling, options.ui_dir));
  if (parts->devices) KASSA_TRY(parts->devices->Start());
  if (parts->board.network && parts->uplink) {
    parts->board.network->Start([p](bool up) {
      KASSA_LOG(kInfo) << "network link " << (up ? "up: reconnecting to headquarters now" : "down");
      if (up) p->uplink->SyncNow();
    });
  }
  storage::CustomerStore* store = p->store.get();
  p->rotation = std::make_unique<storage::KeyRotation>(
      keys, [store](std::uint32_t from, std::uint32_t max) { return store->RewrapKeys(from, max); });
  p->rotating = std::make_unique<daemon::BatchLoop>(p->daemon.executor(), "master key rotation",
                                                    std::chrono::milliseconds(5));
  if (options.rotate_master_key && !p->rotation->Pending()) {
    KASSA_TRY(p->rotation->Begin());
    KASSA_LOG(kInfo) << "master key rotation begun (--rotate-master-key)";
  }
  if (p->rotation->Pending()) p->rotating->Start([p] { return p->rotation->Step(); });
  p->daemon.OnStop([p] {
    p->rotating->Stop();
    p->api->Stop();
    if (p->uplink) p->uplink->Stop();
    if (p->devices) p->devices->Stop();
    if (p->board.network) p->board.network->Stop();
  });
  p->daemon.Ready();
  return std::unique_ptr<Service>(new Service(std::move(parts)));
}

std::uint16_t Service::port() const { return parts_->api->port(); }

Status Service::Announce(const std::string& port_file, const std::string& line) {
  return parts_->daemon.Announce(port_file, std::to_string(port()) + "\n", line);
}

void Service::Run() { parts_->daemon.Run(); }

}  // namespace kassa::service
