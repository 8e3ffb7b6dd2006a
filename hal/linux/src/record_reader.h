#pragma once

// RecordReader: text records (one scan, one swipe) from a serial port or an
// evdev keyboard, with hot-plug: on any error it closes, reports
// kDisconnected, and reopens every second until the device is back.
// Private to kassa::hal_linux.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>
#include <array>
#include <functional>
#include <memory>
#include <string>

#include "kassa/hal/device_status.h"
#include "kassa/hal/lnx/devices.h"

namespace kassa::hal::lnx {

class RecordReader : public std::enable_shared_from_this<RecordReader> {
 public:
  using RecordHandler = std::function<void(const std::string&)>;
  using StatusHandler = std::function<void(const DeviceStatus&)>;

  RecordReader(boost::asio::any_io_executor executor, InputConfig config, std::string device_name);
  void Start(RecordHandler on_record, StatusHandler on_status);
  void Stop();
  const DeviceStatus& status() const { return status_; }

 private:
  void Open();
  void ReadSerial();
  void ReadEvdev();
  void OnKey(unsigned code, int value);
  void Emit();
  void Lost(const std::string& why);
  void SetStatus(DeviceStatus s);

  boost::asio::any_io_executor executor_;
  const InputConfig config_;
  const std::string name_;
  boost::asio::serial_port serial_;
  boost::asio::posix::stream_descriptor evdev_;
  boost::asio::steady_timer retry_;
  boost::asio::steady_timer idle_;  // evdev: end of a record without Enter
  std::array<char, 256> buffer_{};
  std::string record_;
  bool shift_ = false;
  bool running_ = false;
  RecordHandler on_record_;
  StatusHandler on_status_;
  DeviceStatus status_{DeviceStatus::State::kDisconnected, "not opened yet"};
};

}  // namespace kassa::hal::lnx
