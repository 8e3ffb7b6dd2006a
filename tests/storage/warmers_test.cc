// The warmers of storage/src: RecordWarmer's records are in memory
// afterwards, so reading them costs no disk read; BranchWarmer reads every
// branch page of the databases it is given, and no other page; a fold of the
// recent index on a cold index (RecentIndex::FoldInto) has its leaves read by
// the RecordWarmer, not one by one by the folding thread; a scan that asks
// for the leaves ahead of it (lmdb_pages::LeavesAhead) walks them without
// reading the disk itself. Real LMDB in
// a temporary directory; the data file's pages are dropped from the page
// cache with posix_fadvise (no privileges needed), and disk reads are
// counted as the reading thread's major page faults.

#include "branch_warmer.h"
#include "lmdb_pages.h"
#include "lmdb_txn.h"
#include "recent_index.h"
#include "record_warmer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <lmdb.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "temp_dir.h"

namespace kassa::storage {
namespace {

constexpr std::size_t kRecordBytes = 1000;  // about four to a page, as customers are
constexpr int kRecords = 4000;
constexpr int kRead = 300;

struct Env {
  MDB_env* env = nullptr;
  MDB_dbi dbi = 0;
  explicit Env(const std::string& dir, const char* second_db = nullptr) {
    EXPECT_EQ(mdb_env_create(&env), 0);
    EXPECT_EQ(mdb_env_set_maxdbs(env, 4), 0);
    EXPECT_EQ(mdb_env_set_mapsize(env, std::size_t{256} << 20), 0);
    EXPECT_EQ(mdb_env_open(env, dir.c_str(), MDB_NOTLS | MDB_NORDAHEAD, 0600), 0);
    MDB_txn* txn = nullptr;
    EXPECT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    EXPECT_EQ(mdb_dbi_open(txn, "customers", MDB_CREATE, &dbi), 0);
    if (second_db != nullptr) {
      EXPECT_EQ(mdb_dbi_open(txn, second_db, MDB_CREATE, &second), 0);
    }
    EXPECT_EQ(mdb_txn_commit(txn), 0);
  }
  MDB_dbi second = 0;
  ~Env() { mdb_env_close(env); }
};

// Drops the clean pages of `dir`'s data file from the page cache.
void DropPages(const std::string& dir) {
  const int fd = ::open((dir + "/data.mdb").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::fdatasync(fd), 0);
  ASSERT_EQ(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  ::close(fd);
}

long ThreadMajorFaults() {
  rusage usage{};
  ::getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_majflt;
}

// Reads `ids` on this thread, touching every byte of each record; the major
// faults it took.
long ReadAll(const Env& e, const std::vector<model::LocalId>& ids) {
  const long before = ThreadMajorFaults();
  MDB_txn* txn = nullptr;
  EXPECT_EQ(mdb_txn_begin(e.env, nullptr, MDB_RDONLY, &txn), 0);
  std::size_t sum = 0;
  for (const auto& id : ids) {
    MDB_val k{id.bytes.size(), const_cast<std::uint8_t*>(id.bytes.data())}, v{};
    EXPECT_EQ(mdb_get(txn, e.dbi, &k, &v), 0);
    for (std::size_t i = 0; i < v.mv_size; ++i) sum += static_cast<const std::uint8_t*>(v.mv_data)[i];
  }
  mdb_txn_abort(txn);
  EXPECT_GT(sum, 0u);
  return ThreadMajorFaults() - before;
}

// `n` records of `bytes` bytes under random 16-byte keys into `dbi`; their keys.
std::vector<model::LocalId> Fill(const Env& e, MDB_dbi dbi, int n, std::size_t bytes) {
  std::vector<model::LocalId> ids;
  MDB_txn* txn = nullptr;
  EXPECT_EQ(mdb_txn_begin(e.env, nullptr, 0, &txn), 0);
  const std::string value(bytes, 'v');
  for (int i = 0; i < n; ++i) {
    ids.push_back(*model::LocalId::Generate());
    MDB_val k{ids.back().bytes.size(), ids.back().bytes.data()}, v{value.size(), const_cast<char*>(value.data())};
    EXPECT_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
  }
  EXPECT_EQ(mdb_txn_commit(txn), 0);
  return ids;
}

// A file of kRecords records; the reads of kRead of them with the file's
// pages dropped (cold_faults_); the pages dropped again for the test.
class RecordWarmerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<model::LocalId> ids;
    {
      Env e(dir_.path());
      ids = Fill(e, e.dbi, kRecords, kRecordBytes);
    }
    const std::vector<model::LocalId> cold(ids.begin(), ids.begin() + kRead);
    warmed_.assign(ids.end() - kRead, ids.end());
    DropPages(dir_.path());
    {
      Env e(dir_.path());
      cold_faults_ = ReadAll(e, cold);
    }
    if (cold_faults_ < kRead / 10) {
      GTEST_SKIP() << "the file system kept the pages posix_fadvise asked to drop (" << cold_faults_
                   << " major faults for " << kRead << " cold reads): nothing to measure here";
    }
    DropPages(dir_.path());
  }
  // Waits until `warmer` has done `n` lookups (30 s at most).
  static void WaitFor(const RecordWarmer& warmer, std::uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (warmer.done() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(warmer.done(), n) << "the warmer did not do every lookup in 30 s";
  }
  testing::TempDir dir_;
  std::vector<model::LocalId> warmed_;
  long cold_faults_ = 0;
};

TEST_F(RecordWarmerTest, WarmedRecordsAreReadWithoutADiskRead) {
  Env e(dir_.path());
  std::atomic<int> touched{0};
  std::atomic<std::size_t> bytes{0};
  {
    RecordWarmer warmer;
    warmer.Attach(e.env, e.dbi, [&](const model::LocalId&, ByteView record) {
      bytes += record.size();
      ++touched;
    });
    warmer.Warm(warmed_.data(), warmed_.size());
    WaitFor(warmer, kRead);
    EXPECT_EQ(touched, kRead);
    EXPECT_EQ(bytes, kRead * kRecordBytes);
  }  // the threads joined
  // This thread then takes (almost) no fault.
  const long warm_faults = ReadAll(e, warmed_);
  EXPECT_LE(warm_faults * 10, cold_faults_) << "cold: " << cold_faults_ << ", after warming: " << warm_faults;
}

TEST_F(RecordWarmerTest, WarmedSeeksBringTheLeafAScanStartsOn) {
  Env e(dir_.path());
  {
    RecordWarmer warmer;
    warmer.Attach(e.env, e.dbi, nullptr);
    std::vector<std::string> keys;
    for (const auto& id : warmed_) keys.emplace_back(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
    warmer.WarmSeeks(e.dbi, std::move(keys));
    WaitFor(warmer, kRead);
  }
  const long warm_faults = ReadAll(e, warmed_);
  EXPECT_LE(warm_faults * 10, cold_faults_) << "cold: " << cold_faults_ << ", after warming: " << warm_faults;
}

TEST_F(RecordWarmerTest, RecordsQueuedAheadOfSeeksAreWarmedWithThem) {
  Env e(dir_.path());
  const std::vector<model::LocalId> records(warmed_.begin(), warmed_.begin() + kRead / 2);
  std::vector<std::string> seeks;
  for (auto it = warmed_.begin() + kRead / 2; it != warmed_.end(); ++it) {
    seeks.emplace_back(reinterpret_cast<const char*>(it->bytes.data()), it->bytes.size());
  }
  std::atomic<int> touched{0};
  {
    RecordWarmer warmer;
    warmer.Attach(e.env, e.dbi, [&](const model::LocalId&, ByteView) { ++touched; });
    warmer.WarmSeeks(e.dbi, std::move(seeks), records);
    WaitFor(warmer, kRead);
  }
  EXPECT_EQ(touched, kRead / 2);  // what a record needs next is touched for the records only
  const long warm_faults = ReadAll(e, warmed_);
  EXPECT_LE(warm_faults * 10, cold_faults_) << "cold: " << cold_faults_ << ", after warming: " << warm_faults;
}

// A batch smaller than the threads wakes only as many as it has lookups
// (RecordWarmer::Queue); each of them is still done, batch after batch.
TEST_F(RecordWarmerTest, BatchesSmallerThanTheThreadsAreEachDoneWhole) {
  Env e(dir_.path());
  std::atomic<std::uint64_t> touched{0};
  RecordWarmer warmer;
  warmer.Attach(e.env, e.dbi, [&](const model::LocalId&, ByteView) { ++touched; });
  std::uint64_t queued = 0;
  const std::size_t threads = RecordWarmer::kThreads;
  // The first batch starts every thread; each later one finds them waiting.
  for (const std::size_t n : {threads + 1, std::size_t{1}, std::size_t{2}, std::size_t{3}, threads - 1, threads}) {
    ASSERT_LE(queued + n, warmed_.size());
    warmer.Warm(warmed_.data() + queued, n);
    queued += n;
    WaitFor(warmer, queued);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(touched, queued);
}

// What starts warming: a slow lookup counts as a disk read only when this
// thread's major faults grew since it last asked, so a lookup slowed by
// anything else (here: none at all, told it took a millisecond) wakes no
// threads, and cold reads do.
TEST_F(RecordWarmerTest, OnlyALookupThatReadTheDiskCountsAsOne) {
  RecordWarmer::ThreadReadFromDisk();  // this thread's count taken now
  EXPECT_FALSE(RecordWarmer::ThreadReadFromDisk());
  EXPECT_FALSE(RecordWarmer::FromDisk(std::chrono::milliseconds(1)));
  Env e(dir_.path());
  ASSERT_GT(ReadAll(e, warmed_), 0) << "the pages were dropped, so reading them faults";
  EXPECT_FALSE(RecordWarmer::FromDisk(std::chrono::microseconds(1)));  // fast: not asked
  EXPECT_TRUE(RecordWarmer::FromDisk(std::chrono::milliseconds(1)));
  EXPECT_FALSE(RecordWarmer::ThreadReadFromDisk());  // counted once
}

TEST(RecordWarmerStopTest, AMissingRecordIsSkippedAndStoppingWithWorkQueuedReturns) {
  testing::TempDir dir;
  Env e(dir.path());
  std::atomic<int> touched{0};
  std::vector<model::LocalId> absent;
  for (int i = 0; i < 10'000; ++i) absent.push_back(*model::LocalId::Generate());
  {
    RecordWarmer warmer;
    warmer.Attach(e.env, e.dbi, [&](const model::LocalId&, ByteView) { ++touched; });
    warmer.Warm(absent.data(), absent.size());
  }  // destroyed with most of them still queued: joins, drops the rest
  EXPECT_EQ(touched, 0);
  // Unattached (a store that never opened): Warm does nothing.
  RecordWarmer idle;
  idle.Warm(absent.data(), 1);
}

std::uint64_t BranchPages(const Env& e, MDB_dbi dbi, unsigned* depth = nullptr) {
  MDB_txn* txn = nullptr;
  EXPECT_EQ(mdb_txn_begin(e.env, nullptr, MDB_RDONLY, &txn), 0);
  MDB_stat st{};
  EXPECT_EQ(mdb_stat(txn, dbi, &st), 0);
  mdb_txn_abort(txn);
  if (depth != nullptr) *depth = st.ms_depth;
  return st.ms_branch_pages;
}

TEST(BranchWarmerTest, ReadsEveryBranchPageOfTheDatabasesNamedAsMdbStatCountsThem) {
  testing::TempDir dir;
  Env e(dir.path(), "index");
  Fill(e, e.dbi, 30'000, 1000);  // depth 4 with 4 KiB pages
  Fill(e, e.second, 60'000, 40);  // small values: many keys to a leaf
  unsigned customers_depth = 0, index_depth = 0;
  const std::uint64_t customers = BranchPages(e, e.dbi, &customers_depth), index = BranchPages(e, e.second, &index_depth);
  ASSERT_GE(customers_depth, 3u);
  ASSERT_GE(index_depth, 3u);

  const auto both = BranchWarmer::Walk(e.env, {"customers", "index"});
  EXPECT_TRUE(both.complete);
  EXPECT_EQ(both.expected, customers + index);
  EXPECT_EQ(both.branch_pages, customers + index);
  // One of them, and a database never made (skipped, as before its first write).
  const auto one = BranchWarmer::Walk(e.env, {"index", "outbox"});
  EXPECT_TRUE(one.complete);
  EXPECT_EQ(one.branch_pages, index);
}

TEST(BranchWarmerTest, ADatabaseWhoseRootIsALeafHasNothingToWarm) {
  testing::TempDir dir;
  Env e(dir.path());
  Fill(e, e.dbi, 3, 100);
  const auto walked = BranchWarmer::Walk(e.env, {"customers"});
  EXPECT_TRUE(walked.complete);
  EXPECT_EQ(walked.branch_pages, 0u);
}

TEST(BranchWarmerTest, StopsWhenAskedOrLateAndTheBackgroundWalkJoinsOnDestruction) {
  testing::TempDir dir;
  Env e(dir.path());
  Fill(e, e.dbi, 30'000, 1000);
  const std::atomic<bool> stop{true};
  const auto stopped = BranchWarmer::Walk(e.env, {"customers"}, &stop);
  EXPECT_FALSE(stopped.complete);
  EXPECT_EQ(stopped.branch_pages, 0u);
  // A deadline already past stops it the same way.
  const auto late = BranchWarmer::Walk(e.env, {"customers"}, nullptr, BranchWarmer::Clock::now());
  EXPECT_FALSE(late.complete);
  EXPECT_EQ(late.branch_pages, 0u);
  EXPECT_TRUE(BranchWarmer::Walk(e.env, {"customers"}, nullptr, BranchWarmer::Clock::now() + std::chrono::seconds(60)).complete);
  {
    BranchWarmer background;
    background.Start(e.env, {"customers"});
  }  // joined here, before the environment closes
}

TEST(BranchWarmerTest, AfterTheWalkALookupOnAColdFileReadsOnlyItsLeaf) {
  testing::TempDir dir;
  std::vector<model::LocalId> ids;
  {
    Env e(dir.path());
    ids = Fill(e, e.dbi, 30'000, 1000);
  }
  // One lookup per branch of the second level: cold, each reads its path's
  // uncached branch pages and its leaf; after the walk, its leaf only.
  const std::vector<model::LocalId> probe(ids.begin(), ids.begin() + 40), again(ids.begin() + 40, ids.begin() + 80);
  DropPages(dir.path());
  long cold = 0;
  {
    Env e(dir.path());
    cold = ReadAll(e, probe);
  }
  if (cold < 40) GTEST_SKIP() << "the file system kept the pages posix_fadvise asked to drop";
  DropPages(dir.path());
  Env e(dir.path());
  ASSERT_TRUE(BranchWarmer::Walk(e.env, {"customers"}).complete);
  const long warmed = ReadAll(e, again);
  // 40 leaves at most (a leaf may hold two of them), no branch page.
  EXPECT_LE(warmed, 40) << "cold: " << cold;
  EXPECT_GT(cold, warmed) << "the branch pages were read by the lookups, not the walk";
}


// LeavesAhead: a prefix scan on a cold file that asks for the leaves ahead of
// it walks them without reading the disk itself; one that does not reads a
// leaf at every step. Keys "k" and seven digits, 100-byte values: about
// thirty to a leaf, so a range of a thousand keys spans some thirty leaves.
class LeavesAheadTest : public ::testing::Test {
 protected:
  static constexpr int kKeys = 20'000;
  static std::string KeyOf(int i) {
    char key[16];
    std::snprintf(key, sizeof key, "k%07d", i);
    return key;
  }
  void SetUp() override {
    Env e(dir_.path());
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(e.env, nullptr, 0, &txn), 0);
    const std::string value(100, 'v');
    for (int i = 0; i < kKeys; ++i) {
      const std::string key = KeyOf(i);
      MDB_val k{key.size(), const_cast<char*>(key.data())}, v{value.size(), const_cast<char*>(value.data())};
      ASSERT_EQ(mdb_put(txn, e.dbi, &k, &v, 0), 0);
    }
    ASSERT_EQ(mdb_txn_commit(txn), 0);
  }
  // From the first key of `prefix`, steps until the cursor has stood on
  // `leaves` more leaves (or the prefix ends); the major faults this thread
  // took on the way. With `ahead`, asks it at the first key (`asked`), then
  // gives the disk a moment before stepping.
  static long Walk(MDB_cursor* cursor, const std::string& prefix, std::size_t leaves,
                   lmdb_pages::LeavesAhead* ahead = nullptr, std::size_t* asked = nullptr) {
    MDB_val k{prefix.size(), const_cast<char*>(prefix.data())}, v{};
    EXPECT_EQ(mdb_cursor_get(cursor, &k, &v, MDB_SET_RANGE), 0);
    if (ahead != nullptr) {
      *asked = ahead->At(ByteView(static_cast<const std::uint8_t*>(k.mv_data), k.mv_size));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    const long before = ThreadMajorFaults();
    auto page = reinterpret_cast<std::uintptr_t>(k.mv_data) / 4096;
    for (std::size_t stood = 0; stood < leaves && mdb_cursor_get(cursor, &k, &v, MDB_NEXT) == 0;) {
      if (std::string_view(static_cast<const char*>(k.mv_data), k.mv_size).substr(0, prefix.size()) != prefix) break;
      const auto now = reinterpret_cast<std::uintptr_t>(k.mv_data) / 4096;
      if (now != page) ++stood;
      page = now;
    }
    return ThreadMajorFaults() - before;
  }
  testing::TempDir dir_;
};

TEST_F(LeavesAheadTest, AColdScanWalksTheLeavesItAskedForWithoutReadingThem) {
  DropPages(dir_.path());
  Env e(dir_.path());
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(e.env, nullptr, MDB_RDONLY, &txn), 0);
  MDB_cursor* cursor = nullptr;
  ASSERT_EQ(mdb_cursor_open(txn, e.dbi, &cursor), 0);
  // Keys k0012000..k0012999, asking for eight leaves ahead.
  lmdb_pages::LeavesAhead ahead(txn, "customers", "k0012", 8);
  std::size_t asked = 0;
  const long with = Walk(cursor, "k0012", 8, &ahead, &asked);
  EXPECT_GE(asked, 1u);
  EXPECT_LE(asked, 8u);
  // Keys k0005000..k0005999, as many leaves, nothing asked.
  const long without = Walk(cursor, "k0005", asked);
  mdb_cursor_close(cursor);
  mdb_txn_abort(txn);
  if (without * 2 < static_cast<long>(asked)) {
    GTEST_SKIP() << "the file system kept the pages posix_fadvise asked to drop (" << without << " faults for "
                 << asked << " cold leaves)";
  }
  EXPECT_LE(with * 4, without) << "asked for " << asked << " leaves";
}

TEST_F(LeavesAheadTest, NothingIsAskedPastThePrefixOrTwiceForOneLeaf) {
  Env e(dir_.path());
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(e.env, nullptr, MDB_RDONLY, &txn), 0);
  MDB_cursor* cursor = nullptr;
  ASSERT_EQ(mdb_cursor_open(txn, e.dbi, &cursor), 0);
  const auto at = [&](const std::string& key) {  // the key where the cursor finds it: in the map
    MDB_val k{key.size(), const_cast<char*>(key.data())}, v{};
    EXPECT_EQ(mdb_cursor_get(cursor, &k, &v, MDB_SET_KEY), 0);
    return ByteView(static_cast<const std::uint8_t*>(k.mv_data), k.mv_size);
  };
  // One key: the leaves after its own hold none that start with it.
  lmdb_pages::LeavesAhead exact(txn, "customers", KeyOf(19'999), 8);
  EXPECT_EQ(exact.At(at(KeyOf(19'999))), 0u);
  // Ten keys (k0019990..k0019999): on one leaf, or two.
  lmdb_pages::LeavesAhead ten(txn, "customers", "k001999", 8);
  EXPECT_LE(ten.At(at(KeyOf(19'990))), 1u);
  // A thousand keys: eight leaves asked, then none again from the same leaf.
  lmdb_pages::LeavesAhead wide(txn, "customers", "k0010", 8);
  const ByteView first = at(KeyOf(10'000));
  const std::size_t asked = wide.At(first);
  EXPECT_GE(asked, 1u);
  EXPECT_LE(asked, 8u);
  EXPECT_EQ(wide.At(first), 0u);
  // A database that is not there asks nothing, nor does a key outside the map.
  lmdb_pages::LeavesAhead missing(txn, "no such database", "k", 8);
  EXPECT_EQ(missing.At(first), 0u);
  const std::string copy = KeyOf(10'000);
  lmdb_pages::LeavesAhead outside(txn, "customers", "k0010", 8);
  EXPECT_EQ(outside.At(AsBytes(copy)), 0u);
  mdb_cursor_close(cursor);
  mdb_txn_abort(txn);
}

// The recent index's fold on a cold index (RecentIndex::FoldInto): two
// identical stores, each with an index of 60,000 entries and 128 customers'
// entries waiting; each folded with its pages dropped, one with a warmer and
// one without. With it, the folding thread reads (almost) none of the
// leaves itself: the warmer's threads read them, together.
class FoldWarmingTest : public ::testing::Test {
 protected:
  static constexpr int kIndexEntries = 60'000;
  static constexpr int kWaiting = 128;
  static constexpr int kEntriesEach = 6;

  // The same store in `dir` every time (a seeded generator).
  static void Build(const std::string& dir) {
    auto env = LmdbEnv::Open(dir, std::size_t{256} << 20, 4);
    ASSERT_TRUE(env.ok());
    auto txn = WriteTxn::Begin(*env);
    ASSERT_TRUE(txn.ok());
    MDB_dbi index = 0, outbox = 0;
    ASSERT_EQ(mdb_dbi_open(txn->get(), "index", MDB_CREATE, &index), 0);
    ASSERT_EQ(mdb_dbi_open(txn->get(), "outbox", MDB_CREATE, &outbox), 0);
    RecentIndex recent;
    ASSERT_TRUE(recent.Open(*txn, outbox).ok());
    std::mt19937_64 random(22);
    const auto key = [&] {
      std::string k(40, '\0');
      for (char& c : k) c = static_cast<char>(random() & 0xFF);
      return k;
    };
    for (int i = 0; i < kIndexEntries; ++i) {
      ASSERT_TRUE(txn->Put(index, AsBytes(key()), AsBytes(std::string(20, 'v'))).ok());
    }
    for (int c = 0; c < kWaiting; ++c) {
      model::LocalId id;
      for (auto& b : id.bytes) b = static_cast<std::uint8_t>(random() & 0xFF);
      std::vector<std::pair<std::string, std::string>> entries;
      for (int e = 0; e < kEntriesEach; ++e) entries.emplace_back(key(), std::string(20, 'w'));
      ASSERT_TRUE(recent.Add(*txn, id, entries).ok());
    }
    ASSERT_TRUE(std::move(*txn).Commit().ok());
  }

  // Folds the store in `dir` with its pages dropped; the folding thread's
  // major faults (-1, the test failed, when the store does not open).
  static long FoldCold(const std::string& dir, bool warm) {
    DropPages(dir);
    auto env = LmdbEnv::Open(dir, std::size_t{256} << 20, 4);
    if (!env.ok()) {
      ADD_FAILURE() << "cannot open " << dir << ": " << env.status().detail();
      return -1;
    }
    MDB_dbi index = 0, outbox = 0;
    RecentIndex recent;
    {
      auto open = WriteTxn::Begin(*env);
      EXPECT_EQ(mdb_dbi_open(open->get(), "index", 0, &index), 0);
      EXPECT_EQ(mdb_dbi_open(open->get(), "outbox", 0, &outbox), 0);
      EXPECT_TRUE(recent.Open(*open, outbox).ok());
      EXPECT_TRUE(std::move(*open).Commit().ok());
    }
    RecordWarmer warmer;
    warmer.Attach(env->get(), index, nullptr);
    auto txn = WriteTxn::Begin(*env);
    const long before = ThreadMajorFaults();
    const auto put = [index](WriteTxn& t, std::string_view key, std::string_view value) {
      return t.Put(index, AsBytes(key), AsBytes(value));
    };
    EXPECT_TRUE(recent.FoldInto(*txn, index, put, warm ? &warmer : nullptr).ok());
    const long faults = ThreadMajorFaults() - before;
    EXPECT_EQ(*recent.Customers(*txn), 0u);
    EXPECT_EQ(*txn->Count(index), static_cast<std::size_t>(kIndexEntries + kWaiting * kEntriesEach));
    EXPECT_TRUE(std::move(*txn).Commit().ok());
    return faults;
  }

  testing::TempDir warmed_dir_, cold_dir_;
};

TEST_F(FoldWarmingTest, AFoldOnAColdIndexHasItsLeavesReadByTheWarmer) {
  Build(cold_dir_.path());
  Build(warmed_dir_.path());
  const long cold = FoldCold(cold_dir_.path(), false);
  if (cold < kWaiting) {
    GTEST_SKIP() << "the file system kept the pages posix_fadvise asked to drop (" << cold
                 << " major faults folding " << kWaiting * kEntriesEach << " entries cold)";
  }
  const long warmed = FoldCold(warmed_dir_.path(), true);
  EXPECT_LE(warmed * 4, cold) << "cold: " << cold << ", with the warmer: " << warmed;
}

}  // namespace
}  // namespace kassa::storage
