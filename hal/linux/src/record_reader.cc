#include "record_reader.h"

#include <boost/asio/post.hpp>

#include <fcntl.h>
#include <linux/input.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cstring>

#include "kassa/base/log.h"
#include "kassa/hal/lnx/keymap.h"

namespace kassa::hal::lnx {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {
constexpr auto kRetryInterval = std::chrono::seconds(1);
constexpr auto kEvdevRecordIdle = std::chrono::milliseconds(100);
constexpr std::size_t kMaxRecordBytes = 512;

// US keyboard layout, by evdev key code (linux/input-event-codes.h), 0..57.
constexpr char kLower[] = "\0\0" "1234567890-=" "\0\0" "qwertyuiop[]" "\0\0" "asdfghjkl;'`" "\0" "\\zxcvbnm,./"
                          "\0" "*" "\0" " ";
constexpr char kUpper[] = "\0\0" "!@#$%^&*()_+" "\0\0" "QWERTYUIOP{}" "\0\0" "ASDFGHJKL:\"~" "\0" "|ZXCVBNM<>?"
                          "\0" "*" "\0" " ";
static_assert(sizeof(kLower) == 59 && sizeof(kUpper) == 59, "keymap covers codes 0..57");
}  // namespace

char KeyToChar(unsigned code, bool shift) {
  if (code >= sizeof(kLower) - 1) return '\0';
  return shift ? kUpper[code] : kLower[code];
}

RecordReader::RecordReader(asio::any_io_executor executor, InputConfig config, std::string device_name)
    : executor_(executor),
      config_(std::move(config)),
      name_(std::move(device_name)),
      serial_(executor),
      evdev_(executor),
      retry_(executor),
      idle_(executor) {}

void RecordReader::Start(RecordHandler on_record, StatusHandler on_status) {
  on_record_ = std::move(on_record);
  on_status_ = std::move(on_status);
  running_ = true;
  Open();
}

void RecordReader::Stop() {
  running_ = false;
  retry_.cancel();
  idle_.cancel();
  error_code ec;
  serial_.close(ec);
  evdev_.close(ec);
}

void RecordReader::SetStatus(DeviceStatus s) {
  if (s == status_) return;
  status_ = std::move(s);
  KASSA_LOG(kInfo) << name_ << " " << config_.path << ": " << ToString(status_.state)
                   << (status_.detail.empty() ? "" : " (" + status_.detail + ")");
  if (on_status_) asio::post(executor_, [self = shared_from_this(), s = status_] {
    if (self->running_) self->on_status_(s);
  });
}

void RecordReader::Lost(const std::string& why) {
  error_code ec;
  serial_.close(ec);
  evdev_.close(ec);
  record_.clear();
  SetStatus({DeviceStatus::State::kDisconnected, why});
  if (!running_) return;
  retry_.expires_after(kRetryInterval);
  retry_.async_wait([self = shared_from_this()](error_code timer_ec) {
    if (!timer_ec && self->running_) self->Open();
  });
}

void RecordReader::Open() {
  if (config_.transport == InputConfig::Transport::kSerial) {
    error_code ec;
    serial_.open(config_.path, ec);
    if (!ec) serial_.set_option(asio::serial_port_base::baud_rate(config_.baud), ec);
    if (ec) return Lost(ec.message());
    {
      char resolved[PATH_MAX] = {};
      KASSA_LOG(kDebug) << name_ << ": opened " << (::realpath(config_.path.c_str(), resolved) ? resolved : "?")
                        << " as fd " << serial_.native_handle();
    }
    SetStatus({DeviceStatus::State::kReady, ""});
    return ReadSerial();
  }
  const int fd = ::open(config_.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Lost(std::strerror(errno));
  // Exclusive grab: the scanned text must not also reach the console or X.
  if (config_.grab && ::ioctl(fd, EVIOCGRAB, 1) != 0) {
    const std::string why = std::string("cannot grab the device: ") + std::strerror(errno);
    ::close(fd);
    return Lost(why);
  }
  evdev_.assign(fd);
  shift_ = false;
  SetStatus({DeviceStatus::State::kReady, ""});
  ReadEvdev();
}

void RecordReader::ReadSerial() {
  serial_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](error_code ec, std::size_t n) {
    if (!self->running_) return;
    KASSA_LOG(kDebug) << self->name_ << ": read " << n << " bytes (" << ec.message() << ")";
    if (ec) return self->Lost(ec == asio::error::eof ? "device closed" : ec.message());
    for (std::size_t i = 0; i < n; ++i) {
      const char c = self->buffer_[i];
      if (c == '\r' || c == '\n') {
        self->Emit();
      } else if (self->record_.size() < kMaxRecordBytes) {
        self->record_ += c;
      }
    }
    self->ReadSerial();
  });
}

void RecordReader::ReadEvdev() {
  evdev_.async_read_some(asio::buffer(buffer_.data(), buffer_.size() - buffer_.size() % sizeof(input_event)),
                         [self = shared_from_this()](error_code ec, std::size_t n) {
    if (!self->running_) return;
    if (ec) return self->Lost(ec == asio::error::no_such_device ? "unplugged" : ec.message());
    for (std::size_t off = 0; off + sizeof(input_event) <= n; off += sizeof(input_event)) {
      input_event ev{};
      std::memcpy(&ev, self->buffer_.data() + off, sizeof ev);
      if (ev.type == EV_KEY) self->OnKey(ev.code, ev.value);
    }
    self->ReadEvdev();
  });
}

void RecordReader::OnKey(unsigned code, int value) {
  if (code == KEY_LEFTSHIFT || code == KEY_RIGHTSHIFT) {
    shift_ = value != 0;
    return;
  }
  if (value != 1) return;  // presses only; releases and auto-repeat ignored
  if (code == KEY_ENTER || code == KEY_KPENTER) return Emit();
  const char c = KeyToChar(code, shift_);
  if (c != '\0' && record_.size() < kMaxRecordBytes) record_ += c;
  // Scanners configured without an Enter suffix: the record ends when the keys stop.
  idle_.expires_after(kEvdevRecordIdle);
  idle_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec && self->running_) self->Emit();
  });
}

void RecordReader::Emit() {
  idle_.cancel();
  if (record_.empty()) return;
  std::string record = std::move(record_);
  record_.clear();
  asio::post(executor_, [self = shared_from_this(), record = std::move(record)] {
    if (self->running_) self->on_record_(record);
  });
}

}  // namespace kassa::hal::lnx
