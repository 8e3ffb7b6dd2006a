#pragma once

// The state of one peripheral, as status screens and the API show it.

#include <string>

namespace kassa::hal {

struct DeviceStatus {
  enum class State : unsigned char {
    kReady = 1,        // present and working
    kDisconnected = 2, // unplugged, unreachable or not opened yet; retried by the backend
    kFault = 3,        // present but unable to work (paper out, cover open, ...)
  };
  State state = State::kDisconnected;
  std::string detail;  // one short sentence: "paper out", "/dev/ttyUSB0: no such device"
  friend bool operator==(const DeviceStatus&, const DeviceStatus&) = default;
};

const char* ToString(DeviceStatus::State s);  // "ready" | "disconnected" | "fault"

}  // namespace kassa::hal
