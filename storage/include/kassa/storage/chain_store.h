#pragma once

// ChainStore: headquarters' system of record, behind an interface so an
// embedded LMDB store (OpenLmdbChainStore) serves one shop and a PostgreSQL
// database (OpenPostgresChainStore) serves a retail chain, with the same
// headquarters logic (kassa::hq) above both.
//
// All writes happen in Transact(): the body sees a ChainTxn, and everything
// it does commits durably together or not at all. That is what makes
// headquarters idempotent forever: an operation's outcome is recorded in
// the same transaction as its effect, so a resent operation finds it.
//
// Threading: not thread-safe; headquarters calls it from its one thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/crypto/key_store.h"
#include "kassa/storage/key_rotation.h"
#include "kassa/model/access_event.h"
#include "kassa/model/customer.h"
#include "kassa/model/sync.h"
#include "kassa/search/customer_index.h"

namespace kassa::storage {

// What headquarters remembers of a terminal.
struct TerminalRecord {
  std::string terminal_id;
  std::string store_id;
  std::uint64_t cursor = 0;          // last change the terminal acknowledged
  std::int64_t last_seen_ms = 0;
  std::uint64_t operations_applied = 0;
  std::uint64_t rejections = 0;
};

// One entry of the change log, as read for distribution.
struct StoredChange {
  std::uint64_t seq = 0;
  model::Change::Kind kind = model::Change::Kind::kCustomerUpsert;
  std::optional<model::Customer> customer;  // upserts: the customer as it is now
  std::optional<model::ClientelingRecord> clienteling;  // clienteling: the record as it was appended
  model::LocalId erased;  // customer erasures: whom
};

struct ChangePage {
  std::vector<StoredChange> changes;  // in order, matching the filter
  std::uint64_t scanned_to = 0;       // the log was read up to here
};

// A credential of headquarters' admin API: only the SHA-256 of the token is
// kept, never the token.
struct AdminCredential {
  std::string token_sha256;  // 64 hex digits
  std::string name;          // who holds it ("it-riga"), for the audit trail
  std::string role;          // "admin" or "read-only"
  std::int64_t created_ms = 0;
};

// One change made through the admin API: who, when, what.
struct AuditEntry {
  std::uint64_t seq = 0;
  std::int64_t at_ms = 0;
  std::string who;
  std::string what;  // "PUT /v1/config", "POST /v1/measures?legal_entity=..."
};

// A customer headquarters erased. Kept forever (ids only): operations about
// it that arrive later are refused, and a terminal has confirmed the erasure
// once its distribution cursor reached `seq`.
struct ErasureRecord {
  model::LocalId customer;
  std::string legal_entity;
  std::uint64_t seq = 0;     // its change in the log
  std::int64_t at_ms = 0;
  std::string who;           // the admin credential's name
};

// A wipe headquarters ordered for a terminal (lost or stolen). The terminal
// receives it on its next connection; once it reports its keys destroyed the
// order is confirmed and the certificate it connected with is revoked.
struct WipeOrder {
  std::string terminal_id;
  std::int64_t ordered_ms = 0;
  std::string who;                 // the admin credential's name
  std::int64_t confirmed_ms = 0;   // 0: not confirmed yet
  std::string certificate_serial;  // revoked on confirmation ("" on the plaintext development link)
};

struct ChainStats {
  std::uint64_t customers = 0;
  std::uint64_t head_seq = 0;     // newest change
  std::uint64_t operations = 0;   // operation ids recorded (applied or rejected)
};

class ChainTxn {
 public:
  virtual ~ChainTxn() = default;
  // A hint: the operations and customers the transaction is about to look
  // up (FindOutcome, FindErasure, FindCustomer, LegalEntityOf). A store whose
  // reads are round trips to a server loads them at once; the embedded
  // store has nothing to gain and ignores it.
  virtual Status Prefetch(const std::vector<model::LocalId>& op_ids, const std::vector<model::LocalId>& customers) {
    (void)op_ids;
    (void)customers;
    return Status::Ok();
  }
  // The recorded outcome of operation `op_id`, if it was ever seen.
  virtual Result<std::optional<model::OperationAck>> FindOutcome(const model::LocalId& op_id) = 0;
  // Records the outcome of `ack.op_id`, forever.
  virtual Status RecordOutcome(const model::OperationAck& ack) = 0;
  virtual Result<std::optional<model::Customer>> FindCustomer(const model::LocalId& id) = 0;
  // The legal entity a customer belongs to: the one it was first put under
  // (nullopt: no such customer).
  virtual Result<std::optional<std::string>> LegalEntityOf(const model::LocalId& id) = 0;
  // Stores the customer (new or replacing, indexes rewritten) and appends a
  // customer-upsert change for the terminals of `legal_entity`.
  // Returns kAlreadyExists "account: ..." when another customer has its number.
  virtual Status PutCustomer(const model::Customer& c, std::string_view legal_entity) = 0;
  // The next value of the account number sequence: 1, 2, 3, ...
  virtual Result<std::uint64_t> NextAccountNumber() = 0;
  // Appends a store-configuration change for the terminals of `store_id`.
  virtual Status AppendStoreConfigChange(std::string_view store_id) = 0;
  virtual Status PutTerminal(const TerminalRecord& terminal) = 0;
  virtual Status SaveConfigText(std::string_view text) = 0;

