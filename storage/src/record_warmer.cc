#include "record_warmer.h"

#include <sys/resource.h>

#include <cstring>
#include <system_error>

#include "kassa/base/log.h"

namespace kassa::storage {

RecordWarmer::~RecordWarmer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    waiting_.clear();
  }
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

namespace {

thread_local long last_major_faults = -1;  // -1: not taken yet
thread_local std::chrono::steady_clock::time_point primed_at;

}  // namespace

bool RecordWarmer::ThreadReadFromDisk() {
  rusage usage{};
  if (::getrusage(RUSAGE_THREAD, &usage) != 0) return true;  // cannot tell: as if it had
  const bool grew = last_major_faults < 0 || usage.ru_majflt > last_major_faults;
  last_major_faults = usage.ru_majflt;
  return grew;
}

void RecordWarmer::PrimeThread() {
  const auto now = std::chrono::steady_clock::now();
  if (last_major_faults >= 0 && now - primed_at < std::chrono::seconds(1)) return;
  ThreadReadFromDisk();
  primed_at = now;
}

void RecordWarmer::Attach(MDB_env* env, MDB_dbi records, TouchNext touch_next) {
  env_ = env;
  records_ = records;
  touch_next_ = std::move(touch_next);
}

void RecordWarmer::AddRecords(std::deque<Job>& jobs, const model::LocalId* ids, std::size_t count) const {
  for (std::size_t i = 0; i < count; ++i) {
    jobs.push_back({records_, std::string(reinterpret_cast<const char*>(ids[i].bytes.data()), ids[i].bytes.size()), true});
  }
}

void RecordWarmer::Warm(const model::LocalId* ids, std::size_t count) {
  std::deque<Job> jobs;
  AddRecords(jobs, ids, count);
  Queue(std::move(jobs));
}

void RecordWarmer::WarmSeeks(MDB_dbi dbi, std::vector<std::string> keys, const std::vector<model::LocalId>& records) {
  std::deque<Job> jobs;
  AddRecords(jobs, records.data(), records.size());
  for (std::string& key : keys) jobs.push_back({dbi, std::move(key), false});
  Queue(std::move(jobs));
}

void RecordWarmer::Queue(std::deque<Job> jobs) {
  if (env_ == nullptr || jobs.empty()) return;
  const std::size_t count = jobs.size();
  {
    std::lock_guard lock(mu_);
    waiting_ = std::move(jobs);
    if (threads_.empty()) {
      for (unsigned i = 0; i < kThreads; ++i) {
        try {
          threads_.emplace_back([this] { Run(); });
        } catch (const std::system_error& e) {
          // Out of threads or address space: warm with the ones made (warming
          // is only ever a help; with none, nothing is warmed).
          KASSA_LOG_THROTTLED("record warmer: started " << threads_.size() << " of " << kThreads
                                                        << " threads: " << e.what());
          break;
        }
      }
      if (threads_.empty()) {
        waiting_.clear();
        return;
      }
    }
  }
  // As many threads as there are lookups: the others would only wake to find
  // nothing, taking the CPU from the search they help.
  if (count >= kThreads) {
    wake_.notify_all();
  } else {
    for (std::size_t i = 0; i < count; ++i) wake_.notify_one();
  }
}

void RecordWarmer::Run() {
  MDB_txn* txn = nullptr;  // reset between records: holds no snapshot while idle
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [&] { return stopping_ || !waiting_.empty(); });
      if (stopping_) break;
      job = std::move(waiting_.front());
      waiting_.pop_front();
    }
    const int begun = txn == nullptr ? mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn) : mdb_txn_renew(txn);
    if (begun != MDB_SUCCESS) {
      // No reader slot free, for one: warming is only ever a help.
      KASSA_LOG_THROTTLED("record warmer: cannot begin a read transaction: " << mdb_strerror(begun));
      if (txn != nullptr) mdb_txn_abort(txn);
      txn = nullptr;
      continue;
    }
    MDB_val key{job.key.size(), job.key.data()}, value{};
    if (job.record) {
      if (mdb_get(txn, job.dbi, &key, &value) == MDB_SUCCESS) {
        const ByteView record(static_cast<const std::uint8_t*>(value.mv_data), value.mv_size);
        // A record on overflow pages: its last page too (the first came with the get).
        volatile std::uint8_t last = record.empty() ? 0 : record.back();
        (void)last;
        model::LocalId id;
        if (job.key.size() == id.bytes.size()) std::memcpy(id.bytes.data(), job.key.data(), id.bytes.size());
        if (touch_next_) touch_next_(id, record);
      }
    } else if (MDB_cursor* cursor = nullptr; mdb_cursor_open(txn, job.dbi, &cursor) == MDB_SUCCESS) {
      mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE);  // the leaf the scan starts on
      mdb_cursor_close(cursor);
    }
    mdb_txn_reset(txn);
    done_.fetch_add(1, std::memory_order_relaxed);
  }
  if (txn != nullptr) mdb_txn_abort(txn);
}

}  // namespace kassa::storage
