#include "kassa/daemon/daemon.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>

#include "kassa/base/atomic_file.h"
#include "kassa/base/log.h"

namespace kassa::daemon {

namespace {

// Connections, LMDB and devices each take a descriptor; the soft limit of
// 1,024 many systems start with is raised to the hard limit, so a flood of
// connections meets the servers' own caps instead of failed accepts.
void RaiseDescriptorLimit(const std::string& name) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    KASSA_LOG(kWarning) << name << ": cannot raise the open-file limit from " << before;
    return;
  }
  KASSA_LOG(kDebug) << name << ": open-file limit raised from " << before << " to " << limit.rlim_cur;
}

}  // namespace

Daemon::Daemon(std::string name) : name_(std::move(name)) {
  RaiseDescriptorLimit(name_);
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    KASSA_LOG(kInfo) << name_ << ": signal " << signal << ": stopping";
    supervisor_.Notify("STOPPING=1");
    watchdog_.cancel();
    for (auto& stop : stops_) stop();
  });
}

void Daemon::OnStop(std::function<void()> stop) { stops_.push_back(std::move(stop)); }

void Daemon::Ready() {
  supervisor_.Notify("READY=1");
  if (supervisor_.watchdog_interval_ms() > 0) Kick();
}

void Daemon::Kick() {
  supervisor_.Notify("WATCHDOG=1");
  watchdog_.expires_after(std::chrono::milliseconds(supervisor_.watchdog_interval_ms()));
  watchdog_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) Kick();
  });
}

Status Daemon::Announce(const std::string& port_file, const std::string& port_file_text, const std::string& line) {
  if (!port_file.empty() && !WriteFileAtomically(port_file, port_file_text).ok()) {
    return Status(StatusCode::kUnavailable, "port_file: the --port-file cannot be written (see log)");
  }
  std::printf("%s: %s\n", name_.c_str(), line.c_str());
  std::fflush(stdout);
  return Status::Ok();
}

void Daemon::Run() {
  io_.run();
  KASSA_LOG(kInfo) << name_ << ": stopped";
}

}  // namespace kassa::daemon
