#pragma once

// Registry: headquarters as the system of record, without the network.
// Applies terminals' operations exactly once, assigns account numbers,
// keeps each terminal's cursor, produces each store's distribution, and
// holds the chain configuration (replaceable at run time).
//
// Every state change is one ChainStore transaction, so a crash at any
// instant leaves each operation applied with its outcome recorded, or not
// at all.
//
// Threading: not thread-safe; headquarters' main thread (the link server
// posts its work there from its network thread).

#include <map>
#include <set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/base/clock.h"
#include "kassa/hq/chain_config.h"
#include "kassa/model/operation.h"
#include "kassa/model/sync.h"
#include "kassa/storage/chain_store.h"

namespace kassa::hq {

// One terminal's batch in a group commit.
struct Batch {
  std::string terminal_id;
  std::vector<model::Operation> operations;
};

struct TerminalStatus {
  storage::TerminalRecord record;
  std::uint64_t lag = 0;  // changes in the log after the terminal's cursor (all scopes)
};

struct HqStatus {
  storage::ChainStats chain;
  std::vector<TerminalStatus> terminals;
  std::uint64_t operations_applied = 0;  // over all terminals
  std::uint64_t rejections = 0;
};

// An erasure and which terminals of its legal entity have applied it (their
// distribution cursor reached it: a terminal acknowledges a change only once
// it is durable there) and which have not yet.
struct ErasureStatus {
  storage::ErasureRecord erasure;
  std::vector<std::string> confirmed;  // terminal ids
  std::vector<std::string> pending;
};

class Registry {
 public:
  // Takes the configuration saved in the store, or `initial` when given
  // (saved, and distributed where it differs). One of them must exist.
  // Returns: kOk; kFailedPrecondition "config: ..." when neither does.
  static Result<std::unique_ptr<Registry>> Open(storage::ChainStore& store, Clock& clock,
                                                std::optional<ChainConfig> initial);

  // A terminal says hello. Returns: kOk with what headquarters knows of it;
  // kNotFound "store: ..." when its store is not in the configuration;
  // kInvalidArgument "terminal: ..." for an empty id.
  Result<storage::TerminalRecord> Hello(const model::Hello& hello);

  // Applies batches of several terminals in one transaction (group commit):
  // per batch, one acknowledgement per operation, in order. An operation id
  // seen before gets its recorded outcome again and changes nothing.
  // REQUIRES: every terminal said Hello.
  // Returns: kOk; a storage failure (nothing applied, nothing acknowledged).
  Result<std::vector<std::vector<model::OperationAck>>> Apply(const std::vector<Batch>& batches);

  // The next changes for `store_id` after `after`, at most `max`;
  // `scanned_to` is where the next read starts (it may pass changes of
  // other scopes without returning any).
  Result<std::vector<model::Change>> ChangesFor(std::string_view store_id, std::uint64_t after, std::size_t max,
                                                std::uint64_t& scanned_to);

  // The terminal acknowledged every change up to `cursor`: known at once
  // (erasure receipts, status), made durable by SaveCursors(). Every
  // distribution frame of every terminal is acknowledged; a transaction
  // each would cost a durable commit per terminal per change. A cursor lost
  // in a crash is only late: the terminal says its own in its next Hello.
  Status AckCursor(const std::string& terminal_id, std::uint64_t cursor);
  // Writes the cursors acknowledged since the last save, in one transaction.
  Status SaveCursors();
  bool cursors_unsaved() const { return !unsaved_cursors_.empty(); }

  // Replaces the chain configuration: saved, and a store-configuration
  // change appended for every store that is new or differs, with an audit
  // entry naming `who`, all in one transaction.
  // Returns: kOk; a storage failure.
  Status ReplaceConfig(const ChainConfig& config, std::string_view who);

  // Stores headquarters' insight measures of customers of `legal_entity`
  // and distributes them, with an audit entry naming `who`, all in one
  // transaction.
  // Returns: kOk with the count; kNotFound "legal_entity: ..." or
  // "customer: ..." (nothing imported); a storage failure.
  Result<std::size_t> ImportMeasures(std::string_view legal_entity, const std::vector<model::CustomerMeasures>& measures,
                                     std::string_view who);

  // Erases customer `id` everywhere (ChainTxn::EraseCustomer, distributed
  // to every terminal of its legal entity), with an audit entry naming
  // `who`. `legal_entity` is needed only for an id headquarters never held
  // (a customer created offline whose creation has not arrived); when given
  // for a known customer it must be the customer's.
  // Returns: kOk with the erasure and its receipts so far; kNotFound
  // "customer: ..." (unknown id, no legal entity named) or "legal_entity:
  // ..."; kInvalidArgument "legal_entity: ..." (not the customer's).
  Result<ErasureStatus> Erase(const model::LocalId& id, std::optional<std::string_view> legal_entity,
                              std::string_view who);
  // The newest `max` erasures with their receipts.
  Result<std::vector<ErasureStatus>> Erasures(std::size_t max);

