// Scanner and card reader backends: a RecordReader each.

#include "kassa/base/log.h"
#include "kassa/hal/lnx/devices.h"
#include "record_reader.h"

namespace kassa::hal::lnx {
namespace {

Status CheckInput(const InputConfig& config, const char* what) {
  if (config.path.empty()) return Status(StatusCode::kInvalidArgument, what);
  return Status::Ok();
}

class LinuxScanner final : public BarcodeScanner {
 public:
  LinuxScanner(boost::asio::any_io_executor executor, const InputConfig& config)
      : reader_(std::make_shared<RecordReader>(executor, config, "scanner")) {}
  ~LinuxScanner() override { reader_->Stop(); }

 private:
  Status DoStart(ScanHandler on_scan, StatusHandler on_status) override {
    if (started_) return Status(StatusCode::kFailedPrecondition, "scanner: already started");
    started_ = true;
    reader_->Start(std::move(on_scan), std::move(on_status));
    return Status::Ok();
  }
  void DoStop() override { reader_->Stop(); }
  DeviceStatus DoStatus() const override { return reader_->status(); }
  std::shared_ptr<RecordReader> reader_;
  bool started_ = false;
};

class LinuxCardReader final : public CardReader {
 public:
  LinuxCardReader(boost::asio::any_io_executor executor, const InputConfig& config, std::string badge_prefix)
      : reader_(std::make_shared<RecordReader>(executor, config, "card reader")),
        badge_prefix_(std::move(badge_prefix)) {}
  ~LinuxCardReader() override { reader_->Stop(); }

 private:
  Status DoStart(SwipeHandler on_swipe, StatusHandler on_status) override {
    if (started_) return Status(StatusCode::kFailedPrecondition, "card reader: already started");
    started_ = true;
    reader_->Start(
        [this, on_swipe = std::move(on_swipe)](const std::string& raw) {
          auto swipe = ParseCardTrack(raw, badge_prefix_);
          if (!swipe) {
            KASSA_LOG(kWarning) << "card reader: unreadable swipe (" << raw.size() << " bytes); swipe again";
            return;
          }
          on_swipe(*swipe);
        },
        std::move(on_status));
    return Status::Ok();
  }
  void DoStop() override { reader_->Stop(); }
  DeviceStatus DoStatus() const override { return reader_->status(); }
  std::shared_ptr<RecordReader> reader_;
  std::string badge_prefix_;
  bool started_ = false;
};

}  // namespace

Result<std::unique_ptr<BarcodeScanner>> OpenScanner(boost::asio::any_io_executor executor, const InputConfig& config) {
  KASSA_TRY(CheckInput(config, "scanner.path: required"));
  return std::unique_ptr<BarcodeScanner>(std::make_unique<LinuxScanner>(executor, config));
}

Result<std::unique_ptr<CardReader>> OpenCardReader(boost::asio::any_io_executor executor, const InputConfig& config,
                                                   std::string badge_prefix) {
  KASSA_TRY(CheckInput(config, "card_reader.path: required"));
  return std::unique_ptr<CardReader>(std::make_unique<LinuxCardReader>(executor, config, std::move(badge_prefix)));
}

}  // namespace kassa::hal::lnx
