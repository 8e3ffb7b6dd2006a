#pragma once

// Daemon: the skeleton kassad and kassa-hq both run on.
//
//   - one io_context run on the calling thread: every handler serialized;
//   - SIGINT and SIGTERM call the stop hooks once (they cancel their work so
//     Run() returns by itself);
//   - the supervisor (systemd, Type=notify) is told READY=1 when start-up
//     is done, WATCHDOG=1 from the event loop every half WatchdogSec (so a
//     hung loop gets the daemon restarted), STOPPING=1 on a signal; all
//     no-ops without $NOTIFY_SOCKET;
//   - Announce(): the port file and the one start-up line on stdout;
//   - the open-file soft limit raised to the hard limit at construction.
//
// Threading: construct, add hooks and Run() on one thread.

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <string>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/daemon/supervisor.h"

namespace kassa::daemon {

class Daemon {
 public:
  // `name` prefixes the start-up line and the logs ("kassad").
  explicit Daemon(std::string name);
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  boost::asio::io_context& io() { return io_; }
  boost::asio::any_io_executor executor() { return io_.get_executor(); }

  // Runs `stop` once on SIGINT or SIGTERM, in the order added.
  void OnStop(std::function<void()> stop);

  // Start-up is done: tells the supervisor and starts the watchdog kicks.
  void Ready();

  // Writes `port_file_text` to `port_file` (when not empty; atomically) and
  // prints `line` on stdout.
  // Returns: kOk; kUnavailable "port_file: ..." when it cannot be written.
  Status Announce(const std::string& port_file, const std::string& port_file_text, const std::string& line);

  // Serves until the stop hooks have cancelled all work.
  void Run();

 private:
  void Kick();

  std::string name_;
  boost::asio::io_context io_{1};                          // the one thread's event loop
  boost::asio::signal_set signals_{io_, SIGINT, SIGTERM};  // graceful stop
  boost::asio::steady_timer watchdog_{io_};                // WATCHDOG=1 from the loop
  Supervisor supervisor_;                                  // systemd's notify socket, if any
  std::vector<std::function<void()>> stops_;
};

}  // namespace kassa::daemon
