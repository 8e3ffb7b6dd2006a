#pragma once

// CustomerTables: a customer table and its secondary index inside one LMDB
// environment, shared by the terminal's CustomerStore and headquarters'
// LmdbChainStore so both index exactly alike (index.h says what is indexed).
//
//   customers: id (16 bytes) -> nanopb Customer, sealed under its own key
//   index:     kind | stored term | 0x00 | id -> search::MatchedField (1 byte),
//              then the entry's detail (search::IndexEntry::detail: name
//              tokens as stored terms, country code)
//   index_heads: kind | stored form of a term's first kHeadBytes bytes ->
//              how many index entries have a term that starts so (4 bytes,
//              big-endian; terms shorter than that have no head); and
//              HeadsCache::kVersionKey -> the heads' version (8 bytes,
//              big-endian), changed by every commit that adds or deletes a
//              head (heads_cache.h)
// A stored term is Sealing::IndexTerm() of the term (sealing.h).
//
// The heads let a scan know, from one small table that stays in memory,
// that the index holds no term starting as its prefix does, and skip the
// index's descent: the search box tries a query as five or six kinds, and
// most of them find nothing (an account number is no one's name or email).
// They are kept in the transaction of every index write, so they never
// count fewer entries than the index holds; Check() recounts them. A
// search of a read-only snapshot asks a copy of them in memory (HeadsCache).
//
// The terminal's tables also keep a RecentIndex (recent_index.h), in the
// terminal's outbox table: the index entries of customers it created, kept
// apart until they are folded in.
// Every read here sees the index and those entries as one.
//
// Every method works inside a caller's transaction. Private to kassa::storage.

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "kassa/model/customer.h"
#include "kassa/search/customer_index.h"
#include "heads_cache.h"
#include "kassa/search/index.h"
#include "lmdb_txn.h"
#include "recent_index.h"
#include "record_warmer.h"
#include "sealing.h"

namespace kassa::storage {

// Where Put() writes a customer's new index entries.
enum class NewEntries {
  kIndex,   // into the index
  kRecent,  // into the RecentIndex (terminal only): a durable create's few pages
};

class CustomerTables {
 public:
  // Opens (creating) the databases in `txn`; starts the heads' version
  // when there is none. With `recent_host` (the terminal's outbox table),
  // keeps a RecentIndex in it (RecentIndex::Open); without (headquarters), none.
  Status Open(WriteTxn& txn, Sealing& sealing, std::optional<MDB_dbi> recent_host);

  // Term bytes an index head holds.
  static constexpr std::size_t kHeadBytes = 4;
  // Counts the heads anew from the index (a store of a layout without them).
  Status RebuildHeads(WriteTxn& txn);

  // The stored form of `c` (its data key made on first use).
  Result<Bytes> Seal(WriteTxn& txn, const model::Customer& c) const;
  Result<model::Customer> Unseal(const ReadTxn& txn, const model::LocalId& id, ByteView sealed) const;
  Status UnsealInto(const ReadTxn& txn, const model::LocalId& id, ByteView sealed, model::Customer& out) const;

  // Returns: kOk with nullopt when absent; kDataLoss when unreadable.
  Result<std::optional<model::Customer>> Find(const ReadTxn& txn, const model::LocalId& id) const;

  // Inserts a new customer (kAlreadyExists "id: ..." when the id exists), or
  // replaces `old` (its index entries removed first, wherever they are). When
  // `check_unique`, an account or loyalty card of another customer fails with
  // kAlreadyExists. Either refusal comes before anything is written, so the
  // transaction can go on without this customer. A new customer's entries
  // go where `placement` says (the index when no RecentIndex is kept); a
  // replaced one's into the index.
  Status Put(WriteTxn& txn, const model::Customer& c, ByteView sealed, const model::Customer* old, bool check_unique,
             NewEntries placement = NewEntries::kIndex);

