// kassad: the terminal service. Parses the command line, picks the board,
// builds the Service and runs it (under cli::RunGuarded).

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "boards.h"
#include "kassa/cli/cli.h"
#include "kassa/service/service.h"
#include "kassa/tls/link_tls.h"
#include "kassa/tls/pki.h"

namespace {

constexpr const char* kUsage = R"(usage: kassad --data DIR [options]

The kassa terminal service: customer cache and outbox in LMDB under DIR, and
the local HTTP/JSON API on a loopback address.

options:
  --data DIR          data directory (created if missing)           (required)
  --config FILE       the installer's store configuration (JSON), used until
                      headquarters distributes one, which is kept in DIR and
                      wins from then on (FILE is never written). Without it,
                      the configuration saved in DIR.
  --clienteling FILE  roles, attributes and operators (JSON,
                      config/clienteling.sample.json) for a terminal that has
                      not reached headquarters yet; headquarters' replace them.
  --ui DIR            the web UI's files, served at / ("" for none; default:
                      ../share/kassa/ui beside the binary when installed,
                      else the source tree's ui/)
  --listen ADDR:PORT  API address, loopback only       (default 127.0.0.1:8080)
                      PORT 0 picks a free port.
  --terminal ID       this terminal's id, 1-32 bytes       (default: host name)
  --hq HOST:PORT      headquarters' link address. Without it the terminal
                      works offline: every customer waits as "Pending sync".
                      Given again: a standby headquarters on the same
                      database; the terminal moves to whichever serves.
  --link-bundle DIR   this terminal's link certificate, key (0600) and chain
                      CA, from `kassa-hq pki issue` (required with --hq).
                      Without --terminal, the terminal id is the certificate's.
                      A renewed bundle is picked up while running.
  --hq-name NAME      the name headquarters' certificate must carry
                                                        (default: the --hq HOST)
  --insecure-plaintext-link
                      DEVELOPMENT ONLY: the link without TLS or certificates
  --key-file FILE     the master key that seals customer data at rest: 0600,
                      outside DIR, created when missing  (default: DIR.key, or
                      the --devices file's "key_file"; see docs/PRIVACY.md)
  --rotate-master-key a new master key generation: every key re-wrapped under
                      it in the background, then the old one destroyed (one
                      left unfinished by a stop or crash resumes at start)
  --key-slots FILE    the customers' data keys, each wiped in place when its
                      customer is erased: 0600, outside DIR   (default DIR.slots)
  --map-size MB       largest size of the data file in MiB     (default 1024)
  --metrics-listen ADDR:PORT
                      also serve /metrics over HTTPS on ADDR:PORT (any
                      address) for the fleet's monitoring, with a bearer
                      token; needs --metrics-cert and --metrics-key
  --metrics-cert FILE the listener's certificate (PEM, with its chain)
  --metrics-key FILE  its private key (PEM, mode 0600)
  --metrics-token-file FILE
                      the bearer token scrapes must carry: 0600, one token
                      of 32-256 characters; written with a new one when
                      missing                       (default DIR.metrics-token)
  --hal none|sim|linux
                      peripherals: none, simulated, or real ones from the
                      --devices file (config/devices.sample.json)   (default none)
  --devices FILE      the device file for --hal linux
  --port-file FILE    write the bound API port to FILE once serving
  --log-level LEVEL   debug | info | warning | error             (default info)
  --help              this text
  --version           the version, git commit and build type
exit status: 0 stopped by SIGINT/SIGTERM, 2 usage, 1 failed to start
)";

using kassa::Status;
using kassa::StatusCode;

// The screens installed beside the binary (/usr/bin/kassad: /usr/share/kassa/ui),
// else those of the source tree it was built from (a build directory).
std::string DefaultUiDir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path installed = exe.parent_path().parent_path() / "share" / "kassa" / "ui";
    if (std::filesystem::exists(installed / "index.html", ec)) return installed.string();
  }
  return KASSA_DEFAULT_UI_DIR;
}

