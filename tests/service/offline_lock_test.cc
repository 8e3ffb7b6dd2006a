// The offline lock (firmware/service/src/offline_lock.h) over a real store,
// a simulated clock and a headquarters that is online when the test says.

#include "offline_lock.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "fake_headquarters.h"
#include "kassa/hal/sim/sim_clock.h"
#include "kassa/storage/customer_store.h"
#include "sample_store.h"
#include "temp_dir.h"
#include "test_keys.h"

namespace kassa::service {
namespace {

using customers::AccessState;
using customers::kMsPerDay;
constexpr std::int64_t kT0 = 1790000000000;
constexpr std::int64_t kHourMs = 60LL * 60 * 1000;

class OfflineLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::CustomerStore::Open({dir_.path(), std::size_t{64} << 20, keys_, {}});
    ASSERT_TRUE(store.ok()) << store.status().detail();
    store_ = std::move(*store);
    Restart(2);
  }
  // A new service and lock on the same store, as after a restart.
  void Restart(std::uint32_t days, bool with_headquarters = true) {
    if (lock_) lock_->Stop();
    lock_.reset();
    model::StoreConfig config = kassa::testing::SampleStore();
    config.lock_after_offline_days = days;
    customers_ = std::make_unique<customers::CustomerService>(store_->customers(), clock_, "POS-1", config);
    if (with_headquarters) customers_->SetHeadquarters(&hq_);
    lock_ = std::make_unique<OfflineLock>(io_.get_executor(), *customers_, store_->sync(), clock_,
                                          [this](const customers::Access& a) { changes_.push_back(a); });
    lock_->Start();
  }
  AccessState state() const { return customers_->access().state; }

  boost::asio::io_context io_;  // never run: the minute timer stays armed, Check() is called by hand
  kassa::testing::TempDir dir_;
  std::shared_ptr<crypto::KeyStore> keys_ = kassa::testing::TestKeys();
  hal::sim::SimClock clock_{kT0};
  kassa::testing::FakeHeadquarters hq_;
  std::unique_ptr<storage::CustomerStore> store_;
  std::unique_ptr<customers::CustomerService> customers_;
  std::unique_ptr<OfflineLock> lock_;
  std::vector<customers::Access> changes_;
};

TEST_F(OfflineLockTest, LocksOnceTheLimitPassesSinceTheLinkWentDownAcrossARestartAndUnlocksWhenItReturns) {
  EXPECT_EQ(state(), AccessState::kOpen);
  EXPECT_EQ(*store_->sync().LastContactMs(), kT0);  // online at start: the contact is now

  // Up for five hours: the last contact is saved hourly.
  clock_.Advance(5 * kHourMs);
  lock_->Check();
  EXPECT_EQ(*store_->sync().LastContactMs(), kT0 + 5 * kHourMs);
  // The link goes down: that moment is the last contact.
  clock_.Advance(10 * 60 * 1000);
  hq_.is_online = false;
  lock_->Check();
  const std::int64_t down = kT0 + 5 * kHourMs + 10 * 60 * 1000;
  EXPECT_EQ(*store_->sync().LastContactMs(), down);

  clock_.Set(down + 2 * kMsPerDay - 1);
  lock_->Check();
  EXPECT_EQ(state(), AccessState::kOpen);
  clock_.Set(down + 2 * kMsPerDay);
  lock_->Check();
  EXPECT_EQ(state(), AccessState::kLocked);
  ASSERT_EQ(changes_.size(), 1u);
  EXPECT_EQ(changes_[0].since_ms, down);

  // A restart neither resets nor shortens it.
  changes_.clear();
  Restart(2);
  EXPECT_EQ(state(), AccessState::kLocked);
  EXPECT_EQ(customers_->access().since_ms, down);
  EXPECT_EQ(*store_->sync().LastContactMs(), down);

  // Headquarters back: unlocked at once, and the contact is now.
  hq_.is_online = true;
  lock_->Check();
  EXPECT_EQ(state(), AccessState::kOpen);
  EXPECT_EQ(*store_->sync().LastContactMs(), clock_.NowMs());
  ASSERT_EQ(changes_.size(), 2u);
  EXPECT_TRUE(changes_[1].open());
}

TEST_F(OfflineLockTest, NeverLocksWhenOffWithoutHeadquartersOrWithTheClockSetBack) {
  hq_.is_online = false;
  lock_->Check();
  clock_.Advance(-30 * kMsPerDay);  // set back a month
  lock_->Check();
  EXPECT_EQ(state(), AccessState::kOpen);
  clock_.Set(kT0 + 365 * kMsPerDay);
  Restart(0);  // off
  EXPECT_EQ(state(), AccessState::kOpen);
  Restart(2, /*with_headquarters=*/false);  // offline for good: nothing to reach
  EXPECT_EQ(state(), AccessState::kOpen);
  Restart(2);
  EXPECT_EQ(state(), AccessState::kLocked);
}

TEST_F(OfflineLockTest, AWipedTerminalIsNeverUnlocked) {
  customers_->SetAccess({AccessState::kWiped, kT0});
  lock_->Check();
  EXPECT_EQ(state(), AccessState::kWiped);
  EXPECT_TRUE(changes_.empty());
}

}  // namespace
}  // namespace kassa::service