  // Clienteling of `legal_entity`: stores the record (storage's
  // ClientelingTables rules) and appends a clienteling change for the
  // entity's terminals carrying it.
  virtual Status ApplyClienteling(std::string_view legal_entity, const model::ClientelingRecord& record) = 0;
  // The header of `owner`'s client book: its id and number (nullopt: none yet).
  virtual Result<std::optional<model::BookEntry>> FindBook(std::string_view legal_entity, std::string_view owner) = 0;
  // The next value of the client-book number sequence: 1, 2, 3, ...
  virtual Result<std::uint64_t> NextBookNumber() = 0;
  // The next value of the consent ledger's sequence (its order, chain-wide): 1, 2, 3, ...
  virtual Result<std::uint64_t> NextConsentNumber() = 0;

  // Adds or replaces an admin credential (by its token's hash).
  virtual Status PutAdminCredential(const AdminCredential& credential) = 0;
  // Removes an admin credential; removing an unknown one is not an error.
  virtual Status RemoveAdminCredential(std::string_view token_sha256) = 0;
  // Revokes a link certificate by serial (tls::pki.h's upper-case hex), forever.
  virtual Status RevokeCertificate(std::string_view serial_hex, std::int64_t at_ms) = 0;
  // Adds or replaces the wipe order of `order.terminal_id`.
  virtual Status PutWipeOrder(const WipeOrder& order) = 0;
  // Appends one entry to the audit trail, forever.
  virtual Status AppendAudit(std::int64_t at_ms, std::string_view who, std::string_view what) = 0;
  // Stores one event of the data-access audit trail under its customer. A
  // terminal's queued event (seq set) is stored once however often it
  // arrives; others (seq 0) are numbered here.
  virtual Status AppendAccessEvent(const model::AccessEvent& event) = 0;

  // Erases customer `id` of `legal_entity`: destroys its data key (nothing
  // sealed under it opens again, in this store or any copy of it), deletes
  // its record, index entries, book entries, timeline and measures, and
  // appends an erasure change for the entity's terminals. An id never held
  // here (a customer created offline whose creation has not arrived) is
  // erased all the same: the marker refuses its creation later, and the
  // change reaches the terminal that holds it. Erasing again returns the
  // first erasure and changes nothing.
  virtual Result<ErasureRecord> EraseCustomer(const model::LocalId& id, std::string_view legal_entity,
                                              std::int64_t at_ms, std::string_view who) = 0;
  // The erasure of customer `id` (nullopt: never erased).
  virtual Result<std::optional<ErasureRecord>> FindErasure(const model::LocalId& id) = 0;
};

class ChainStore : public search::CustomerIndex {
 public:
  // Runs `body` in one durable transaction; commits when it returns OK.
  virtual Status Transact(const std::function<Status(ChainTxn&)>& body) = 0;

  // Changes after `after` whose scope is `legal_entity` (customers) or
  // `store_id` (store configuration), at most `max_changes`, reading at most
  // `max_scan` log entries.
  virtual Result<ChangePage> ReadChanges(std::uint64_t after, std::string_view legal_entity,
                                         std::string_view store_id, std::size_t max_changes,
                                         std::size_t max_scan) = 0;

