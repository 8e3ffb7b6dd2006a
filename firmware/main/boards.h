#pragma once

// The boards kassad can run on; main picks one with --hal.

#include <string>

#include "kassa/service/board.h"

namespace kassa::boards {

// Simulated devices (a desktop, a demo): every device present and ready.
service::BoardFactory SimBoard();

// Real devices from a JSON device file (config/devices.sample.json); its
// "key_file" (the master key's file on this board), when given, into
// `key_file`.
// Returns: kOk; kInvalidArgument "devices: ..." naming the member at fault.
Result<service::BoardFactory> LinuxBoard(const std::string& device_file, std::string& key_file);

}  // namespace kassa::boards
