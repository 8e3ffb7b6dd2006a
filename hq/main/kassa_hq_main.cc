// kassa-hq: headquarters' endpoint. Parses the command line, builds the
// HqService and runs it (under cli::RunGuarded).

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "kassa/base/system_clock.h"
#include "kassa/cli/cli.h"
#include "kassa/daemon/directory_lock.h"
#include "kassa/hq/admin_credentials.h"
#include "kassa/hq/hq_service.h"
#include "kassa/hq/link_pki.h"

namespace {

constexpr const char* kUsage = R"(usage: kassa-hq --data DIR [options]

Headquarters for kassa terminals: the system of record of the chain's
customers (LMDB under DIR, or a PostgreSQL database), account numbers,
distribution of every change to every terminal, and an admin API on loopback.

options:
  --data DIR           data directory (created if missing)          (required)
  --database CONNINFO  keep the chain in this PostgreSQL database instead of
                       DIR: a libpq connection string or postgresql:// URI
                       (docs/OPERATIONS.md, "PostgreSQL"); DIR still holds
                       the lock, the link's certificates and the key file
  --database-file FILE the same, read from FILE's first line (keeps it out
                       of the process list; FILE must not be group/world-readable)
  --config FILE        chain configuration (JSON, see config/chain.sample.json);
                       saved into DIR, changed stores are distributed. Without
                       it, the configuration saved in DIR.
  --listen ADDR:PORT   address for terminals               (default 127.0.0.1:7400)
  --admin ADDR:PORT    admin API, loopback only            (default 127.0.0.1:7480)
                       PORT 0 picks a free port (both).
  --key-file FILE      the master key that seals customer data at rest: 0600,
                       outside DIR, created when missing        (default DIR.key)
  --key-slots FILE     the customers' data keys, each wiped in place when its
                       customer is erased: 0600, outside DIR  (default DIR.slots)
  --map-size MB        largest size of the data file in MiB
                       (default 8192; 1024 on 32-bit boards)
  --port-file FILE     write "link PORT" and "admin PORT" lines to FILE once serving
  --metrics-listen ADDR:PORT
                       also serve /metrics over HTTPS on ADDR:PORT (any
                       address) for the fleet's monitoring; scrapes carry an
                       admin token (a read-only one: `token create --role
                       read-only`); needs --metrics-cert and --metrics-key
  --metrics-cert FILE  the listener's certificate (PEM, with its chain)
  --metrics-key FILE   its private key (PEM, mode 0600)
  --admin-token-file FILE
                       the bootstrap admin token: FILE's token (mode 0600) is
                       accepted, or a new one is issued into FILE
  --insecure-plaintext-link
                       DEVELOPMENT ONLY: the link without TLS; any client can
                       pose as any terminal (a warning per connection).
                       Without it, DIR/pki must hold the chain CA (pki init)
  --log-level LEVEL    debug | info | warning | error              (default info)
  --help               this text
  --version            the version, git commit and build type

admin API (docs/API.md): every route needs "Authorization: Bearer TOKEN";
kassactl --url http://ADMIN hq status reads $KASSA_ADMIN_TOKEN or
~/.kassactl-admin-token.

usage: kassa-hq token create --data DIR --name NAME [--role admin|read-only]
  issues an admin API token (shown once; only its hash is stored), also
  while kassa-hq runs.
usage: kassa-hq token revoke --data DIR --name NAME
  revokes every token of NAME at once.

Every command takes --key-file FILE, --key-slots FILE, --database CONNINFO
and --database-file FILE as kassa-hq does (default DIR.key, DIR.slots).

usage: kassa-hq migrate --data DIR --database CONNINFO
  copies the embedded store in DIR into a new PostgreSQL database, all of
  it: customers, operation ids, the change log with its numbers (terminals
  carry on without a resynchronization), clienteling, credentials and the
  audit trails. Stop kassa-hq first; DIR's store is left as it was.

