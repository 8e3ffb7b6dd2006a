#pragma once

// RecentIndex: the index entries of the customers created on this terminal
// since they were last folded into the index. Private to kassa::storage.
//
// A durable create must write the customer, its index entries and its
// outbox entry in one synced transaction. Written into the index itself,
// its half a dozen entries land on as many leaves of a large B-tree, and
// LMDB copies each leaf and its path: the sync writes ten scattered pages
// more than a bare put. Here they go, in one record, into the outbox table
// (the host), beside the operation the same create queues: on the page
// that create writes anyway, the outbox's last leaf (in a table of its own,
// index_recent, layouts 5 to 12, they cost its root and last leaf: two
// pages more in every create's sync, docs/PERFORMANCE.md). In the host:
//
//   sequence (8) | number (8) -> customer id (16 bytes), then per entry:
//       key length (2) | index key | value length (2) | value
//   kStateKey (8) -> first sequence (8) | customers (8) | next number (8) | version (8)
//
// all big-endian. A record's sequence is the one of the host's last entry
// below kStateKey when it was added (0 when none), its number this index's
// own count: it sorts after every operation queued before it and before
// the next one, so it lands on the host's last leaf. The state record sorts
// after every sequence the host hands out and before the host's tail
// record: every record's sequence is at least `first` (while `customers` is
// not 0), so reading them walks from there. The host's own walks pass over
// every key Owns() says is this index's.
//
// The keys and values are exactly what the index would hold. Search reads
// both (CustomerTables merges them in key order), so a customer is found
// the moment its create commits. The entries move into the index when the
// customer is next written (headquarters' account number, an edit), or all
// at once when kFoldAt customers are waiting.
//
// A search reads the entries waiting through Entries(). Every commit that
// changes them changes the version (Add, Remove, Clear), so committed
// snapshots of one version hold the same entries, and one copy of them,
// sorted, serves every search of that version, each scan finding its own
// by a binary search: a terminal in service always has some creations
// waiting, and reading and filtering them for every search cost more than
// the search itself (docs/PERFORMANCE.md). A write transaction, and a
// snapshot older than the copy held, read them for themselves.

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
  // The state record's key in the host: after every sequence the host hands
  // out (which stay below it), before the host's tail record (UINT64_MAX).
  static constexpr std::uint64_t kStateKey = UINT64_MAX - 1;

  // Whether `key`, of the host, is this index's (a record or the state).
  static bool Owns(ByteView key);

  RecentIndex();
  ~RecentIndex();
  RecentIndex(RecentIndex&&) noexcept;
  RecentIndex& operator=(RecentIndex&&) noexcept;

  // Opens the index in table `host` within `txn`. A store without its state
  // record gets one: a new store, or one of layouts 5 to 12, whose records
  // move here from their own table (index_recent, dropped), under sequence
  // 0, with the version that table had, plus one.
  // Returns: kOk; kDataLoss for a malformed state or old record.
  Status Open(WriteTxn& txn, MDB_dbi host);

  // Appends customer `id`'s index entries (key, value) as one record.
  Status Add(WriteTxn& txn, const model::LocalId& id, const std::vector<std::pair<std::string, std::string>>& entries);

  // Removes customer `id`'s record. Returns whether there was one.
  Result<bool> Remove(WriteTxn& txn, const model::LocalId& id);

  // How many customers' entries are waiting.
  Result<std::size_t> Customers(const ReadTxn& txn) const;
  // How many of the host's entries are this index's (its records and its
  // state): what the host leaves out of its own count.
  Result<std::size_t> EntriesInHost(const ReadTxn& txn) const;

  // Appends every entry waiting, in no particular order, to `out`: views
  // valid until `txn` ends. Returns: kOk; kDataLoss for a malformed record.
  Status Load(const ReadTxn& txn, std::vector<RecentEntry>& out) const;

  // Every entry waiting in `txn`'s snapshot (see above): valid until `txn`
  // ends, or as long as it is held when it is the shared copy.
  // Safe from any thread. Returns: kOk; kDataLoss for a malformed record
  // or state.
  Result<std::shared_ptr<const RecentEntries>> Entries(const ReadTxn& txn) const;

  // How the fold writes one entry into the index (CustomerTables counts
  // its index's heads as it does).
  using PutEntry = std::function<Status(WriteTxn&, std::string_view key, std::string_view value)>;

  // Puts every entry waiting into `index` through `put`, in key order, and
  // empties this index. With `warmer` (attached to the same environment): once a put
  // takes long enough to have read its leaf from the disk (a board whose
  // memory holds a fraction of the index), the keys still to come are
  // handed to it, so that their leaves are read together instead of one
  // after the other; what it reaches in time, the puts find in memory.
  Status FoldInto(WriteTxn& txn, MDB_dbi index, const PutEntry& put, RecordWarmer* warmer = nullptr);

  // Empties this index (the index is being rebuilt from the customers).
  Status Clear(WriteTxn& txn);

  // What the doctor checks (kassactl doctor): every record of the host
  // where the state says they are, as many as it counts, each well formed.
  // Calls `problem` with what is wrong. Returns: kOk; an LMDB failure.
  Status Check(const ReadTxn& txn, const std::function<void(std::string)>& problem) const;

 private:
  struct State {
    std::uint64_t first = 0;      // no record has a lower sequence (while customers > 0)
    std::uint64_t customers = 0;  // records
    std::uint64_t next = 1;       // the next record's number
    std::uint64_t version = 1;
  };
  // The state in `txn`'s snapshot. Returns: kOk; kDataLoss when missing or malformed.
  Result<State> ReadState(const ReadTxn& txn) const;
  Status WriteState(WriteTxn& txn, const State& state);
  // Calls `visit` with each record's key and value, from the state's first
  // sequence on, until it returns false, every record counted was visited,
  // or the state record comes (fewer records than counted: Check() says so).
  // `visit`: bool(ByteView key, ByteView value).
  template <typename Visit>
  Status Walk(const ReadTxn& txn, const State& state, Visit visit) const;

  // The sorted copy of one committed version.
  struct Shared {
    std::mutex mutex;
    std::shared_ptr<const RecentEntries> entries;  // null: none read yet
    std::uint64_t version = 0;                     // entries'
    std::size_t txn_id = 0;                        // a snapshot known to be of `version`
  };

  MDB_dbi host_ = 0;
  std::unique_ptr<Shared> shared_;
};

}  // namespace kassa::storage
