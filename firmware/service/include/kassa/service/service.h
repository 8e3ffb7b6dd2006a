#pragma once

// Service: kassad's process. Owns the io_context (one thread), the signal
// set, the store and every component, and wires them together.
//
// Start-up: open the LMDB store in the data directory; take the store
// configuration from --config (saved into the store) or, without it, from
// the store; start the local API (and the metrics listener, when asked for)
// and the uplink to headquarters. A store configuration distributed by
// headquarters replaces the one in use, in the store (the --config file is
// never written). SIGINT/SIGTERM cancel the work so Run() returns.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/http/scrape_edge.h"
#include "kassa/service/board.h"

namespace kassa::service {

struct ServiceOptions {
  std::string data_dir;
  std::string key_file;        // the master key (crypto::FileKeyStore); outside data_dir; created when missing
  std::string key_slots_file;  // customers' data keys (storage::StorageOptions); outside data_dir
  bool rotate_master_key = false;  // begin a master key rotation at start (one left unfinished always resumes)
  // The installer's store configuration: used until headquarters distributes
  // one (kept in the store, never written back here). Empty: the saved one.
  std::string config_path;
  std::string clienteling_path;  // operators before headquarters distributes them (empty: none)
  std::string ui_dir;            // the web UI's files, served outside /v1/ (empty: none)
  std::string listen_address = "127.0.0.1";
  std::uint16_t port = 8080;   // 0 picks a free port
  std::string terminal_id;
  std::size_t map_size_bytes = std::size_t{1} << 30;
  std::string hq_host;         // empty: no headquarters (offline for good)
  std::uint16_t hq_port = 7400;
  std::vector<std::pair<std::string, std::uint16_t>> hq_standby;  // further --hq addresses, tried in turn
  std::string link_bundle;     // the terminal's TLS bundle directory (tls/link_tls.h's kBundle* files)
  std::string hq_name;         // what headquarters' certificate must name; empty: hq_host
  bool insecure_plaintext_link = false;  // development only: the link without TLS
  BoardFactory board;          // null: no peripherals
  // /metrics over HTTPS beyond loopback (empty address: none), for the
  // bearer token in metrics_token_file (src/metrics_token.h).
  http::ScrapeListener metrics_listener{};
  std::string metrics_token_file{};
};

class Service {
 public:
  // Returns: kOk; otherwise the failing step's status (its detail names the
  // option or file at fault). Errors with more context are logged.
  static Result<std::unique_ptr<Service>> Create(const ServiceOptions& options);
  ~Service();

  // The API's bound port.
  std::uint16_t port() const;

  // Writes the port to `port_file` (when given) and prints `line`.
  // Returns: kOk; kUnavailable "port_file: ...".
  Status Announce(const std::string& port_file, const std::string& line);

  // Serves until SIGINT or SIGTERM.
  void Run();

  struct Parts;

 private:
  explicit Service(std::unique_ptr<Parts> parts);
  std::unique_ptr<Parts> parts_;
};

}  // namespace kassa::service
