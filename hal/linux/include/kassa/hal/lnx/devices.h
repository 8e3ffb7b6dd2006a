#pragma once

// Linux backends of the peripherals. Each Open* checks its configuration and
// returns a device that works on the given executor (one thread). None fails
// because a device is absent: it starts kDisconnected, retries every second
// and reports kReady when the device appears (hot-plug), and goes back to
// kDisconnected (retrying) when it disappears.
//
//   scanners:      serial (Asio serial_port: records end with CR or LF) or
//                  evdev keyboard wedge (exclusive grab, US keymap, a record
//                  ends with Enter or 100 ms without keys)
//   card readers:  the same two transports; records parsed as card tracks
//   printer:       ESC/POS over TCP (port 9100), a serial port, or a USB
//                  printer device (/dev/usb/lp*); status from DLE EOT queries
//   display:       a two-line pole display on a serial port
//   key store:     a 0600 file holding 32 random bytes
//   network:       /sys/class/net/*/operstate, polled

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <string>

#include "kassa/base/status.h"
#include "kassa/hal/barcode_scanner.h"
#include "kassa/hal/card_reader.h"
#include "kassa/hal/customer_display.h"
#include "kassa/hal/network_monitor.h"
#include "kassa/hal/receipt_printer.h"

namespace kassa::hal::lnx {

// Where a record device is and how to read it.
struct InputConfig {
  enum class Transport { kSerial, kEvdev };
  Transport transport = Transport::kSerial;
  std::string path;         // /dev/ttyACM0, /dev/input/by-id/...-event-kbd
  unsigned baud = 9600;     // serial only
  // evdev only: take the device for kassad alone (EVIOCGRAB), so a scan does
  // not also type into the console or the browser. Only a keyboard shared
  // with a person, or a stream of input events that is not an input device
  // (the HIL test's pipe), runs without.
  bool grab = true;
};

struct PrinterConfig {
  enum class Transport { kTcp, kSerial, kUsb };
  Transport transport = Transport::kTcp;
  std::string host;         // tcp
  std::uint16_t port = 9100;
  std::string path;         // serial, usb
  unsigned baud = 19200;    // serial
};

// Returns: kOk; kInvalidArgument "<device>: ..." for an empty path or host,
// or a baud rate the kernel does not know.
Result<std::unique_ptr<BarcodeScanner>> OpenScanner(boost::asio::any_io_executor executor, const InputConfig& config);
Result<std::unique_ptr<CardReader>> OpenCardReader(boost::asio::any_io_executor executor, const InputConfig& config,
                                                   std::string badge_prefix);
Result<std::unique_ptr<ReceiptPrinter>> OpenPrinter(boost::asio::any_io_executor executor,
                                                    const PrinterConfig& config);
Result<std::unique_ptr<CustomerDisplay>> OpenDisplay(boost::asio::any_io_executor executor, const InputConfig& config);
// Polls `sysfs_net` (every interface but loopback, "operstate") each second.
std::unique_ptr<NetworkMonitor> OpenNetworkMonitor(boost::asio::any_io_executor executor,
                                                   std::string sysfs_net = "/sys/class/net");

}  // namespace kassa::hal::lnx
