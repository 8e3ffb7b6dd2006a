#pragma once

// PgWriteBehind: the rows one headquarters transaction writes to PostgreSQL
// on its hot path (customers with their search terms and cards, owners,
// operation outcomes, changes, access events, terminals, counters), kept in
// memory and written at once before the commit: a few multi-row statements
// for a whole group of terminals' batches instead of a dozen round trips an
// operation. What the transaction reads back of them it reads from its own
// caches (PgChainTxn), and Flush() runs before any statement that must see
// them.
//
// Unique tags (account numbers, loyalty cards) claimed twice within the
// transaction are refused at once; a tag another customer already holds in
// the database is found by the database's unique constraint at Flush()
// (kAlreadyExists): the caller runs the transaction again checking each
// customer as it goes (PgChainStore::Transact).
//
// Private to kassa::storage.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kassa/model/access_event.h"
#include "kassa/model/ids.h"
#include "kassa/model/sync.h"
#include "kassa/storage/chain_store.h"
#include "pg_conn.h"

namespace kassa::storage {

// A search index entry as stored: keyed term, keyed name tokens.
struct PgTerm {
  std::int64_t kind = 0;
  std::string term;
  std::int64_t field = 0;
  std::string detail;
};

// A customer's row and everything derived from it, as the database keeps them.
// New rows are written with COPY (PgConn::Copy); replaced ones with upserts.
struct PgCustomerRow {
  model::LocalId id;
  Bytes sealed;
  std::optional<Bytes> account_tag;
  std::vector<Bytes> card_tags;  // distinct
  std::vector<PgTerm> terms;
  bool replaces = false;  // the database holds an earlier row of it (its terms and cards go first)
  std::optional<std::uint64_t> change_seq;  // its newest upsert in the change log
};

class PgWriteBehind {
 public:
  void Owner(const model::LocalId& customer, std::string_view legal_entity);
  // The customer as it is now (replacing what this transaction put of it before).
  // Returns: kOk; kAlreadyExists "account: ..." or "loyalty_cards: ..." when
  // another customer took the tag in this transaction.
  Status Customer(PgCustomerRow row);
  // `replaces`: the database holds an outcome of it already.
  void Outcome(const model::LocalId& op_id, Bytes sealed, bool replaces);
  void Change(std::uint64_t seq, model::Change::Kind kind, std::string_view scope,
              const model::LocalId* customer, const Bytes* body);
  // Change `seq` is superseded (a customer's older upsert): dropped when it
  // waits here, deleted from the log otherwise.
  void DropChange(std::uint64_t seq);
  // The newest upsert of customer `id` (put in this transaction) is `seq`.
  void SetChangeSeq(const model::LocalId& id, std::uint64_t seq);
  // `event.seq` 0: numbered by the database's access_seq.
  void Access(const model::AccessEvent& event);
  void Terminal(const TerminalRecord& terminal);
  // The counter's value at the end of the transaction (its row is locked).
  void Counter(std::string_view name, std::uint64_t value);
  // How many customer rows are new, and outcomes recorded: the counted rows.
  void Count(std::int64_t customers, std::int64_t operations);

  bool empty() const;
  // Writes everything waiting, then forgets it.
  // Returns: kOk; kAlreadyExists (a unique constraint: a tag held in the
  // database by another customer); the statement's failure.
  Status Flush(PgConn& db);

 private:
  std::vector<std::pair<model::LocalId, std::string>> owners_;
  std::map<model::LocalId, PgCustomerRow> customers_;
  std::map<Bytes, model::LocalId> tags_;  // unique tags claimed in this transaction
  PgCopyRows outcomes_;               // new ones
  std::vector<PgParam> replaced_outcomes_;  // 2 a row
  struct ChangeRow {
    model::Change::Kind kind;
    std::string scope;
    std::optional<model::LocalId> customer;
    std::optional<Bytes> body;
  };
  std::map<std::uint64_t, ChangeRow> changes_;
  std::vector<std::uint64_t> dropped_changes_;  // in the database, superseded
  std::vector<PgParam> access_;       // 7 a row: a terminal's, stored once however often sent
  PgCopyRows access_numbered_;        // numbered by access_seq
  std::map<std::string, TerminalRecord> terminals_;
  std::map<std::string, std::uint64_t> counters_;
  std::int64_t customers_added_ = 0, operations_added_ = 0;
};

}  // namespace kassa::storage