usage: kassa-hq backup --data DIR --out DIR2
  a hot copy of the embedded store while kassa-hq runs: DIR2/data.mdb and
  DIR2/key-slots. Restore: stop kassa-hq, put data.mdb into DIR and
  key-slots at DIR.slots (docs/OPERATIONS.md, "Backups"). The key file
  DIR.key is not copied: keep it apart. PostgreSQL: pg_dump.

the link's certificates (docs/OPERATIONS.md, "Enrolling terminals"):
usage: kassa-hq pki init --data DIR [--chain NAME] [--hq-name HOST]...
  makes the chain CA (10 years) and the link listener's certificate
  (2 years) for each HOST terminals dial (default: localhost, 127.0.0.1).
usage: kassa-hq pki issue --data DIR --terminal ID --store ID --out DIR2 [--days N]
  writes terminal ID's bundle (terminal.crt, terminal.key 0600, ca.crt)
  into DIR2 for `kassad --link-bundle DIR2`; valid N days (default 365).
  Issuing again into the same DIR2 renews it: kassad picks it up running.
usage: kassa-hq pki revoke --data DIR (--serial HEX | --cert FILE)
  refuses that certificate from the next connection on.
exit status: 0 stopped by SIGINT/SIGTERM (commands: done), 2 usage, 1 failed
)";

using kassa::Status;
using kassa::StatusCode;

// The options of the `token` and `pki` commands, each at most once except --hq-name.
struct CommandOptions {
  kassa::cli::DaemonOptions daemon{"", kassa::storage::kDefaultChainMapBytes, "", "", ""};
  std::string name, role{kassa::hq::kAdminRole}, chain{"kassa"}, terminal, store, out, serial, cert;
  std::string database, database_file;
  std::vector<std::string> hq_names;
  int days = 0;
};

// Parses argv[skip + 1...] of `kassa-hq WHAT VERB ...` (skip 2) or `kassa-hq
// WHAT ...` (skip 1). Returns an exit code when done.
std::optional<int> ParseCommand(int argc, char** argv, const char* what, CommandOptions& o, int skip = 2) {
  return kassa::cli::ParseOptions(argc - skip, argv + skip, what, kUsage,
      [&](std::string_view option, const std::string& value) -> Status {
        if (option == "--data" || option == "--map-size" || option == "--key-file" ||
            option == "--key-slots") {
          return kassa::cli::TakeDaemonOption(option, value, o.daemon);
        }
        std::string* text = option == "--name"       ? &o.name
                            : option == "--database" ? &o.database
                            : option == "--database-file" ? &o.database_file
                            : option == "--role"     ? &o.role
                            : option == "--chain"    ? &o.chain
                            : option == "--terminal" ? &o.terminal
                            : option == "--store"    ? &o.store
                            : option == "--out"      ? &o.out
                            : option == "--serial"   ? &o.serial
                            : option == "--cert"     ? &o.cert
                                                     : nullptr;
        if (text != nullptr) {
          *text = value;
        } else if (option == "--hq-name") {
          o.hq_names.push_back(value);
        } else if (option == "--days") {
          char* end = nullptr;
          const long days = std::strtol(value.c_str(), &end, 10);
          if (end == value.c_str() || *end != '\0' || days < 1 || days > 36500) {
            return Status(StatusCode::kInvalidArgument, "--days takes 1 to 36500");
          }
          o.days = static_cast<int>(days);
        } else {
          return Status(StatusCode::kNotFound, "unknown option");
        }
        return Status::Ok();
      });
}

int Failed(const Status& s) {
  std::fprintf(stderr, "kassa-hq: %s\n", s.detail());
  return s.code() == StatusCode::kInvalidArgument ? 2 : 1;
}

// The database connection string of --database or --database-file ("" for
// the embedded store). Returns: kOk; kInvalidArgument when both are given or
// the file is empty; kPermissionDenied when the file is readable by others.
kassa::Result<std::string> DatabaseOf(const std::string& inline_text, const std::string& file) {
  if (file.empty()) return inline_text;
  if (!inline_text.empty()) return Status(StatusCode::kInvalidArgument, "--database and --database-file exclude each other");
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return Status(StatusCode::kInvalidArgument, "--database-file: cannot read the file");
  if ((st.st_mode & 0077) != 0) {
    return Status(StatusCode::kPermissionDenied, "--database-file: readable by group or others (chmod 600)");
  }
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  if (line.empty()) return Status(StatusCode::kInvalidArgument, "--database-file: the first line is empty");
  return line;
}

