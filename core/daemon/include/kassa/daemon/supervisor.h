#pragma once

// The supervisor's notify socket (sd_notify(3)'s protocol, without
// libsystemd): one datagram per message to $NOTIFY_SOCKET, read with
// $WATCHDOG_USEC when the object is made. A no-op when not under systemd.
//
// Why by hand: the protocol is one datagram, and libsystemd is not on every
// board's image.

#include <string>
#include <string_view>

namespace kassa::daemon {

class Supervisor {
 public:
  // Reads $NOTIFY_SOCKET and $WATCHDOG_USEC.
  Supervisor();

  // Sends `message` ("READY=1"); failures are logged, never fatal.
  void Notify(std::string_view message) const;

  // Milliseconds between WATCHDOG=1 kicks: half of WatchdogSec, as
  // sd_watchdog_enabled(3) advises; 0 when no watchdog is set.
  long watchdog_interval_ms() const { return interval_ms_; }
  bool supervised() const { return !socket_path_.empty(); }

 private:
  std::string socket_path_;
  long interval_ms_ = 0;
};

}  // namespace kassa::daemon
