// ESC/POS receipt printer over TCP 9100, a serial port or /dev/usb/lp*.
//
// All I/O is one operation at a time: a status poll (DLE EOT 2 and 4, two
// answer bytes) every 2 s, or a job followed by DLE EOT 1, whose answer
// confirms the printer took the whole job. An operation that errs or times
// out drops the connection: the job reports kUnavailable, the status goes
// kDisconnected, and the printer is reopened every 2 s.

#include <fcntl.h>

#include <boost/asio/post.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/serial_port.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "kassa/base/log.h"
#include "kassa/hal/escpos.h"
#include "kassa/hal/lnx/devices.h"

namespace kassa::hal::lnx {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {

constexpr auto kRetryInterval = std::chrono::seconds(2);
constexpr auto kPollInterval = std::chrono::seconds(2);
constexpr auto kStatusTimeout = std::chrono::seconds(2);
constexpr auto kJobTimeout = std::chrono::seconds(10);

using Handler = std::function<void(error_code)>;

// The byte stream to the printer.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual void Open(Handler done) = 0;
  virtual void Write(const Bytes& data, Handler done) = 0;  // `data` outlives the call
  virtual void ReadByte(std::uint8_t& out, Handler done) = 0;
  virtual void Close() = 0;
  virtual bool answers_status() const { return true; }
};

class TcpTransport final : public Transport {
 public:
  TcpTransport(asio::any_io_executor ex, std::string host, std::uint16_t port)
      : resolver_(ex), socket_(ex), host_(std::move(host)), port_(port) {}
  void Open(Handler done) override {
    resolver_.async_resolve(host_, std::to_string(port_),
                            [this, done](error_code ec, asio::ip::tcp::resolver::results_type r) {
      if (ec) return done(ec);
      asio::async_connect(socket_, r, [done](error_code connect_ec, const asio::ip::tcp::endpoint&) {
        done(connect_ec);
      });
    });
  }
  void Write(const Bytes& data, Handler done) override {
    asio::async_write(socket_, asio::buffer(data), [done](error_code ec, std::size_t) { done(ec); });
  }
  void ReadByte(std::uint8_t& out, Handler done) override {
    asio::async_read(socket_, asio::buffer(&out, 1), [done](error_code ec, std::size_t) { done(ec); });
  }
  void Close() override {
    error_code ec;
    resolver_.cancel();
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }

 private:
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;
  std::string host_;
  std::uint16_t port_;
};

class SerialTransport final : public Transport {
 public:
  SerialTransport(asio::any_io_executor ex, std::string path, unsigned baud)
      : port_(ex), path_(std::move(path)), baud_(baud) {}
  void Open(Handler done) override {
    error_code ec;
    port_.open(path_, ec);
    if (!ec) port_.set_option(asio::serial_port_base::baud_rate(baud_), ec);
    asio::post(port_.get_executor(), [done, ec] { done(ec); });
  }
  void Write(const Bytes& data, Handler done) override {
    asio::async_write(port_, asio::buffer(data), [done](error_code ec, std::size_t) { done(ec); });
  }
  void ReadByte(std::uint8_t& out, Handler done) override {
    asio::async_read(port_, asio::buffer(&out, 1), [done](error_code ec, std::size_t) { done(ec); });
  }
  void Close() override {
    error_code ec;
    port_.close(ec);
  }

 private:
  asio::serial_port port_;
  std::string path_;
  unsigned baud_;
};

// /dev/usb/lp*: writes only; the kernel's usblp driver reports a printer that
// is off line or out of paper as write errors.
class UsbTransport final : public Transport {
 public:
  UsbTransport(asio::any_io_executor ex, std::string path) : fd_(ex), path_(std::move(path)) {}
  void Open(Handler done) override {
    error_code ec;
    const int fd = ::open(path_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
      ec = error_code(errno, boost::system::system_category());
    } else {
      fd_.assign(fd, ec);
    }
    asio::post(fd_.get_executor(), [done, ec] { done(ec); });
  }
  void Write(const Bytes& data, Handler done) override {
    asio::async_write(fd_, asio::buffer(data), [done](error_code ec, std::size_t) { done(ec); });
  }
  void ReadByte(std::uint8_t&, Handler done) override {
    asio::post(fd_.get_executor(), [done] { done(asio::error::operation_not_supported); });
  }
  void Close() override {
    error_code ec;
    fd_.close(ec);
  }
  bool answers_status() const override { return false; }