  // Erases customer `id`: its index entries (wherever they are), its data
  // key (Sealing::Shred: nothing sealed under it opens again, anywhere) and
  // its record. The caller deletes the customer's other values in the same
  // transaction. Returns the customer as it was (nullopt: none here, or a
  // record whose key was shredded before: the record is deleted all the same).
  Result<std::optional<model::Customer>> Erase(WriteTxn& txn, const model::LocalId& id);

  // What a scan tells of the disk: whether finding its first entry read a
  // page from it (RecordWarmer::FromDisk), and then the customers of the
  // first exact entries it visited, whose records a search reads next. And
  // what it is told: whether an earlier scan of the same snapshot read the
  // disk. A scan that read it, or is told so, asks for the leaves ahead of it
  // as it goes (lmdb_pages::LeavesAhead).
  struct SeekReport {
    bool cold = false;  // in
    bool slow = false;
    std::vector<model::LocalId> exact_hits;  // only when slow; kMaxReportedHits at most
  };
  static constexpr std::size_t kMaxReportedHits = 4;
  // Leaves a cold scan asks for ahead of the one it stands on.
  static constexpr std::size_t kLeavesAhead = 8;

  // Visits the entries of `kind` whose stored term starts with `prefix`, in
  // the index and among `recent` (Waiting(): the RecentIndex's, read once
  // for several scans), in key order, until `visit` returns false.
  // `report`, when given, is filled in (SeekReport above). `heads`: the
  // snapshot's heads in memory (Heads()), or null to read index_heads.
  Status Scan(const ReadTxn& txn, search::IndexKind kind, std::string_view prefix, const RecentEntries& recent,
              const search::IndexSnapshot::Visitor& visit, SeekReport* report = nullptr,
              const HeadSet* heads = nullptr) const;
  // Warms the scans of these (kind, prefix) pairs together (those the heads
  // do not rule out), and the records of `records` (with their key slots)
  // ahead of them (RecordWarmer).
  Status WarmScans(const ReadTxn& txn, const std::vector<std::pair<search::IndexKind, std::string>>& scans,
                   const std::vector<model::LocalId>& records = {}, const HeadSet* heads = nullptr) const;
  // The heads of `txn`'s snapshot in memory, or null (HeadsCache::For).
  Result<std::shared_ptr<const HeadSet>> Heads(const ReadTxn& txn) const { return heads_cache_->For(txn, heads_); }
  // The RecentIndex's entries in `txn`'s snapshot, sorted (none when it is
  // not kept): RecentIndex::Entries.
  Result<std::shared_ptr<const RecentEntries>> Waiting(const ReadTxn& txn) const;

  // Deletes every index entry and derives them again from the customers:
  // the migration for a change in what search::IndexEntriesOf() derives or
  // in how terms are stored. Returns how many customers are pending (no
  // account number yet).
  Result<std::uint64_t> RebuildIndex(WriteTxn& txn);
  // Reads every customer as `from` sealed it and writes it again as this
  // table's Sealing does (a plaintext store becoming encrypted), then
  // rebuilds the index. Runs before any other table is resealed: their
  // values take the keys the records get here. Returns how many customers
  // are pending.
  Result<std::uint64_t> Reseal(WriteTxn& txn, const Sealing& from);
  // Whether stored terms are the terms themselves; otherwise search
  // confirms index matches on the records (sealing.h).
  bool exact_terms() const { return sealing_->exact_terms(); }
  std::string StoredTerm(search::IndexKind kind, std::string_view term) const { return sealing_->IndexTerm(kind, term); }
  // The customers `ids`, in order. Records not in memory are read together
  // (RecordWarmer): from the first when `cold` (a scan of the same snapshot
  // read the disk), else from the first get that reads it.
  Result<std::vector<model::Customer>> GetMany(const ReadTxn& txn, const std::vector<model::LocalId>& ids,
                                               bool cold = false) const;