// No directory lock: LMDB lets a second process write while kassa-hq runs,
// and kassa-hq reads credentials and revocations from the store on use.
std::unique_ptr<kassa::storage::ChainStore> OpenStore(const CommandOptions& o) {
  auto keys = kassa::crypto::FileKeyStore::Open(kassa::cli::KeyFileOf(o.daemon), o.daemon.data_dir);
  if (!keys.ok()) {
    Failed(keys.status());
    return nullptr;
  }
  auto database = DatabaseOf(o.database, o.database_file);
  if (!database.ok()) {
    Failed(database.status());
    return nullptr;
  }
  kassa::hq::HqOptions options;
  options.data_dir = o.daemon.data_dir;
  options.map_size_bytes = o.daemon.map_size_bytes;
  options.key_slots_file = kassa::cli::KeySlotsOf(o.daemon);
  options.database = *database;
  auto store = kassa::hq::OpenChainStore(options, std::move(*keys));
  if (!store.ok()) {
    Failed(store.status());
    return nullptr;
  }
  return std::move(*store);
}

// kassa-hq token create|revoke ...
int TokenCommand(int argc, char** argv) {
  const std::string_view verb = argc > 2 ? argv[2] : "";
  if (verb != "create" && verb != "revoke") {
    return kassa::cli::UsageError("kassa-hq", kUsage, "token takes: create or revoke");
  }
  CommandOptions o;
  if (const auto parsed = ParseCommand(argc, argv, "kassa-hq token", o)) return *parsed;
  if (o.daemon.data_dir.empty() || o.name.empty()) {
    return kassa::cli::UsageError("kassa-hq", kUsage, "token needs --data DIR and --name NAME");
  }
  auto store = OpenStore(o);
  if (!store) return 1;
  kassa::SystemClock clock;
  if (verb == "revoke") {
    auto revoked = kassa::hq::RevokeAdminTokens(*store, clock.NowMs(), o.name);
    if (!revoked.ok()) return Failed(revoked.status());
    std::printf("revoked %zu token(s) of %s\n", *revoked, o.name.c_str());
    return 0;
  }
  auto token = kassa::hq::IssueAdminToken(*store, clock.NowMs(), o.name, o.role);
  if (!token.ok()) return Failed(token.status());
  std::printf("%s\n", token->c_str());
  return 0;
}

// kassa-hq migrate --data DIR --database CONNINFO: the embedded store in
// DIR copied into a new PostgreSQL database, kassa-hq stopped meanwhile.
int MigrateCommand(int argc, char** argv) {
  CommandOptions o;
  if (const auto parsed = ParseCommand(argc, argv, "kassa-hq migrate", o, 1)) return *parsed;
  auto database = DatabaseOf(o.database, o.database_file);
  if (!database.ok()) return Failed(database.status());
  if (o.daemon.data_dir.empty() || database->empty()) {
    return kassa::cli::UsageError("kassa-hq", kUsage, "migrate needs --data DIR and --database CONNINFO");
  }
  // Headquarters must not write to the store while it is copied.
  auto lock = kassa::daemon::DirectoryLock::Acquire(o.daemon.data_dir);
  if (!lock.ok()) return Failed(lock.status());
  auto keys = kassa::crypto::FileKeyStore::Open(kassa::cli::KeyFileOf(o.daemon), o.daemon.data_dir);
  if (!keys.ok()) return Failed(keys.status());
  std::shared_ptr<kassa::crypto::KeyStore> shared = std::move(*keys);
  auto report = kassa::storage::CopyLmdbToPostgres(
      {o.daemon.data_dir, o.daemon.map_size_bytes, shared, kassa::cli::KeySlotsOf(o.daemon)}, {*database, shared});
  if (!report.ok()) return Failed(report.status());
  const auto& r = *report;
  std::printf("copied %llu customer(s) (%llu known, erased ones included), %llu operation id(s), %llu change(s) "
              "(log head %llu), %llu clienteling record(s), %llu terminal(s), %llu audit entries and access events, %llu erasure(s), "
              "%llu other value(s)\n",
              static_cast<unsigned long long>(r.customers), static_cast<unsigned long long>(r.owners),
              static_cast<unsigned long long>(r.operations), static_cast<unsigned long long>(r.changes),
              static_cast<unsigned long long>(r.head_seq), static_cast<unsigned long long>(r.clienteling),
              static_cast<unsigned long long>(r.terminals), static_cast<unsigned long long>(r.audit),
              static_cast<unsigned long long>(r.erasures), static_cast<unsigned long long>(r.other));
  std::printf("start kassa-hq with --data %s --database ... from now on; terminals carry on from their cursors. "
              "The embedded store in %s is left as it was.\n",
              o.daemon.data_dir.c_str(), o.daemon.data_dir.c_str());
  return 0;
}

