#include "core_keeper.h"

#include <lmdb.h>

#include <cerrno>
#include <chrono>
#include <utility>

#include "kassa/base/log.h"

namespace kassa::storage::terminal {

CoreKeeper::CoreKeeper(std::unique_ptr<StoreCore> core, Opener reopen)
    : core_(std::move(core)), reopen_(std::move(reopen)) {}

void CoreKeeper::Failed(const char* what, bool counts) {
  if (counts) ++failed_in_a_row_;
  health_.last_failure = what;
  health_.last_failure_at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count();
}

void CoreKeeper::Observe() {
  if (core_ == nullptr || reopen_needed_) return;
  if (const int rc = core_->env.disk_failure(); rc != 0) {
    ++health_.failed_commits;
    // A full filesystem is "storage full", not a failing disk: reopened all
    // the same (a sync may be what failed), never counted towards failing.
    Failed(mdb_strerror(rc), rc != ENOSPC && rc != EDQUOT);
    reopen_needed_ = true;
  } else if (core_->sealing->slots_failed()) {
    ++health_.failed_commits;
    Failed("the key slots file failed a write or sync (see log)", true);
    reopen_needed_ = true;
  } else if (const std::uint64_t commits = core_->env.commits(); commits != commits_seen_) {
    commits_seen_ = commits;
    failed_in_a_row_ = 0;
  }
  health_.failing = failed_in_a_row_ >= StorageHealth::kFailingAfter;
}

Result<StoreCore*> CoreKeeper::Acquire() {
  Observe();
  if (!reopen_needed_) return core_.get();
  if (core_ != nullptr) {
    KASSA_LOG(kWarning) << "the disk failed a commit (" << health_.last_failure
                        << "): closing the customer store and opening it again";
    core_.reset();  // the old environment and its descriptors close before the new one opens
  } else if (SteadyClock::now() - last_attempt_ < kRetryEvery) {
    return Status(StatusCode::kUnavailable, "storage failing: the customer store cannot be opened (see log)");
  }
  last_attempt_ = SteadyClock::now();
  auto opened = reopen_();
  if (!opened.ok()) {
    KASSA_LOG(kError) << "reopening the customer store failed: " << opened.status().message();
    Failed("the store could not be opened again", true);
    health_.failing = true;
    return Status(StatusCode::kUnavailable, "storage failing: the customer store cannot be opened (see log)");
  }
  core_ = std::move(*opened);
  commits_seen_ = core_->env.commits();
  reopen_needed_ = false;
  ++health_.reopens;
  health_.failing = failed_in_a_row_ >= StorageHealth::kFailingAfter;
  KASSA_LOG(kInfo) << "the customer store is open again (" << health_.reopens << " reopen(s) since the start)";
  return core_.get();
}

StorageHealth CoreKeeper::Health() {
  Observe();
  return health_;
}

}  // namespace kassa::storage::terminal
