#pragma once

// A receipt printer that accepts one job at a time: ESC/POS over a serial
// port, a USB printer device (/dev/usb/lp*) or a network printer (TCP 9100).
//
// Threading: call from the service's executor only. `done` always runs on
// that executor, exactly once per accepted job, and never inside Print().

#include <functional>

#include "kassa/base/bytes.h"
#include "kassa/base/status.h"
#include "kassa/hal/device_status.h"

namespace kassa::hal {

class ReceiptPrinter {
 public:
  using DoneHandler = std::function<void(Status)>;
  using StatusHandler = std::function<void(const DeviceStatus&)>;
  virtual ~ReceiptPrinter() = default;

  // Reports status changes (online, paper out, cover open, offline) from
  // now on. Returns: kOk; kInvalidArgument (null handler).
  Status Start(StatusHandler on_status) {
    if (!on_status) return Status(StatusCode::kInvalidArgument, "printer: null handler");
    return DoStart(std::move(on_status));
  }

  // Queues `job` (already-rendered printer bytes) for printing.
  //
  // Returns:
  //   kOk                  accepted; `done` reports the outcome (kUnavailable
  //                        when the printer went away mid-job: print again).
  //   kInvalidArgument     `job` is empty or `done` is null.
  //   kFailedPrecondition  another job is still printing.
  //   kUnavailable         printer offline, out of paper or its cover open.
  Status Print(ByteView job, DoneHandler done) {
    if (job.empty() || !done) return Status(StatusCode::kInvalidArgument, "printer: empty job or handler");
    return DoPrint(job, std::move(done));
  }

  void Stop() { DoStop(); }
  DeviceStatus status() const { return DoStatus(); }

 private:
  virtual Status DoStart(StatusHandler on_status) = 0;
  virtual Status DoPrint(ByteView job, DoneHandler done) = 0;
  virtual void DoStop() = 0;
  virtual DeviceStatus DoStatus() const = 0;
};

}  // namespace kassa::hal
