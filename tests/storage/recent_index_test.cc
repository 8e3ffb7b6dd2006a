// The recent index's entries as searches read them (RecentIndex::Entries):
// sorted, one copy shared by every committed snapshot of a version, and
// never a stale one: every change of the index changes its version, a
// snapshot older than the shared copy and a write transaction get their
// own, and what a write transaction sees is never shared. Its records live
// in a host table (the terminal's outbox) beside the host's own entries,
// and move there from the table of layouts 5 to 12.

#include "recent_index.h"

#include <gtest/gtest.h>
#include <lmdb.h>

#include <array>
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
    ASSERT_TRUE(Update(*env_, [&](WriteTxn& txn) {
                  KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "outbox", MDB_CREATE, &host_), "dbi outbox"));
                  return recent_.Open(txn, host_);
                }).ok());
  }

  // Puts the host's own entry `seq` (an operation, or the tail record).
  void PutHost(std::uint64_t seq) {
    ASSERT_TRUE(Update(*env_, [&](WriteTxn& txn) { return txn.Put(host_, Be64(seq), AsBytes(std::string("op"))); }).ok());
  }

  // Every key of the host, in order, as (sequence, size).
  std::vector<std::pair<std::uint64_t, std::size_t>> HostKeys() {
    std::vector<std::pair<std::uint64_t, std::size_t>> keys;
    auto txn = ReadTxn::Begin(*env_);
    EXPECT_TRUE(txn.ok());
    auto cursor = txn->OpenCursor(host_);
    EXPECT_TRUE(cursor.ok());
    for (auto found = cursor->First(); found.ok() && *found; found = cursor->Next()) {
      keys.emplace_back(FromBe64(cursor->key()), cursor->key().size());
    }
    return keys;
  }

  // What Check() says.
  std::vector<std::string> Problems() {
    std::vector<std::string> problems;
    auto txn = ReadTxn::Begin(*env_);
    EXPECT_TRUE(txn.ok());
    EXPECT_TRUE(recent_.Check(*txn, [&](std::string p) { problems.push_back(std::move(p)); }).ok());
    return problems;
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
  MDB_dbi host_ = 0;
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
  EXPECT_EQ(*recent_.Customers(*txn), 3u);  // the state record is no customer
  EXPECT_EQ(*recent_.EntriesInHost(*txn), 4u);
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

// Each record sorts right after the host's last entry when it was added,
// so it lands on the host's last leaf with the operation its create
// queues; the state record sits after every sequence, before the tail. The
// host's entries are never touched, and Check() finds nothing wrong.
TEST_F(RecentIndexTest, RecordsSitBesideTheHostsNewestEntriesAndLeaveThemAlone) {
  PutHost(UINT64_MAX);  // the host's tail record
  Add('1');             // before any operation: sequence 0
  PutHost(1);
  Add('2');
  PutHost(2);
  PutHost(3);
  Add('3');
  const std::vector<std::pair<std::uint64_t, std::size_t>> expected = {
      {0, 16}, {1, 8}, {1, 16}, {2, 8}, {3, 8}, {3, 16}, {RecentIndex::kStateKey, 8}, {UINT64_MAX, 8}};
  EXPECT_EQ(HostKeys(), expected);
  EXPECT_EQ(Keys(*Read(), "a"), (std::vector<std::string>{"a1", "a2", "a3"}));
  EXPECT_TRUE(Problems().empty());
  EXPECT_FALSE(RecentIndex::Owns(Be64(3)));
  EXPECT_FALSE(RecentIndex::Owns(Be64(UINT64_MAX)));
  EXPECT_TRUE(RecentIndex::Owns(Be64(RecentIndex::kStateKey)));
  EXPECT_TRUE(RecentIndex::Owns(std::array<std::uint8_t, 16>{}));

  // Taking the oldest out leaves the others where the walk finds them.
  ASSERT_TRUE(Update(*env_, [&](WriteTxn& txn) { return recent_.Remove(txn, Id('1')).status(); }).ok());
  EXPECT_EQ(Keys(*Read(), "a"), (std::vector<std::string>{"a2", "a3"}));
  ASSERT_TRUE(Update(*env_, [&](WriteTxn& txn) { return recent_.Clear(txn); }).ok());
  const std::vector<std::pair<std::uint64_t, std::size_t>> host_only = {
      {1, 8}, {2, 8}, {3, 8}, {RecentIndex::kStateKey, 8}, {UINT64_MAX, 8}};
  EXPECT_EQ(HostKeys(), host_only);
  Add('4');  // after a clear, from the host's newest entry again
  EXPECT_EQ(HostKeys()[3], (std::pair<std::uint64_t, std::size_t>{3, 16}));
  EXPECT_TRUE(Problems().empty());
}

// A record the state does not count, or one it counts that is gone, is
// corruption: the doctor says so, and searches read the records there are.
TEST_F(RecentIndexTest, ARecordCountedButGoneOrStoredButNotCountedIsReported) {
  Add('1');
  Add('2');
  const auto key = [](std::uint8_t number) {
    std::array<std::uint8_t, 16> k{};  // sequence 0
    k[15] = number;
    return k;
  };
  // Stored but not counted: one more record behind the index's back.
  ASSERT_TRUE(Update(*env_, [&](WriteTxn& txn) { return txn.Put(host_, key(99), AsBytes(std::string(16, '9'))); }).ok());
  const std::vector<std::string> extra = Problems();
  ASSERT_EQ(extra.size(), 2u);
  EXPECT_NE(extra[0].find("numbered past the state's next"), std::string::npos) << extra[0];
  EXPECT_NE(extra[1].find("counts 2 customers but 3 records"), std::string::npos) << extra[1];
  // Counted but gone: that one and the first deleted.
  ASSERT_TRUE(Update(*env_, [&](WriteTxn& txn) -> Status {
                KASSA_TRY(txn.Del(host_, key(99)));
                return txn.Del(host_, key(1));
              }).ok());
  const std::vector<std::string> gone = Problems();
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_NE(gone.front().find("counts 2 customers but 1 records"), std::string::npos) << gone.front();
  auto txn = ReadTxn::Begin(*env_);
  ASSERT_TRUE(txn.ok());
  std::vector<RecentEntry> out;
  ASSERT_TRUE(recent_.Load(*txn, out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(std::string(out[0].key), "a2");
}

// A store of layouts 5 to 12 keeps the records in a table of their own
// (sequence -> record, and the version under UINT64_MAX from layout 11):
// Open moves them into the host and drops that table, the version going on.
TEST_F(RecentIndexTest, OpenMovesTheTableOfAnOlderLayoutIntoTheHost) {
  MDB_dbi old = 0, host = 0;
  ASSERT_TRUE(Update(*env_, [&](WriteTxn& txn) -> Status {
                KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "index_recent", MDB_CREATE, &old), "dbi"));
                KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "outbox2", MDB_CREATE, &host), "dbi"));
                for (char n : {'1', '2'}) {
                  std::string record(16, n);
                  for (const auto& [key, value] : EntriesOf(n)) {
                    for (const std::string* part : {&key, &value}) {
                      record.push_back(0);
                      record.push_back(static_cast<char>(part->size()));
                      record += *part;
                    }
                  }
                  KASSA_TRY(txn.Put(old, Be64(static_cast<std::uint64_t>(n - '0')), AsBytes(record)));
                }
                KASSA_TRY(txn.Put(old, Be64(UINT64_MAX), Be64(7)));
                return txn.Put(host, Be64(5), AsBytes(std::string("op")));
              }).ok());
  RecentIndex moved;
  ASSERT_TRUE(Update(*env_, [&](WriteTxn& txn) { return moved.Open(txn, host); }).ok());
  auto txn = ReadTxn::Begin(*env_);
  ASSERT_TRUE(txn.ok());
  EXPECT_EQ(*moved.Customers(*txn), 2u);
  auto entries = moved.Entries(*txn);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(Keys(**entries), (std::vector<std::string>{"a1", "a2", "b1", "b2"}));
  MDB_dbi gone = 0;
  EXPECT_EQ(mdb_dbi_open(txn->get(), "index_recent", 0, &gone), MDB_NOTFOUND);
  EXPECT_EQ(*txn->Count(host), 4u);  // the operation, two records, the state
  // Under sequence 0, before every operation the host had.
  auto cursor = txn->OpenCursor(host);
  ASSERT_TRUE(cursor.ok());
  ASSERT_TRUE(*cursor->First());
  EXPECT_EQ(cursor->key().size(), 16u);
  EXPECT_EQ(FromBe64(cursor->key()), 0u);
}

}  // namespace
}  // namespace kassa::storage
