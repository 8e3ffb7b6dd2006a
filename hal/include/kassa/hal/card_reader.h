#pragma once

// A card reader: magnetic stripe or NFC presenting as a keyboard. Each swipe
// is parsed into what the card is (see kassa/hal/card_track.h).
//
// Threading and hot-plug: as BarcodeScanner.

#include <functional>
#include <string>

#include "kassa/base/status.h"
#include "kassa/hal/card_track.h"
#include "kassa/hal/device_status.h"

namespace kassa::hal {

class CardReader {
 public:
  using SwipeHandler = std::function<void(const CardSwipe& swipe)>;
  using StatusHandler = std::function<void(const DeviceStatus&)>;
  virtual ~CardReader() = default;

  // Returns: kOk; kInvalidArgument (null handler); kFailedPrecondition (started).
  Status Start(SwipeHandler on_swipe, StatusHandler on_status) {
    if (!on_swipe || !on_status) return Status(StatusCode::kInvalidArgument, "card reader: null handler");
    return DoStart(std::move(on_swipe), std::move(on_status));
  }
  void Stop() { DoStop(); }
  DeviceStatus status() const { return DoStatus(); }

 private:
  virtual Status DoStart(SwipeHandler on_swipe, StatusHandler on_status) = 0;
  virtual void DoStop() = 0;
  virtual DeviceStatus DoStatus() const = 0;
};

}  // namespace kassa::hal
