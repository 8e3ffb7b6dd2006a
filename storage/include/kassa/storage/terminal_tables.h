#pragma once

// The terminal store's tables, as the narrow views its components receive.
// One LMDB environment holds them all; CustomerStore (customer_store.h,
// included only by the service wiring) opens it and hands out each view to
// the component that needs it, no more:
//
//   view              tables behind it                     held by
//   CustomerTable     customers, index, recent index       customers::CustomerService,
//                     (+ the outbox entry of a write)      clienteling::ClientelingService (reads)
//   OutboxView        outbox (read)                        uplink::Uplink
//   SyncState         outbox, customers, quarantine,       uplink::Uplink
//                     cursor, last acknowledgement
//   QuarantineView    quarantine (read)                    api (ApiContext: GET /v1/quarantine)
//   StoreSettings     the saved store configuration        service::Service
//   ClientelingTable  clienteling (+ the outbox entry)     clienteling::ClientelingService,
//                                                          clienteling::OperatorSessions, service::Service
//   OperatorLockouts  wrong-PIN counts and lockouts        clienteling::OperatorSessions
//   AccessEventQueue  access events (the audit trail)      customers::AccessRecorder (append),
//                                                          uplink::Uplink (peek, drop)
//   Diagnostics       every table (counts, the check)      api (ApiContext: status, sync, doctor)
//
// Every write of every view is one durable transaction through the store's
// one transaction entry point (Update() of storage/src/lmdb_txn.h, begun
// and committed inside the call): a customer, all its index entries and its
// outbox operation commit together or not at all, and a commit is synced
// before the call returns. A crash at any instant leaves either the whole
// write or none of it. Headquarters' side lands the same way (SyncState):
// an acknowledgement removes its outbox entry and swaps "Pending sync" for
// the account number (indexes and queued operations rewritten with it); a
// rejected operation moves to the quarantine; a distribution applies its
// changes and advances the cursor together.
//
// Threading: not thread-safe; call from the service's io_context thread.
// Every call opens and closes its own transaction, so none is ever held
// across an asynchronous wait. The views live as long as their CustomerStore.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/model/access_event.h"
#include "kassa/model/customer.h"
#include "kassa/model/operation.h"
#include "kassa/model/store_config.h"
#include "kassa/model/sync.h"
#include "kassa/search/customer_index.h"

namespace kassa::storage {

struct OutboxEntry {
  std::uint64_t seq = 0;
  model::Operation operation;
};

// An operation headquarters rejected: kept for people to see, never resent.
struct QuarantineEntry {
  std::uint64_t seq = 0;  // its outbox sequence
  std::int64_t rejected_at_ms = 0;
  std::string reason;
  model::Operation operation;
};

struct StoreStats {
  std::uint64_t customers = 0;
  std::uint64_t pending_customers = 0;
  std::uint64_t recent_index_customers = 0;  // created here, index entries not yet folded in
  std::uint64_t outbox_length = 0;
  std::optional<OutboxEntry> oldest;  // the next operation to upload
  std::uint64_t quarantined = 0;
  std::uint64_t access_events = 0;  // access audit events not yet acknowledged by headquarters
  std::uint64_t distribution_cursor = 0;
  std::int64_t last_ack_at_ms = 0;    // 0: never
  std::uint64_t map_size_bytes = 0;
  std::uint64_t used_bytes = 0;       // pages in use
};

struct CheckReport {
  std::uint64_t customers = 0;
  std::uint64_t index_entries = 0;
  std::uint64_t outbox_entries = 0;
  std::uint64_t quarantined = 0;
  std::vector<std::string> problems;  // at most kMaxProblems, each one sentence
  bool ok() const { return problems.empty(); }
  static constexpr std::size_t kMaxProblems = 100;
};

// What applying acknowledgements did.
struct AckResult {
  std::size_t applied = 0;
  std::size_t rejected = 0;  // moved to the quarantine
  std::size_t ignored = 0;   // no such outbox entry any more (acknowledged before)
  std::vector<model::LocalId> accounts_bound;  // customers that took their account number now
};

// One clienteling write: the record stored on this terminal and, when
// given, the operation that tells headquarters.
struct ClientelingWrite {
  model::ClientelingRecord record;
  std::optional<model::Operation> op;
};

// What applying a distribution did.
struct DistributionResult {
  std::size_t customers = 0;  // upserts applied
  std::size_t clienteling = 0;  // clienteling records applied
  std::vector<model::LocalId> erased;  // customers erased (everything of them deleted here)
  std::optional<model::StoreConfig> store_config;  // the newest configuration received
  std::uint64_t cursor = 0;   // the cursor now stored
};

// Wrong PINs in a row of an operator and the end of their lockout (all
// zero: none). The end is kept twice: on the boot clock of the boot that
// set it (Clock::MonotonicMs, immune to wall-clock jumps) and on the wall
// clock, which is all there is to compare with after a reboot.
struct PinFailures {
  std::uint32_t wrong = 0;
  std::int64_t locked_until_ms = 0;       // wall clock
  std::int64_t locked_until_boot_ms = 0;  // Clock::MonotonicMs of boot `boot_id`
  std::string boot_id{};                  // "" when saved by a kassad that kept only the wall clock
};

// Customers with their indexes. A write also appends its operation to the
// outbox in the same transaction.
class CustomerTable : public search::CustomerIndex {
 public:
  // Stores a new customer with its index entries and, when `op` is given,
  // appends it to the outbox, all in one transaction. The index entries go to
  // the recent part of the index (one record at the end of a small table),
  // searchable at once, and move into the main index when the customer is
  // next written; every 128 creations waiting are moved at once.
  //
  // REQUIRES: `customer` is normalized and valid, with a fresh id.
  // Returns:
  //   kOk                 durable.
  //   kAlreadyExists      "id: ..." the id exists, or "loyalty_cards: ..." a
  //                       card belongs to another customer.
  //   kResourceExhausted  storage full; nothing was written.
  virtual Status Create(const model::Customer& customer, const model::Operation* op) = 0;

