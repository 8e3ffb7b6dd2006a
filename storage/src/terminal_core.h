#pragma once

// The terminal store's shared ground, private to storage/src: the LMDB
// environment and tables, the layout constants, and the steps several views
// share (sealing outbox and quarantine values, the outbox's counters, binding an
// account number, headquarters' upsert rule, migrations). Every view of
// terminal_tables.h works through one StoreCore; each call is one
// transaction (Update() for writes), never held across an asynchronous wait.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "branch_warmer.h"
#include "clienteling_tables.h"
#include "customer_tables.h"
#include "kassa/storage/terminal_tables.h"
#include "lmdb_txn.h"
#include "sealing.h"

namespace kassa::storage::terminal {

// Bumped when the on-disk layout changes; older layouts are migrated on open.
// 1: customers, index, outbox, meta.  2: + outbox_refs, quarantine.
// 3: name index entries carry the customer's name tokens (index rebuilt).
// 4: one index entry a phone: national number + country code; a count of
//    pending customers in meta instead of a pending marker in the index.
// 5: + index_recent: the index entries of customers created here, kept
//    apart until folded in (recent_index.h); outbox_refs dropped: each
//    outbox value starts with its customer's id instead.
// 6: + keys: values sealed and index terms keyed (sealing.h); each
//    quarantine value starts with its customer's id, as outbox values do.
//    A plaintext store of an earlier layout is sealed on open and its file
//    compacted, so no page keeps the plaintext.
// 7: customers' data keys in the key slots file (key_slots.h) instead of in
//    front of their records; the file compacted after the move.
// 8: name terms folded by utf8proc, a CJK name typed without a space
//    indexed as one run (model/text.h): the index rebuilt.
// 9: + index_heads: how many index entries start with each term head
//    (customer_tables.h), counted from the index on migration; an older
//    kassad, which would write the index without them, refuses the store.
// 10: + the index heads' version (heads_cache.h), which every commit that
//    adds or deletes a head changes; an older kassad would not change it.
// 11: + the recent index's version (recent_index.h), which every commit that
//    changes index_recent changes; an older kassad would not change it.
// 12: the outbox's next sequence and the count of pending customers in the
//    outbox's tail record (OutboxTail below) instead of in meta.
// 13: the recent index's records and its state in the outbox table, beside
//    the operations (recent_index.h), instead of in index_recent; an older
//    kassad would read them as queued operations.
inline constexpr std::string_view kSchemaVersion = "13";
inline constexpr std::string_view kSchemaVersion12 = "12";
inline constexpr std::string_view kSchemaVersion11 = "11";
inline constexpr std::string_view kSchemaVersion10 = "10";
inline constexpr std::string_view kSchemaVersion9 = "9";
inline constexpr std::string_view kSchemaVersion8 = "8";
inline constexpr std::string_view kSchemaVersion7 = "7";
inline constexpr std::string_view kSchemaVersion6 = "6";
inline constexpr std::string_view kSchemaVersion5 = "5";
inline constexpr std::string_view kSchemaVersion4 = "4";
inline constexpr std::string_view kSchemaVersion3 = "3";
inline constexpr std::string_view kSchemaVersion2 = "2";
inline constexpr std::string_view kSchemaVersion1 = "1";
inline constexpr std::string_view kSchemaKey = "schema_version";
// Layouts 1 to 11 kept the outbox's counters in meta (12: OutboxTail).
inline constexpr std::string_view kNextSeqKey = "outbox_next_seq";
inline constexpr std::string_view kPendingKey = "pending_customers";  // layout 4: customers without an account
inline constexpr std::string_view kStoreConfigKey = "store_config";
// 1 while the saved store configuration is the one headquarters distributed.
inline constexpr std::string_view kStoreConfigFromHqKey = "store_config_from_hq";
inline constexpr std::string_view kCursorKey = "distribution_cursor";
inline constexpr std::string_view kLastAckKey = "last_ack_at_ms";
inline constexpr std::string_view kLastContactKey = "hq_last_contact_ms";
inline constexpr std::string_view kAccessNextSeqKey = "access_next_seq";
// Set by the migration that seals a plaintext store, removed once its file
// has been compacted: a crash in between compacts on the next start.
inline constexpr std::string_view kCompactPendingKey = "compact_pending";
// + worker id: wrong (8) | locked until, wall clock (8) [| locked until, boot
// clock (8) | boot id (up to kMaxBootIdBytes)]; the part in brackets since
// wall-clock jumps stopped moving lockouts (16 bytes before).
inline constexpr std::string_view kPinFailuresPrefix = "pin_failures/";
inline constexpr std::size_t kMaxBootIdBytes = 64;
// + customer id (16): headquarters erased that customer, at change seq (8).
// Kept forever (24 bytes an erasure): what headquarters sent about the
// customer before its erasure, received again, is dropped.
inline constexpr std::string_view kErasedPrefix = "erased/";
// customers, index, index_heads, outbox, quarantine, meta, clienteling,
// keys, access (created by any layout's open: an older kassad ignores it);
// and index_recent of layouts 5 to 12 and outbox_refs of layouts 2 to 4
// while they are migrated away.
inline constexpr unsigned kMaxDbs = 11;

// An outbox value: the operation's customer id (16 bytes), then the
// operation sealed under that customer's key. A quarantine value: the same
// id, then the sealed (rejected_at_ms, reason, operation).
inline constexpr std::size_t kOutboxIdBytes = model::kLocalIdBytes;

// Whether `outbox_value` is filed under customer `id`.
bool FiledUnder(ByteView outbox_value, const model::LocalId& id);

// The outbox's tail record (layout 12), under kOutboxTailKey, after every
// sequence: the next sequence (8 bytes, big-endian) | the customers created
// here still waiting for their account number (8 bytes, big-endian). A
// create appends its operation and counts its customer, and both land on one
// page, the outbox's last leaf; kept in meta (layouts 1 to 11), the two
// counters were one page more in every create's synced commit
// (docs/PERFORMANCE.md). The outbox also holds the recent index (layout 13:
// its 16-byte records among the operations, its state record under
// RecentIndex::kStateKey, just before the tail), for the same page. Neither
// is a queued operation: every walk of the outbox goes through FirstQueued
// and NextQueued, and sequences stay below RecentIndex::kStateKey.
inline constexpr std::uint64_t kOutboxTailKey = UINT64_MAX;
struct OutboxTail {
  std::uint64_t next_seq = 1;
  std::uint64_t pending = 0;
};

// Moves `cursor`, open on the outbox, to its first queued operation, or to
// the next one: false past the last (the tail record is not one).
Result<bool> FirstQueued(Cursor& cursor);
Result<bool> NextQueued(Cursor& cursor);

// The outbox sequences queued for each customer, for one write transaction
// that asks for many customers (an acknowledgement batch, a distribution):
// the outbox is scanned once, on the first question, reading only the ids in
// front of its values. It is empty or short while the link is up.
class QueuedOps {
 public:
  QueuedOps(const ReadTxn& txn, MDB_dbi outbox) : txn_(txn), outbox_(outbox) {}

