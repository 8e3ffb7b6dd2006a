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
// The keys and values are exactly what the index would hold. Search reads
// both (CustomerTables merges them in key order), so a customer is found
// the moment its create commits. The entries move into the index when the
// customer is next written (headquarters' account number, an edit), or all
// at once when kFoldAt customers are waiting.

#include <cstddef>
#include <functional>
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

class RecentIndex {
 public:
  // Customers waiting when a create folds them all into the index first.
  static constexpr std::size_t kFoldAt = 128;

  // Opens (creating) the table in `txn`.
  Status Open(WriteTxn& txn);

  // Appends customer `id`'s index entries (key, value) as one record.
  Status Add(WriteTxn& txn, const model::LocalId& id, const std::vector<std::pair<std::string, std::string>>& entries);

  // Removes customer `id`'s record. Returns whether there was one.
  Result<bool> Remove(WriteTxn& txn, const model::LocalId& id);

  // How many customers' entries are waiting.
  Result<std::size_t> Customers(const ReadTxn& txn) const { return txn.Count(dbi_); }

  // Appends every entry waiting, in no particular order, to `out`: views
  // valid until `txn` ends. Returns: kOk; kDataLoss for a malformed record.
  Status Load(const ReadTxn& txn, std::vector<RecentEntry>& out) const;

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
  MDB_dbi dbi_ = 0;
};

}  // namespace kassa::storage
