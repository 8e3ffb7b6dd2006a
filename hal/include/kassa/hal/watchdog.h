#pragma once

// The service watchdog: tells the supervisor (systemd) that kassad is up and
// still alive. A no-op when no supervisor watches.

namespace kassa::hal {

class Watchdog {
 public:
  virtual ~Watchdog() = default;
  // Start-up finished ("READY=1").
  void Ready() { DoReady(); }
  // Still alive ("WATCHDOG=1"); called from the event loop, so a hung loop
  // stops the kicks and the supervisor restarts the service.
  void Kick() { DoKick(); }
  // Milliseconds between kicks the supervisor expects (0: none expected).
  long interval_ms() const { return DoIntervalMs(); }

 private:
  virtual void DoReady() = 0;
  virtual void DoKick() = 0;
  virtual long DoIntervalMs() const = 0;
};

}  // namespace kassa::hal