  // One step of the retention sweep (ChainConfig::retention): the next
  // `max` customers after `after`; each neither changed nor with an activity
  // for `inactive_customer_years` is erased (Erase, by "retention"). The
  // last step also deletes audit entries older than `audit_months`.
  struct RetentionStep {
    std::optional<model::LocalId> next;  // where the next step starts
    std::size_t scanned = 0, erased = 0, audit_pruned = 0;
    std::size_t markers_pruned = 0;  // erasure markers every terminal of their legal entity applied
    bool done = false;
  };
  Result<RetentionStep> SweepRetention(const std::optional<model::LocalId>& after, std::size_t max);
  // Deletes from the change log the erasure markers every terminal of their
  // legal entity has applied (its acknowledged cursor past them); the
  // erasure records stay. A terminal that never comes back keeps them. Part
  // of each sweep's last step. Returns how many.
  Result<std::size_t> PruneErasureMarkers();

  // Orders terminal `terminal_id` wiped (LinkServer delivers it on the
  // terminal's next connection), with an audit entry naming `who`. A new
  // order replaces an earlier one, confirmed or not (a re-enrolled terminal
  // lost again).
  // Returns: kOk with the order; kNotFound "terminal: ..." for a terminal
  // that never said Hello; a storage failure.
  Result<storage::WipeOrder> OrderWipe(std::string_view terminal_id, std::string_view who);
  // The order `terminal_id` must carry out on connecting (nullopt: none).
  std::optional<storage::WipeOrder> PendingWipe(std::string_view terminal_id) const;
  // The terminal reports the wipe ordered at `ordered_ms` done: the order is
  // confirmed and `certificate_serial` (the reporting connection's; "" on the
  // plaintext development link) revoked, audited, in one transaction.
  // Confirming again changes nothing.
  // Returns: kOk; kNotFound "wipe: ..." (no order of that time); a storage failure.
  Status ConfirmWipe(std::string_view terminal_id, std::int64_t ordered_ms, std::string_view certificate_serial);
  // Every wipe order, by terminal id.
  std::vector<storage::WipeOrder> WipeOrders() const;

  // Appends `what` by `who` to the admin audit trail (an action that changes
  // nothing but must be accounted for: a data-subject export).
  Status Audit(std::string_view who, std::string_view what);

  // Stores events of the data-access audit trail in one transaction: a
  // terminal's queued events (their terminal_id set from the connection,
  // which proved it), or headquarters' own (terminal_id "", seq 0; what
  // its admin API showed or exported, by the credential's name). The
  // changes it applies and the erasures it makes are recorded by Apply and
  // Erase themselves. A terminal's event about a customer of another legal
  // entity is not stored (unless a chain-wide search listed it), nor one of
  // a terminal that never said Hello.
  // Returns: kOk with how many were not stored; a storage failure (nothing stored).
  Result<std::size_t> RecordAccess(const std::vector<model::AccessEvent>& events);
  // Who opened, listed, printed, exported, created, changed or erased
  // customer `id`, over the whole chain: newest first, at most `max`.
  Result<std::vector<model::AccessEvent>> AccessEvents(const model::LocalId& id, std::size_t max) {
    return store_.AccessEvents(id, max);
  }

  Result<HqStatus> Report();
  const ChainConfig& config() const { return config_; }
  storage::ChainStore& store() { return store_; }

 private:
  Registry(storage::ChainStore& store, Clock& clock, ChainConfig config,
           std::map<std::string, storage::TerminalRecord> terminals);
  // `config` with each legal entity's badge key set (derived from the
  // chain's "badge" secret) and every plaintext badge replaced by its
  // keyed hash: headquarters keeps and distributes badges only so.
  static Result<ChainConfig> SealBadges(storage::ChainStore& store, ChainConfig config);
  // A consent ledger entry of the round being applied, with its legal entity.
  struct RoundConsent {
    std::string legal_entity;
    model::ConsentEntry entry;
  };
  // Applies `op`; the consent entries of an applied create or update are
  // added to `consents` (RecordConsents orders and stores them).
  Result<model::OperationAck> ApplyOne(storage::ChainTxn& txn, const storage::TerminalRecord& from,
                                       const model::Operation& op, std::vector<RoundConsent>& consents);
  // Gives the round's consent entries headquarters' order and stores and
  // distributes them (a grant and a withdrawal for one contact from
  // different terminals: the withdrawal last), then makes each contact's
  // consent on the customer's record what its last entry says.
  Status RecordConsents(storage::ChainTxn& txn, std::vector<RoundConsent> round);
  // Returns: kOk; kPermissionDenied or kFailedPrecondition with the reason
  // it is refused; other codes when the store fails.
  Status ClientelingRecordOf(storage::ChainTxn& txn, const LegalEntity& le, const model::Operation& op,
                             model::ClientelingRecord& record);
  ErasureStatus ReceiptsOf(storage::ErasureRecord erasure) const;

  storage::ChainStore& store_;
  Clock& clock_;
  ChainConfig config_;
  std::map<std::string, storage::TerminalRecord> terminals_;  // as stored, cursors as acknowledged
  std::set<std::string> unsaved_cursors_;  // terminals whose acknowledged cursor is not saved yet
  std::map<std::string, storage::WipeOrder> wipes_;             // as stored
};

}  // namespace kassa::hq
