#pragma once

// One daemon per data directory: an exclusive flock(2) on DIR/lock, held as
// long as the object lives and released by the kernel when the process
// dies (kill -9 included), so a stale lock never blocks a restart. LMDB
// itself lets several processes share an environment; two kassad on one
// directory would each believe they own the outbox.

#include <string>

#include "kassa/base/status.h"

namespace kassa::daemon {

class DirectoryLock {
 public:
  // Returns: kOk holding the lock; kFailedPrecondition "data: ..." when
  // another process holds it; kUnavailable when the lock file cannot be
  // opened (errno in the log).
  static Result<DirectoryLock> Acquire(const std::string& directory);

  DirectoryLock(DirectoryLock&& other) noexcept;
  DirectoryLock& operator=(DirectoryLock&&) = delete;
  DirectoryLock(const DirectoryLock&) = delete;
  ~DirectoryLock();

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace kassa::daemon
