// Issue 20, item 6: kassad killed (SIGKILL) at random points of a store
// layout upgrade, from every earlier layout (layout_fixtures.h): afterwards
// the store is either the old layout, byte for byte as it was, or the new
// one, whole; never a mix. The next start completes the upgrade.
//
// Each round copies the fixture, forks a child that opens it (the upgrade:
// one transaction, then for a store being sealed a compaction of the file),
// kills the child after a random delay within the time a whole upgrade
// takes, and looks at what is on disk. KASSA_UPGRADE_CRASHES sets the
// rounds per layout (50 by default).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "kassa/storage/customer_store.h"
#include "layout_fixtures.h"
#include "temp_dir.h"
#include "test_keys.h"
#include "test_operations.h"

namespace kassa::storage {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int kCustomers = 1500;
// The layout this kassad writes (storage/src/terminal_core.h).
constexpr std::string_view kNewLayout = "13";

int Rounds() {
  const char* rounds = std::getenv("KASSA_UPGRADE_CRASHES");
  return rounds != nullptr ? std::atoi(rounds) : 50;
}

void CopyStore(const std::string& from, const std::string& to) {
  fs::remove_all(to);
  fs::remove(to + ".slots");
  fs::copy(from, to, fs::copy_options::recursive);
  if (fs::exists(from + ".slots")) fs::copy_file(from + ".slots", to + ".slots");
}

class UpgradeCrashTest : public ::testing::TestWithParam<int> {
 protected:
  int layout() const { return GetParam(); }

  StorageOptions Options(const std::string& dir, bool sealed) const {
    return {dir, std::size_t{256} << 20, sealed ? keys_ : nullptr, {}};
  }

  // A store of today with customers, half of them with their account
  // number, one creation rejected (from layout 2 on: layout 1 had no
  // quarantine), a note and the store configuration; then rewritten as
  // `layout()` kept it.
  void MakeFixture() {
    const bool sealed = layout() >= 6;  // layouts 1 to 5 were never sealed
    {
      auto opened = CustomerStore::Open(Options(fixture_, sealed));
      ASSERT_TRUE(opened.ok()) << opened.status().detail();
      CustomerStore& store = **opened;
      std::vector<std::pair<std::uint64_t, model::OperationAck>> acks;
      for (int i = 0; i < kCustomers; ++i) {
        model::Customer c;
        c.id = *model::LocalId::Generate();
        c.first_name = "Upgrade";
        c.last_name = "Customer" + std::to_string(i);
        c.email = "upgrade" + std::to_string(i) + "@example.lv";
        c.phone = "+3712" + std::to_string(1000000 + i);
        c.customer_group = "RETAIL";
        c.version = 1;
        const model::Operation op = testing::CreationOf(c);
        ASSERT_TRUE(store.customers().Create(c, &op).ok());
        const auto seq = static_cast<std::uint64_t>(i + 1);
        if (i % 2 == 0) {
          acks.push_back({seq, {op.op_id, model::OperationAck::Outcome::kApplied, c.id, "LV-" + std::to_string(100000 + i), 1, ""}});
        } else if (i == 1 && layout() > 1) {
          acks.push_back({seq, {op.op_id, model::OperationAck::Outcome::kRejected, c.id, "", 0,
                                "customer_group: unknown customer group"}});
        }
      }
      ASSERT_TRUE(store.sync().ApplyAcks(acks, 1'700'000'000'000).ok());
      model::ClientelingRecord note;
      note.timeline_entry = model::TimelineEntry{};
      note.timeline_entry->id = *model::LocalId::Generate();
      note.timeline_entry->customer_id = *model::LocalId::Generate();
      note.timeline_entry->at_ms = 1'700'000'000'000;
      note.timeline_entry->worker_id = "A1";
      note.timeline_entry->text = "A note from before the upgrade";
      ASSERT_TRUE(store.clienteling().WriteClienteling({{note, std::nullopt}}).ok());
      model::StoreConfig cfg;
      cfg.store_id = "S1";
      cfg.legal_entity = "LE";
      cfg.operating_unit_country = "LV";
      cfg.customer_groups = {{"RETAIL", "Retail"}};
      cfg.default_customer.customer_group = "RETAIL";
      ASSERT_TRUE(store.settings().SaveStoreConfig(cfg).ok());
      const auto stats = store.diagnostics().Stats();
      ASSERT_TRUE(stats.ok());
      want_ = *stats;
    }
    const crypto::MasterKey master = *keys_->Current();
    DowngradeTo(layout(), fixture_, sealed ? &master : nullptr);
    const RawStore raw(fixture_);
    ASSERT_EQ(raw.Layout(), std::to_string(layout()));
    dump_ = raw.Dump();
  }

