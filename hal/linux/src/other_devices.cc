// Pole display and network monitor backends.

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "kassa/base/log.h"
#include "kassa/hal/escpos.h"
#include "kassa/hal/lnx/devices.h"

namespace kassa::hal::lnx {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// A two-line, 20-column pole display (Epson DM-D command set): clear, then
// 40 characters that fill line 1 and wrap to line 2. Reopened on the next
// Show after any error (hot-plug).
class SerialDisplay final : public CustomerDisplay {
 public:
  SerialDisplay(asio::any_io_executor ex, InputConfig config) : port_(ex), config_(std::move(config)) {}

 private:
  Status DoShow(const std::string& line1, const std::string& line2) override {
    if (!port_.is_open()) {
      error_code ec;
      port_.open(config_.path, ec);
      if (!ec) port_.set_option(asio::serial_port_base::baud_rate(config_.baud), ec);
      if (ec) {
        port_.close(ec);
        status_ = {DeviceStatus::State::kDisconnected, config_.path + ": " + ec.message()};
        return Status(StatusCode::kUnavailable, "display: disconnected");
      }
    }
    Bytes frame{0x0C};  // clear, cursor home
    for (const std::string* line : {&line1, &line2}) {
      std::string text = escpos::AsciiFold(*line);
      text.resize(kColumns, ' ');
      frame.insert(frame.end(), text.begin(), text.end());
    }
    error_code ec;
    asio::write(port_, asio::buffer(frame), ec);  // 41 bytes: fits the tty buffer, never blocks long
    if (ec) {
      port_.close(ec);
      status_ = {DeviceStatus::State::kDisconnected, "write failed"};
      return Status(StatusCode::kUnavailable, "display: disconnected");
    }
    status_ = {DeviceStatus::State::kReady, ""};
    return Status::Ok();
  }
  DeviceStatus DoStatus() const override { return status_; }

  asio::serial_port port_;
  InputConfig config_;
  DeviceStatus status_{DeviceStatus::State::kDisconnected, "nothing shown yet"};
};

// Polls /sys/class/net: the link is up when any interface other than
// loopback reports operstate "up".
class SysfsNetworkMonitor final : public NetworkMonitor {
 public:
  SysfsNetworkMonitor(asio::any_io_executor ex, std::string sysfs_net) : timer_(ex), sysfs_net_(std::move(sysfs_net)) {
    up_ = Read();
  }

 private:
  bool Read() const {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(sysfs_net_, ec)) {
      if (entry.path().filename() == "lo") continue;
      std::ifstream in(entry.path() / "operstate");
      std::string state;
      if (in >> state && state == "up") return true;
    }
    return false;
  }
  void Poll() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](error_code ec) {
      if (ec || !on_change_) return;
      const bool now = Read();
      if (now != up_) {
        up_ = now;
        on_change_(now);
      }
      Poll();
    });
  }
  void DoStart(LinkHandler on_change) override {
    on_change_ = std::move(on_change);
    Poll();
  }
  void DoStop() override {
    on_change_ = nullptr;
    timer_.cancel();
  }
  bool DoLinkUp() const override { return up_; }

  asio::steady_timer timer_;
  const std::string sysfs_net_;
  LinkHandler on_change_;
  bool up_ = false;
};

}  // namespace

Result<std::unique_ptr<CustomerDisplay>> OpenDisplay(asio::any_io_executor executor, const InputConfig& config) {
  if (config.path.empty()) return Status(StatusCode::kInvalidArgument, "display.path: required");
  return std::unique_ptr<CustomerDisplay>(std::make_unique<SerialDisplay>(executor, config));
}


std::unique_ptr<NetworkMonitor> OpenNetworkMonitor(asio::any_io_executor executor, std::string sysfs_net) {
  return std::make_unique<SysfsNetworkMonitor>(executor, std::move(sysfs_net));
}


}  // namespace kassa::hal::lnx
