#pragma once

// BranchWarmer: reads the branch pages of chosen LMDB databases into memory,
// in the background, once the store is open.
//
// Every lookup walks from a tree's root through its branch pages to a leaf.
// The branch pages are a small part of the file (about 0.5% of a million
// customers' 1.4 GB) and every lookup needs some of them, but right after
// boot, or on a board whose memory holds a fraction of the file, each first
// visit to one is a disk read the associate waits for: a cold lookup reads
// three or four pages one after the other where one would do. The warmer
// asks for all of a level's pages at once (MADV_WILLNEED: the disk serves
// them together) and reads them to find the next level, down to the leaves,
// which it leaves alone. Searches run meanwhile; nothing waits for it.
//
// No LMDB call reaches pages: it reads LMDB's page format (lmdb_pages.h),
// inside a read transaction so the pages it reads stay as they are, and
// checks the count walked against mdb_stat's; any disagreement stops the walk
// with a log line: warming is only ever a help.
// Private to kassa::storage.

#include <lmdb.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace kassa::storage {

class BranchWarmer {
 public:
  // What one walk did, for the log and the tests.
  struct Walked {
    std::uint64_t branch_pages = 0;  // read
    std::uint64_t expected = 0;      // mdb_stat's ms_branch_pages
    bool complete = false;           // every branch page reached, the count agreeing
  };

  // Walks the branch pages of the named databases of `env` now, in this
  // thread (Start runs it in the background), inside one read transaction:
  // until `stop` is set or `deadline` passes, so a walk starved of the disk
  // never pins an old snapshot (and the free pages it holds) for long.
  using Clock = std::chrono::steady_clock;
  static Walked Walk(MDB_env* env, const std::vector<std::string>& databases, const std::atomic<bool>* stop = nullptr,
                     Clock::time_point deadline = Clock::time_point::max());
  // How long Start's walk may take.
  static constexpr std::chrono::seconds kMaxWalk{10};

  BranchWarmer() = default;
  BranchWarmer(const BranchWarmer&) = delete;
  BranchWarmer& operator=(const BranchWarmer&) = delete;
  // Stops the walk between pages and joins: before the environment closes.
  ~BranchWarmer();

  // Walks in a thread of its own.
  void Start(MDB_env* env, std::vector<std::string> databases);

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace kassa::storage