 private:
  asio::posix::stream_descriptor fd_;
  std::string path_;
};

class EscPosPrinter final : public ReceiptPrinter, public std::enable_shared_from_this<EscPosPrinter> {
 public:
  EscPosPrinter(asio::any_io_executor ex, std::unique_ptr<Transport> transport, std::string where)
      : executor_(ex), transport_(std::move(transport)), where_(std::move(where)), timer_(ex), op_timer_(ex) {}

  void Shutdown() {
    running_ = false;
    timer_.cancel();
    op_timer_.cancel();
    transport_->Close();
  }

 private:
  Status DoStart(StatusHandler on_status) override {
    on_status_ = std::move(on_status);
    running_ = true;
    Connect();
    return Status::Ok();
  }

  Status DoPrint(ByteView job, DoneHandler done) override {
    if (job_done_) return Status(StatusCode::kFailedPrecondition, "printer: another receipt is printing");
    if (status_.state != DeviceStatus::State::kReady) {
      return Status(StatusCode::kUnavailable, "printer: not ready (offline, paper out or cover open)");
    }
    job_.assign(job.begin(), job.end());
    const Bytes confirm = escpos::StatusRequest(escpos::kStatusPrinter);
    if (transport_->answers_status()) job_.insert(job_.end(), confirm.begin(), confirm.end());
    job_done_ = std::move(done);
    if (!busy_) StartJob();
    return Status::Ok();
  }

  void DoStop() override { Shutdown(); }
  DeviceStatus DoStatus() const override { return status_; }

  void SetStatus(DeviceStatus s) {
    if (s == status_) return;
    status_ = std::move(s);
    KASSA_LOG(kInfo) << "printer " << where_ << ": " << ToString(status_.state)
                     << (status_.detail.empty() ? "" : " (" + status_.detail + ")");
    if (on_status_) asio::post(executor_, [self = shared_from_this(), s = status_] {
      if (self->running_) self->on_status_(s);
    });
  }