  // Appends to `problems` what disagrees between customers, index and
  // heads; counts into the out-parameters. Calls `each` with every readable customer.
  Status Check(const ReadTxn& txn, std::uint64_t& customers, std::uint64_t& index_entries,
               const std::function<void(std::string)>& problem,
               const std::function<void(const model::Customer&)>& each) const;

  // Runs `read` over a snapshot of these tables in `txn`.
  Status Read(const ReadTxn& txn, const search::CustomerIndex::Reader& read) const;

  // The RecentIndex, for what its host asks of it (null when not kept).
  const RecentIndex* recent() const { return recent_kept_ ? &recent_ : nullptr; }

  // How many customers' entries wait in the RecentIndex (0 when not kept).
  Result<std::size_t> RecentCustomers(const ReadTxn& txn) const;

  MDB_dbi customers() const { return customers_; }
  MDB_dbi index() const { return index_; }

 private:
  Status CheckUnique(const ReadTxn& txn, const model::Customer& c, const std::vector<search::IndexEntry>& entries) const;
  // Whether customer `other` really holds `e`'s account or card (a stored
  // term can be shared by two terms: sealing.h).
  Result<bool> Holds(const ReadTxn& txn, const model::LocalId& other, const search::IndexEntry& e) const;

  std::string TermPrefix(search::IndexKind kind, std::string_view term) const;
  // The head of `kind_term` (kind | stored term), or "" when its term is
  // shorter than kHeadBytes.
  std::string_view Head(std::string_view kind_term) const;
  // Whether the index may hold a term of `kind` starting with `prefix`
  // (false: its head counts no entry), from `heads` when not null.
  Result<bool> MayHold(const ReadTxn& txn, const HeadSet* heads, search::IndexKind kind, std::string_view prefix) const;
  // Whether `recent` may hold a term of `kind` starting with `prefix`, told
  // from the stored form of its head alone (as MayHold).
  bool MayWait(const RecentEntries& recent, search::IndexKind kind, std::string_view prefix) const;
  // Index writes, with their heads counted.
  Status PutEntry(WriteTxn& txn, std::string_view key, std::string_view value);
  Status DelEntry(WriteTxn& txn, std::string_view key);  // kNotFound as Del
  Status CountHead(WriteTxn& txn, std::string_view key, bool added);
  // Changes the heads' version (a head added or deleted); none kept: none changed.
  Status BumpHeadsVersion(WriteTxn& txn);
  // Deletes every head, keeping the version (changed).
  Status DropHeads(WriteTxn& txn);
  // Calls `each` with every head of the index and how many entries it
  // counts, in key order.
  Status CheckHeads(const ReadTxn& txn, const std::function<void(std::string)>& problem) const;
  Status ForEachIndexHead(const ReadTxn& txn, const std::function<Status(std::string_view, std::uint32_t)>& each) const;
  // A customer's name tokens as stored terms, worked out once for all its
  // name entries.
  struct StoredNames {
    bool done = false;
    std::string detail, stored;
  };
  std::string EntryValue(const search::IndexEntry& e, StoredNames& names) const;
  std::string EntryKey(const search::IndexEntry& e, const model::LocalId& id) const;

  MDB_dbi customers_ = 0;
  MDB_dbi index_ = 0;
  MDB_dbi heads_ = 0;
  Sealing* sealing_ = nullptr;
  bool recent_kept_ = false;
  RecentIndex recent_;
  // GetMany's records, together, when they are not in memory (held apart,
  // so the tables move while its threads run).
  std::unique_ptr<RecordWarmer> warmer_ = std::make_unique<RecordWarmer>();
  std::unique_ptr<HeadsCache> heads_cache_ = std::make_unique<HeadsCache>();
};

inline ByteView IdKey(const model::LocalId& id) { return ByteView(id.bytes.data(), id.bytes.size()); }

}  // namespace kassa::storage
