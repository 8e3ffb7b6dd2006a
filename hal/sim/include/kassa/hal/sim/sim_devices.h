#pragma once

// Simulated peripherals for tests and the desktop sim board. Each has inject
// hooks (a scan, a swipe, a status change), inspect hooks (what was printed
// or shown) and a fault switch (unplug, paper out, fail the next job).
// Like the Linux backends, they deliver every event through
// boost::asio::post on their executor, never inside the caller.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <string>
#include <vector>

#include "kassa/hal/barcode_scanner.h"
#include "kassa/hal/card_reader.h"
#include "kassa/hal/customer_display.h"
#include "kassa/hal/network_monitor.h"
#include "kassa/hal/receipt_printer.h"

namespace kassa::hal::sim {

// Shared plumbing: status with change notification, posted handlers.
class SimDevice {
 public:
  explicit SimDevice(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}

  // Test hooks: the device goes away (hot-unplug) or comes back.
  void Unplug(const std::string& why = "unplugged") { SetStatus({DeviceStatus::State::kDisconnected, why}); }
  void Plug() { SetStatus({DeviceStatus::State::kReady, ""}); }

 protected:
  void SetStatus(DeviceStatus s) {
    if (s == status_) return;
    status_ = std::move(s);
    if (on_status_) boost::asio::post(executor_, [h = on_status_, s = status_] { h(s); });
  }
  boost::asio::any_io_executor executor_;
  DeviceStatus status_{DeviceStatus::State::kReady, ""};
  std::function<void(const DeviceStatus&)> on_status_;
  bool started_ = false;
};

class SimBarcodeScanner final : public BarcodeScanner, public SimDevice {
 public:
  using SimDevice::SimDevice;
  // Test hook: the scanner reads `code`. Ignored while unplugged or stopped.
  void Inject(const std::string& code) {
    if (!started_ || status_.state != DeviceStatus::State::kReady) return;
    boost::asio::post(executor_, [h = on_scan_, code] { h(code); });
  }

 private:
  Status DoStart(ScanHandler on_scan, StatusHandler on_status) override {
    if (started_) return Status(StatusCode::kFailedPrecondition, "scanner: already started");
    on_scan_ = std::move(on_scan);
    on_status_ = std::move(on_status);
    started_ = true;
    return Status::Ok();
  }
  void DoStop() override { started_ = false; }
  DeviceStatus DoStatus() const override { return status_; }
  ScanHandler on_scan_;
};

class SimCardReader final : public CardReader, public SimDevice {
 public:
  SimCardReader(boost::asio::any_io_executor executor, std::string badge_prefix)
      : SimDevice(std::move(executor)), badge_prefix_(std::move(badge_prefix)) {}
  // Test hook: raw track text as the reader would type it. A misread is
  // dropped, as the Linux backend does. Returns whether it parsed.
  bool Inject(const std::string& raw) {
    auto swipe = ParseCardTrack(raw, badge_prefix_);
    if (!swipe || !started_ || status_.state != DeviceStatus::State::kReady) return false;
    boost::asio::post(executor_, [h = on_swipe_, s = *swipe] { h(s); });
    return true;
  }

 private:
  Status DoStart(SwipeHandler on_swipe, StatusHandler on_status) override {
    if (started_) return Status(StatusCode::kFailedPrecondition, "card reader: already started");
    on_swipe_ = std::move(on_swipe);
    on_status_ = std::move(on_status);
    started_ = true;
    return Status::Ok();
  }
  void DoStop() override { started_ = false; }
  DeviceStatus DoStatus() const override { return status_; }
  std::string badge_prefix_;
  SwipeHandler on_swipe_;
};

class SimReceiptPrinter final : public ReceiptPrinter, public SimDevice {
 public:
  using SimDevice::SimDevice;
  // Inspect: every job printed, in order.
  const std::vector<Bytes>& printed_jobs() const { return printed_; }
  // Fault switches.
  void PaperOut() { SetStatus({DeviceStatus::State::kFault, "paper out"}); }
  void CoverOpen() { SetStatus({DeviceStatus::State::kFault, "cover open"}); }
  void FailNextJob(Status s) { fail_next_ = s; }

 private:
  Status DoStart(StatusHandler on_status) override {
    on_status_ = std::move(on_status);
    started_ = true;
    return Status::Ok();
  }
  Status DoPrint(ByteView job, DoneHandler done) override {
    if (status_.state != DeviceStatus::State::kReady) {
      return Status(StatusCode::kUnavailable, "printer: not ready (offline, paper out or cover open)");
    }
    Status result = fail_next_;
    fail_next_ = Status::Ok();
    if (result.ok()) printed_.emplace_back(job.begin(), job.end());
    boost::asio::post(executor_, [done = std::move(done), result] { done(result); });
    return Status::Ok();
  }
  void DoStop() override { started_ = false; }
  DeviceStatus DoStatus() const override { return status_; }
  std::vector<Bytes> printed_;
  Status fail_next_;
};

class SimCustomerDisplay final : public CustomerDisplay, public SimDevice {
 public:
  using SimDevice::SimDevice;
  // Inspect: the two lines shown last.
  const std::string& line1() const { return line1_; }
  const std::string& line2() const { return line2_; }

 private:
  Status DoShow(const std::string& line1, const std::string& line2) override {
    if (status_.state != DeviceStatus::State::kReady) return Status(StatusCode::kUnavailable, "display: disconnected");
    line1_ = line1;
    line2_ = line2;
    return Status::Ok();
  }
  DeviceStatus DoStatus() const override { return status_; }
  std::string line1_, line2_;
};

class SimNetworkMonitor final : public NetworkMonitor {
 public:
  explicit SimNetworkMonitor(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  // Test hook.
  void SetLinkUp(bool up) {
    if (up == up_) return;
    up_ = up;
    if (on_change_) boost::asio::post(executor_, [h = on_change_, up] { h(up); });
  }

 private:
  void DoStart(LinkHandler on_change) override { on_change_ = std::move(on_change); }
  void DoStop() override { on_change_ = nullptr; }
  bool DoLinkUp() const override { return up_; }
  boost::asio::any_io_executor executor_;
  LinkHandler on_change_;
  bool up_ = true;
};

}  // namespace kassa::hal::sim
