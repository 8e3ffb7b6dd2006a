#pragma once

// ClientelingTables: clienteling records in one LMDB database, shared by the
// terminal's CustomerStore (scope "") and headquarters' LmdbChainStore
// (scope: the legal entity), so both keep them alike.
//
//   'C' scope 0                              -> the ClientelingConfig
//   'O' scope 0 worker id                    -> an Operator
//   'H' scope 0 owner                        -> a book header: BookEntry with the
//                                               book's id and number, no customer
//   'E' scope 0 owner 0 customer id          -> a BookEntry (present)
//   'T' scope 0 customer id ~at_ms entry id  -> a TimelineEntry (newest first)
//   'M' scope 0 customer id                  -> the CustomerMeasures
//   'G' scope 0 customer id seq              -> a ConsentEntry (headquarters' order)
//
// Values are encoded ClientelingRecords, sealed (sealing.h) under the key of
// the customer they are about (book entries, timeline, measures) or the
// store key (configuration, operators, book headers).
// Every method works inside a caller's transaction. Private to kassa::storage.

#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "kassa/model/clienteling.h"
#include "lmdb_txn.h"
#include "sealing.h"

namespace kassa::storage {

class ClientelingTables {
 public:
  Status Open(WriteTxn& txn, Sealing& sealing);
  // The customer a record is about, whose key seals it; null for the
  // store's own records (configuration, operators, book headers).
  static const model::LocalId* CustomerOf(const model::ClientelingRecord& r);
  // The rules both kinds of store keep alike (headquarters on PostgreSQL too):
  // whether operator `op`'s record is stored (a PIN hash outside the accepted
  // cost is refused and logged: the stored record stays);
  static bool AcceptsOperator(const model::Operator& op);
  // the book header to store after entry `e` given the one stored (`header`;
  // nullopt: none): created with the first entry, numbered once headquarters
  // has. nullopt: the stored header stays.
  static std::optional<model::ClientelingRecord> BookHeaderAfter(const std::optional<model::BookEntry>& header,
                                                                const model::BookEntry& e);
  // Reads every record as `from` sealed it and writes it again as this
  // table's Sealing does.
  Status Reseal(WriteTxn& txn, const Sealing& from);

  // Stores what `record` says: a configuration or operator replaces the
  // stored one; a book entry adds (present) or removes, and a move also
  // removes it from `from_owner`'s book, and the book's header takes the
  // entry's number when it has one; a timeline entry is stored once under
  // its id; measures replace the customer's; a consent entry is stored
  // under its headquarters sequence (kInvalidArgument without one).
  Status Apply(WriteTxn& txn, std::string_view scope, const model::ClientelingRecord& record) const;

  Result<std::optional<model::ClientelingConfig>> Config(const ReadTxn& txn, std::string_view scope) const;
  Result<std::vector<model::Operator>> Operators(const ReadTxn& txn, std::string_view scope) const;
  Result<std::optional<model::Operator>> FindOperator(const ReadTxn& txn, std::string_view scope,
                                                      std::string_view worker_id) const;
  // The book header of `owner` (nullopt: no book yet).
  Result<std::optional<model::BookEntry>> Book(const ReadTxn& txn, std::string_view scope, std::string_view owner) const;
  // Entries of `owner`'s book, or of every book when `owner` is empty.
  Result<std::vector<model::BookEntry>> Entries(const ReadTxn& txn, std::string_view scope, std::string_view owner) const;
  Result<bool> InBook(const ReadTxn& txn, std::string_view scope, std::string_view owner, const model::LocalId& customer) const;
  // The newest `max` timeline entries of a customer, newest first.
  Result<std::vector<model::TimelineEntry>> Timeline(const ReadTxn& txn, std::string_view scope,
                                                     const model::LocalId& customer, std::size_t max) const;
  // A customer's consent ledger, in headquarters' order.
  Result<std::vector<model::ConsentEntry>> Consents(const ReadTxn& txn, std::string_view scope,
                                                    const model::LocalId& customer) const;
  Result<std::vector<model::AttributeValue>> Measures(const ReadTxn& txn, std::string_view scope,
                                                      const model::LocalId& customer) const;

  // Calls `each` with every record: its key's letter (above), its scope, the
  // record; stops at the first failure. A record whose customer's key is
  // gone is skipped and counted into `unreadable`.
  Status ForEach(const ReadTxn& txn, std::uint64_t& unreadable,
                 const std::function<Status(char tag, std::string_view scope, const model::ClientelingRecord&)>& each) const;

  // Deletes every record about `customer` in `scope`: its book entries (in
  // every book), timeline, measures and consent ledger. Reads no value (the customer's key
  // may be shredded already). Returns how many records it deleted.
  Result<std::size_t> EraseCustomer(WriteTxn& txn, std::string_view scope, const model::LocalId& customer) const;

 private:
  Status Put(WriteTxn& txn, const std::string& key, const model::ClientelingRecord& r) const;
  Result<std::optional<model::ClientelingRecord>> Get(const ReadTxn& txn, const std::string& key) const;
  Status Scan(const ReadTxn& txn, const std::string& prefix,
              const std::function<Status(const model::ClientelingRecord&)>& each) const;

  MDB_dbi dbi_ = 0;
  Result<model::ClientelingRecord> Decode(const ReadTxn& txn, ByteView value) const;
  Sealing* sealing_ = nullptr;
};

}  // namespace kassa::storage
