#pragma once

// A barcode scanner: keyboard-wedge (evdev) or serial.
//
// Threading: call from the service's executor only. Handlers run on that
// executor, never inside Start(). A backend that loses its device reports
// kDisconnected through the status handler and keeps retrying until the
// device returns (hot-plug), then reports kReady again.

#include <functional>
#include <string>

#include "kassa/base/status.h"
#include "kassa/hal/device_status.h"

namespace kassa::hal {

class BarcodeScanner {
 public:
  using ScanHandler = std::function<void(const std::string& code)>;
  using StatusHandler = std::function<void(const DeviceStatus&)>;
  virtual ~BarcodeScanner() = default;

  // Starts delivering scans (one complete code each, without terminator).
  // Returns: kOk; kInvalidArgument when a handler is null;
  // kFailedPrecondition when already started.
  Status Start(ScanHandler on_scan, StatusHandler on_status) {
    if (!on_scan || !on_status) return Status(StatusCode::kInvalidArgument, "scanner: null handler");
    return DoStart(std::move(on_scan), std::move(on_status));
  }
  // Stops and releases the device; no handler runs afterwards.
  void Stop() { DoStop(); }
  DeviceStatus status() const { return DoStatus(); }

 private:
  virtual Status DoStart(ScanHandler on_scan, StatusHandler on_status) = 0;
  virtual void DoStop() = 0;
  virtual DeviceStatus DoStatus() const = 0;
};

}  // namespace kassa::hal