  virtual Result<std::optional<model::Customer>> FindCustomer(const model::LocalId& id) = 0;
  virtual Result<std::optional<std::string>> LegalEntityOf(const model::LocalId& id) = 0;
  // Clienteling as headquarters holds it, for administration.
  virtual Result<std::vector<model::BookEntry>> BookEntries(std::string_view legal_entity, std::string_view owner) = 0;
  virtual Result<std::vector<model::TimelineEntry>> Timeline(std::string_view legal_entity, const model::LocalId& customer,
                                                             std::size_t max) = 0;
  virtual Result<std::vector<model::AttributeValue>> Measures(std::string_view legal_entity,
                                                              const model::LocalId& customer) = 0;
  // The customer's consent ledger, in headquarters' order.
  virtual Result<std::vector<model::ConsentEntry>> Consents(std::string_view legal_entity,
                                                            const model::LocalId& customer) = 0;
  virtual Result<std::vector<TerminalRecord>> Terminals() = 0;
  virtual Result<ChainStats> Stats() = 0;
  // The configuration text last saved (nullopt: never).
  virtual Result<std::optional<std::string>> LoadConfigText() = 0;

  // The credential whose token hashes to `token_sha256` (nullopt: none).
  virtual Result<std::optional<AdminCredential>> FindAdminCredential(std::string_view token_sha256) = 0;
  // The chain's secret called `name` (32 random bytes), made on first use
  // and kept forever (e.g. "badge": the root of the legal entities' badge keys).
  virtual Result<std::string> ChainSecret(std::string_view name) = 0;
  // Every admin credential, by token hash.
  virtual Result<std::vector<AdminCredential>> AdminCredentials() = 0;
  // Whether the link certificate with this serial was revoked.
  virtual Result<bool> IsCertificateRevoked(std::string_view serial_hex) = 0;
  // The newest `max` audit entries, newest first.
  virtual Result<std::vector<AuditEntry>> Audit(std::size_t max) = 0;
  // Up to `max` customers in id order after `after` (from the first when
  // nullopt): sweeps over every customer (retention).
  virtual Result<std::vector<model::Customer>> CustomersAfter(const std::optional<model::LocalId>& after,
                                                             std::size_t max) = 0;
  // Deletes the admin audit entries and the access events made before
  // `before_ms`. Returns how many.
  virtual Result<std::size_t> PruneAudit(std::int64_t before_ms) = 0;
  // Deletes the erasure markers of `legal_entity` from the change log up to
  // change `confirmed_upto` (every terminal of the entity has applied them).
  // The erasure records stay: operations about those customers are still
  // refused, and FindErasure() still answers. Returns how many.
  virtual Result<std::size_t> PruneErasureMarkers(std::string_view legal_entity, std::uint64_t confirmed_upto) = 0;
  // Who opened, listed, printed, exported, created, changed or erased
  // customer `id`: its newest `max` access events, newest first (events of
  // the same millisecond in no particular order).
  virtual Result<std::vector<model::AccessEvent>> AccessEvents(const model::LocalId& id, std::size_t max) = 0;
  // One batch of a master key rotation (key_rotation.h), in one durable
  // transaction. Returns: kOk; kFailedPrecondition for a plaintext store.
  virtual Result<RewrapBatch> RewrapKeys(std::uint32_t from, std::uint32_t max) = 0;
  // The newest `max` erasures, newest first.
  virtual Result<std::vector<ErasureRecord>> Erasures(std::size_t max) = 0;
  // Every wipe order, by terminal id.
  virtual Result<std::vector<WipeOrder>> WipeOrders() = 0;
};

// The default size limit of the embedded store: 8 GiB, or 1 GiB where a
// 32-bit address space cannot map more.
inline constexpr std::size_t kDefaultChainMapBytes =
    sizeof(void*) == 4 ? std::size_t{1} << 30 : std::size_t{8} << 30;

struct ChainStoreOptions {
  std::string path;  // an existing directory
  std::size_t map_size_bytes = kDefaultChainMapBytes;
  // The master key: values sealed and index terms keyed under it (null:
  // plaintext, for unit tests and benchmarks only; an encrypted store
  // refuses it).
  std::shared_ptr<crypto::KeyStore> key_store;
  // Where the customers' data keys live when sealed (one slot each, wiped
  // on erasure): outside `path`; empty: "`path`.slots" beside it.
  std::string key_slots_file;
};

// Opens or creates the embedded store. An earlier, plaintext layout is
// sealed on open, an earlier sealed one has its customers' keys moved into
// the key slots, and the file is compacted after either.
// Returns: kOk; kUnavailable (directory); kDataLoss (not a chain store, or
// another key, or another store's key slots); kFailedPrecondition (another
// version, or no key given).
Result<std::unique_ptr<ChainStore>> OpenLmdbChainStore(const ChainStoreOptions& options);
// The same with the key slots in their default place.
Result<std::unique_ptr<ChainStore>> OpenLmdbChainStore(const std::string& path, std::size_t map_size_bytes,
                                                       std::shared_ptr<crypto::KeyStore> key_store);

struct PostgresStoreOptions {
  // A libpq connection string: "postgresql://kassa@db.example/kassa?sslmode=verify-full"
  // or "host=... dbname=..." (passwords belong in ~/.pgpass or PGPASSFILE).
  std::string conninfo;
  // The master key, as for the embedded store (null: plaintext, tests only).
  std::shared_ptr<crypto::KeyStore> key_store;
};

// A hot backup of the embedded store `from` into the new directory
// `out_dir`: its data file, compacted, from one read snapshot (headquarters
// keeps serving meanwhile), then the customers' key slots file beside it
// ("key-slots"). The master key file is not copied: keep it apart, as the
// backup opens with nothing else (docs/OPERATIONS.md, "Backups").
// Returns: kOk; kAlreadyExists "out: ..." when `out_dir` exists;
// kUnavailable "out: ..." when it cannot be written; the store's open errors.
Status BackupLmdbChainStore(const ChainStoreOptions& from, const std::string& out_dir);

// What a copy from one store to another moved.
struct ChainCopyReport {
  std::uint64_t customers = 0;
  std::uint64_t owners = 0;      // customers ever known, erased ones included
  std::uint64_t operations = 0;  // operation ids and their outcomes
  std::uint64_t changes = 0;     // change log entries, numbers kept
  std::uint64_t head_seq = 0;    // the log's newest number
  std::uint64_t clienteling = 0;
  std::uint64_t terminals = 0;
  std::uint64_t audit = 0;       // admin audit entries and access events
  std::uint64_t erasures = 0;
  std::uint64_t other = 0;       // secrets, credentials, revocations, wipe orders
};

// Copies the embedded store `from` into the PostgreSQL database `to`, which
// must hold no chain yet (a new database, or one kassa-hq created and never
// used): `kassa-hq migrate`. Everything keeps its identity and number, so
// terminals carry on from their cursors without a resynchronization; search
// terms are derived again. One transaction: a failure leaves `to` as it was.
// Run it with headquarters stopped (the embedded store's lock is not taken).
// Returns: kOk with what moved; kFailedPrecondition "database: ..." when `to`
// holds a chain already; the stores' open errors; kUnimplemented without
// PostgreSQL support.
Result<ChainCopyReport> CopyLmdbToPostgres(const ChainStoreOptions& from, const PostgresStoreOptions& to);

// Leadership of headquarters over a PostgreSQL chain: several kassa-hq
// processes may run on one database, one active (it holds a session
// advisory lock on a connection of its own), the others standing by. When
// the active one dies its connection closes, the database releases the
// lock, and a standby takes it over.
class ChainLeadership {
 public:
  virtual ~ChainLeadership() = default;
  // Whether it is still held: false once the lock's connection is gone
  // (the database may already have handed the lock to a standby).
  virtual bool Held() = 0;
};

// Waits until this process leads `conninfo`'s chain, trying every `retry`
// while `keep_waiting()` says so.
// Returns: kOk holding it; kCancelled when told to stop waiting;
// kUnimplemented without PostgreSQL support.
Result<std::unique_ptr<ChainLeadership>> AcquirePostgresLeadership(const std::string& conninfo,
                                                                   std::chrono::milliseconds retry,
                                                                   const std::function<bool()>& keep_waiting);

// Whether this build has the PostgreSQL store (libpq was found).
bool PostgresSupported();

// Connects, creates or migrates the schema (storage/sql/postgresql) and
// opens the store.
// Returns: kOk; kUnavailable "database: ..." (cannot connect);
// kFailedPrecondition (a newer schema, a server older than 13, a sealed
// database without a key or the reverse); kDataLoss (another key);
// kUnimplemented when this build has no PostgreSQL support.
Result<std::unique_ptr<ChainStore>> OpenPostgresChainStore(const PostgresStoreOptions& options);

}  // namespace kassa::storage
