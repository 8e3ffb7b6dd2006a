#pragma once

// LMDB's on-disk page format, read through the environment's memory map:
// what the warmers need to ask the kernel for pages before a lookup reaches
// them (BranchWarmer: every branch page; LeavesAhead: the leaves a scan
// reaches next).
//
// Written by hand because no LMDB call reaches pages: it reads mdb.c's data
// format 1 (the page header, branch nodes, a database's MDB_db record in the
// main database), always inside a read transaction, so the pages it reads
// stay as they are. Everything read is checked (page numbers within the file,
// branch flags, each page's own number, node offsets within the page); any
// disagreement makes the caller stop: warming is only ever a help.
// Private to kassa::storage.

#include <lmdb.h>

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "kassa/base/bytes.h"

namespace kassa::storage::lmdb_pages {

// LMDB's MDB_db (mdb.c): a database's record in the main database.
struct DbRecord {
  std::uint32_t pad;
  std::uint16_t flags;
  std::uint16_t depth;  // levels, the leaves' included
  std::size_t branch_pages, leaf_pages, overflow_pages, entries;
  std::size_t root;
};
static_assert(sizeof(DbRecord) == 8 + 5 * sizeof(std::size_t));

// A node of a branch page: the child it leads to, and the smallest key under
// it (node 0's key is not kept: everything below node 1's).
struct BranchNode {
  std::size_t child = 0;
  std::string_view key;
};

// The map of one environment, as seen from a read transaction.
class MapView {
 public:
  // The view of the map holding `inside` (a value LMDB returned from a read
  // transaction of `env`: those point into the map), or an invalid view when
  // the map does not start where LMDB's format puts it (valid() false).
  static MapView Of(MDB_env* env, const void* inside);

  bool valid() const { return map_ != nullptr; }
  std::size_t page_size() const { return page_size_; }
  // Whether `p` points into the map's pages.
  bool Holds(const void* p) const {
    const auto at = reinterpret_cast<std::uintptr_t>(p), start = reinterpret_cast<std::uintptr_t>(map_);
    return map_ != nullptr && at >= start && at - start < pages_ * page_size_;
  }
  // The number of the page holding `inside` (a pointer into the map).
  std::size_t PageOf(const void* inside) const {
    return (reinterpret_cast<std::uintptr_t>(inside) - reinterpret_cast<std::uintptr_t>(map_)) / page_size_;
  }
  // Appends branch page `pgno`'s nodes to `out`; false (and `problem` set)
  // when the page is not what a branch page of this file must be.
  bool BranchNodes(std::size_t pgno, std::vector<BranchNode>& out, const char*& problem) const;
  // Asks the kernel for page `pgno` (MADV_WILLNEED: read in the background).
  void Ask(std::size_t pgno) const;

 private:
  const std::uint8_t* map_ = nullptr;
  std::size_t page_size_ = 0, pages_ = 0;
};

// The record of database `name` in `txn`, copied to `out`; where it lies
// (in the map, for a read transaction), or nullptr: none, or not LMDB's MDB_db.
const void* ReadDbRecord(MDB_txn* txn, const char* name, DbRecord& out);

// LeavesAhead: asks for the leaves a prefix scan of one database will reach
// next. A scan of many entries (a name prefix, two name tokens) walks leaf
// after leaf, and on a cold map each is a disk read the next one waits for;
// their numbers are on the branch page above, which the scan's own descent
// has just read. When the scan stands on a leaf for the first time, the next
// `max_leaves` leaves under the same branch page whose smallest key may still
// start with the scan's prefix are asked for at once, so the disk reads them
// together. Nothing is asked beyond the prefix's range.
class LeavesAhead {
 public:
  // `txn` must be read-only (MDB_RDONLY): a write transaction's pages may be
  // its own copies outside the map, which MapView would read as if they were
  // in it. LMDB cannot be asked which a transaction is; callers know
  // (ReadTxn::writable()).
  LeavesAhead(MDB_txn* txn, const char* database, std::string_view prefix, std::size_t max_leaves)
      : txn_(txn), database_(database), prefix_(prefix), max_leaves_(max_leaves) {}

  // The scan stands on `key` (as a cursor of the read transaction returned
  // it: in the map; anything else asks nothing): on a leaf it had not stood
  // on, asks for the ones after it. Returns how many pages were asked for.
  std::size_t At(ByteView key);

 private:
  MDB_txn* txn_;
  const char* database_;
  std::string_view prefix_;
  std::size_t max_leaves_;
  bool broken_ = false;  // the format disagreed, or nothing to read: asks nothing more
  MapView map_;
  DbRecord record_{};
  std::size_t leaf_ = 0;  // the last leaf stood on (0: none yet; pages 0 and 1 are meta pages)
  std::vector<BranchNode> nodes_;
};

}  // namespace kassa::storage::lmdb_pages
