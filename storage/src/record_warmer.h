#pragma once

// RecordWarmer: brings many customer records into memory at the same time.
//
// A read of LMDB's memory map faults its page in synchronously: reading the
// twenty customers of a search from a cold cache (a board whose memory holds
// a fraction of the data file, or any store just after boot) waits for twenty
// disk reads one after the other, and so do the four or five index scans one
// query makes. The warmer's threads do the same lookups at once, each in a
// read transaction of its own (touching records' key slots too), so the disk
// serves those reads together; the caller, reading in order, finds each page
// in memory or already on its way. The same goes for the leaves a fold of
// the recent index is about to write (RecentIndex::FoldInto), whose keys are
// known before its puts reach them. Warming only touches pages: it never
// changes what a reader sees, and a page it does not reach in time is read
// as before. Measured in docs/PERFORMANCE.md ("A board's memory").
//
// Threads start on the first Warm() or WarmSeeks(), so a store whose pages
// are always in memory never has any. Private to kassa::storage.

#include <lmdb.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kassa/base/bytes.h"
#include "kassa/model/customer.h"

namespace kassa::storage {

class RecordWarmer {
 public:
  // Called in a warmer thread with each record found, to touch what reading
  // it needs next (its key slot).
  using TouchNext = std::function<void(const model::LocalId&, ByteView)>;

  RecordWarmer() = default;
  RecordWarmer(const RecordWarmer&) = delete;
  RecordWarmer& operator=(const RecordWarmer&) = delete;
  // Stops and joins the threads: call before the environment closes.
  ~RecordWarmer();

  // The environment and its records' database; `touch_next` as above.
  void Attach(MDB_env* env, MDB_dbi records, TouchNext touch_next);

  // Queues the records `ids` (replacing what still waits: an older search's
  // leftovers are no longer wanted) and returns at once.
  void Warm(const model::LocalId* ids, std::size_t count);
  // Queues seeks of `keys` in database `dbi` (the first entry at or after
  // each), the same way; with `records`, those records (as Warm) ahead of
  // the seeks.
  void WarmSeeks(MDB_dbi dbi, std::vector<std::string> keys, const std::vector<model::LocalId>& records = {});

  // Lookups done so far (records and seeks, found or not).
  std::uint64_t done() const { return done_.load(std::memory_order_relaxed); }

  // A search's twenty records are twenty reads, each followed by its key
  // slot's: with four threads they came five at a time (the phone fragment's
  // p99 at 512 MB 2.4 ms; with sixteen 1.6 ms, docs/PERFORMANCE.md). A thread
  // waiting on the disk takes no CPU, and only as many wake as there are
  // lookups queued.
  static constexpr unsigned kThreads = 16;
  // A lookup slower than this may have read a page from the disk (one from
  // memory takes a microsecond or two)...
  static constexpr std::chrono::microseconds kFromDisk{40};
  // ...and did, when this thread's major page faults grew since it last
  // asked (getrusage(RUSAGE_THREAD)): the moment to warm what comes next.
  // A lookup slow for another reason (the thread preempted, the kernel
  // filling page tables) starts no warming, whose threads would only
  // compete for the CPU with the search. The count is taken again by
  // PrimeThread(); a thread's first call, before any, answers true.
  static bool ThreadReadFromDisk();
  // Takes this thread's count when it was last taken over a second ago
  // (later calls cost a clock read), so faults of long before (a store's
  // load, a library's code paged in) are not taken for a search's: readers
  // and writers call it before their lookups.
  static void PrimeThread();
  // Both: `elapsed` over kFromDisk, and the disk read.
  static bool FromDisk(std::chrono::steady_clock::duration elapsed) {
    return elapsed > kFromDisk && ThreadReadFromDisk();
  }

 private:
  struct Job {
    MDB_dbi dbi = 0;
    std::string key;
    bool record = false;  // a record by id (touch_next_ after), else a seek
  };
  void AddRecords(std::deque<Job>& jobs, const model::LocalId* ids, std::size_t count) const;
  void Queue(std::deque<Job> jobs);
  void Run();

  MDB_env* env_ = nullptr;
  MDB_dbi records_ = 0;
  TouchNext touch_next_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> waiting_;
  bool stopping_ = false;
  std::atomic<std::uint64_t> done_{0};
  std::vector<std::thread> threads_;
};

}  // namespace kassa::storage