  // Replaces a customer whose stored version is `expected_version`, rewriting
  // its index entries and appending `op` (when given) in one transaction.
  //
  // Returns:
  //   kOk                 durable.
  //   kNotFound           no customer with that id.
  //   kAborted            "version: ..." the stored version differs (someone
  //                       else saved first); nothing was written.
  //   kAlreadyExists      a loyalty card belongs to another customer.
  //   kResourceExhausted  storage full; nothing was written.
  virtual Status Replace(const model::Customer& customer, std::uint32_t expected_version,
                         const model::Operation* op) = 0;

  // Returns: kOk; kNotFound; kDataLoss when the record cannot be read.
  virtual Result<model::Customer> Get(const model::LocalId& id) = 0;

  // The repair of a creation or an edit headquarters rejected (quarantine
  // entry `quarantine_seq`): the customer rewritten as `fixed` (its index
  // entries with it), `op` (a new operation of the same kind, with an id of
  // its own: the rejected one stays rejected at headquarters) appended to
  // the outbox, and the quarantine entry removed, in one transaction.
  //
  // Returns:
  //   kOk                  durable.
  //   kNotFound            "quarantine: ..." no such entry (resent or
  //                        dropped meanwhile).
  //   kFailedPrecondition  "quarantine: ..." the entry is not a creation or
  //                        an edit of `fixed`'s customer, a creation's
  //                        customer is no longer pending, or the customer
  //                        is gone.
  //   kAborted             "version: ..." an edit's customer changed meanwhile
  //                        (`fixed` must be one version on from the stored one).
  //   kAlreadyExists       a loyalty card belongs to another customer here.
  //   kResourceExhausted   storage full; nothing was written.
  virtual Status ResendRejected(std::uint64_t quarantine_seq, const model::Customer& fixed,
                                const model::Operation& op) = 0;

  // Gives up a rejected operation (quarantine entry `quarantine_seq`), in one
  // transaction: a creation's customer, which headquarters never had, is
  // removed from this terminal with all of it (index entries, book entries,
  // timeline, queued operations); an edit's customer takes
  // `headquarters_copy` (when given and nothing else is queued for it);
  // a book or timeline entry is dropped.
  //
  // Returns:
  //   kOk                  durable.
  //   kNotFound            "quarantine: ..." no such entry.
  //   kFailedPrecondition  "quarantine: ..." `headquarters_copy` is another customer's.
  //   kResourceExhausted   storage full; nothing was written.
  virtual Status DiscardRejected(std::uint64_t quarantine_seq, const model::Customer* headquarters_copy) = 0;

