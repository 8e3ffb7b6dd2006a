#pragma once

// The benchmark's memory-limited mode (issue 22): a memory control group that
// holds one side of the comparison (its process and the page cache it reads
// and writes) to a board's memory, a child process that runs one phase inside
// such a group and hands its result back, the page cache dropped between
// phases, and the I/O a process caused, to count the pages a query read.
//
// Needs root: control groups are made under the benchmark's own memory
// cgroup (cgroup v1 `memory.limit_in_bytes` where the memory controller is
// mounted as v1, else v2 `memory.max`), and /proc/sys/vm/drop_caches is
// written. Every failure says what it could not do; nothing is skipped
// silently.

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>

#include "kassa/base/status.h"

namespace kassa::bench {

// "512M", "256MiB", "1G", "1073741824" -> bytes (K/M/G are powers of 1024).
// Returns: kInvalidArgument naming the form expected.
Result<std::uint64_t> ParseMemorySize(const std::string& text);

class MemoryCgroup {
 public:
  // Makes a new group `name` (unique per process) under this process's own
  // memory cgroup, limited to `limit_bytes`, swap included where the kernel
  // accounts it. Returns: kFailedPrecondition when no memory controller is
  // available or the group cannot be made (not root, read-only cgroupfs).
  static Result<MemoryCgroup> Create(const std::string& name, std::uint64_t limit_bytes);
  MemoryCgroup(MemoryCgroup&& other) noexcept : dir_(std::move(other.dir_)), v1_(other.v1_) { other.dir_.clear(); }
  MemoryCgroup& operator=(MemoryCgroup&&) = delete;
  // Removes the group (its processes must have ended).
  ~MemoryCgroup();

  // Moves process `pid` into the group. Pages it touches from then on are
  // charged to the group.
  Status Join(pid_t pid) const;
  // The group's highest usage so far (v1 max_usage_in_bytes, v2
  // memory.peak), in bytes; 0 where the kernel does not report it.
  std::uint64_t PeakBytes() const;
  // The file a process writes its pid to, to join (for a child before exec).
  std::string ProcsFile() const { return dir_ + "/cgroup.procs"; }
  const std::string& dir() const { return dir_; }

 private:
  MemoryCgroup(std::string dir, bool v1) : dir_(std::move(dir)), v1_(v1) {}
  std::string dir_;
  bool v1_;
};

// Runs `body` in a forked child that joins `group` before it begins, and
// returns what `body` returned (the child's report, as text). The caller
// must have no open LMDB environment or SQLite connection it shares with the
// child, and no other threads. Returns: kInternal when the child fails, is
// killed (the kernel's OOM killer at the limit among others) or returns
// nothing.
Result<std::string> RunInGroup(const MemoryCgroup& group, const std::function<std::string()>& body);

// Writes every dirty page and drops the page cache. Returns:
// kFailedPrecondition when /proc/sys/vm/drop_caches cannot be written.
Status DropPageCache();

// What the calling process has read from the storage layer so far
// (/proc/self/io read_bytes, page faults of a memory map included) and its
// major page faults.
struct IoCounters {
  std::uint64_t read_bytes = 0;
  std::uint64_t write_bytes = 0;
  std::uint64_t major_faults = 0;
};
IoCounters ReadOwnIo();

}  // namespace kassa::bench
