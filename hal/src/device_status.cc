#include "kassa/hal/device_status.h"

namespace kassa::hal {

const char* ToString(DeviceStatus::State s) {
  switch (s) {
    case DeviceStatus::State::kReady: return "ready";
    case DeviceStatus::State::kDisconnected: return "disconnected";
    case DeviceStatus::State::kFault: return "fault";
  }
  return "unknown";
}

}  // namespace kassa::hal
