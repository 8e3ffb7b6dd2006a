#pragma once

// HqService: the kassa-hq process. Owns the io_context (the main thread:
// the registry, the admin API, the sweeps), the signal set, the chain store,
// the registry, the link server for terminals (whose connections run on a
// network thread of its own) and the admin API on loopback, and wires them
// together.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/crypto/key_store.h"
#include "kassa/http/router.h"
#include "kassa/http/scrape_edge.h"
#include "kassa/storage/chain_store.h"

namespace kassa::hq {

struct HqOptions {
  std::string data_dir;
  std::string key_file;  // the master key (crypto::FileKeyStore); outside data_dir; created when missing
  std::string key_slots_file;  // customers' data keys (storage::ChainStoreOptions); outside data_dir
  // The chain store on PostgreSQL: a libpq connection string. Empty: the
  // embedded LMDB store in data_dir.
  std::string database;
  std::string config_path;              // empty: the configuration saved in the store
  std::string link_address = "127.0.0.1";
  std::uint16_t link_port = 7400;       // 0 picks a free port
  std::string admin_address = "127.0.0.1";
  std::uint16_t admin_port = 7480;      // 0 picks a free port
  std::size_t map_size_bytes = storage::kDefaultChainMapBytes;
  std::string admin_token_file;         // admin_credentials.h's bootstrap file; empty: none
  bool insecure_plaintext_link = false;  // development only: the link without TLS (link_pki.h otherwise)
  // /metrics over HTTPS beyond loopback (empty address: none); scrapes carry
  // an admin API token, checked by the admin API's own guard (role read).
  http::ScrapeListener metrics_listener{};
};

// The chain store `options` choose (PostgreSQL when `database` is set),
// sealed under `keys`. Returns the store's open errors.
Result<std::unique_ptr<storage::ChainStore>> OpenChainStore(const HqOptions& options,
                                                            std::shared_ptr<crypto::KeyStore> keys);

class HqService {
 public:
  // Returns: kOk; otherwise the failing step's status (details in the log).
  static Result<std::unique_ptr<HqService>> Create(const HqOptions& options);
  ~HqService();

  // Every route of the admin API with the access it needs (docs/API.md lists it).
  static std::vector<http::RouteInfo> AdminRouteTable();

  std::uint16_t link_port() const;
  std::uint16_t admin_port() const;

  // Writes "link PORT" and "admin PORT" lines to `port_file` (when given)
  // and prints `line`. Returns: kOk; kUnavailable "port_file: ...".
  Status Announce(const std::string& port_file, const std::string& line);

  // Serves until SIGINT or SIGTERM.
  void Run();

  struct Parts;

 private:
  explicit HqService(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace kassa::hq
