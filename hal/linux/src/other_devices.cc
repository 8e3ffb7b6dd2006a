// Pole display, key store, network monitor and watchdog backends.

#include <fcntl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
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

class FileKeyStore final : public KeyStore {
 public:
  explicit FileKeyStore(std::string path) : path_(std::move(path)) {}

 private:
  Result<Bytes> DoDeviceSecret() override {
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      struct stat st {};
      Bytes secret(kSecretBytes);
      const bool stat_ok = ::fstat(fd, &st) == 0;
      const ssize_t n = ::read(fd, secret.data(), secret.size());
      ::close(fd);
      if (!stat_ok || (st.st_mode & 0077) != 0) {
        KASSA_LOG(kError) << "key store " << path_ << " is readable by others; refusing it";
        return Status(StatusCode::kDataLoss, "key store: the key file must be mode 0600");
      }
      if (n != static_cast<ssize_t>(kSecretBytes) || st.st_size != static_cast<off_t>(kSecretBytes)) {
        return Status(StatusCode::kDataLoss, "key store: the key file is damaged (not 32 bytes)");
      }
      return secret;
    }
    if (errno != ENOENT) return Status(StatusCode::kUnavailable, "key store: the key file cannot be read");
    Bytes secret(kSecretBytes);
    if (::getrandom(secret.data(), secret.size(), 0) != static_cast<ssize_t>(secret.size())) {
      return Status(StatusCode::kUnavailable, "key store: no randomness from the kernel");
    }
    // Written under a temporary name and renamed: a power cut leaves no half key.
    const std::string tmp = path_ + ".tmp";
    const int out = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0) return Status(StatusCode::kUnavailable, "key store: the key file cannot be created");
    const bool written = ::write(out, secret.data(), secret.size()) == static_cast<ssize_t>(secret.size()) &&
                         ::fsync(out) == 0;
    ::close(out);
    if (!written || ::rename(tmp.c_str(), path_.c_str()) != 0) {
      return Status(StatusCode::kUnavailable, "key store: the key file cannot be written");
    }
    KASSA_LOG(kInfo) << "created the device secret in " << path_;
    return secret;
  }
  std::string path_;
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

// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET.
class SdNotifyWatchdog final : public Watchdog {
 public:
  SdNotifyWatchdog() {
    if (const char* s = std::getenv("NOTIFY_SOCKET")) socket_path_ = s;
    if (const char* usec = std::getenv("WATCHDOG_USEC")) interval_ms_ = std::atol(usec) / 1000 / 2;
  }

 private:
  void Send(const char* message) {
    if (socket_path_.empty() || socket_path_.size() >= sizeof(sockaddr_un::sun_path)) return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());
    if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return;
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
    if (::sendto(fd, message, std::strlen(message), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len) < 0) {
      KASSA_LOG(kWarning) << "sd_notify " << message << ": " << std::strerror(errno);
    }
    ::close(fd);
  }
  void DoReady() override { Send("READY=1"); }
  void DoKick() override { Send("WATCHDOG=1"); }
  long DoIntervalMs() const override { return interval_ms_; }

  std::string socket_path_;
  long interval_ms_ = 0;  // half of systemd's WatchdogSec, as sd_watchdog_enabled(3) advises
};

}  // namespace

Result<std::unique_ptr<CustomerDisplay>> OpenDisplay(asio::any_io_executor executor, const InputConfig& config) {
  if (config.path.empty()) return Status(StatusCode::kInvalidArgument, "display.path: required");
  return std::unique_ptr<CustomerDisplay>(std::make_unique<SerialDisplay>(executor, config));
}

std::unique_ptr<KeyStore> OpenKeyStore(std::string path) { return std::make_unique<FileKeyStore>(std::move(path)); }

std::unique_ptr<NetworkMonitor> OpenNetworkMonitor(asio::any_io_executor executor, std::string sysfs_net) {
  return std::make_unique<SysfsNetworkMonitor>(executor, std::move(sysfs_net));
}

std::unique_ptr<Watchdog> OpenWatchdog() { return std::make_unique<SdNotifyWatchdog>(); }

}  // namespace kassa::hal::lnx
