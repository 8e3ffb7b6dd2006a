// The terminal's access audit recorder on a real sealed store in a temp dir
// and a real event loop.

#include "kassa/customers/access_recorder.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "kassa/hal/sim/sim_clock.h"
#include "kassa/storage/customer_store.h"
#include "temp_dir.h"
#include "test_keys.h"

namespace kassa::customers {
namespace {

using model::AccessAction;

// The store's queue, refusing writes while `refuse` is set (a full disk).
class RefusingQueue final : public storage::AccessEventQueue {
 public:
  explicit RefusingQueue(storage::AccessEventQueue& real) : real_(real) {}
  Status AppendAccessEvents(const std::vector<model::AccessEvent>& events) override {
    if (refuse) return Status(StatusCode::kResourceExhausted, "storage full");
    ++writes;
    return real_.AppendAccessEvents(events);
  }
  Result<std::vector<model::AccessEvent>> PeekAccessEvents(std::size_t max) override { return real_.PeekAccessEvents(max); }
  Result<std::size_t> DropAccessEvents(std::uint64_t through) override { return real_.DropAccessEvents(through); }
  Result<std::uint64_t> QueuedAccessEvents() override { return real_.QueuedAccessEvents(); }
  bool refuse = false;
  int writes = 0;

 private:
  storage::AccessEventQueue& real_;
};

class AccessRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = storage::CustomerStore::Open({dir_.path(), std::size_t{16} << 20, testing::TestKeys(), {}});
    ASSERT_TRUE(s.ok()) << s.status().detail();
    store_ = std::move(*s);
    queue_ = std::make_unique<RefusingQueue>(store_->access_events());
    recorder_ = std::make_unique<AccessRecorder>(io_.get_executor(), *queue_, clock_, [this] { ++queued_; },
                                                 AccessRecorderOptions{std::chrono::milliseconds(20), 8, 12});
  }
  std::vector<model::AccessEvent> Queued() { return *store_->access_events().PeekAccessEvents(1000); }
  void RunFor(std::chrono::milliseconds d) {
    io_.restart();
    io_.run_for(d);
  }

  testing::TempDir dir_;
  boost::asio::io_context io_;
  hal::sim::SimClock clock_{1'700'000'000'000};
  std::unique_ptr<storage::CustomerStore> store_;
  std::unique_ptr<RefusingQueue> queue_;
  std::unique_ptr<AccessRecorder> recorder_;
  int queued_ = 0;
};

TEST_F(AccessRecorderTest, EventsWaitForTheFlushOneEachAndReachTheQueueInOneWrite) {
  const model::LocalId a = *model::LocalId::Generate(), b = *model::LocalId::Generate();
  // Keystrokes of one search list the same customers again and again.
  for (int i = 0; i < 5; ++i) recorder_->Record(AccessAction::kListed, "A1", std::vector<model::LocalId>{a, b});
  recorder_->Record(AccessAction::kOpened, "A1", a);
  recorder_->Record(AccessAction::kOpened, "kiosk", a);
  recorder_->Record(AccessAction::kOpened, "", b);  // nobody named: "unknown"
  EXPECT_TRUE(Queued().empty());  // nothing written before the flush
  EXPECT_EQ(recorder_->waiting(), 5u);
  RunFor(std::chrono::milliseconds(200));
  const auto queued = Queued();
  ASSERT_EQ(queued.size(), 5u);
  EXPECT_EQ(queue_->writes, 1);
  EXPECT_EQ(queued_, 1);
  EXPECT_EQ(queued[0], (model::AccessEvent{a, AccessAction::kListed, clock_.NowMs(), "", "A1", 1}));
  EXPECT_EQ(queued[3].operator_id, "kiosk");
  EXPECT_EQ(queued[4].operator_id, "unknown");
  // After the flush the same event is recorded again: a later look is a new look.
  recorder_->Record(AccessAction::kOpened, "A1", a);
  ASSERT_TRUE(recorder_->Flush().ok());
  EXPECT_EQ(Queued().size(), 6u);
}

TEST_F(AccessRecorderTest, AFullBufferFlushesAtOnce) {
  std::vector<model::LocalId> many;
  for (int i = 0; i < 8; ++i) many.push_back(*model::LocalId::Generate());
  recorder_->Record(AccessAction::kListed, "A1", many);
  EXPECT_EQ(Queued().size(), 8u);  // no wait for the timer
  EXPECT_EQ(recorder_->waiting(), 0u);
}

TEST_F(AccessRecorderTest, ARefusedWriteKeepsTheEventsUpToItsLimitAndCountsTheRest) {
  queue_->refuse = true;
  std::vector<model::LocalId> many;
  for (int i = 0; i < 15; ++i) many.push_back(*model::LocalId::Generate());
  recorder_->Record(AccessAction::kListed, "A1", std::vector<model::LocalId>(many.begin(), many.begin() + 7));
  EXPECT_EQ(recorder_->Flush().code(), StatusCode::kResourceExhausted);
  recorder_->Record(AccessAction::kListed, "A1", std::vector<model::LocalId>(many.begin() + 7, many.end()));
  EXPECT_EQ(recorder_->waiting(), 12u);  // the limit
  EXPECT_EQ(recorder_->dropped(), 3u);
  queue_->refuse = false;
  RunFor(std::chrono::milliseconds(200));  // the retry
  EXPECT_EQ(Queued().size(), 12u);
  EXPECT_EQ(recorder_->waiting(), 0u);
}

TEST_F(AccessRecorderTest, StopFlushesAndDiscardForgets) {
  const model::LocalId a = *model::LocalId::Generate();
  recorder_->Record(AccessAction::kPrinted, "A1", a);
  recorder_->Stop();
  EXPECT_EQ(Queued().size(), 1u);
  recorder_->Record(AccessAction::kOpened, "A1", a);
  recorder_->Discard();
  recorder_->Record(AccessAction::kOpened, "A2", a);
  RunFor(std::chrono::milliseconds(100));
  EXPECT_EQ(Queued().size(), 1u);
}

}  // namespace
}  // namespace kassa::customers