  // The sequences of the operations queued for `id`, in order.
  Result<std::vector<std::uint64_t>> For(const model::LocalId& id) {
    if (!loaded_) {
      KASSA_TRY_ASSIGN(Cursor cursor, txn_.OpenCursor(outbox_));
      KASSA_TRY_ASSIGN(bool found, FirstQueued(cursor));
      while (found) {
        if (cursor.value().size() < kOutboxIdBytes) {
          return Status(StatusCode::kDataLoss, "storage corrupted: malformed outbox entry");
        }
        model::LocalId owner;
        std::copy_n(cursor.value().begin(), kOutboxIdBytes, owner.bytes.begin());
        by_customer_[owner].push_back(FromBe64(cursor.key()));
        KASSA_TRY_ASSIGN(found, NextQueued(cursor));
      }
      loaded_ = true;
    }
    const auto it = by_customer_.find(id);
    return it == by_customer_.end() ? std::vector<std::uint64_t>() : it->second;
  }

  // Entry `seq` of customer `id` left the outbox in this transaction.
  void Removed(const model::LocalId& id, std::uint64_t seq) {
    const auto it = by_customer_.find(id);
    if (it != by_customer_.end()) std::erase(it->second, seq);
  }

 private:
  const ReadTxn& txn_;
  MDB_dbi outbox_;
  bool loaded_ = false;
  std::map<model::LocalId, std::vector<std::uint64_t>> by_customer_;
};

struct StoreCore {
  LmdbEnv env;
  std::unique_ptr<Sealing> sealing;
  CustomerTables tables;    // customers + index
  MDB_dbi outbox = 0;       // sequence (8 bytes, big-endian) -> customer id | sealed Operation record; OutboxTail
  MDB_dbi quarantine = 0;   // sequence -> customer id | sealed (rejected_at_ms, reason, Operation)
  MDB_dbi meta = 0;         // name -> value (schema, sealed store config, cursor, last ack)
  ClientelingTables clienteling;  // scope "": the terminal's legal entity
  // sequence (8, big-endian) -> sealed customer id (16) | action (1) | at_ms (8) | operator id
  MDB_dbi access = 0;
  // The customers' and index's branch pages read in the background after
  // open; declared last, so it stops before anything it reads closes.
  std::unique_ptr<BranchWarmer> branches{};

