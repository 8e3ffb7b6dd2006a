// Device flows on simulated devices and a real store in a temp dir.

#include "kassa/devices/device_flows.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "kassa/hal/sim/sim_clock.h"
#include "kassa/hal/sim/sim_devices.h"
#include "kassa/storage/customer_store.h"
#include "sample_store.h"
#include "temp_dir.h"
#include "test_keys.h"

namespace kassa::devices {
namespace {

std::string Printable(const Bytes& job) {
  std::string out;
  for (std::size_t i = 0; i < job.size(); ++i) {
    const std::uint8_t b = job[i];
    if (b == 0x1B || b == 0x1D) {
      i += job[i + 1] == 'V' ? 3 : (job[i + 1] == '@' ? 1 : 2);  // skip the command and its argument(s)
      continue;
    }
    out += static_cast<char>(b);
  }
  return out;
}

class DeviceFlowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(*storage::CustomerStore::Open({dir_.path(), std::size_t{64} << 20, keys_, {}}));
    customers_ = std::make_unique<customers::CustomerService>(store_->customers(), clock_, "POS-7", testing::SampleStore());
    flows_ = std::make_unique<DeviceFlows>(
        *customers_, clock_, Devices{&scanner_, &reader_, &printer_, &display_},
        [this](const Event& e) { events_.push_back(e); },
        [this](const std::string& badge) -> Result<std::string> {
          badges_.push_back(badge);
          if (badge == "EMP0042") return std::string("Anna Bērziņa");
          return Status(StatusCode::kUnauthenticated, "badge: not the badge of an operator of this store");
        });
    ASSERT_TRUE(flows_->Start().ok());
    customers::CustomerPatch p;
    p.first_name = "Līga";
    p.last_name = "Ozoliņa";
    p.loyalty_cards = std::vector<std::string>{"LC-1001"};
    p.secondary_emails = std::vector<customers::ContactInput>{{"liga@home.lv", true, ""}};
    liga_ = *customers_->Create(p, "anna");
  }
  void Drain() {
    io_.restart();
    io_.poll();
  }
  std::vector<Event> Take(Event::Kind kind) {
    std::vector<Event> out;
    for (const auto& e : events_) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }

  boost::asio::io_context io_;
  testing::TempDir dir_;
  std::shared_ptr<crypto::KeyStore> keys_ = testing::TestKeys();  // the same across reopens
  hal::sim::SimClock clock_{1790000000000};
  hal::sim::SimBarcodeScanner scanner_{io_.get_executor()};
  hal::sim::SimCardReader reader_{io_.get_executor(), "EMP"};
  hal::sim::SimReceiptPrinter printer_{io_.get_executor()};
  hal::sim::SimCustomerDisplay display_{io_.get_executor()};
  std::unique_ptr<storage::CustomerStore> store_;
  std::unique_ptr<customers::CustomerService> customers_;
  std::unique_ptr<DeviceFlows> flows_;
  std::vector<Event> events_;
  std::vector<std::string> badges_;  // what reached the sign-in hook
  model::Customer liga_;
};

TEST_F(DeviceFlowsTest, ScanOfALoyaltyCardFindsTheCustomerAndGreetsThem) {
  scanner_.Inject("lc-1001");
  Drain();
  const auto found = Take(Event::Kind::kCustomerFound);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].customer->id, liga_.id);
  EXPECT_EQ(found[0].device, "scanner");
  EXPECT_EQ(display_.line1(), "Welcome");
  EXPECT_EQ(display_.line2(), "Līga Ozoliņa");
}

TEST_F(DeviceFlowsTest, UnknownCardAndBadgeSwipes) {
  ASSERT_TRUE(reader_.Inject(";99887766=1?"));
  ASSERT_TRUE(reader_.Inject(";EMP0042=1?"));
  Drain();
  const auto unknown = Take(Event::Kind::kUnknownCard);
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0].code, "99887766");
  // The badge signs in server-side; the event names the operator, never the badge.
  EXPECT_EQ(badges_, (std::vector<std::string>{"EMP0042"}));
  const auto signed_in = Take(Event::Kind::kSignedIn);
  ASSERT_EQ(signed_in.size(), 1u);
  EXPECT_EQ(signed_in[0].detail, "Anna Bērziņa");
  EXPECT_EQ(signed_in[0].code, "");
  ASSERT_TRUE(reader_.Inject(";EMP0099=1?"));
  Drain();
  const auto refused = Take(Event::Kind::kBadgeRefused);
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].code, "");
  EXPECT_EQ(refused[0].detail, "badge: not the badge of an operator of this store");
}

TEST_F(DeviceFlowsTest, SignUpReceiptCarriesNamePendingSyncAndConsents) {
  Status result(StatusCode::kUnknown, "not called");
  flows_->PrintSignUpReceipt(liga_.id.ToHex(), [&](Status s) { result = s; });
  Drain();
  ASSERT_TRUE(result.ok()) << result.detail();
  ASSERT_EQ(printer_.printed_jobs().size(), 1u);
  const std::string text = Printable(printer_.printed_jobs()[0]);
  EXPECT_NE(text.find("Liga Ozolina"), std::string::npos) << text;
  EXPECT_NE(text.find("Customer no. Pending sync"), std::string::npos) << text;
  EXPECT_NE(text.find("Email liga@home.lv: marketing yes"), std::string::npos) << text;
  EXPECT_NE(text.find("Loyalty card: LC-1001"), std::string::npos) << text;
  EXPECT_EQ(Take(Event::Kind::kReceiptPrinted).size(), 1u);
}

TEST_F(DeviceFlowsTest, ReceiptWaitsForThePrinterAndPrintsWhenItIsBack) {
  printer_.PaperOut();
  Drain();
  Status result(StatusCode::kUnknown, "not called");
  flows_->PrintSignUpReceipt(liga_.id.ToHex(), [&](Status s) { result = s; });
  Drain();
  EXPECT_EQ(result.code(), StatusCode::kUnavailable);
  EXPECT_EQ(Take(Event::Kind::kReceiptWaiting).size(), 1u);
  const auto statuses = Take(Event::Kind::kDeviceStatus);
  ASSERT_FALSE(statuses.empty());
  EXPECT_EQ(statuses.back().status.detail, "paper out");
  EXPECT_TRUE(printer_.printed_jobs().empty());
  printer_.Plug();  // paper loaded
  Drain();
  Drain();
  EXPECT_EQ(printer_.printed_jobs().size(), 1u);
  EXPECT_EQ(Take(Event::Kind::kReceiptPrinted).size(), 1u);
}

TEST_F(DeviceFlowsTest, NoPrinterFittedIsAClearError) {
  DeviceFlows bare(*customers_, clock_, Devices{}, [](const Event&) {}, nullptr);
  Status result;
  bare.PrintSignUpReceipt(liga_.id.ToHex(), [&](Status s) { result = s; });
  EXPECT_EQ(result.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(result.field(), "printer");
  EXPECT_TRUE(bare.Statuses().empty());
  EXPECT_EQ(flows_->Statuses().size(), 4u);
}

}  // namespace
}  // namespace kassa::devices
