#pragma once

// Small helpers shared by the daemons' command lines (kassad, kassa-hq).

#include <cstdint>
#include <cstdio>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "kassa/base/status.h"

namespace kassa::cli {

// Runs a daemon's `main_body`: the single `try` of the process. An exception
// escaping it is logged and ends the process with 1 (systemd restarts it).
int RunGuarded(int (*main_body)(int, char**), int argc, char** argv);

// Walks a daemon's "--name VALUE" options. `--help`/`-h` prints `usage` to
// stdout, `--version` the program's version line (base/version.h). `option(name, value)` returns kOk when it took the option,
// kInvalidArgument with a message for a bad value ("--listen takes
// ADDR:PORT"), kNotFound for an unknown name. The names in `flags` take no
// value (the handler gets "").
// Returns: nullopt when every option was taken; otherwise the exit status,
// 0 after --help or --version, 2 after an error printed as "<program>: <message>" (for an
// unknown option "<program>: unknown option NAME") and the usage on stderr.
using OptionHandler = std::function<Status(std::string_view name, const std::string& value)>;
std::optional<int> ParseOptions(int argc, char** argv, const char* program, const char* usage,
                                const OptionHandler& option, std::initializer_list<std::string_view> flags = {});

// The options both daemons take.
struct DaemonOptions {
  std::string data_dir;         // --data DIR (required; created when missing)
  std::size_t map_size_bytes;   // --map-size MB
  std::string port_file;        // --port-file FILE
  std::string key_file;         // --key-file FILE: the store's master key (empty: KeyFileOf's default)
  std::string key_slots_file;   // --key-slots FILE: customers' data keys (empty: KeySlotsOf's default)
  // --metrics-listen ADDR:PORT with --metrics-cert FILE and --metrics-key
  // FILE: /metrics over HTTPS, for a bearer token, on any address (the
  // loopback API serves it too). Empty address: no such listener.
  std::string metrics_address{};
  std::uint16_t metrics_port = 0;
  std::string metrics_certificate{};
  std::string metrics_key{};
};

// `options`' data directory with `suffix` added ("/var/lib/kassa/terminal",
// ".key" -> "/var/lib/kassa/terminal.key"): a file beside it, never in it.
std::string BesideDataDirectory(const DaemonOptions& options, std::string_view suffix);

// The master key file of `options`: --key-file, or beside the data
// directory, never in it ("/var/lib/kassa/terminal" ->
// "/var/lib/kassa/terminal.key").
std::string KeyFileOf(const DaemonOptions& options);

// The key slots file of `options` (the customers' data keys, wiped one by
// one on erasure): --key-slots, or beside the data directory, never in it
// ("/var/lib/kassa/terminal" -> "/var/lib/kassa/terminal.slots").
std::string KeySlotsOf(const DaemonOptions& options);

// Takes `name` when it is one of DaemonOptions' (or --log-level, which sets
// the process log level at once).
// Returns: kOk taken; kInvalidArgument with the message for a bad value;
// kNotFound when `name` is not one of them.
Status TakeDaemonOption(std::string_view name, const std::string& value, DaemonOptions& out);

// Checks that --metrics-listen, --metrics-cert and --metrics-key come
// together (metrics leave the loopback API only over TLS).
// Returns: kOk; kInvalidArgument naming what is missing.
Status CheckMetricsListener(const DaemonOptions& options);

// Checks that --data was given and creates the directory (one level).
// Returns: kOk; kInvalidArgument "--data is required"; kUnavailable "data:
// ..." when it cannot be created (errno in the log).
Status PrepareDataDirectory(const DaemonOptions& options);

// Serves a daemon's created `service` (kassad's Service, kassa-hq's
// HqService): announces `line_of(service)` (after writing the port file)
// and runs it until SIGINT/SIGTERM.
// Returns the exit status: 0 once stopped; 1, with "<program>: <why>" on
// stderr, when the service failed to start or the port file cannot be
// written.
template <typename Service, typename LineOf>
int Serve(const char* program, Result<std::unique_ptr<Service>> service, const std::string& port_file,
          LineOf line_of) {
  if (!service.ok()) {
    std::fprintf(stderr, "%s: %s\n", program, service.status().detail());
    return 1;
  }
  if (const Status s = (*service)->Announce(port_file, line_of(**service)); !s.ok()) {
    std::fprintf(stderr, "%s: cannot write --port-file %s\n", program, port_file.c_str());
    return 1;
  }
  (*service)->Run();
  return 0;
}

// Prints "<program>: <message>" and the usage to stderr; returns 2, the
// usage exit status.
int UsageError(const char* program, const char* usage, const std::string& message);

// "HOST:PORT" or "[V6]:PORT".
bool ParseHostPort(std::string_view s, std::string& host, std::uint16_t& port);
// debug | info | warning | error; sets the process log level.
bool SetLogLevelByName(std::string_view name);
// A size in MiB from 1 to 1048576, as bytes.
bool ParseMiB(std::string_view s, std::size_t& bytes);
// Creates `path` (one level, mode 0700) when missing. False with errno set.
bool EnsureDirectory(const std::string& path);

}  // namespace kassa::cli
