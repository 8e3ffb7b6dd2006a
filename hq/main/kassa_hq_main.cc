// kassa-hq: headquarters' endpoint. Parses the command line, builds the
// HqService and runs it (under cli::RunGuarded).

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "kassa/base/log.h"
#include "kassa/cli/cli.h"
#include "kassa/hq/hq_service.h"

namespace {

constexpr const char* kUsage = R"(usage: kassa-hq --data DIR [options]

Headquarters for kassa terminals: the system of record of the chain's
customers (LMDB under DIR), account numbers, distribution of every change
to every terminal, and an admin API on loopback.

options:
  --data DIR           data directory (created if missing)          (required)
  --config FILE        chain configuration (JSON, see config/chain.sample.json);
                       saved into DIR, changed stores are distributed. Without
                       it, the configuration saved in DIR.
  --listen ADDR:PORT   address for terminals               (default 127.0.0.1:7400)
  --admin ADDR:PORT    admin API, loopback only            (default 127.0.0.1:7480)
                       PORT 0 picks a free port (both).
  --map-size MB        largest size of the data file in MiB
                       (default 8192; 1024 on 32-bit boards)
  --port-file FILE     write "link PORT" and "admin PORT" lines to FILE once serving
  --log-level LEVEL    debug | info | warning | error              (default info)
  --help               this text

admin API: GET /v1/status, GET|PUT /v1/config, GET /v1/customers?q=...,
GET /v1/customers/ACCOUNT (kassactl --url http://ADMIN hq status).
exit status: 0 stopped by SIGINT/SIGTERM, 2 usage, 1 failed to start
)";

int Main(int argc, char** argv) {
  kassa::hq::HqOptions options;
  std::string port_file;
  const auto parsed = kassa::cli::ParseOptions(argc, argv, "kassa-hq", kUsage,
      [&](std::string_view name, const std::string& value) -> kassa::Status {
      if (name == "--data") {
        options.data_dir = value;
      } else if (name == "--config") {
        options.config_path = value;
      } else if (name == "--listen") {
        if (!kassa::cli::ParseHostPort(value, options.link_address, options.link_port)) {
          return kassa::Status(kassa::StatusCode::kInvalidArgument, "--listen takes ADDR:PORT");
        }
      } else if (name == "--admin") {
        if (!kassa::cli::ParseHostPort(value, options.admin_address, options.admin_port)) {
          return kassa::Status(kassa::StatusCode::kInvalidArgument, "--admin takes ADDR:PORT");
        }
      } else if (name == "--map-size") {
        if (!kassa::cli::ParseMiB(value, options.map_size_bytes)) {
          return kassa::Status(kassa::StatusCode::kInvalidArgument, "--map-size takes a size in MiB from 1 to 1048576");
        }
      } else if (name == "--port-file") {
        port_file = value;
      } else if (name == "--log-level") {
        if (!kassa::cli::SetLogLevelByName(value)) return kassa::Status(kassa::StatusCode::kInvalidArgument, "--log-level takes debug, info, warning or error");
      } else {
        return kassa::Status(kassa::StatusCode::kNotFound, "unknown option");
      }
      return kassa::Status::Ok();
    });
  if (parsed) return *parsed;
  if (options.data_dir.empty()) return kassa::cli::UsageError("kassa-hq", kUsage, "--data is required");
  if (!kassa::cli::EnsureDirectory(options.data_dir)) {
    std::fprintf(stderr, "kassa-hq: cannot create data directory %s: %s\n", options.data_dir.c_str(),
                 std::strerror(errno));
    return 1;
  }
  auto service = kassa::hq::HqService::Create(options);
  if (!service.ok()) {
    std::fprintf(stderr, "kassa-hq: %s\n", service.status().detail());
    return 1;
  }
  const std::string line = "terminals on " + options.link_address + ":" + std::to_string((*service)->link_port()) +
                           ", admin API on http://" + options.admin_address + ":" +
                           std::to_string((*service)->admin_port()) + "/v1/ (data: " + options.data_dir + ")";
  if (const kassa::Status s = (*service)->Announce(port_file, line); !s.ok()) {
    std::fprintf(stderr, "kassa-hq: cannot write --port-file %s\n", port_file.c_str());
    return 1;
  }
  (*service)->Run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) { return kassa::cli::RunGuarded(Main, argc, argv); }
