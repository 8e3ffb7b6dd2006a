#pragma once

// HeadsCache: which index heads exist (index_heads, customer_tables.h),
// held in memory for the searches of read-only snapshots, so each of a
// search's five or six "may the index hold a term starting so?" questions
// is a probe of a small table instead of a descent of index_heads (1.3 us
// of a 10 us identifier search at 1M customers: docs/PERFORMANCE.md).
//
// index_heads keeps a version under kVersionKey, and every commit that adds
// a head or deletes one changes it (CustomerTables::CountHead, DropHeads),
// so two committed snapshots with the same version hold the same heads. A
// set read at one snapshot serves every snapshot of its version; a snapshot
// of a newer version reads its own, which replaces the cached one. Nothing
// is cached (the caller asks index_heads itself) for a snapshot older than
// the cached set's version (a reader that began before a change), for a
// write transaction (its heads are not committed), for a store without a
// version (one whose heads were dropped by hand, until its next open), or
// for more than kMaxHeads heads (the table would outgrow a terminal's
// memory budget).
//
// Threading: safe from any thread.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "lmdb_txn.h"

namespace kassa::storage {

// The heads of one version: a set of their fingerprints.
class HeadSet {
 public:
  // Whether `head` (a key of index_heads) may exist: false only when it
  // does not (two heads sharing a fingerprint cost a scan, never a miss).
  bool MayContain(std::string_view head) const;

 private:
  friend class HeadsCache;
  explicit HeadSet(std::size_t heads);
  void Add(std::string_view head);
  static std::uint64_t Fingerprint(std::string_view head);

  std::vector<std::uint64_t> slots_;  // open addressing, a power of two at least twice the heads; 0: empty
};

class HeadsCache {
 public:
  // index_heads' key of its version (8 bytes, big-endian): no head has it,
  // as every head starts with its index kind (1 and up).
  static constexpr std::string_view kVersionKey{"\0", 1};
  static constexpr std::size_t kMaxHeads = std::size_t{1} << 15;

  // The heads of `txn`'s snapshot of `heads` (the index_heads database), or
  // null when none are cached for it (see above).
  // Returns: kOk; kDataLoss when the version is malformed; read errors.
  Result<std::shared_ptr<const HeadSet>> For(const ReadTxn& txn, MDB_dbi heads);

 private:
  std::mutex mutex_;
  std::shared_ptr<const HeadSet> set_;  // null: none read yet
  std::uint64_t version_ = 0;           // set_'s
  std::size_t txn_id_ = 0;              // a snapshot known to be of version_
  std::uint64_t too_many_version_ = 0;  // a version found with more than kMaxHeads heads (0: none)
};

}  // namespace kassa::storage