  // Stores headquarters' copy of a customer. A customer with operations
  // still queued here keeps its local fields and takes only the account
  // number and the financial dimensions (headquarters merges the queued
  // edits and distributes the result later); otherwise headquarters' copy
  // replaces the local one unless it is older (lower version).
  virtual Status ApplyHeadquartersCustomer(const model::Customer& customer) = 0;
};

// The outbox, read by the uplink to send it.
class OutboxView {
 public:
  virtual ~OutboxView() = default;
  // The oldest `max` outbox entries, in order.
  virtual Result<std::vector<OutboxEntry>> PeekOutbox(std::size_t max) = 0;
  // How many operations about customer `id` wait for headquarters' answer:
  // while there are any, its values here are not yet headquarters'.
  virtual Result<std::size_t> QueuedFor(const model::LocalId& id) = 0;
};

// What headquarters answers and distributes, applied in single transactions.
class SyncState {
 public:
  virtual ~SyncState() = default;

  // Applies headquarters' answers to outbox entries, each given with the
  // outbox sequence it answers, in one transaction. Applied: the entry is
  // deleted and, when the customer is still pending, it takes the account
  // number (the pending index entry gives way to the account's, and the
  // operations still queued for it carry the number too). Rejected: the
  // entry moves to the quarantine with the reason. An entry that is gone, or
  // holds another operation id, is ignored: acknowledgements are idempotent.
  // Returns: kOk; kResourceExhausted; kDataLoss.
  virtual Result<AckResult> ApplyAcks(const std::vector<std::pair<std::uint64_t, model::OperationAck>>& acks,
                                      std::int64_t now_ms) = 0;

  // Applies a distribution in one transaction: changes at or below the
  // stored cursor are skipped (duplicates), each customer upsert goes
  // through the rule of CustomerTable::ApplyHeadquartersCustomer, the newest
  // store configuration is saved, and the cursor moves to the last change.
  // An erasure deletes everything of the customer here (record, index
  // entries, data key, book entries, timeline, measures, queued and
  // quarantined operations) and keeps a marker, so a change about it
  // received again later is dropped.
  virtual Result<DistributionResult> ApplyDistribution(const std::vector<model::Change>& changes) = 0;

  // Erasures headquarters sends ahead of the rest of a catch-up: each
  // customer is erased as ApplyDistribution erases it (its marker
  // included), in one transaction; the cursor does not move (the same
  // changes arrive again in order and change nothing then). Returns the ids
  // erased now; kInvalidArgument "distribution: ..." when a change is not an
  // erasure (nothing applied).
  virtual Result<std::vector<model::LocalId>> ApplyErasuresAhead(const std::vector<model::Change>& erasures) = 0;

  // The last change applied from headquarters (0: none).
  virtual Result<std::uint64_t> DistributionCursor() = 0;

  // Sets the cursor back to `cursor` (headquarters' log is shorter than what
  // this terminal applied: it was restored from a backup), so the changes
  // after it are applied again.
  virtual Status ResetDistributionCursor(std::uint64_t cursor) = 0;

