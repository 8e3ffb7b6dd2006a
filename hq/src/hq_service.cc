#include "kassa/hq/hq_service.h"

#include <chrono>
#include <cstdlib>
#include <optional>

#include "admin_api.h"
#include "kassa/hq/admin_credentials.h"
#include "kassa/base/log.h"
#include "kassa/base/system_clock.h"
#include "kassa/config/store_config_json.h"
#include "kassa/daemon/batch_loop.h"
#include "kassa/daemon/daemon.h"
#include "kassa/daemon/directory_lock.h"
#include "kassa/hq/link_pki.h"
#include "kassa/hq/link_server.h"
#include "kassa/hq/registry.h"
#include "kassa/http/http_server.h"
#include "kassa/storage/chain_store.h"
#include "kassa/storage/key_rotation.h"

namespace kassa::hq {

struct HqService::Parts {
  daemon::Daemon daemon{"kassa-hq"};                      // event loop, signals, systemd readiness and watchdog
  std::optional<daemon::DirectoryLock> lock;             // this process alone on the data directory
  SystemClock clock;                           // stamps and status times
  bool stop_requested = false;                           // a signal came while standing by
  std::unique_ptr<storage::ChainLeadership> leadership;  // PostgreSQL: this process is the active headquarters
  std::optional<boost::asio::steady_timer> leadership_timer;  // checks it every second
  std::unique_ptr<storage::ChainStore> store;            // the system of record
  std::unique_ptr<Registry> registry;                    // operations, numbers, distribution, config
  std::unique_ptr<LinkServer> link;                      // terminals
  std::unique_ptr<storage::KeyRotation> rotation;        // master key rotation of the store
  std::unique_ptr<daemon::BatchLoop> rotating;           // its batches, between requests
  std::unique_ptr<daemon::BatchLoop> retention;          // the retention sweep, between requests
  std::optional<boost::asio::steady_timer> retention_timer;  // starts it daily
  std::optional<model::LocalId> retention_cursor;        // where the sweep is
  std::unique_ptr<AdminContext> admin_context;           // what the admin routes work with
  std::unique_ptr<http::Router> admin_router;            // the admin routes
  std::unique_ptr<http::HttpServer> admin;               // admin API on loopback
  std::unique_ptr<http::HttpServer> metrics;             // /metrics over HTTPS beyond loopback (--metrics-listen)
};

Result<std::unique_ptr<storage::ChainStore>> OpenChainStore(const HqOptions& options,
                                                            std::shared_ptr<crypto::KeyStore> keys) {
  if (options.database.empty()) {
    return storage::OpenLmdbChainStore({options.data_dir, options.map_size_bytes, std::move(keys), options.key_slots_file});
  }
  auto store = storage::OpenPostgresChainStore({options.database, std::move(keys)});
  if (store.ok()) KASSA_LOG(kInfo) << "the chain store is the PostgreSQL database of --database";
  return store;
}

HqService::HqService(std::unique_ptr<Parts> parts) : parts_(std::move(parts)) {}
HqService::~HqService() = default;

Result<std::unique_ptr<HqService>> HqService::Create(const HqOptions& options) {
  auto parts = std::make_unique<Parts>();
  auto lock = daemon::DirectoryLock::Acquire(options.data_dir);
  if (!lock.ok()) return lock.status();
  parts->lock.emplace(std::move(*lock));
  if (options.key_file.empty()) return Status(StatusCode::kInvalidArgument, "key_file: the master key file is required");
  KASSA_TRY_ASSIGN(std::shared_ptr<crypto::KeyStore> keys, crypto::FileKeyStore::Open(options.key_file, options.data_dir));
  if (!options.database.empty()) {
    // One active headquarters per database; the others stand by until it is gone.
    Parts* waiting = parts.get();
    waiting->daemon.OnStop([waiting] { waiting->stop_requested = true; });
    waiting->daemon.Ready();  // up, standing by (systemd's start timeout does not apply to the wait)
    KASSA_TRY_ASSIGN(parts->leadership,
                     storage::AcquirePostgresLeadership(options.database, std::chrono::milliseconds(500), [waiting] {
                       waiting->daemon.io().poll();  // signals, the watchdog
                       return !waiting->stop_requested;
                     }));
    parts->daemon.io().restart();
  }
  KASSA_TRY_ASSIGN(parts->store, OpenChainStore(options, keys));
  KASSA_LOG(kInfo) << "customer data sealed at rest under the master key in " << options.key_file;
  std::optional<ChainConfig> initial;
  if (!options.config_path.empty()) {
    boost::json::value root;
    ChainConfig config;
    KASSA_TRY(config::ReadJsonFile(options.config_path, root));
    std::string field;
    if (const Status s = ParseChainConfig(root, config, field); !s.ok()) {
      config::LogInvalid(options.config_path, field, s);
      return Status(StatusCode::kInvalidArgument, "config: the chain configuration file is not valid (see log)");
    }
    initial = std::move(config);
  }
  KASSA_TRY_ASSIGN(parts->registry, Registry::Open(*parts->store, parts->clock, std::move(initial)));
  if (!options.admin_token_file.empty()) {
    KASSA_TRY(BootstrapAdminTokenFile(*parts->store, parts->clock.NowMs(), options.admin_token_file));
  }
  LinkServerOptions link_options;
  if (options.insecure_plaintext_link) {
    KASSA_LOG(kWarning) << "the link runs WITHOUT TLS (--insecure-plaintext-link): anyone who reaches "
                        << options.link_address << " can pose as any terminal; for development only";
  } else if (!HasLinkPki(options.data_dir)) {
    KASSA_LOG(kError) << "no link certificates in " << options.data_dir << "/pki: run `kassa-hq pki init --data "
                      << options.data_dir << " --hq-name HOST` once (docs/OPERATIONS.md, \"Enrolling terminals\")";
    return Status(StatusCode::kFailedPrecondition, "link: no chain CA (run kassa-hq pki init)");
  } else {
    KASSA_TRY_ASSIGN(link_options.tls, tls::MakeServerContext(HeadquartersCredentials(options.data_dir)));
  }
  KASSA_TRY_ASSIGN(parts->link, LinkServer::Start(parts->daemon.executor(), options.link_address, options.link_port,
                                                  *parts->registry, std::move(link_options)));
  storage::ChainStore* store = parts->store.get();
  parts->rotation = std::make_unique<storage::KeyRotation>(
      keys, [store](std::uint32_t from, std::uint32_t max) { return store->RewrapKeys(from, max); });
  parts->rotating = std::make_unique<daemon::BatchLoop>(parts->daemon.executor(), "master key rotation",
                                                        std::chrono::milliseconds(5));
  parts->retention = std::make_unique<daemon::BatchLoop>(parts->daemon.executor(), "retention sweep",
                                                         std::chrono::milliseconds(20));
  Parts* q = parts.get();
  auto start_retention = [q] {
    q->retention_cursor.reset();
    q->retention->Start([q]() -> Result<bool> {
      KASSA_TRY_ASSIGN(const auto step, q->registry->SweepRetention(q->retention_cursor, 256));
      q->retention_cursor = step.next;
      if (step.erased > 0) q->link->ChangesAppended();
      if (step.done && step.audit_pruned > 0) {
        KASSA_LOG(kInfo) << "retention: " << step.audit_pruned << " audit entries past their time deleted";
      }
      if (step.done && step.markers_pruned > 0) {
        KASSA_LOG(kInfo) << "change log: " << step.markers_pruned
                         << " erasure marker(s) every terminal applied deleted (the erasure records stay)";
      }
      return step.done;
    });
  };
  parts->admin_context = std::make_unique<AdminContext>(AdminContext{*parts->registry, *parts->link, parts->clock,
                                                                     *parts->rotation, *parts->rotating,
                                                                     start_retention});
  parts->admin_router = MakeAdminRouter(*parts->admin_context);
  Parts* p = parts.get();
  KASSA_TRY_ASSIGN(parts->admin,
                   http::HttpServer::Start(parts->daemon.executor(), options.admin_address, options.admin_port,
                                           http::ServerOptions{256 * 1024, nullptr, 256, {"text/csv"}, nullptr},
                                           [p](const http::Request& req, http::Respond respond) {
                                             p->admin_router->Handle(req, std::move(respond));
                                           }));
  // Scrapes reach the admin router, whose guard checks their token and role;
  // the edge only requires that one is there.
  KASSA_TRY_ASSIGN(p->metrics, http::StartScrapeListener(
                                   p->daemon.executor(), options.metrics_listener,
                                   [p](const http::Request& req, http::Respond respond) {
                                     p->admin_router->Handle(req, std::move(respond));
                                   },
                                   [](std::string_view token) { return !token.empty(); }));
  // The retention sweep: an hour after start, then every day.
  p->retention_timer.emplace(p->daemon.executor());
  struct Daily {
    Parts* p;
    std::function<void()> run;
    void operator()(std::chrono::hours after) const {
      p->retention_timer->expires_after(after);
      p->retention_timer->async_wait([self = *this](const boost::system::error_code& ec) {
        if (ec) return;
        self.run();
        self(std::chrono::hours(24));
      });
    }
  };
  Daily{p, start_retention}(std::chrono::hours(1));
  if (p->leadership) {
    // Fencing: a headquarters that lost its lock (its connection to the
    // database cut) may have a successor already; it stops at once, writing
    // nothing more, and its supervisor starts it again as a standby.
    p->leadership_timer.emplace(p->daemon.executor());
    struct Check {
      Parts* p;
      void operator()() const {
        p->leadership_timer->expires_after(std::chrono::seconds(1));
        p->leadership_timer->async_wait([self = *this](const boost::system::error_code& ec) {
          if (ec) return;
          if (!self.p->leadership->Held()) {
            KASSA_LOG(kError) << "lost the database lock of the active headquarters: stopping now (exit 75)";
            std::_Exit(75);
          }
          self();
        });
      }
    };
    Check{p}();
  }
  p->daemon.OnStop([p] {
    p->retention_timer->cancel();
    if (p->leadership_timer) p->leadership_timer->cancel();
    p->retention->Stop();
    p->rotating->Stop();
    p->link->Stop();
    p->admin->Stop();
    if (p->metrics) p->metrics->Stop();
  });
  if (p->rotation->Pending()) {
    KASSA_LOG(kInfo) << "a master key rotation was left unfinished; it resumes";
    p->rotating->Start([p] { return p->rotation->Step(); });
  }
  p->daemon.Ready();
  KASSA_LOG(kInfo) << "kassa-hq serving terminals on " << options.link_address << ':' << parts->link->port()
                   << ", admin API on " << options.admin_address << ':' << parts->admin->port();
  return std::unique_ptr<HqService>(new HqService(std::move(parts)));
}

std::vector<http::RouteInfo> HqService::AdminRouteTable() { return kassa::hq::AdminRouteTable(); }

std::uint16_t HqService::link_port() const { return parts_->link->port(); }
std::uint16_t HqService::admin_port() const { return parts_->admin->port(); }

Status HqService::Announce(const std::string& port_file, const std::string& line) {
  return parts_->daemon.Announce(
      port_file, "link " + std::to_string(link_port()) + "\nadmin " + std::to_string(admin_port()) + "\n", line);
}

void HqService::Run() { parts_->daemon.Run(); }

}  // namespace kassa::hq
