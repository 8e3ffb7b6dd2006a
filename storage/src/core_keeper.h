#pragma once

// CoreKeeper: keeps the terminal store's StoreCore open for its views, and
// opens it again after the disk failed a commit. Private to storage/src.
//
// After a failed write or sync (of the data file, or of the key slots file,
// key_slots.h) LMDB's transaction is gone and nothing of it is on disk, but the environment is not to be trusted with the next one:
// the kernel may have dropped the dirty pages of a failed fsync and report
// the next fsync on the same descriptor as a success, and a failed meta
// page write leaves LMDB refusing every write (MDB_PANIC). So the keeper
// closes the whole core (environment, sealing and key slots file, tables,
// warmers) and opens it afresh from the files before the next call, so that
// nothing the failed transaction left in memory outlives it either.
//
// A disk that keeps failing (StorageHealth::kFailingAfter commits in a row,
// or a reopen that fails; a full filesystem is "storage full" instead and
// does not count) makes the store "failing" (StorageHealth), which
// status, the screens and the metrics show; the next commit that succeeds
// ends it. While the core cannot be reopened every call is refused with
// "storage failing", and a reopen is tried again at most once a second.
//
// Threading: as the views: the service's io_context thread only.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include "terminal_core.h"

namespace kassa::storage::terminal {

class CoreKeeper {
 public:
  using Opener = std::function<Result<std::unique_ptr<StoreCore>>()>;

  // `core`: the store as opened; `reopen`: opens it again from its files.
  CoreKeeper(std::unique_ptr<StoreCore> core, Opener reopen);

  // The core for one call, opened again first when the disk failed a commit
  // since the previous call. Returns: the core; kUnavailable "storage
  // failing" while it cannot be reopened.
  Result<StoreCore*> Acquire();

  StorageHealth Health();

 private:
  using SteadyClock = std::chrono::steady_clock;
  static constexpr SteadyClock::duration kRetryEvery = std::chrono::seconds(1);

  // Takes in what the open environment's commits met since the last look.
  void Observe();
  // Notes a failure; `counts`: towards the failures in a row that make the store failing.
  void Failed(const char* what, bool counts);

  std::unique_ptr<StoreCore> core_;
  Opener reopen_;
  std::uint64_t commits_seen_ = 0;  // the open environment's commits counted so far
  std::uint64_t failed_in_a_row_ = 0;
  bool reopen_needed_ = false;
  SteadyClock::time_point last_attempt_{};
  StorageHealth health_;
};

}  // namespace kassa::storage::terminal