  // When this terminal last had headquarters on the link (Unix ms; 0: never
  // recorded): the clock of the offline lock (StoreConfig::lock_after_offline_days).
  virtual Result<std::int64_t> LastContactMs() = 0;
  virtual Status SaveLastContact(std::int64_t at_ms) = 0;
};

// Operations headquarters rejected.
class QuarantineView {
 public:
  virtual ~QuarantineView() = default;
  // The oldest `max` quarantined operations.
  virtual Result<std::vector<QuarantineEntry>> Quarantined(std::size_t max) = 0;
  // Entry `seq`. Returns: kOk; kNotFound "quarantine: ...".
  virtual Result<QuarantineEntry> Entry(std::uint64_t seq) = 0;
};

// The store configuration in use (saved from the file or distributed).
class StoreSettings {
 public:
  virtual ~StoreSettings() = default;
  // Returns: kOk with nullopt when no configuration was ever saved.
  virtual Result<std::optional<model::StoreConfig>> LoadStoreConfig() = 0;
  // Saves a configuration given locally (kassad --config), which headquarters'
  // next distributed one replaces.
  virtual Status SaveStoreConfig(const model::StoreConfig& config) = 0;
  // Whether the saved configuration is one headquarters distributed (saved
  // with the distribution that carried it): it then outranks --config.
  virtual Result<bool> StoreConfigFromHeadquarters() = 0;
};

// Clienteling (storage/src/clienteling_tables.h says what is kept).
class ClientelingTable {
 public:
  virtual ~ClientelingTable() = default;
  // Stores every record and appends every operation given, in order, in one
  // transaction. REQUIRES: each operation's customer is stored here.
  // Returns: kOk; kResourceExhausted (nothing written).
  virtual Status WriteClienteling(const std::vector<ClientelingWrite>& writes) = 0;
  virtual Result<std::optional<model::ClientelingConfig>> LoadClientelingConfig() = 0;
  virtual Result<std::vector<model::Operator>> Operators() = 0;
  virtual Result<std::optional<model::Operator>> FindOperator(std::string_view worker_id) = 0;
  // The book header of `owner` (its id and, once assigned, its number).
  virtual Result<std::optional<model::BookEntry>> BookOf(std::string_view owner) = 0;
  // The entries of `owner`'s client book; of every book when `owner` is empty.
  virtual Result<std::vector<model::BookEntry>> BookEntries(std::string_view owner) = 0;
  virtual Result<bool> InBook(std::string_view owner, const model::LocalId& customer) = 0;
  // A customer's activities and notes, newest first, at most `max`.
  virtual Result<std::vector<model::TimelineEntry>> Timeline(const model::LocalId& customer, std::size_t max) = 0;
  virtual Result<std::vector<model::AttributeValue>> Measures(const model::LocalId& customer) = 0;
  // A customer's consent ledger: the entries headquarters ordered, in its
  // order, then those still queued here (seq 0), in the order they were made.
  virtual Result<std::vector<model::ConsentEntry>> Consents(const model::LocalId& customer) = 0;
};

// Wrong-PIN counts and lockouts, kept durably so a restart does not lift a
// lockout.
class OperatorLockouts {
 public:
  virtual ~OperatorLockouts() = default;
  virtual Result<PinFailures> LoadPinFailures(std::string_view worker_id) = 0;
  virtual Status SavePinFailures(std::string_view worker_id, const PinFailures& failures) = 0;
};

// The data-access audit events recorded here (model/access_event.h),
// queued for headquarters apart from the outbox: one event names one
// customer but a queued frame many, nothing about them is ever rejected,
// and an erasure leaves them be (ids only; headquarters keeps who looked
// at an erased customer until its audit retention drops it). Values are
// sealed under the store key.
class AccessEventQueue {
 public:
  virtual ~AccessEventQueue() = default;
  // Appends `events` in order, each numbered with the next queue sequence
  // (never reused), in one durable transaction. The events' terminal_id is
  // not kept (it is this terminal). Returns: kOk; kResourceExhausted
  // (nothing written); kInvalidArgument "operator_id: ..." over the limit.
  virtual Status AppendAccessEvents(const std::vector<model::AccessEvent>& events) = 0;
  // The oldest `max` queued events, in order, with their sequences.
  virtual Result<std::vector<model::AccessEvent>> PeekAccessEvents(std::size_t max) = 0;
  // Deletes every queued event up to and including `through_seq`, in one
  // transaction. Returns how many it deleted (0: acknowledged before).
  virtual Result<std::size_t> DropAccessEvents(std::uint64_t through_seq) = 0;
  virtual Result<std::uint64_t> QueuedAccessEvents() = 0;
};

// How the disk under the store has behaved since the start. After the disk
// fails a commit the store is closed and opened again before its next call
// (a failed sync is never retried on the same descriptor); a disk that keeps
// failing leaves the store "failing": writes are refused with a clear
// "storage failing" error (and reads too while it cannot be reopened) until a
// commit succeeds again; the process never stops for it.
struct StorageHealth {
  // The last kFailingAfter commits in a row failed on the disk, or the store
  // could not be reopened after a failure.
  static constexpr std::uint64_t kFailingAfter = 3;
  bool failing = false;
  std::uint64_t failed_commits = 0;  // commits the disk failed since the start
  std::uint64_t reopens = 0;         // times the store was reopened after one
  std::string last_failure;          // what the disk said the last time ("" when never)
  std::int64_t last_failure_at_ms = 0;  // wall clock, 0 when never
};

// Counts and the consistency check, for status and `kassactl doctor`.
class Diagnostics {
 public:
  virtual ~Diagnostics() = default;
  // The disk's behaviour so far; answers even while the store cannot be read.
  virtual StorageHealth Health() = 0;
  // Counts and the oldest outbox entry, from one snapshot.
  virtual Result<StoreStats> Stats() = 0;
  // Verifies that customers, every index and the outbox agree: each record
  // decodes and holds its key's id, each derived index entry exists and no
  // other does, each outbox entry decodes, refers to a stored customer and
  // is referenced from its customer, and each pending customer has exactly
  // one creation, queued or quarantined.
  virtual Result<CheckReport> Check() = 0;
};

}  // namespace kassa::storage