  // Opens the store in `dir` in a child process (the upgrade) and returns it.
  pid_t StartUpgrade(const std::string& dir) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      auto opened = CustomerStore::Open(Options(dir, true));
      ::_exit(opened.ok() ? 0 : 3);
    }
    return pid;
  }

  // What a crash left in `dir`: the old layout unchanged, or the new one
  // (its file compacted, or the compaction still to do). Returns which.
  std::string Inspect(const std::string& dir) {
    std::string found;
    {
      const RawStore raw(dir);
      found = raw.Layout();
      std::string key = "compact_pending";
      MDB_val k{key.size(), key.data()}, v{};
      if (found == kNewLayout && mdb_get(raw.txn(), raw.Dbi("meta"), &k, &v) == 0) found = std::string(kNewLayout) + ", compaction pending";
      if (found == std::to_string(layout())) {
        const std::string now = raw.Dump();
        if (now != dump_) {
          std::size_t at = 0;
          while (at < now.size() && at < dump_.size() && now[at] == dump_[at]) ++at;
          ADD_FAILURE() << "a crash left the old layout changed, first at byte " << at << " of " << dump_.size()
                        << ": fixture \"" << dump_.substr(at > 80 ? at - 80 : 0, 160) << "\", now \""
                        << now.substr(at > 80 ? at - 80 : 0, 160) << "\"";
        }
      } else {
        EXPECT_EQ(found.substr(0, kNewLayout.size()), kNewLayout) << "neither the old layout nor the new one";
      }
    }
    return found;
  }

  // The next start: upgraded (or finishing it), everything there.
  void ExpectUpgradedWhole(const std::string& dir) {
    {
      auto opened = CustomerStore::Open(Options(dir, true));
      ASSERT_TRUE(opened.ok()) << opened.status().detail();
      CustomerStore& store = **opened;
      const auto stats = store.diagnostics().Stats();
      ASSERT_TRUE(stats.ok());
      EXPECT_EQ(stats->customers, want_.customers);
      EXPECT_EQ(stats->pending_customers, want_.pending_customers);
      EXPECT_EQ(stats->outbox_length, want_.outbox_length);
      EXPECT_EQ(stats->quarantined, want_.quarantined);
      const auto check = store.diagnostics().Check();
      ASSERT_TRUE(check.ok()) << check.status().detail();
      EXPECT_TRUE(check->ok()) << (check->problems.empty() ? "" : check->problems[0]);
      // The index finds the last customer by name. Its terms are keyed, so
      // a hit is a candidate (customer_index.h): confirmed on the record.
      const auto found = store.customers().ScanPrefix(search::IndexKind::kName, "customer1499", 5);
      ASSERT_TRUE(found.ok());
      std::vector<model::LocalId> ids;
      for (const auto& hit : *found) ids.push_back(hit.id);
      const auto candidates = store.customers().GetMany(ids);
      ASSERT_TRUE(candidates.ok()) << candidates.status().detail();
      int named = 0;
      for (const auto& c : *candidates) named += c.last_name == "Customer1499" ? 1 : 0;
      EXPECT_EQ(named, 1) << found->size() << " candidates";
    }
    const RawStore raw(dir);
    EXPECT_EQ(raw.Layout(), kNewLayout);
    std::string key = "compact_pending";
    MDB_val k{key.size(), key.data()}, v{};
    EXPECT_EQ(mdb_get(raw.txn(), raw.Dbi("meta"), &k, &v), MDB_NOTFOUND) << "the compaction finished";
  }

  testing::TempDir root_;
  std::string fixture_ = root_.path() + "/fixture";
  std::string work_ = root_.path() + "/work";
  std::shared_ptr<crypto::KeyStore> keys_ = testing::TestKeys();
  StoreStats want_;
  std::string dump_;
};

TEST_P(UpgradeCrashTest, AKillAtAnyPointLeavesTheOldLayoutOrTheNewOneAndTheNextStartCompletesIt) {
  fs::create_directories(fixture_);
  MakeFixture();
  if (HasFatalFailure()) return;
  // How long a whole upgrade takes, uninterrupted.
  CopyStore(fixture_, work_);
  const auto began = Clock::now();
  const pid_t whole = StartUpgrade(work_);
  int status = 0;
  ASSERT_EQ(::waitpid(whole, &status, 0), whole);
  const auto upgrade = Clock::now() - began;
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the upgrade failed: " << status;
  ExpectUpgradedWhole(work_);

  std::mt19937_64 rng(static_cast<std::uint64_t>(layout()) * 7919);
  std::uniform_int_distribution<std::int64_t> at(0, std::chrono::duration_cast<std::chrono::microseconds>(upgrade).count());
  std::map<std::string, int> left;  // what the crashes left: the old layout, or the new one
  int finished = 0;
  const int rounds = Rounds();
  for (int round = 0; round < rounds && !HasFailure(); ++round) {
    CopyStore(fixture_, work_);
    const pid_t pid = StartUpgrade(work_);
    std::this_thread::sleep_for(std::chrono::microseconds(at(rng)));
    ::kill(pid, SIGKILL);
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    if (WIFEXITED(status)) ++finished;  // done before the kill came
    ++left[Inspect(work_)];
    ExpectUpgradedWhole(work_);
  }
  std::printf("[ upgrade  ] from layout %d (%d customers, whole upgrade %.0f ms): %d kills left the old layout %d "
              "times, the new one with its compaction pending %d, the new one %d (%d finished first); every next "
              "start completed it\n",
              layout(), kCustomers, std::chrono::duration<double, std::milli>(upgrade).count(), rounds,
              left[std::to_string(layout())], left[std::string(kNewLayout) + ", compaction pending"], left[std::string(kNewLayout)], finished);
}

INSTANTIATE_TEST_SUITE_P(EveryEarlierLayout, UpgradeCrashTest, ::testing::Values(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12),
                         [](const auto& p) { return "FromLayout" + std::to_string(p.param); });

}  // namespace
}  // namespace kassa::storage
