#pragma once

// A customer-facing two-line display (a serial pole display, or the
// customer-facing screen of the UI).
//
// Threading: call from the service's executor only.

#include <string>

#include "kassa/base/status.h"
#include "kassa/hal/device_status.h"

namespace kassa::hal {

class CustomerDisplay {
 public:
  static constexpr std::size_t kColumns = 20;
  virtual ~CustomerDisplay() = default;

  // Shows two lines, each cut or padded to kColumns. Non-ASCII letters are
  // shown as their closest ASCII (pole displays have no UTF-8).
  // Returns: kOk (sent); kUnavailable when the display is disconnected.
  Status Show(const std::string& line1, const std::string& line2) { return DoShow(line1, line2); }
  DeviceStatus status() const { return DoStatus(); }

 private:
  virtual Status DoShow(const std::string& line1, const std::string& line2) = 0;
  virtual DeviceStatus DoStatus() const = 0;
};

}  // namespace kassa::hal