// kassa-hq backup --data DIR --out DIR2: a hot copy of the embedded store.
int BackupCommand(int argc, char** argv) {
  CommandOptions o;
  if (const auto parsed = ParseCommand(argc, argv, "kassa-hq backup", o, 1)) return *parsed;
  if (!o.database.empty() || !o.database_file.empty()) {
    return Failed(Status(StatusCode::kInvalidArgument,
                         "backup: a PostgreSQL chain is backed up with pg_dump (docs/OPERATIONS.md, \"Backups\")"));
  }
  if (o.daemon.data_dir.empty() || o.out.empty()) {
    return kassa::cli::UsageError("kassa-hq", kUsage, "backup needs --data DIR and --out DIR2");
  }
  auto keys = kassa::crypto::FileKeyStore::Open(kassa::cli::KeyFileOf(o.daemon), o.daemon.data_dir);
  if (!keys.ok()) return Failed(keys.status());
  const Status s = kassa::storage::BackupLmdbChainStore(
      {o.daemon.data_dir, o.daemon.map_size_bytes, std::move(*keys), kassa::cli::KeySlotsOf(o.daemon)}, o.out);
  if (!s.ok()) return Failed(s);
  std::printf("backed up %s into %s (data.mdb, key-slots); keep %s apart: the backup opens with nothing else\n",
              o.daemon.data_dir.c_str(), o.out.c_str(), kassa::cli::KeyFileOf(o.daemon).c_str());
  return 0;
}

// kassa-hq pki init|issue|revoke ...
int PkiCommand(int argc, char** argv) {
  const std::string_view verb = argc > 2 ? argv[2] : "";
  if (verb != "init" && verb != "issue" && verb != "revoke") {
    return kassa::cli::UsageError("kassa-hq", kUsage, "pki takes: init, issue or revoke");
  }
  CommandOptions o;
  if (const auto parsed = ParseCommand(argc, argv, "kassa-hq pki", o)) return *parsed;
  if (o.daemon.data_dir.empty()) return kassa::cli::UsageError("kassa-hq", kUsage, "pki needs --data DIR");
  if (const Status s = kassa::cli::PrepareDataDirectory(o.daemon); !s.ok()) return Failed(s);
  kassa::SystemClock clock;
  if (verb == "init") {
    if (o.hq_names.empty()) o.hq_names = {"localhost", "127.0.0.1"};
    const Status s = kassa::hq::InitLinkPki(o.daemon.data_dir, o.chain, o.hq_names, 3650, o.days > 0 ? o.days : 730,
                                            clock.NowMs());
    if (!s.ok()) return Failed(s);
    std::printf("chain CA and link certificate written to %s/pki\n", o.daemon.data_dir.c_str());
    return 0;
  }
  auto store = OpenStore(o);
  if (!store) return 1;
  if (verb == "issue") {
    if (o.terminal.empty() || o.store.empty() || o.out.empty()) {
      return kassa::cli::UsageError("kassa-hq", kUsage, "pki issue needs --terminal, --store and --out");
    }
    auto issued = kassa::hq::IssueTerminalBundle(o.daemon.data_dir, *store, o.terminal, o.store,
                                                 o.days > 0 ? o.days : 365, o.out, clock.NowMs());
    if (!issued.ok()) return Failed(issued.status());
    std::printf("serial %s: terminal %s of store %s, bundle in %s\n", issued->serial_hex.c_str(), o.terminal.c_str(),
                o.store.c_str(), o.out.c_str());
    return 0;
  }
  if (o.serial.empty() == o.cert.empty()) {
    return kassa::cli::UsageError("kassa-hq", kUsage, "pki revoke needs --serial HEX or --cert FILE (one of them)");
  }
  std::string serial = o.serial;
  if (!o.cert.empty()) {
    std::ifstream in(o.cert);
    std::ostringstream pem;
    pem << in.rdbuf();
    auto identity = kassa::tls::TerminalIdentityOfPem(pem.str());
    if (!identity.ok()) return Failed(identity.status());
    serial = identity->serial_hex;
  }
  auto revoked = kassa::hq::RevokeLinkCertificate(*store, serial, clock.NowMs());
  if (!revoked.ok()) return Failed(revoked.status());
  std::printf("revoked link certificate %s\n", revoked->c_str());
  return 0;
}

