// The recent index's entries as searches read them (RecentIndex::Entries):
// sorted, one copy shared by every committed snapshot of a version, and
// never a stale one: every change of the table changes its version, a
// snapshot older than the shared copy and a write transaction get their
// own, and what a write transaction sees is never shared.

#include "recent_index.h"

#include <gtest/gtest.h>
#include <lmdb.h>

#include <string>
#include <vector>

#include "lmdb_txn.h"
#include "temp_dir.h"

namespace kassa::storage {
namespace {

model::LocalId Id(std::uint8_t n) {
  model::LocalId id;
  id.bytes.fill(n);
  return id;
}

// Customer `n`'s two entries: "a<n>" and "b<n>" (keys), "v<n>" (values).
std::vector<std::pair<std::string, std::string>> EntriesOf(char n) {
  return {{std::string("a") + n, std::string("v") + n}, {std::string("b") + n, std::string("v") + n}};
}

std::vector<std::string> Keys(const RecentEntries& entries, std::string_view prefix = {}) {
  std::vector<RecentEntry> found;
  entries.StartingWith(prefix, found);
  std::vector<std::string> keys;
  for (const RecentEntry& e : found) keys.emplace_back(e.key);
  return keys;
}

class RecentIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto env = LmdbEnv::Open(dir_.path(), std::size_t{16} << 20, 4);
    ASSERT_TRUE(env.ok()) << env.status().detail();
    env_.emplace(std::move(*env));
    ASSERT_TRUE(Update(*env_, [&](WriteTxn& txn) { return recent_.Open(txn); }).ok());
  }

  void Add(char n) {
    ASSERT_TRUE(Update(*env_, [&](WriteTxn& txn) {
                  return recent_.Add(txn, Id(static_cast<std::uint8_t>(n)), EntriesOf(n));
                }).ok());
  }

  // The entries a new read-only snapshot sees.
  std::shared_ptr<const RecentEntries> Read() {
    auto txn = ReadTxn::Begin(*env_);
    EXPECT_TRUE(txn.ok());
    auto entries = recent_.Entries(*txn);
    EXPECT_TRUE(entries.ok()) << entries.status().detail();
    return entries.ok() ? *entries : nullptr;
  }

  testing::TempDir dir_;
  std::optional<LmdbEnv> env_;
  RecentIndex recent_;
};

TEST_F(RecentIndexTest, EntriesAreSortedAndFoundByPrefix) {
  Add('3');
  Add('1');
  Add('2');
  const auto entries = Read();
  ASSERT_NE(entries, nullptr);
  EXPECT_EQ(Keys(*entries), (std::vector<std::string>{"a1", "a2", "a3", "b1", "b2", "b3"}));
  EXPECT_EQ(Keys(*entries, "b"), (std::vector<std::string>{"b1", "b2", "b3"}));
  EXPECT_EQ(Keys(*entries, "a2"), (std::vector<std::string>{"a2"}));
  EXPECT_TRUE(Keys(*entries, "c").empty());
  EXPECT_TRUE(Keys(*entries, "a22").empty());
  std::vector<RecentEntry> b2;
  entries->StartingWith("b2", b2);
  ASSERT_EQ(b2.size(), 1u);
  EXPECT_EQ(std::string(b2.front().value), "v2");
  EXPECT_TRUE(entries->MayStartWith("a"));
  EXPECT_TRUE(entries->MayStartWith("b3"));
  EXPECT_FALSE(entries->MayStartWith("a4"));
  EXPECT_FALSE(entries->MayStartWith("c"));
  auto txn = ReadTxn::Begin(*env_);
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(*recent_.Customers(*txn), 3u);  // the version's record is no customer
}

TEST_F(RecentIndexTest, SnapshotsOfOneVersionShareOneCopyAndEveryChangeMakesANewOne) {
  Add('1');
  const auto first = Read();
  EXPECT_EQ(Read(), first) << "a second search of the same version read the table again";

  Add('2');  // a create
  const auto added = Read();
  EXPECT_NE(added, first);
  EXPECT_EQ(Keys(*added, "a"), (std::vector<std::string>{"a1", "a2"}));
  EXPECT_EQ(Keys(*first, "a"), (std::vector<std::string>{"a1"})) << "a copy held by a search changed under it";

  // Another write that leaves the table alone keeps the copy.
  MDB_dbi other = 0;
  ASSERT_TRUE(Update(*env_, [&](WriteTxn& txn) {
                if (mdb_dbi_open(txn.get(), "other", MDB_CREATE, &other) != 0) return Status(StatusCode::kInternal, "dbi");
                return txn.Put(other, AsBytes(std::string("k")), AsBytes(std::string("v")));
              }).ok());
  EXPECT_EQ(Read(), added);

  // An edit takes a customer's entries out (Remove).
  ASSERT_TRUE(Update(*env_, [&](WriteTxn& txn) -> Status {
                KASSA_TRY_ASSIGN(const bool was, recent_.Remove(txn, Id('1')));
                return was ? Status::Ok() : Status(StatusCode::kNotFound, "not waiting");
              }).ok());
  EXPECT_EQ(Keys(*Read(), "a"), (std::vector<std::string>{"a2"}));

  // A fold (or a rebuilt index) empties it (Clear).
  ASSERT_TRUE(Update(*env_, [&](WriteTxn& txn) { return recent_.Clear(txn); }).ok());
  EXPECT_TRUE(Read()->empty());
  Add('4');
  EXPECT_EQ(Keys(*Read(), "a"), (std::vector<std::string>{"a4"}));
}

