// kassa-hq: headquarters' endpoint. Parses the command line, builds the
// HqService and runs it (under cli::RunGuarded).

#include <cstdio>
#include <string>
#include <string_view>

#include "kassa/base/system_clock.h"
#include "kassa/cli/cli.h"
#include "kassa/hq/admin_credentials.h"
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
  --admin-token-file FILE
                       the bootstrap admin token: FILE's token (mode 0600) is
                       accepted, or a new one is issued into FILE
  --log-level LEVEL    debug | info | warning | error              (default info)
  --help               this text

admin API (docs/API.md): every route needs "Authorization: Bearer TOKEN";
kassactl --url http://ADMIN hq status reads $KASSA_ADMIN_TOKEN or
~/.kassactl-admin-token.

usage: kassa-hq token create --data DIR --name NAME [--role admin|read-only]
  issues an admin API token (shown once; only its hash is stored), also
  while kassa-hq runs.
exit status: 0 stopped by SIGINT/SIGTERM, 2 usage, 1 failed to start
)";

using kassa::Status;
using kassa::StatusCode;

// kassa-hq token create --data DIR --name NAME [--role admin|read-only]
int TokenCommand(int argc, char** argv) {
  if (argc < 3 || std::string_view(argv[2]) != "create") {
    return kassa::cli::UsageError("kassa-hq", kUsage, "token takes: create --data DIR --name NAME [--role ROLE]");
  }
  kassa::cli::DaemonOptions daemon{"", kassa::storage::kDefaultChainMapBytes, ""};
  std::string name;
  std::string role(kassa::hq::kAdminRole);
  const auto parsed = kassa::cli::ParseOptions(argc - 2, argv + 2, "kassa-hq token create", kUsage,
      [&](std::string_view option, const std::string& value) -> Status {
        if (option == "--data" || option == "--map-size") return kassa::cli::TakeDaemonOption(option, value, daemon);
        if (option == "--name") {
          name = value;
        } else if (option == "--role") {
          role = value;
        } else {
          return Status(StatusCode::kNotFound, "unknown option");
        }
        return Status::Ok();
      });
  if (parsed) return *parsed;
  if (daemon.data_dir.empty() || name.empty()) {
    return kassa::cli::UsageError("kassa-hq", kUsage, "token create needs --data DIR and --name NAME");
  }
  // No directory lock: LMDB lets a second process write while kassa-hq runs,
  // and kassa-hq reads credentials from the store on every request.
  auto store = kassa::storage::OpenLmdbChainStore(daemon.data_dir, daemon.map_size_bytes);
  if (!store.ok()) {
    std::fprintf(stderr, "kassa-hq: %s\n", store.status().detail());
    return 1;
  }
  kassa::SystemClock clock;
  auto token = kassa::hq::IssueAdminToken(**store, clock.NowMs(), name, role);
  if (!token.ok()) {
    std::fprintf(stderr, "kassa-hq: %s\n", token.status().detail());
    return token.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::printf("%s\n", token->c_str());
  return 0;
}

int Main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "token") return TokenCommand(argc, argv);
  kassa::hq::HqOptions options;
  kassa::cli::DaemonOptions daemon{"", options.map_size_bytes, ""};
  const auto parsed = kassa::cli::ParseOptions(argc, argv, "kassa-hq", kUsage,
      [&](std::string_view name, const std::string& value) -> Status {
        if (const Status s = kassa::cli::TakeDaemonOption(name, value, daemon); s.code() != StatusCode::kNotFound) {
          return s;
        }
        if (name == "--config") {
          options.config_path = value;
        } else if (name == "--listen") {
          if (!kassa::cli::ParseHostPort(value, options.link_address, options.link_port)) {
            return Status(StatusCode::kInvalidArgument, "--listen takes ADDR:PORT");
          }
        } else if (name == "--admin-token-file") {
          options.admin_token_file = value;
        } else if (name == "--admin") {
          if (!kassa::cli::ParseHostPort(value, options.admin_address, options.admin_port)) {
            return Status(StatusCode::kInvalidArgument, "--admin takes ADDR:PORT");
          }
        } else {
          return Status(StatusCode::kNotFound, "unknown option");
        }
        return Status::Ok();
      });
  if (parsed) return *parsed;
  if (daemon.data_dir.empty()) return kassa::cli::UsageError("kassa-hq", kUsage, "--data is required");
  if (const Status s = kassa::cli::PrepareDataDirectory(daemon); !s.ok()) {
    std::fprintf(stderr, "kassa-hq: %s\n", s.detail());
    return 1;
  }
  options.data_dir = daemon.data_dir;
  options.map_size_bytes = daemon.map_size_bytes;
  return kassa::cli::Serve("kassa-hq", kassa::hq::HqService::Create(options), daemon.port_file,
                           [&](const kassa::hq::HqService& service) {
                             return "terminals on " + options.link_address + ":" + std::to_string(service.link_port()) +
                                    ", admin API on http://" + options.admin_address + ":" +
                                    std::to_string(service.admin_port()) + "/v1/ (data: " + options.data_dir + ")";
                           });
}

}  // namespace

int main(int argc, char** argv) { return kassa::cli::RunGuarded(Main, argc, argv); }
