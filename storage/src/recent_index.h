#pragma once

// RecentIndex: the index entries of the customers created on this terminal
// since they were last folded into the index. Private to kassa::storage.
//
// A durable create must write the customer, its index entries and its
// outbox entry in one synced transaction. Written into the index itself,
// its half a dozen entries land on as many leaves of a large B-tree, and
// LMDB copies each leaf and its path: the sync writes ten scattered pages
// more than a bare put. Here they go, in one record, to the end of a small
// table (one leaf and its root), in that same transaction:
//
//   index_recent: sequence (8 bytes, big-endian) -> customer id (16 bytes),
//                 then per entry: key length (2) | index key | value length (2) | value
//
//   index_recent: kVersionKey (8 bytes 0xFF) -> version (8 bytes, big-endian)
//
// The keys and values are exactly what the index would hold. Search reads
// both (CustomerTables merges them in key order), so a customer is found
// the moment its create commits. The entries move into the index when the
// customer is next written (headquarters' account number, an edit), or all
// at once when kFoldAt customers are waiting.
//
// A search reads the entries waiting through Entries(). Every commit that
// changes the table changes its version (Add, Remove, Clear), so committed
// snapshots of one version hold the same entries, and one copy of them,
// sorted, serves every search of that version, each scan finding its own
// by a binary search: a terminal in service always has some creations
// waiting, and reading and filtering them for every search cost more than
// the search itself (docs/PERFORMANCE.md). A write transaction, a snapshot
// older than the copy held, and a table without a version (a store of
// layout 10, until its migration) read them for themselves.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kassa/model/customer.h"
#include "lmdb_txn.h"

namespace kassa::storage {

class RecordWarmer;

// One index entry held here: views into the transaction's map.
struct RecentEntry {
  std::string_view key;
  std::string_view value;
};

// The entries waiting in one snapshot.
class RecentEntries {
 public:
  // Appends the entries whose key starts with `prefix` to `out`, in key order.
  void StartingWith(std::string_view prefix, std::vector<RecentEntry>& out) const;
  // Whether an entry may start with `prefix`: false only when none does.
  bool MayStartWith(std::string_view prefix) const;
  bool empty() const { return entries_.empty(); }
  std::size_t size() const { return entries_.size(); }

 private:
  friend class RecentIndex;
  // The entries sorted by key (the shared copy), or in the table's order:
  // read for one transaction alone, filtered by every scan rather than
  // sorted (a write transaction's few scans cost less than a sort).
  bool sorted_ = false;
  std::string bytes_;                 // the keys and values, when held beyond their transaction
  std::vector<RecentEntry> entries_;  // views into bytes_, or into a transaction's map
};

class RecentIndex {
 public:
  // Customers waiting when a create folds them all into the index first.
  static constexpr std::size_t kFoldAt = 128;
  // The version's key: after every sequence, so that a create's append and
  // its new version change the same page (the table's last leaf).
  static constexpr std::uint64_t kVersionKey = UINT64_MAX;

  RecentIndex();
  ~RecentIndex();
  RecentIndex(RecentIndex&&) noexcept;
  RecentIndex& operator=(RecentIndex&&) noexcept;

  // Opens (creating) the table in `txn`, and starts its version when it
  // has none (a new store, or one of layout 10).
  Status Open(WriteTxn& txn);

  // Appends customer `id`'s index entries (key, value) as one record.
  Status Add(WriteTxn& txn, const model::LocalId& id, const std::vector<std::pair<std::string, std::string>>& entries);

  // Removes customer `id`'s record. Returns whether there was one.
  Result<bool> Remove(WriteTxn& txn, const model::LocalId& id);

  // How many customers' entries are waiting.
  Result<std::size_t> Customers(const ReadTxn& txn) const;

  // Appends every entry waiting, in no particular order, to `out`: views
  // valid until `txn` ends. Returns: kOk; kDataLoss for a malformed record.
  Status Load(const ReadTxn& txn, std::vector<RecentEntry>& out) const;

  // Every entry waiting in `txn`'s snapshot (see above): valid until `txn`
  // ends, or as long as it is held when it is the shared copy.
  // Safe from any thread. Returns: kOk; kDataLoss for a malformed record
  // or version.
  Result<std::shared_ptr<const RecentEntries>> Entries(const ReadTxn& txn) const;

  // How the fold writes one entry into the index (CustomerTables counts
  // its index's heads as it does).
  using PutEntry = std::function<Status(WriteTxn&, std::string_view key, std::string_view value)>;

  // Puts every entry waiting into `index` through `put`, in key order, and
  // empties this table. With `warmer` (attached to the same environment): once a put
  // takes long enough to have read its leaf from the disk (a board whose
  // memory holds a fraction of the index), the keys still to come are
  // handed to it, so that their leaves are read together instead of one
  // after the other; what it reaches in time, the puts find in memory.
  Status FoldInto(WriteTxn& txn, MDB_dbi index, const PutEntry& put, RecordWarmer* warmer = nullptr);

  // Empties this table (the index is being rebuilt from the customers).
  Status Clear(WriteTxn& txn);

 private:
  // The version in `txn`'s snapshot; nullopt when the table has none.
  Result<std::optional<std::uint64_t>> Version(const ReadTxn& txn) const;
  // Stamps the next version in `txn`.
  Status Bump(WriteTxn& txn);

  // The sorted copy of one committed version.
  struct Shared {
    std::mutex mutex;
    std::shared_ptr<const RecentEntries> entries;  // null: none read yet
    std::uint64_t version = 0;                     // entries'
    std::size_t txn_id = 0;                        // a snapshot known to be of `version`
  };

  MDB_dbi dbi_ = 0;
  std::unique_ptr<Shared> shared_;
};

}  // namespace kassa::storage