int Main(int argc, char** argv) {
  kassa::service::ServiceOptions options;
  options.ui_dir = DefaultUiDir();
  kassa::cli::DaemonOptions daemon{"", options.map_size_bytes, "", "", ""};
  std::string hal = "none";
  std::string device_file;
  bool terminal_given = false;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) options.terminal_id = std::string(host).substr(0, 32);
  const auto parsed = kassa::cli::ParseOptions(argc, argv, "kassad", kUsage,
      [&](std::string_view name, const std::string& value) -> Status {
        if (const Status s = kassa::cli::TakeDaemonOption(name, value, daemon); s.code() != StatusCode::kNotFound) {
          return s;
        }
        if (name == "--config") {
          options.config_path = value;
        } else if (name == "--clienteling") {
          options.clienteling_path = value;
        } else if (name == "--metrics-token-file") {
          if (value.empty()) return Status(StatusCode::kInvalidArgument, "--metrics-token-file takes a file name");
          options.metrics_token_file = value;
        } else if (name == "--ui") {
          options.ui_dir = value;
        } else if (name == "--listen") {
          if (!kassa::cli::ParseHostPort(value, options.listen_address, options.port)) {
            return Status(StatusCode::kInvalidArgument, "--listen takes ADDR:PORT");
          }
        } else if (name == "--hq") {
          std::string hq_host;
          std::uint16_t hq_port = 0;
          if (!kassa::cli::ParseHostPort(value, hq_host, hq_port)) {
            return Status(StatusCode::kInvalidArgument, "--hq takes HOST:PORT");
          }
          if (options.hq_host.empty()) {
            options.hq_host = hq_host;
            options.hq_port = hq_port;
          } else {
            options.hq_standby.emplace_back(hq_host, hq_port);
          }
        } else if (name == "--terminal") {
          options.terminal_id = value;
          terminal_given = true;
        } else if (name == "--link-bundle") {
          options.link_bundle = value;
        } else if (name == "--hq-name") {
          options.hq_name = value;
        } else if (name == "--insecure-plaintext-link") {
          options.insecure_plaintext_link = true;
        } else if (name == "--rotate-master-key") {
          options.rotate_master_key = true;
        } else if (name == "--hal") {
          if (value != "none" && value != "sim" && value != "linux") {
            return Status(StatusCode::kInvalidArgument, "--hal takes none, sim or linux");
          }
          hal = value;
        } else if (name == "--devices") {
          device_file = value;
        } else {
          return Status(StatusCode::kNotFound, "unknown option");
        }
        return Status::Ok();
      },
      {"--insecure-plaintext-link", "--rotate-master-key"});
  if (parsed) return *parsed;
  if (!options.link_bundle.empty() && !terminal_given) {
    std::ifstream in(kassa::tls::BundleCredentials(options.link_bundle).certificate_file);
    std::ostringstream pem;
    pem << in.rdbuf();
    if (auto identity = kassa::tls::TerminalIdentityOfPem(pem.str()); identity.ok()) {
      options.terminal_id = identity->terminal_id;
    }
  }
  if (daemon.data_dir.empty()) return kassa::cli::UsageError("kassad", kUsage, "--data is required");
  if (const Status s = kassa::cli::CheckMetricsListener(daemon); !s.ok()) {
    return kassa::cli::UsageError("kassad", kUsage, s.detail());
  }
  if (!options.metrics_token_file.empty() && daemon.metrics_address.empty()) {
    return kassa::cli::UsageError("kassad", kUsage, "--metrics-token-file goes with --metrics-listen");
  }
  if (hal == "linux") {
    if (device_file.empty()) return kassa::cli::UsageError("kassad", kUsage, "--hal linux needs --devices FILE");
    std::string board_key_file;
    auto board = kassa::boards::LinuxBoard(device_file, board_key_file);
    if (daemon.key_file.empty()) daemon.key_file = board_key_file;
    if (!board.ok()) {
      std::fprintf(stderr, "kassad: %s\n", board.status().detail());
      return 1;
    }
    options.board = std::move(*board);
  } else if (hal == "sim") {
    options.board = kassa::boards::SimBoard();
  } else if (!device_file.empty()) {
    return kassa::cli::UsageError("kassad", kUsage, "--devices is for --hal linux");
  }
  // The data directory (one level) is created, so a fresh terminal starts by itself.
  if (const Status s = kassa::cli::PrepareDataDirectory(daemon); !s.ok()) {
    std::fprintf(stderr, "kassad: %s\n", s.detail());
    return 1;
  }
  options.data_dir = daemon.data_dir;
  options.key_file = kassa::cli::KeyFileOf(daemon);
  options.key_slots_file = kassa::cli::KeySlotsOf(daemon);
  options.map_size_bytes = daemon.map_size_bytes;
  options.metrics_listener = {daemon.metrics_address, daemon.metrics_port, daemon.metrics_certificate, daemon.metrics_key};
  if (options.metrics_token_file.empty()) options.metrics_token_file = kassa::cli::BesideDataDirectory(daemon, ".metrics-token");

  return kassa::cli::Serve("kassad", kassa::service::Service::Create(options), daemon.port_file,
                           [&](const kassa::service::Service& service) {
                             return "serving the local API on http://" + options.listen_address + ":" +
                                    std::to_string(service.port()) + "/v1/ (data: " + options.data_dir +
                                    ", terminal: " + options.terminal_id + ")";
                           });
}

}  // namespace

int main(int argc, char** argv) { return kassa::cli::RunGuarded(Main, argc, argv); }
