#include "kassa/service/service.h"

#include <boost/json.hpp>
#include <optional>

#include "kassa/api/api_server.h"
#include "kassa/http/http_server.h"
#include "metrics_token.h"
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
#include "kassa/base/time_format.h"
#include "offline_lock.h"
#include "terminal_wipe.h"

namespace kassa::service {

struct Service::Parts {
  daemon::Daemon daemon{"kassad"};                      // event loop, signals, systemd readiness and watchdog
  std::optional<daemon::DirectoryLock> lock;            // this process alone on the data directory
  SystemClock clock;                          // stamps on customers and the outbox
  std::unique_ptr<storage::CustomerStore> store;        // LMDB: customers, indexes, outbox, config
  std::unique_ptr<customers::CustomerService> customers;  // create, edit, find, search
  std::unique_ptr<customers::AccessRecorder> access;    // the audit trail: who opened, listed, printed whom
  std::unique_ptr<clienteling::OperatorSessions> sessions;  // who is signed in
  std::unique_ptr<clienteling::ClientelingService> clienteling;  // client books, cards, timelines
  std::unique_ptr<uplink::Uplink> uplink;               // link to headquarters (absent without --hq)
  Board board;                                          // peripherals and platform services
  std::unique_ptr<devices::DeviceFlows> devices;        // scans, swipes, receipts, device status
  std::unique_ptr<api::ApiServer> api;                  // local HTTP/JSON API and event stream on loopback
  std::unique_ptr<http::HttpServer> metrics;            // /metrics over HTTPS beyond loopback (--metrics-listen)
  std::unique_ptr<storage::KeyRotation> rotation;       // master key rotation of the store
  std::unique_ptr<daemon::BatchLoop> rotating;          // its batches, between requests
  std::unique_ptr<OfflineLock> offline_lock;            // locks customer data after too long offline (with --hq)
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

// A terminal that was wiped and not enrolled anew: the sealed API only
// (every customer route 423), no store, no keys, no link.
Result<std::unique_ptr<Service::Parts>> StartWiped(std::unique_ptr<Service::Parts> parts, const ServiceOptions& options,
                                                   const WipeMarker& marker) {
  KASSA_LOG(kWarning) << "this terminal was WIPED by order of headquarters (" << FormatIsoTime(marker.ordered_ms)
                      << "): it serves no customer data until it is enrolled anew with a new link certificate";
  KASSA_TRY_ASSIGN(parts->api, api::ApiServer::StartSealed(parts->daemon.executor(), options.listen_address, options.port,
                                                           options.terminal_id,
                                                           customers::Access{customers::AccessState::kWiped,
                                                                             marker.ordered_ms},
                                                           options.ui_dir));
  Service::Parts* p = parts.get();
  p->daemon.OnStop([p] { p->api->Stop(); });
  p->daemon.Ready();
  return parts;
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
  // The metrics listener's token, before anything is opened: a bad file stops the start here.
  std::optional<MetricsToken> metrics_token;
  if (!options.metrics_listener.address.empty()) {
    KASSA_TRY_ASSIGN(metrics_token, MetricsToken::Load(options.metrics_token_file));
  }
  const WipePaths wipe_paths{options.data_dir, options.key_file, options.key_slots_file};
  KASSA_TRY_ASSIGN(const auto wiped, ReadWipeMarker(options.key_file));
  if (wiped) {
    KASSA_TRY(FinishWipe(wipe_paths));  // a wipe cut short finishes first
    const std::string certificate = BundleCertificateSha256(options.link_bundle);
    if (certificate.empty() || certificate == wiped->certificate_sha256) {
      KASSA_TRY_ASSIGN(parts, StartWiped(std::move(parts), options, *wiped));
      return std::unique_ptr<Service>(new Service(std::move(parts)));
    }
    KASSA_LOG(kWarning) << "enrolled anew after the wipe of " << FormatIsoTime(wiped->ordered_ms)
                        << " (a new link certificate): starting clean, customers come from headquarters";
    KASSA_TRY(ClearWipeMarker(options.key_file));
  }
  KASSA_TRY_ASSIGN(std::shared_ptr<crypto::KeyStore> keys, crypto::FileKeyStore::Open(options.key_file, options.data_dir));
  KASSA_TRY_ASSIGN(parts->store, storage::CustomerStore::Open(
                                     {options.data_dir, options.map_size_bytes, keys, options.key_slots_file}));
  KASSA_LOG(kInfo) << "customer data sealed at rest under the master key in " << options.key_file;

  model::StoreConfig config;
  if (!options.config_path.empty()) {
    // --config is what the installer wrote: it starts a terminal, and stays
    // in charge until headquarters distributes the store's configuration,
    // which is kept in the data directory (never written back to the file).
    KASSA_TRY(config::LoadStoreConfigFile(options.config_path, config));
    KASSA_TRY_ASSIGN(const bool from_hq, parts->store->settings().StoreConfigFromHeadquarters());
    KASSA_TRY_ASSIGN(auto saved, parts->store->settings().LoadStoreConfig());
    if (from_hq && saved) {
      if (!(*saved == config)) {
        KASSA_LOG(kInfo) << "using the store configuration headquarters distributed (kept in " << options.data_dir
                         << "), not " << options.config_path;
      }
      config = std::move(*saved);
      KASSA_TRY(model::ValidateStoreConfig(config));
    } else {
      KASSA_TRY(parts->store->settings().SaveStoreConfig(config));
    }
  } else {
    KASSA_TRY_ASSIGN(auto saved, parts->store->settings().LoadStoreConfig());
    if (!saved) {
      return Status(StatusCode::kFailedPrecondition,
                    "config: this data directory has no store configuration yet; start once with --config FILE");
    }
    config = std::move(*saved);
    KASSA_TRY(model::ValidateStoreConfig(config));
  }

  for (const std::string& warning : model::StoreConfigWarnings(config)) KASSA_LOG(kWarning) << warning;
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
  parts->access = std::make_unique<customers::AccessRecorder>(parts->daemon.executor(), parts->store->access_events(),
                                                              parts->clock, [p] {
                                                                if (p->uplink) p->uplink->AccessEventsQueued();
                                                              });
  if (!options.hq_host.empty()) {
    uplink::UplinkOptions link;
    link.host = options.hq_host;
    link.port = options.hq_port;
    link.standby = options.hq_standby;
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
    parts->uplink = std::make_unique<uplink::Uplink>(
        parts->daemon.executor(), *parts->customers, parts->store->outbox(), parts->store->sync(),
        parts->store->access_events(), parts->clock, link,
        [p](const model::StoreConfig& distributed) {
          if (distributed == p->customers->store_config()) return;
          KASSA_LOG(kInfo) << "store configuration from headquarters: creation mode "
                           << model::ToString(distributed.creation_mode) << ", offline creation "
                           << (distributed.allow_offline_creation ? "allowed" : "forbidden");
          for (const std::string& warning : model::StoreConfigWarnings(distributed)) KASSA_LOG(kWarning) << warning;
          p->customers->SetStoreConfig(distributed);
          if (p->offline_lock) p->offline_lock->Check();
        });
    parts->uplink->SetSyncObserver([p](const std::vector<model::LocalId>& bound) {
      if (p->offline_lock) p->offline_lock->Check();  // the link went up or down
      if (!p->api) return;
      std::vector<model::Customer> assigned;
      for (const auto& id : bound) {
        if (auto c = p->store->customers().Get(id); c.ok()) assigned.push_back(std::move(*c));
      }
      p->api->PublishSync(assigned);
    });
    parts->uplink->SetWipeHandler([p, wipe_paths, bundle = options.link_bundle](std::int64_t ordered_ms) -> Status {
      KASSA_TRY(WipeTerminal(wipe_paths, WipeMarker{ordered_ms, p->clock.NowMs(), BundleCertificateSha256(bundle)}));
      const customers::Access sealed{customers::AccessState::kWiped, ordered_ms};
      if (p->offline_lock) p->offline_lock->Stop();
      if (p->rotating) p->rotating->Stop();
      p->access->Discard();
      p->customers->SetAccess(sealed);
      if (p->api) p->api->SetAccess(sealed);
      KASSA_LOG(kWarning) << "WIPED: key slots, master key and data files destroyed; no customer data is served "
                          << "until this terminal is enrolled anew";
      return Status::Ok();
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
        [p](const std::string& badge) { return p->sessions->SignInWithBadge(badge); }, parts->access.get());
  }
  KASSA_TRY_ASSIGN(parts->api, api::ApiServer::Start(parts->daemon.executor(), options.listen_address, options.port,
                                                     *parts->customers, parts->store->diagnostics(),
                                                     parts->store->quarantine(), parts->store->outbox(), parts->clock,
                                                     parts->devices.get(), *parts->sessions, *parts->clienteling,
                                                     *parts->access, options.ui_dir));
  if (metrics_token) {
    KASSA_TRY_ASSIGN(parts->metrics,
                     http::StartScrapeListener(
                         parts->daemon.executor(), options.metrics_listener,
                         [p](const http::Request& req, http::Respond respond) { p->api->Handle(req, std::move(respond)); },
                         [token = *metrics_token](std::string_view presented) { return token.Accepts(presented); }));
  }
  if (parts->uplink) {
    parts->offline_lock = std::make_unique<OfflineLock>(
        parts->daemon.executor(), *parts->customers, parts->store->sync(), parts->clock,
        [p](const customers::Access& access) {
          p->api->SetAccess(access, [p] {
            boost::json::object details{{"headquarters", p->uplink->online() ? "online" : "offline"}};
            if (auto stats = p->store->diagnostics().Stats(); stats.ok()) {
              details["outbox"] = boost::json::object{{"length", stats->outbox_length}};
            }
            return details;
          });
        });
    parts->offline_lock->Start();
  }
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
    if (p->offline_lock) p->offline_lock->Stop();
    p->rotating->Stop();
    if (p->metrics) p->metrics->Stop();
    p->api->Stop();
    p->access->Stop();  // what the last requests recorded, before the store closes
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
