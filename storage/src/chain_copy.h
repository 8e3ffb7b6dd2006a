#pragma once

// Copying a whole chain store into another, in plain form between the two
// (each store seals under its own keys): what `kassa-hq migrate` moves from
// the embedded store to PostgreSQL. Everything is copied as it is: customer
// ids, operation ids and outcomes, the change log with its numbers (so
// terminals carry on from their cursors without a resynchronization), the
// counters, the configuration and secrets, clienteling, credentials,
// revocations, wipe orders, the audit trails and the erasures. Search
// terms are derived again by the target.
//
// Private to kassa::storage.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kassa/base/status.h"
#include "kassa/model/access_event.h"
#include "kassa/model/clienteling.h"
#include "kassa/model/customer.h"
#include "kassa/model/sync.h"
#include "kassa/storage/chain_store.h"

namespace kassa::storage {

// The sequences a store hands out numbers from: the last number used.
struct ChainCounters {
  std::uint64_t account = 0, change = 0, book = 0, consent = 0;
};

// One entry of the change log as stored.
struct CopiedChange {
  std::uint64_t seq = 0;
  model::Change::Kind kind = model::Change::Kind::kCustomerUpsert;
  std::string scope;
  std::optional<model::LocalId> customer;  // upserts, erasures, a clienteling record's customer
  // Clienteling: the record (nullopt when its customer was erased since and
  // its key is gone: the entry keeps its number, and is never sent).
  std::optional<model::ClientelingRecord> clienteling;
};

// Where a copy goes, in this order: counters, owners, customers, then the rest
// in any order. Nothing is visible in the target until Finish() returns OK.
class ChainCopySink {
 public:
  virtual ~ChainCopySink() = default;
  virtual Status Counters(const ChainCounters& counters) = 0;
  virtual Status Owner(const model::LocalId& customer, std::string_view legal_entity) = 0;
  virtual Status Customer(const model::Customer& customer) = 0;
  virtual Status Outcome(const model::OperationAck& ack) = 0;
  virtual Status Change(const CopiedChange& change) = 0;
  // A clienteling record of `legal_entity` as ClientelingTables keeps it
  // (`tag`: its table's key letter, clienteling_tables.h).
  virtual Status Clienteling(char tag, std::string_view legal_entity, const model::ClientelingRecord& record) = 0;
  virtual Status Terminal(const TerminalRecord& terminal) = 0;
  // The configuration text ("config") and chain secrets ("secret:NAME").
  virtual Status Secret(std::string_view name, ByteView plain) = 0;
  virtual Status Credential(const AdminCredential& credential) = 0;
  virtual Status Revoked(std::string_view serial_hex, std::int64_t at_ms) = 0;
  virtual Status Wipe(const WipeOrder& order) = 0;
  virtual Status Audit(const AuditEntry& entry) = 0;
  virtual Status Erasure(const ErasureRecord& erasure) = 0;
  // An access event; `origin` 'T' (a terminal's, numbered by its queue) or 'H'.
  virtual Status Access(const model::AccessEvent& event, char origin) = 0;
  // Commits everything. Returns: kOk; the target's failure (nothing kept).
  virtual Status Finish() = 0;
};

// Reads every value of the embedded store `from` (one read snapshot) into `to`.
// Returns: kOk; OpenLmdbChainStore's errors; kDataLoss for a value that does
// not open; the sink's failures.
Status CopyLmdbChainStore(const ChainStoreOptions& from, ChainCopySink& to, ChainCopyReport& report);

}  // namespace kassa::storage
