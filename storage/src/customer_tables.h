#pragma once

// CustomerTables: a customer table and its secondary index inside one LMDB
// environment, shared by the terminal's CustomerStore and headquarters'
// LmdbChainStore so both index exactly alike (index.h says what is indexed).
//
//   customers: id (16 bytes) -> sealed nanopb Customer
//   index:     kind | term | 0x00 | id -> MatchedField (1 byte), then the
//              entry's detail (IndexEntry::detail: name tokens, country code)
//
// Every method works inside a caller's transaction. Private to kassa::storage.

#include <functional>
#include <optional>
#include <vector>

#include "kassa/model/customer.h"
#include "kassa/storage/customer_index.h"
#include "kassa/storage/index.h"
#include "kassa/storage/record_protection.h"
#include "lmdb_txn.h"

namespace kassa::storage {

class CustomerTables {
 public:
  // Opens (creating) the two databases in `txn`.
  Status Open(WriteTxn& txn, RecordProtection& protection);

  Result<Bytes> Seal(const model::Customer& c) const;
  Result<model::Customer> Unseal(ByteView sealed) const;

  // Returns: kOk with nullopt when absent; kDataLoss when unreadable.
  Result<std::optional<model::Customer>> Find(const ReadTxn& txn, const model::LocalId& id) const;

  // Inserts a new customer (kAlreadyExists "id: ..." when the id exists), or
  // replaces `old` (its index entries removed first). When `check_unique`,
  // an account or loyalty card of another customer fails with kAlreadyExists.
  Status Put(WriteTxn& txn, const model::Customer& c, ByteView sealed, const model::Customer* old,
             bool check_unique) const;

  // Visits index entries of `kind` whose stored term starts with `prefix`,
  // in key order, until `visit` returns false.
  Status Scan(const ReadTxn& txn, IndexKind kind, std::string_view prefix, const IndexSnapshot::Visitor& visit) const;

  // Deletes every index entry and derives them again from the customers:
  // the migration for a change in what IndexEntriesOf() derives. Returns
  // how many customers are pending (no account number yet).
  Result<std::uint64_t> RebuildIndex(WriteTxn& txn) const;
  Result<std::vector<model::Customer>> GetMany(const ReadTxn& txn, const std::vector<model::LocalId>& ids) const;

  // Appends to `problems` what disagrees between customers and index;
  // counts into the out-parameters. Calls `each` with every readable customer.
  Status Check(const ReadTxn& txn, std::uint64_t& customers, std::uint64_t& index_entries,
               const std::function<void(std::string)>& problem,
               const std::function<void(const model::Customer&)>& each) const;

  // Runs `read` over a snapshot of these tables in `txn`.
  Status Read(const ReadTxn& txn, const CustomerIndex::Reader& read) const;

  MDB_dbi customers() const { return customers_; }
  MDB_dbi index() const { return index_; }

 private:
  std::string TermPrefix(IndexKind kind, std::string_view term) const;
  std::string EntryValue(const IndexEntry& e) const;
  std::string EntryKey(const IndexEntry& e, const model::LocalId& id) const;

  MDB_dbi customers_ = 0;
  MDB_dbi index_ = 0;
  RecordProtection* protection_ = nullptr;
};

inline ByteView IdKey(const model::LocalId& id) { return ByteView(id.bytes.data(), id.bytes.size()); }

}  // namespace kassa::storage
