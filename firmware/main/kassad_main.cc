// kassad: the terminal service. Parses the command line, picks the board,
// builds the Service and runs it (under cli::RunGuarded).

#include <unistd.h>

#include <cerrno>

#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "kassa/base/log.h"
#include "kassa/cli/cli.h"
#include "boards.h"
#include "kassa/service/service.h"

namespace {

constexpr const char* kUsage = R"(usage: kassad --data DIR [options]

The kassa terminal service: customer cache and outbox in LMDB under DIR, and
the local HTTP/JSON API on a loopback address.

options:
  --data DIR          data directory (created if missing)           (required)
  --config FILE       store configuration (JSON); saved into DIR and used from
                      then on. Without it, the configuration saved in DIR.
  --listen ADDR:PORT  API address, loopback only       (default 127.0.0.1:8080)
                      PORT 0 picks a free port.
  --terminal ID       this terminal's id, 1-32 bytes       (default: host name)
  --hq HOST:PORT      headquarters' link address. Without it the terminal
                      works offline: every customer waits as "Pending sync".
  --map-size MB       largest size of the data file in MiB     (default 1024)
  --hal none|sim|linux
                      peripherals: none, simulated, or real ones from the
                      --devices file (config/devices.sample.json)   (default none)
  --devices FILE      the device file for --hal linux
  --port-file FILE    write the bound API port to FILE once serving
  --log-level LEVEL   debug | info | warning | error             (default info)
  --help              this text
exit status: 0 stopped by SIGINT/SIGTERM, 2 usage, 1 failed to start
)";

int Usage(const std::string& message) {
  std::fprintf(stderr, "kassad: %s\n%s", message.c_str(), kUsage);
  return 2;
}

int Main(int argc, char** argv) {
  kassa::service::ServiceOptions options;
  std::string port_file;
  std::string hal = "none";
  std::string device_file;
  char host[256] = {};
  if (gethostname(host, sizeof(host) - 1) == 0) options.terminal_id = std::string(host).substr(0, 32);
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (i + 1 >= argc) return Usage(std::string(arg) + " needs a value (or is unknown)");
    const std::string value = argv[++i];
    if (arg == "--data") {
      options.data_dir = value;
    } else if (arg == "--config") {
      options.config_path = value;
    } else if (arg == "--listen") {
      if (!kassa::cli::ParseHostPort(value, options.listen_address, options.port)) {
        return Usage("--listen takes ADDR:PORT");
      }
    } else if (arg == "--hq") {
      if (!kassa::cli::ParseHostPort(value, options.hq_host, options.hq_port)) return Usage("--hq takes HOST:PORT");
    } else if (arg == "--terminal") {
      options.terminal_id = value;
    } else if (arg == "--map-size") {
      if (!kassa::cli::ParseMiB(value, options.map_size_bytes)) {
        return Usage("--map-size takes a size in MiB from 1 to 1048576");
      }
    } else if (arg == "--hal") {
      if (value != "none" && value != "sim" && value != "linux") return Usage("--hal takes none, sim or linux");
      hal = value;
    } else if (arg == "--devices") {
      device_file = value;
    } else if (arg == "--port-file") {
      port_file = value;
    } else if (arg == "--log-level") {
      if (!kassa::cli::SetLogLevelByName(value)) return Usage("--log-level takes debug, info, warning or error");
    } else {
      return Usage("unknown option " + std::string(arg));
    }
  }
  if (options.data_dir.empty()) return Usage("--data is required");
  if (hal == "linux") {
    if (device_file.empty()) return Usage("--hal linux needs --devices FILE");
    auto board = kassa::boards::LinuxBoard(device_file);
    if (!board.ok()) {
      std::fprintf(stderr, "kassad: %s\n", board.status().detail());
      return 1;
    }
    options.board = std::move(*board);
  } else if (hal == "sim") {
    options.board = kassa::boards::SimBoard();
  } else if (!device_file.empty()) {
    return Usage("--devices is for --hal linux");
  }
  // Create the data directory (one level) so a fresh terminal starts by itself.
  if (!kassa::cli::EnsureDirectory(options.data_dir)) {
    std::fprintf(stderr, "kassad: cannot create data directory %s: %s\n", options.data_dir.c_str(),
                 std::strerror(errno));
    return 1;
  }

  auto service = kassa::service::Service::Create(options);
  if (!service.ok()) {
    std::fprintf(stderr, "kassad: %s\n", service.status().detail());
    return 1;
  }
  const std::uint16_t port = (*service)->port();
  if (!port_file.empty() && !kassa::cli::WriteFileReplacing(port_file, std::to_string(port) + "\n")) {
    std::fprintf(stderr, "kassad: cannot write --port-file %s\n", port_file.c_str());
    return 1;
  }
  std::printf("kassad: serving the local API on http://%s:%u/v1/ (data: %s, terminal: %s)\n",
              options.listen_address.c_str(), port, options.data_dir.c_str(), options.terminal_id.c_str());
  std::fflush(stdout);
  (*service)->Run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return kassa::cli::RunGuarded(Main, argc, argv); }
