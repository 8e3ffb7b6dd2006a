// RecordWarmer (storage/src/record_warmer.h): records it was asked to warm
// are in memory afterwards, so reading them costs no disk read. Real LMDB in
// a temporary directory; the data file's pages are dropped from the page
// cache with posix_fadvise (no privileges needed), and disk reads are
// counted as the reading thread's major page faults.

#include "record_warmer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <lmdb.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
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
  explicit Env(const std::string& dir) {
    EXPECT_EQ(mdb_env_create(&env), 0);
    EXPECT_EQ(mdb_env_set_maxdbs(env, 4), 0);
    EXPECT_EQ(mdb_env_set_mapsize(env, std::size_t{64} << 20), 0);
    EXPECT_EQ(mdb_env_open(env, dir.c_str(), MDB_NOTLS | MDB_NORDAHEAD, 0600), 0);
    MDB_txn* txn = nullptr;
    EXPECT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    EXPECT_EQ(mdb_dbi_open(txn, "customers", MDB_CREATE, &dbi), 0);
    EXPECT_EQ(mdb_txn_commit(txn), 0);
  }
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

TEST(RecordWarmerTest, WarmedRecordsAreReadWithoutADiskRead) {
  testing::TempDir dir;
  std::vector<model::LocalId> ids;
  {
    Env e(dir.path());
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(e.env, nullptr, 0, &txn), 0);
    const std::string value(kRecordBytes, 'r');
    for (int i = 0; i < kRecords; ++i) {
      ids.push_back(*model::LocalId::Generate());
      MDB_val k{ids.back().bytes.size(), ids.back().bytes.data()}, v{value.size(), const_cast<char*>(value.data())};
      ASSERT_EQ(mdb_put(txn, e.dbi, &k, &v, 0), 0);
    }
    ASSERT_EQ(mdb_txn_commit(txn), 0);
  }
  const std::vector<model::LocalId> cold(ids.begin(), ids.begin() + kRead), warmed(ids.end() - kRead, ids.end());

  // Without warming: the reads go to the disk.
  DropPages(dir.path());
  long cold_faults = 0;
  {
    Env e(dir.path());
    cold_faults = ReadAll(e, cold);
  }
  if (cold_faults < kRead / 10) {
    GTEST_SKIP() << "the file system kept the pages posix_fadvise asked to drop (" << cold_faults
                 << " major faults for " << kRead << " cold reads): nothing to measure here";
  }

  // Warmed: the warmer's threads read them; this thread then takes (almost) no fault.
  DropPages(dir.path());
  Env e(dir.path());
  std::atomic<int> touched{0};
  std::atomic<std::size_t> bytes{0};
  {
    RecordWarmer warmer;
    warmer.Attach(e.env, e.dbi, [&](const model::LocalId&, ByteView record) {
      bytes += record.size();
      ++touched;
    });
    warmer.Warm(warmed.data(), warmed.size());
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (touched < kRead && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ASSERT_EQ(touched, kRead) << "the warmer did not reach every record in 30 s";
    EXPECT_EQ(bytes, kRead * kRecordBytes);
  }  // the threads joined
  const long warm_faults = ReadAll(e, warmed);
  EXPECT_LE(warm_faults * 10, cold_faults) << "cold: " << cold_faults << ", after warming: " << warm_faults;
}

TEST(RecordWarmerTest, AMissingRecordIsSkippedAndStoppingWithWorkQueuedReturns) {
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

}  // namespace
}  // namespace kassa::storage
