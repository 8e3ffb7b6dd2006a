#pragma once

// Board: the peripherals and platform services of this terminal, as
// kassad's main picked them (--hal sim|linux and the device file). Any
// device may be absent (null): a kiosk without a card reader, a desktop.

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <string>

#include "kassa/base/status.h"
#include "kassa/hal/barcode_scanner.h"
#include "kassa/hal/card_reader.h"
#include "kassa/hal/customer_display.h"
#include "kassa/hal/network_monitor.h"
#include "kassa/hal/receipt_printer.h"

namespace kassa::service {

struct Board {
  std::string description;  // for the log: "linux: scanner serial /dev/ttyACM0, ..."
  std::unique_ptr<hal::BarcodeScanner> scanner;
  std::unique_ptr<hal::CardReader> card_reader;
  std::unique_ptr<hal::ReceiptPrinter> printer;
  std::unique_ptr<hal::CustomerDisplay> display;
  std::unique_ptr<hal::NetworkMonitor> network;
};

// Builds the board on the service's executor.
using BoardFactory = std::function<Result<Board>(boost::asio::any_io_executor)>;

}  // namespace kassa::service