TEST_F(RecentIndexTest, AnOlderSnapshotReadsItsOwnAndLeavesTheNewerCopyShared) {
  Add('1');
  auto old = ReadTxn::Begin(*env_);  // began before the next create
  ASSERT_TRUE(old.ok());
  Add('2');
  const auto newer = Read();
  ASSERT_NE(newer, nullptr);
  const auto from_old = recent_.Entries(*old);
  ASSERT_TRUE(from_old.ok());
  EXPECT_EQ(Keys(**from_old, "a"), (std::vector<std::string>{"a1"}));
  EXPECT_EQ(Read(), newer) << "the older snapshot's entries replaced the newer copy";
  EXPECT_EQ(Keys(*Read(), "a"), (std::vector<std::string>{"a1", "a2"}));
}

TEST_F(RecentIndexTest, AWriteTransactionSeesItsOwnEntriesAndNeverSharesThem) {
  Add('1');
  const auto committed = Read();
  {
    auto txn = WriteTxn::Begin(*env_);
    ASSERT_TRUE(txn.ok());
    // Before it changes anything: the committed entries of its version.
    auto before = recent_.Entries(*txn);
    ASSERT_TRUE(before.ok());
    EXPECT_EQ(Keys(**before, "a"), (std::vector<std::string>{"a1"}));
    // Its own entries, not sorted but found in key order all the same.
    ASSERT_TRUE(recent_.Add(*txn, Id('0'), EntriesOf('0')).ok());
    auto own = recent_.Entries(*txn);
    ASSERT_TRUE(own.ok());
    EXPECT_EQ(Keys(**own, "a"), (std::vector<std::string>{"a0", "a1"}));
    EXPECT_EQ(Keys(**own), (std::vector<std::string>{"a0", "a1", "b0", "b1"}));
    EXPECT_TRUE((*own)->MayStartWith("b0"));
    // Aborted: nothing of it stays, in the table or in what searches share.
  }
  EXPECT_EQ(Read(), committed);
  EXPECT_EQ(Keys(*Read(), "a"), (std::vector<std::string>{"a1"}));
  // The version the aborted one would have had, now with other entries.
  Add('3');
  EXPECT_EQ(Keys(*Read(), "a"), (std::vector<std::string>{"a1", "a3"}));
}

// A table without a version (a store of layout 10 until its migration)
// is read whole by every snapshot, and Open starts its version.
TEST_F(RecentIndexTest, ATableWithoutAVersionIsReadBySnapshotAndOpenStartsIt) {
  Add('1');
  ASSERT_TRUE(Update(*env_, [&](WriteTxn& txn) {
                MDB_dbi dbi = 0;
                if (mdb_dbi_open(txn.get(), "index_recent", 0, &dbi) != 0) return Status(StatusCode::kInternal, "dbi");
                return txn.Del(dbi, Be64(RecentIndex::kVersionKey));
              }).ok());
  const auto a = Read(), b = Read();
  EXPECT_NE(a, b) << "shared without a version";
  EXPECT_EQ(Keys(*a, "a"), (std::vector<std::string>{"a1"}));
  {
    auto txn = ReadTxn::Begin(*env_);
    ASSERT_TRUE(txn.ok());
    EXPECT_EQ(*recent_.Customers(*txn), 1u);
  }
  RecentIndex reopened;
  ASSERT_TRUE(Update(*env_, [&](WriteTxn& t) { return reopened.Open(t); }).ok());
  const auto c = Read();
  EXPECT_EQ(Keys(*c, "a"), (std::vector<std::string>{"a1"}));
  auto again = ReadTxn::Begin(*env_);
  ASSERT_TRUE(again.ok());
  auto shared = reopened.Entries(*again);
  ASSERT_TRUE(shared.ok());
  auto shared_again = reopened.Entries(*again);
  EXPECT_EQ(*shared, *shared_again);
}

}  // namespace
}  // namespace kassa::storage