  Result<model::Operation> OpenQueued(const ReadTxn& txn, ByteView outbox_value);
  // The outbox value of `op`.
  Result<Bytes> Queued(WriteTxn& txn, const model::Operation& op);

  // The store configuration as kept in meta (sealed under the store key).
  Result<Bytes> SealStoreConfig(WriteTxn& txn, const model::StoreConfig& config);
  Result<std::optional<model::StoreConfig>> LoadStoreConfig(const ReadTxn& txn);

  Result<std::uint64_t> MetaU64(const ReadTxn& txn, std::string_view key, std::uint64_t absent);
  Status PutMetaU64(WriteTxn& txn, std::string_view key, std::uint64_t value);

  // The outbox's tail record. Returns: kOk; kDataLoss when it is missing
  // or malformed.
  Result<OutboxTail> Tail(const ReadTxn& txn);
  Status PutTail(WriteTxn& txn, const OutboxTail& tail);
  // Writes the tail record from the counters an older layout kept in meta
  // (removed from there), unless the outbox has one.
  Status StartTail(WriteTxn& txn);
  // How many operations are queued.
  Result<std::size_t> QueuedCount(const ReadTxn& txn);

  Status Append(WriteTxn& txn, ByteView queued);

  Result<std::vector<OutboxEntry>> ReadOutbox(const ReadTxn& txn, std::size_t max);

  // tables.Put, keeping the count of pending customers (OutboxTail) in
  // the same transaction (written only when it changes).
  Status PutCustomer(WriteTxn& txn, const model::Customer& c, ByteView record, const model::Customer* old,
                     bool check_unique, NewEntries placement = NewEntries::kIndex);

  // Writes `next` over `old` (index entries rewritten) when they differ.
  Status Rewrite(WriteTxn& txn, const model::Customer& next, const model::Customer& old);

  // Puts the account number into every operation still queued for `id`.
  Status StampQueued(WriteTxn& txn, QueuedOps& queued, const model::LocalId& id, const std::string& account);

  // Gives customer `id`, when still pending, its account number: the record,
  // its index entries and every operation still queued for it.
  // Returns whether it bound the number now.
  Result<bool> BindAccount(WriteTxn& txn, QueuedOps& queued, const model::LocalId& id, const std::string& account);

  Status Quarantine(WriteTxn& txn, std::uint64_t seq, const model::Operation& op, std::string_view reason,
                    std::int64_t now_ms);

  Result<QuarantineEntry> OpenQuarantined(const ReadTxn& txn, std::uint64_t seq, ByteView value);

  Status UpsertFromHeadquarters(WriteTxn& txn, QueuedOps& queued, const model::Customer& incoming);

  // Erases customer `id` as headquarters said at change `seq`: its record,
  // index entries and data key (CustomerTables::Erase), book entries,
  // timeline and measures, every operation queued or quarantined for it,
  // and leaves the erasure marker. Returns what it deleted besides the record.
  Result<std::size_t> EraseCustomer(WriteTxn& txn, QueuedOps& queued, const model::LocalId& id, std::uint64_t seq);
  // All of EraseCustomer but the erasure marker: a customer headquarters
  // never had (a rejected creation given up). Returns what it deleted besides the record.
  Result<std::size_t> ForgetCustomer(WriteTxn& txn, QueuedOps& queued, const model::LocalId& id);
  // Whether headquarters erased customer `id`.
  Result<bool> Erased(const ReadTxn& txn, const model::LocalId& id);

  // Layouts 1 to 5 to the current one, reading with `from` (plaintext: no earlier layout
  // was sealed) and writing with `sealing`: outbox values filed under their
  // customer's id (outbox_refs of layouts 2 to 4 dropped), quarantine
  // values the same, every value sealed, the index rebuilt with stored terms.
  Status Migrate(WriteTxn& txn, std::string_view from, const Sealing& plain);
};

}  // namespace kassa::storage::terminal
