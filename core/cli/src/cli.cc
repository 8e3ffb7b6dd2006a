#include "kassa/cli/cli.h"
#include "kassa/base/version.h"

#include <algorithm>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>

#include "kassa/base/log.h"

namespace kassa::cli {

int RunGuarded(int (*main_body)(int, char**), int argc, char** argv) {
  try {
    return main_body(argc, argv);
  } catch (const std::exception& e) {
    KASSA_LOG(kError) << "fatal: " << e.what();
  } catch (...) {
    KASSA_LOG(kError) << "fatal: unknown exception";
  }
  return 1;
}

int UsageError(const char* program, const char* usage, const std::string& message) {
  std::fprintf(stderr, "%s: %s\n%s", program, message.c_str(), usage);
  return 2;
}

std::optional<int> ParseOptions(int argc, char** argv, const char* program, const char* usage,
                                const OptionHandler& option, std::initializer_list<std::string_view> flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view name = argv[i];
    if (name == "--help" || name == "-h") {
      std::fputs(usage, stdout);
      return 0;
    }
    if (name == "--version") {
      std::printf("%s\n", VersionLine(program).c_str());
      return 0;
    }
    const bool flag = std::find(flags.begin(), flags.end(), name) != flags.end();
    if (!flag && i + 1 >= argc) return UsageError(program, usage, std::string(name) + " needs a value (or is unknown)");
    const Status taken = option(name, flag ? std::string() : std::string(argv[++i]));
    if (taken.code() == StatusCode::kNotFound) return UsageError(program, usage, "unknown option " + std::string(name));
    if (!taken.ok()) return UsageError(program, usage, taken.detail());
  }
  return std::nullopt;
}

Status TakeDaemonOption(std::string_view name, const std::string& value, DaemonOptions& out) {
  if (name == "--data") {
    out.data_dir = value;
  } else if (name == "--map-size") {
    if (!ParseMiB(value, out.map_size_bytes)) {
      return Status(StatusCode::kInvalidArgument, "--map-size takes a size in MiB from 1 to 1048576");
    }
  } else if (name == "--port-file") {
    out.port_file = value;
  } else if (name == "--key-file") {
    if (value.empty()) return Status(StatusCode::kInvalidArgument, "--key-file takes a file name");
    out.key_file = value;
  } else if (name == "--key-slots") {
    if (value.empty()) return Status(StatusCode::kInvalidArgument, "--key-slots takes a file name");
    out.key_slots_file = value;
  } else if (name == "--metrics-listen") {
    if (!ParseHostPort(value, out.metrics_address, out.metrics_port) || out.metrics_port == 0) {
      return Status(StatusCode::kInvalidArgument, "--metrics-listen takes ADDR:PORT (a port other than 0)");
    }
  } else if (name == "--metrics-cert") {
    if (value.empty()) return Status(StatusCode::kInvalidArgument, "--metrics-cert takes a file name");
    out.metrics_certificate = value;
  } else if (name == "--metrics-key") {
    if (value.empty()) return Status(StatusCode::kInvalidArgument, "--metrics-key takes a file name");
    out.metrics_key = value;
  } else if (name == "--log-level") {
    if (!SetLogLevelByName(value)) {
      return Status(StatusCode::kInvalidArgument, "--log-level takes debug, info, warning or error");
    }
  } else {
    return Status(StatusCode::kNotFound, "unknown option");
  }
  return Status::Ok();
}

std::string BesideDataDirectory(const DaemonOptions& options, std::string_view suffix) {
  std::string dir = options.data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + std::string(suffix);
}

std::string KeyFileOf(const DaemonOptions& options) {
  return options.key_file.empty() ? BesideDataDirectory(options, ".key") : options.key_file;
}

std::string KeySlotsOf(const DaemonOptions& options) {
  return options.key_slots_file.empty() ? BesideDataDirectory(options, ".slots") : options.key_slots_file;
}

Status CheckMetricsListener(const DaemonOptions& options) {
  if (!options.metrics_address.empty() && (options.metrics_certificate.empty() || options.metrics_key.empty())) {
    return Status(StatusCode::kInvalidArgument,
                  "--metrics-listen needs --metrics-cert and --metrics-key: metrics leave the loopback API only over TLS");
  }
  if (options.metrics_address.empty() && (!options.metrics_certificate.empty() || !options.metrics_key.empty())) {
    return Status(StatusCode::kInvalidArgument, "--metrics-cert and --metrics-key go with --metrics-listen");
  }
  return Status::Ok();
}

Status PrepareDataDirectory(const DaemonOptions& options) {
  if (options.data_dir.empty()) return Status(StatusCode::kInvalidArgument, "--data is required");
  if (!EnsureDirectory(options.data_dir)) {
    KASSA_LOG(kError) << "cannot create data directory " << options.data_dir << ": " << std::strerror(errno);
    return Status(StatusCode::kUnavailable, "data: the data directory cannot be created (see log)");
  }
  return Status::Ok();
}

bool ParseHostPort(std::string_view s, std::string& host, std::uint16_t& port) {
  const auto colon = s.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view h = s.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  const std::string_view p = s.substr(colon + 1);
  const auto r = std::from_chars(p.data(), p.data() + p.size(), port);
  if (r.ec != std::errc() || r.ptr != p.data() + p.size() || h.empty()) return false;
  host = std::string(h);
  return true;
}

bool SetLogLevelByName(std::string_view name) {
  if (name == "debug") SetLogLevel(LogLevel::kDebug);
  else if (name == "info") SetLogLevel(LogLevel::kInfo);
  else if (name == "warning") SetLogLevel(LogLevel::kWarning);
  else if (name == "error") SetLogLevel(LogLevel::kError);
  else return false;
  return true;
}

bool ParseMiB(std::string_view s, std::size_t& bytes) {
  std::size_t mb = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), mb);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || mb < 1 || mb > (std::size_t{1} << 20)) return false;
  bytes = mb << 20;
  return true;
}

bool EnsureDirectory(const std::string& path) {
  if (::access(path.c_str(), F_OK) == 0) return true;
  return ::mkdir(path.c_str(), 0700) == 0;
}

}  // namespace kassa::cli
