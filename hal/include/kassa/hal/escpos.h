#pragma once

// ESC/POS, the command language of receipt printers: building a job and
// reading the printer's answers to real-time status queries (DLE EOT n).
// Protocol only; the transports (serial, USB, TCP 9100) are the backends'.

#include <cstdint>
#include <string>
#include <string_view>

#include "kassa/base/bytes.h"
#include "kassa/hal/device_status.h"

namespace kassa::hal::escpos {

// Builds one receipt. Text is UTF-8; printers without a UTF-8 code page
// get each letter's closest ASCII (Ā -> A, ß -> ss); other scripts print '?'.
class Job {
 public:
  Job();  // starts with ESC @ (initialize)
  Job& Center(bool on);
  Job& Bold(bool on);
  Job& DoubleSize(bool on);
  Job& Line(std::string_view utf8);  // text and a line feed
  Job& Feed(int lines);
  Job& Cut();                        // feed to the cutter and cut (GS V 66 0)
  const Bytes& bytes() const { return bytes_; }

 private:
  Bytes bytes_;
};

// The closest printable ASCII of a UTF-8 string.
std::string AsciiFold(std::string_view utf8);

// Real-time status requests: DLE EOT 1 (printer), 2 (offline cause), 4 (paper).
inline constexpr std::uint8_t kStatusPrinter = 1;
inline constexpr std::uint8_t kStatusOffline = 2;
inline constexpr std::uint8_t kStatusPaper = 4;
Bytes StatusRequest(std::uint8_t n);

// Interprets the answers to DLE EOT 2 and DLE EOT 4 (one byte each).
// Returns kReady, or kFault with "cover open" / "paper out" / "printer error".
DeviceStatus InterpretStatus(std::uint8_t offline_cause, std::uint8_t paper);

}  // namespace kassa::hal::escpos