int Main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "token") return TokenCommand(argc, argv);
  if (argc > 1 && std::string_view(argv[1]) == "pki") return PkiCommand(argc, argv);
  if (argc > 1 && std::string_view(argv[1]) == "migrate") return MigrateCommand(argc, argv);
  if (argc > 1 && std::string_view(argv[1]) == "backup") return BackupCommand(argc, argv);
  kassa::hq::HqOptions options;
  kassa::cli::DaemonOptions daemon{"", options.map_size_bytes, "", "", ""};
  std::string database, database_file;
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
        } else if (name == "--database") {
          database = value;
        } else if (name == "--database-file") {
          database_file = value;
        } else if (name == "--insecure-plaintext-link") {
          options.insecure_plaintext_link = true;
        } else if (name == "--admin") {
          if (!kassa::cli::ParseHostPort(value, options.admin_address, options.admin_port)) {
            return Status(StatusCode::kInvalidArgument, "--admin takes ADDR:PORT");
          }
        } else {
          return Status(StatusCode::kNotFound, "unknown option");
        }
        return Status::Ok();
      },
      {"--insecure-plaintext-link"});
  if (parsed) return *parsed;
  if (daemon.data_dir.empty()) return kassa::cli::UsageError("kassa-hq", kUsage, "--data is required");
  if (const Status s = kassa::cli::CheckMetricsListener(daemon); !s.ok()) {
    return kassa::cli::UsageError("kassa-hq", kUsage, s.detail());
  }
  if (const Status s = kassa::cli::PrepareDataDirectory(daemon); !s.ok()) {
    std::fprintf(stderr, "kassa-hq: %s\n", s.detail());
    return 1;
  }
  options.data_dir = daemon.data_dir;
  options.key_file = kassa::cli::KeyFileOf(daemon);
  options.key_slots_file = kassa::cli::KeySlotsOf(daemon);
  options.map_size_bytes = daemon.map_size_bytes;
  options.metrics_listener = {daemon.metrics_address, daemon.metrics_port, daemon.metrics_certificate, daemon.metrics_key};
  auto chosen = DatabaseOf(database, database_file);
  if (!chosen.ok()) return Failed(chosen.status());
  options.database = *chosen;
  return kassa::cli::Serve("kassa-hq", kassa::hq::HqService::Create(options), daemon.port_file,
                           [&](const kassa::hq::HqService& service) {
                             return "terminals on " + options.link_address + ":" + std::to_string(service.link_port()) +
                                    ", admin API on http://" + options.admin_address + ":" +
                                    std::to_string(service.admin_port()) + "/v1/ (data: " + options.data_dir + ")";
                           });
}

}  // namespace

int main(int argc, char** argv) { return kassa::cli::RunGuarded(Main, argc, argv); }