  // Starts an operation with a deadline; expiry closes the transport, which
  // fails the pending read or write.
  void Deadline(std::chrono::steady_clock::duration d) {
    op_timer_.expires_after(d);
    op_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->transport_->Close();
    });
  }

  void Connect() {
    if (!running_) return;
    busy_ = true;
    Deadline(kStatusTimeout);
    transport_->Open([self = shared_from_this()](error_code ec) {
      self->op_timer_.cancel();
      self->busy_ = false;
      if (!self->running_) return;
      if (ec) return self->Lost("cannot connect: " + ec.message());
      if (!self->transport_->answers_status()) self->SetStatus({DeviceStatus::State::kReady, ""});
      self->Next();
    });
  }

  void Lost(const std::string& why) {
    transport_->Close();
    busy_ = false;
    SetStatus({DeviceStatus::State::kDisconnected, why});
    if (job_done_) {
      auto done = std::move(job_done_);
      job_done_ = nullptr;
      asio::post(executor_, [done] {
        done(Status(StatusCode::kUnavailable, "printer: went away before the receipt was confirmed; print again"));
      });
    }
    if (!running_) return;
    timer_.expires_after(kRetryInterval);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->Connect();
    });
  }

  // The next operation: a waiting job, else a status poll now, else later.
  void Next() {
    if (!running_ || busy_) return;
    if (job_done_) return StartJob();
    if (!transport_->answers_status()) return;
    Poll();
  }

  void SchedulePoll() {
    timer_.expires_after(kPollInterval);
    timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->Next();
    });
  }

  void Poll() {
    busy_ = true;
    poll_request_ = escpos::StatusRequest(escpos::kStatusOffline);
    const Bytes paper = escpos::StatusRequest(escpos::kStatusPaper);
    poll_request_.insert(poll_request_.end(), paper.begin(), paper.end());
    Deadline(kStatusTimeout);
    transport_->Write(poll_request_, [self = shared_from_this()](error_code ec) {
      if (ec) return self->Lost("offline: " + ec.message());
      self->transport_->ReadByte(self->answer_[0], [self](error_code ec1) {
        if (ec1) return self->Lost("offline: no status answer");
        self->transport_->ReadByte(self->answer_[1], [self](error_code ec2) {
          self->op_timer_.cancel();
          if (ec2) return self->Lost("offline: no status answer");
          self->busy_ = false;
          self->SetStatus(escpos::InterpretStatus(self->answer_[0], self->answer_[1]));
          if (self->job_done_) return self->Next();
          self->SchedulePoll();
        });
      });
    });
  }

  void StartJob() {
    busy_ = true;
    timer_.cancel();
    Deadline(kJobTimeout);
    transport_->Write(job_, [self = shared_from_this()](error_code ec) {
      if (ec) return self->Lost("went away mid-receipt: " + ec.message());
      const auto finish = [self] {
        self->op_timer_.cancel();
        self->busy_ = false;
        auto done = std::move(self->job_done_);
        self->job_done_ = nullptr;
        asio::post(self->executor_, [done] { done(Status::Ok()); });
        self->Next();
      };
      if (!self->transport_->answers_status()) return finish();
      self->transport_->ReadByte(self->answer_[0], [self, finish](error_code ec1) {
        if (ec1) return self->Lost("went away mid-receipt");
        finish();
      });
    });
  }

  asio::any_io_executor executor_;
  std::unique_ptr<Transport> transport_;
  const std::string where_;
  asio::steady_timer timer_;     // polls and reconnects
  asio::steady_timer op_timer_;  // the deadline of the operation in flight
  StatusHandler on_status_;
  DeviceStatus status_{DeviceStatus::State::kDisconnected, "not connected yet"};
  Bytes job_;
  Bytes poll_request_;
  DoneHandler job_done_;
  std::uint8_t answer_[2] = {0, 0};
  bool busy_ = false;
  bool running_ = false;
};

// Owns the shared printer, so the interface's owner can stay a unique_ptr.
class PrinterHandle final : public ReceiptPrinter {
 public:
  explicit PrinterHandle(std::shared_ptr<EscPosPrinter> p) : p_(std::move(p)) {}
  ~PrinterHandle() override { p_->Shutdown(); }

 private:
  Status DoStart(StatusHandler on_status) override { return static_cast<ReceiptPrinter&>(*p_).Start(std::move(on_status)); }
  Status DoPrint(ByteView job, DoneHandler done) override {
    return static_cast<ReceiptPrinter&>(*p_).Print(job, std::move(done));
  }
  void DoStop() override { p_->Shutdown(); }
  DeviceStatus DoStatus() const override { return static_cast<const ReceiptPrinter&>(*p_).status(); }
  std::shared_ptr<EscPosPrinter> p_;
};

}  // namespace

Result<std::unique_ptr<ReceiptPrinter>> OpenPrinter(asio::any_io_executor executor, const PrinterConfig& config) {
  std::unique_ptr<Transport> transport;
  std::string where;
  switch (config.transport) {
    case PrinterConfig::Transport::kTcp:
      if (config.host.empty()) return Status(StatusCode::kInvalidArgument, "printer.host: required for a network printer");
      transport = std::make_unique<TcpTransport>(executor, config.host, config.port);
      where = config.host + ":" + std::to_string(config.port);
      break;
    case PrinterConfig::Transport::kSerial:
      if (config.path.empty()) return Status(StatusCode::kInvalidArgument, "printer.path: required for a serial printer");
      transport = std::make_unique<SerialTransport>(executor, config.path, config.baud);
      where = config.path;
      break;
    case PrinterConfig::Transport::kUsb:
      if (config.path.empty()) return Status(StatusCode::kInvalidArgument, "printer.path: required for a USB printer");
      transport = std::make_unique<UsbTransport>(executor, config.path);
      where = config.path;
      break;
  }
  auto printer = std::make_shared<EscPosPrinter>(executor, std::move(transport), where);
  return std::unique_ptr<ReceiptPrinter>(std::make_unique<PrinterHandle>(std::move(printer)));
}

}  // namespace kassa::hal::lnx
