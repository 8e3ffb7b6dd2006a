#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <array>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "chain_copy.h"
#include "clienteling_tables.h"
#include "customer_tables.h"
#include "kassa/base/log.h"
#include "key_slots.h"
#include "kassa/crypto/aead.h"
#include "kassa/crypto/sha256.h"
#include "kassa/proto_codec/codec.h"
#include "kassa/proto_codec/link_codec.h"
#include "kassa/storage/chain_store.h"
#include "lmdb_txn.h"

namespace kassa::storage {
namespace {

// customers, index, index_heads, ops, changes, terminals, meta, clienteling,
// admin, owners, keys, access, latest (access and latest created by any
// layout's open: additive, no new layout)
constexpr unsigned kMaxDbs = 13;
constexpr std::string_view kSchemaKey = "schema_version";
// hq-2: name index entries carry the customer's name tokens (index rebuilt).
// hq-3: one index entry a phone: national number + country code (rebuilt).
// hq-4: each customer's legal entity in "owners" (filled from the change log).
// hq-5: + keys: values sealed and index terms keyed (sealing.h): customers,
//       clienteling records and changes, outcomes, secrets, the configuration.
//       An earlier (plaintext) store is sealed on open and its file compacted.
// hq-6: customers' data keys in the key slots file (key_slots.h) instead of
//       in front of their records; the file compacted after the move.
// hq-7: name terms folded by utf8proc, a CJK name typed without a space
//       indexed as one run (model/text.h): the index rebuilt.
// hq-8: + index_heads: how many index entries start with each term head
//       (customer_tables.h), counted from the index on migration; an older
//       kassa-hq, which would write the index without them, refuses the store.
// hq-9: + the index heads' version (heads_cache.h), which every commit that
//       adds or deletes a head changes; an older kassa-hq would not change it.
constexpr std::string_view kSchemaVersion = "hq-9";
constexpr std::string_view kSchemaVersion8 = "hq-8";
constexpr std::string_view kSchemaVersion7 = "hq-7";
constexpr std::string_view kSchemaVersion6 = "hq-6";
constexpr std::string_view kSchemaVersion5 = "hq-5";
constexpr std::string_view kSchemaVersion4 = "hq-4";
constexpr std::string_view kSchemaVersion1 = "hq-1";
constexpr std::string_view kSchemaVersion2 = "hq-2";
constexpr std::string_view kSchemaVersion3 = "hq-3";
constexpr std::string_view kAccountSeqKey = "account_seq";
constexpr std::string_view kChangeSeqKey = "change_seq";
constexpr std::string_view kBookSeqKey = "book_seq";
constexpr std::string_view kConsentSeqKey = "consent_seq";
constexpr std::string_view kConfigKey = "chain_config";
constexpr std::string_view kAuditSeqKey = "audit_seq";
constexpr std::string_view kAccessSeqKey = "access_seq";  // headquarters' own access events
constexpr std::string_view kSecretPrefix = "secret:";
// Set by the migration that seals a plaintext store, removed once its file
// has been compacted: a crash in between compacts on the next start.
constexpr std::string_view kCompactPendingKey = "compact_pending";
constexpr char kFieldSeparator = '\x1f';  // never in names, roles, paths or times

// Fields joined by kFieldSeparator, and split again.
Bytes Joined(std::initializer_list<std::string_view> fields) {
  std::string text;
  for (auto f : fields) {
    if (!text.empty()) text.push_back(kFieldSeparator);
    text.append(f);
  }
  return Bytes(text.begin(), text.end());
}
std::vector<std::string> Split(ByteView value) {
  std::vector<std::string> out(1);
  for (const char c : AsChars(value)) {
    if (c == kFieldSeparator) {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  return out;
}

// A change log value: kind (1) | scope length (1) | scope | body: the
// customer id (16) of an upsert, the encoded ClientelingRecord of a
// clienteling change, nothing for a store configuration.
// REQUIRES: scope is at most 255 bytes (store and legal entity ids are 32).
Bytes ChangeValue(model::Change::Kind kind, std::string_view scope, ByteView body) {
  Bytes v(2 + scope.size() + body.size());
  v[0] = static_cast<std::uint8_t>(kind);
  v[1] = static_cast<std::uint8_t>(scope.size());
  std::memcpy(v.data() + 2, scope.data(), scope.size());
  if (!body.empty()) std::memcpy(v.data() + 2 + scope.size(), body.data(), body.size());
  return v;
}

// A terminal record: fixed fields then the store id.
Bytes TerminalValue(const TerminalRecord& t) {
  Bytes v;
  for (std::uint64_t x : {t.cursor, static_cast<std::uint64_t>(t.last_seen_ms), t.operations_applied, t.rejections}) {
    const Key8 b = Be64(x);
    v.insert(v.end(), b.begin(), b.end());
  }
  v.insert(v.end(), t.store_id.begin(), t.store_id.end());
  return v;
}

Result<TerminalRecord> ParseTerminal(ByteView key, ByteView v) {
  if (v.size() < 32) return Status(StatusCode::kDataLoss, "storage corrupted: malformed terminal record");
  TerminalRecord t;
  t.terminal_id = std::string(AsChars(key));
  t.cursor = FromBe64(v.subspan(0, 8));
  t.last_seen_ms = static_cast<std::int64_t>(FromBe64(v.subspan(8, 8)));
  t.operations_applied = FromBe64(v.subspan(16, 8));
  t.rejections = FromBe64(v.subspan(24, 8));
  t.store_id = std::string(AsChars(v.subspan(32)));
  return t;
}

// Wipe orders in the admin table: 'W' | terminal id -> ordered_ms, who,
// confirmed_ms, certificate serial (Joined).
Result<WipeOrder> ParseWipeOrder(ByteView key, ByteView value) {
  const auto fields = Split(value);
  if (key.size() < 2 || fields.size() != 4) return Status(StatusCode::kDataLoss, "storage corrupted: malformed wipe order");
  return WipeOrder{std::string(AsChars(key.subspan(1))), std::atoll(fields[0].c_str()), fields[1],
                   std::atoll(fields[2].c_str()), fields[3]};
}

// The data-access audit trail: customer id (16) | at_ms (8, big-endian) |
// terminal id | 0 | origin (1) | seq (8): a customer's events together in
// time order. Origin 'T': a terminal's queue sequence, so its event is kept
// under one key however often it is sent; 'H': numbered here (headquarters'
// own events, and those it derives from the operations it applies).
constexpr std::size_t kAccessKeyFixedBytes = model::kLocalIdBytes + 8;
constexpr std::size_t kAccessKeySuffixBytes = 1 + 1 + 8;
Bytes AccessKey(const model::AccessEvent& e, std::uint8_t origin) {
  Bytes key(e.customer.bytes.begin(), e.customer.bytes.end());
  const Key8 at = Be64(static_cast<std::uint64_t>(std::max<std::int64_t>(e.at_ms, 0)));
  key.insert(key.end(), at.begin(), at.end());
  key.insert(key.end(), e.terminal_id.begin(), e.terminal_id.end());
  key.push_back(0);
  key.push_back(origin);
  const Key8 seq = Be64(e.seq);
  key.insert(key.end(), seq.begin(), seq.end());
  return key;
}
Result<model::AccessEvent> ParseAccessEvent(ByteView key, ByteView value) {
  const auto action = value.empty() ? std::nullopt : model::AccessActionFromWire(value[0]);
  const std::size_t suffix = key.size() - kAccessKeySuffixBytes;
  if (key.size() < kAccessKeyFixedBytes + kAccessKeySuffixBytes || key[suffix] != 0 || !action) {
    return Status(StatusCode::kDataLoss, "storage corrupted: malformed access event");
  }
  model::AccessEvent e;
  std::copy_n(key.begin(), model::kLocalIdBytes, e.customer.bytes.begin());
  e.at_ms = static_cast<std::int64_t>(FromBe64(key.subspan(model::kLocalIdBytes, 8)));
  e.terminal_id = std::string(AsChars(key.subspan(kAccessKeyFixedBytes, suffix - kAccessKeyFixedBytes)));
  e.seq = FromBe64(key.subspan(key.size() - 8));
  e.action = *action;
  e.operator_id = std::string(AsChars(value.subspan(1)));
  return e;
}

// Erasures in the admin table: 'E' | customer id (16) -> seq (8), and
// 'X' | seq (8) -> id hex, at_ms, legal entity, who (Joined), the latter in
// the log's order for listing.
Bytes ErasureKey(const model::LocalId& id) {
  Bytes key{'E'};
  key.insert(key.end(), id.bytes.begin(), id.bytes.end());
  return key;
}
Bytes ErasureListKey(std::uint64_t seq) {
  Bytes key{'X'};
  const Key8 b = Be64(seq);
  key.insert(key.end(), b.begin(), b.end());
  return key;
}
Result<ErasureRecord> ParseErasure(std::uint64_t seq, ByteView value) {
  const auto fields = Split(value);
  auto id = fields.size() == 4 ? model::LocalId::FromHex(fields[0]) : std::nullopt;
  if (!id) return Status(StatusCode::kDataLoss, "storage corrupted: malformed erasure");
  return ErasureRecord{*id, fields[2], seq, std::atoll(fields[1].c_str()), fields[3]};
}
Result<std::optional<ErasureRecord>> ReadErasure(const ReadTxn& txn, MDB_dbi admin, const model::LocalId& id) {
  auto seq = txn.Get(admin, ErasureKey(id));
  if (!seq.ok()) {
    if (seq.status().code() == StatusCode::kNotFound) return std::optional<ErasureRecord>();
    return seq.status();
  }
  const std::uint64_t n = FromBe64(*seq);
  KASSA_TRY_ASSIGN(const ByteView listed, txn.Get(admin, ErasureListKey(n)));
  KASSA_TRY_ASSIGN(ErasureRecord record, ParseErasure(n, listed));
  return std::optional<ErasureRecord>(std::move(record));
}

class LmdbChainStore;

class LmdbChainTxn final : public ChainTxn {
 public:
  LmdbChainTxn(LmdbChainStore& store, WriteTxn& txn) : store_(store), txn_(txn) {}
  Result<std::optional<model::OperationAck>> FindOutcome(const model::LocalId& op_id) override;
  Status RecordOutcome(const model::OperationAck& ack) override;
  Result<std::optional<model::Customer>> FindCustomer(const model::LocalId& id) override;
  Result<std::optional<std::string>> LegalEntityOf(const model::LocalId& id) override;
  Status PutCustomer(const model::Customer& c, std::string_view legal_entity) override;
  Result<std::uint64_t> NextAccountNumber() override;
  Status AppendStoreConfigChange(std::string_view store_id) override;
  Status PutTerminal(const TerminalRecord& terminal) override;
  Status SaveConfigText(std::string_view text) override;
  Status ApplyClienteling(std::string_view legal_entity, const model::ClientelingRecord& record) override;
  Result<std::optional<model::BookEntry>> FindBook(std::string_view legal_entity, std::string_view owner) override;
  Result<std::uint64_t> NextBookNumber() override;
  Result<std::uint64_t> NextConsentNumber() override;
  Status PutAdminCredential(const AdminCredential& credential) override;
  Status RemoveAdminCredential(std::string_view token_sha256) override;
  Status RevokeCertificate(std::string_view serial_hex, std::int64_t at_ms) override;
  Status PutWipeOrder(const WipeOrder& order) override;
  Status AppendAudit(std::int64_t at_ms, std::string_view who, std::string_view what) override;
  Status AppendAccessEvent(const model::AccessEvent& event) override;
  Result<ErasureRecord> EraseCustomer(const model::LocalId& id, std::string_view legal_entity, std::int64_t at_ms,
                                      std::string_view who) override;
  Result<std::optional<ErasureRecord>> FindErasure(const model::LocalId& id) override;

 private:
  Result<std::uint64_t> Counter(std::string_view key);
  // Appends a change; returns its number.
  Result<std::uint64_t> AppendChange(const Bytes& value);
  // Makes `seq` customer `id`'s newest upsert, deleting the one before (or,
  // with seq 0, every one: an erasure).
  Status Supersede(const model::LocalId& id, std::uint64_t seq);
  LmdbChainStore& store_;
  WriteTxn& txn_;
};

class LmdbChainStore final : public ChainStore {
 public:
  LmdbChainStore(LmdbEnv env, const ChainStoreOptions& options)
      : env_(std::move(env)),
        sealing_(options.key_store
                     ? std::make_unique<Sealing>(options.key_store,
                                                 options.key_slots_file.empty() ? DefaultKeySlotsPath(options.path)
                                                                                : options.key_slots_file,
                                                 options.path)
                     : std::make_unique<Sealing>()) {}

  // Opens the tables, migrating earlier layouts. Returns whether the file
  // must be compacted (a plaintext store sealed now, or before a crash).
  Result<bool> Init() {
    bool sealed_now = false;
    KASSA_TRY(Update(env_, [&](WriteTxn& txn) -> Status {
      KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "meta", MDB_CREATE, &meta_), "dbi meta"));
      auto stamp = txn.Get(meta_, AsBytes(kSchemaKey));
      if (!stamp.ok() && stamp.status().code() != StatusCode::kNotFound) return stamp.status();
      // The layout stamped ("" for a new store), copied: later writes may move its page.
      const std::string from = stamp.ok() ? std::string(AsChars(*stamp)) : std::string();
      KASSA_TRY_ASSIGN(const Sealing::KeysFound keys, sealing_->Init(txn, !from.empty() && from != kSchemaVersion));
      KASSA_TRY(tables_.Open(txn, *sealing_, std::nullopt));
      KASSA_TRY(clienteling_.Open(txn, *sealing_));
      KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "ops", MDB_CREATE, &ops_), "dbi ops"));
      KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "changes", MDB_CREATE, &changes_), "dbi changes"));
      KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "terminals", MDB_CREATE, &terminals_), "dbi terminals"));
      KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "admin", MDB_CREATE, &admin_), "dbi admin"));
      KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "owners", MDB_CREATE, &owners_), "dbi owners"));
      KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "access", MDB_CREATE, &access_), "dbi access"));
      KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "latest", MDB_CREATE, &latest_), "dbi latest"));
      if (!from.empty()) {
        if (from == kSchemaVersion || from == kSchemaVersion8 || from == kSchemaVersion7 || from == kSchemaVersion6 ||
            from == kSchemaVersion5) {
          if (keys == Sealing::KeysFound::kNone && sealing_->encrypted()) {
            return Status(StatusCode::kDataLoss, "data: a plaintext store of this layout cannot be sealed");
          }
          if (keys == Sealing::KeysFound::kInRecords) {
            if (from != kSchemaVersion5) return Status(StatusCode::kDataLoss, "storage corrupted: key slots state is gone");
            KASSA_LOG(kInfo) << "migrating the headquarters store from " << from << " to " << kSchemaVersion
                             << " (customers' data keys into the key slots)";
            KASSA_TRY(sealing_->MoveKeysToSlots(txn));
            KASSA_TRY(txn.Put(meta_, AsBytes(kCompactPendingKey), AsBytes("1")));
          }
          if (from == kSchemaVersion8) {
            // CustomerTables::Open started the heads' version.
            KASSA_LOG(kInfo) << "migrating the headquarters store from " << from << " to " << kSchemaVersion
                             << " (the index heads' version)";
            KASSA_TRY(txn.Put(meta_, AsBytes(kSchemaKey), AsBytes(kSchemaVersion)));
          } else if (from == kSchemaVersion7) {
            KASSA_LOG(kInfo) << "migrating the headquarters store from " << from << " to " << kSchemaVersion
                             << " (the index's heads counted)";
            KASSA_TRY(tables_.RebuildHeads(txn));
            KASSA_TRY(txn.Put(meta_, AsBytes(kSchemaKey), AsBytes(kSchemaVersion)));
          } else if (from != kSchemaVersion) {
            KASSA_LOG(kInfo) << "migrating the headquarters store from " << from << " to " << kSchemaVersion
                             << " (search terms folded anew)";
            KASSA_TRY(tables_.RebuildIndex(txn).status());
            KASSA_TRY(txn.Put(meta_, AsBytes(kSchemaKey), AsBytes(kSchemaVersion)));
          }
          auto pending = txn.Get(meta_, AsBytes(kCompactPendingKey));
          if (!pending.ok() && pending.status().code() != StatusCode::kNotFound) return pending.status();
          sealed_now = pending.ok();
          return Status::Ok();
        }
        if (from != kSchemaVersion1 && from != kSchemaVersion2 && from != kSchemaVersion3 && from != kSchemaVersion4) {
          return Status(StatusCode::kFailedPrecondition, "data: not a kassa headquarters store of this version");
        }
        KASSA_LOG(kInfo) << "migrating the headquarters store from " << from << " to " << kSchemaVersion
                         << (sealing_->encrypted() ? " (sealing every value)" : "");
        if (from != kSchemaVersion4) KASSA_TRY(FillOwners(txn));
        // Every layout before hq-5 is plaintext: read it so, write it sealed.
        KASSA_TRY(Reseal(txn, Sealing()));
        sealed_now = sealing_->encrypted();
        if (sealed_now) KASSA_TRY(txn.Put(meta_, AsBytes(kCompactPendingKey), AsBytes("1")));
        return txn.Put(meta_, AsBytes(kSchemaKey), AsBytes(kSchemaVersion));
      }
      return txn.Put(meta_, AsBytes(kSchemaKey), AsBytes(kSchemaVersion));
    }));
    return sealed_now;
  }

  Status CompactionDone() {
    return Update(env_, [&](WriteTxn& txn) { return txn.Del(meta_, AsBytes(kCompactPendingKey)); });
  }

  // Every value read as `plain` (an earlier layout) wrote it, written again
  // sealed; the index rebuilt with stored terms.
  Status Reseal(WriteTxn& txn, const Sealing& plain) {
    KASSA_TRY(tables_.Reseal(txn, plain).status());
    KASSA_TRY(clienteling_.Reseal(txn, plain));
    // Clienteling changes in the log; upserts and store changes hold no
    // personal data (an id, a store id).
    std::vector<std::pair<Key8, Bytes>> changes;
    {
      KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(changes_));
      KASSA_TRY_ASSIGN(bool found, cursor.First());
      while (found) {
        const ByteView v = cursor.value();
        if (v.size() < 2 || v.size() < 2u + v[1]) return Status(StatusCode::kDataLoss, "storage corrupted: bad change");
        if (static_cast<model::Change::Kind>(v[0]) == model::Change::Kind::kClienteling) {
          KASSA_TRY_ASSIGN(const auto record, proto_codec::DecodeClientelingRecord(v.subspan(2u + v[1])));
          KASSA_TRY_ASSIGN(const Bytes body, SealChange(txn, record));
          Key8 seq{};
          std::copy_n(cursor.key().begin(), seq.size(), seq.begin());
          changes.emplace_back(seq, ChangeValue(model::Change::Kind::kClienteling, AsChars(v.subspan(2, v[1])), body));
        }
        KASSA_TRY_ASSIGN(found, cursor.Next());
      }
    }
    for (const auto& [seq, value] : changes) KASSA_TRY(txn.Put(changes_, seq, value));
    std::vector<std::pair<Bytes, Bytes>> rewritten;
    {
      KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(ops_));
      KASSA_TRY_ASSIGN(bool found, cursor.First());
      while (found) {
        KASSA_TRY_ASSIGN(const Bytes sealed, sealing_->Seal(txn, SealedTable::kOutcome, nullptr, cursor.value()));
        rewritten.emplace_back(Bytes(cursor.key().begin(), cursor.key().end()), sealed);
        KASSA_TRY_ASSIGN(found, cursor.Next());
      }
    }
    for (const auto& [key, value] : rewritten) KASSA_TRY(txn.Put(ops_, key, value));
    rewritten.clear();
    {
      KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(meta_));
      KASSA_TRY_ASSIGN(bool found, cursor.First());
      while (found) {
        const std::string_view key = AsChars(cursor.key());
        if (key == kConfigKey || key.starts_with(kSecretPrefix)) {
          KASSA_TRY_ASSIGN(const Bytes sealed, sealing_->Seal(txn, SealedTable::kSecret, nullptr, cursor.value()));
          rewritten.emplace_back(Bytes(cursor.key().begin(), cursor.key().end()), sealed);
        }
        KASSA_TRY_ASSIGN(found, cursor.Next());
      }
    }
    for (const auto& [key, value] : rewritten) KASSA_TRY(txn.Put(meta_, key, value));
    return Status::Ok();
  }

  // The log's body of a clienteling change: sealed under its customer's key.
  Result<Bytes> SealChange(WriteTxn& txn, const model::ClientelingRecord& record) {
    KASSA_TRY_ASSIGN(Bytes plain, proto_codec::EncodeClientelingRecord(record));
    auto body = sealing_->SealTagged(txn, SealedTable::kChange, ClientelingTables::CustomerOf(record), plain);
    crypto::Wipe(plain.data(), plain.size());
    return body;
  }

  // A sealed value of meta (the configuration, secrets); nullopt when absent.
  Result<std::optional<Bytes>> MetaSecret(const ReadTxn& txn, std::string_view key) const {
    auto v = txn.Get(meta_, AsBytes(key));
    if (!v.ok()) {
      if (v.status().code() == StatusCode::kNotFound) return std::optional<Bytes>();
      return v.status();
    }
    KASSA_TRY_ASSIGN(Bytes plain, sealing_->Unseal(txn, SealedTable::kSecret, nullptr, *v));
    return std::optional<Bytes>(std::move(plain));
  }

  // A customer's owner from a Get of "owners".
  static Result<std::optional<std::string>> OwnerIn(const Result<ByteView>& v) {
    if (v.ok()) return std::optional<std::string>(std::string(AsChars(*v)));
    if (v.status().code() == StatusCode::kNotFound) return std::optional<std::string>();
    return v.status();
  }

  // Migration to hq-4: every customer's legal entity is the scope of its
  // first upsert in the change log (the log is kept whole).
  Status FillOwners(WriteTxn& txn) {
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(changes_));
    KASSA_TRY_ASSIGN(bool found, cursor.First());
    std::size_t filled = 0;
    while (found) {
      const ByteView v = cursor.value();
      if (v.size() < 2 || v.size() < 2u + v[1]) return Status(StatusCode::kDataLoss, "storage corrupted: bad change");
      if (static_cast<model::Change::Kind>(v[0]) == model::Change::Kind::kCustomerUpsert &&
          v.size() == 2u + v[1] + model::kLocalIdBytes) {
        const ByteView id = v.subspan(2u + v[1]);
        const Status put = txn.Put(owners_, id, v.subspan(2, v[1]), MDB_NOOVERWRITE);
        if (put.ok()) ++filled;
        if (!put.ok() && put.code() != StatusCode::kAlreadyExists) return put;
      }
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
    KASSA_LOG(kInfo) << "recorded the legal entity of " << filled << " customer(s)";
    return Status::Ok();
  }

  Status Transact(const std::function<Status(ChainTxn&)>& body) override {
    return Update(env_, [&](WriteTxn& txn) -> Status {
      LmdbChainTxn chain_txn(*this, txn);
      return body(chain_txn);
    });
  }

  Result<ChangePage> ReadChanges(std::uint64_t after, std::string_view legal_entity, std::string_view store_id,
                                 std::size_t max_changes, std::size_t max_scan) override {
    ChangePage page;
    page.scanned_to = after;
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(changes_));
    KASSA_TRY_ASSIGN(bool found, cursor.SeekAtLeast(Be64(after + 1)));
    for (std::size_t scanned = 0; found && scanned < max_scan && page.changes.size() < max_changes; ++scanned) {
      const std::uint64_t seq = FromBe64(cursor.key());
      const ByteView v = cursor.value();
      if (v.size() < 2 || v.size() < 2u + v[1]) return Status(StatusCode::kDataLoss, "storage corrupted: bad change");
      const auto kind = static_cast<model::Change::Kind>(v[0]);
      const std::string_view scope = AsChars(v.subspan(2, v[1]));
      page.scanned_to = seq;
      if (kind == model::Change::Kind::kCustomerUpsert && scope == legal_entity) {
        if (v.size() != 2u + v[1] + model::kLocalIdBytes) return Status(StatusCode::kDataLoss, "storage corrupted: bad change");
        model::LocalId id;
        std::copy_n(v.end() - model::kLocalIdBytes, model::kLocalIdBytes, id.bytes.begin());
        KASSA_TRY_ASSIGN(auto customer, tables_.Find(txn, id));
        if (customer) {
          page.changes.push_back({seq, kind, std::move(customer), std::nullopt, {}});
        } else {
          // Erased since (its erasure comes later in the log): nothing of it travels.
          KASSA_TRY_ASSIGN(const auto erased, ReadErasure(txn, admin_, id));
          if (!erased) return Status(StatusCode::kDataLoss, "storage corrupted: change of a missing customer");
        }
      } else if (kind == model::Change::Kind::kClienteling && scope == legal_entity) {
        auto plain = sealing_->UnsealTagged(txn, SealedTable::kChange, v.subspan(2u + v[1]));
        if (plain.ok()) {
          auto record = proto_codec::DecodeClientelingRecord(*plain);
          crypto::Wipe(plain->data(), plain->size());
          KASSA_TRY(record.status());
          page.changes.push_back({seq, kind, std::nullopt, std::move(*record), {}});
        } else if (plain.status().code() != StatusCode::kNotFound) {
          return plain.status();  // kNotFound: about a customer erased since, its key gone
        }
      } else if (kind == model::Change::Kind::kCustomerErased && scope == legal_entity) {
        if (v.size() != 2u + v[1] + model::kLocalIdBytes) return Status(StatusCode::kDataLoss, "storage corrupted: bad change");
        model::LocalId id;
        std::copy_n(v.end() - model::kLocalIdBytes, model::kLocalIdBytes, id.bytes.begin());
        page.changes.push_back({seq, kind, std::nullopt, std::nullopt, id});
      } else if (kind == model::Change::Kind::kStoreConfig && scope == store_id) {
        page.changes.push_back({seq, kind, std::nullopt, std::nullopt, {}});
      }
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
    return page;
  }

  Result<std::optional<std::string>> LegalEntityOf(const model::LocalId& id) override {
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    return OwnerIn(txn.Get(owners_, IdKey(id)));
  }

  Result<std::optional<model::Customer>> FindCustomer(const model::LocalId& id) override {
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    return tables_.Find(txn, id);
  }

  Result<std::vector<model::BookEntry>> BookEntries(std::string_view legal_entity, std::string_view owner) override {
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    return clienteling_.Entries(txn, legal_entity, owner);
  }

  Result<std::vector<model::AttributeValue>> Measures(std::string_view legal_entity,
                                                      const model::LocalId& customer) override {
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    return clienteling_.Measures(txn, legal_entity, customer);
  }

  Result<std::vector<model::ConsentEntry>> Consents(std::string_view legal_entity,
                                                    const model::LocalId& customer) override {
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    return clienteling_.Consents(txn, legal_entity, customer);
  }

  Result<std::vector<model::TimelineEntry>> Timeline(std::string_view legal_entity, const model::LocalId& customer,
                                                     std::size_t max) override {
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    return clienteling_.Timeline(txn, legal_entity, customer, max);
  }

  Result<std::vector<TerminalRecord>> Terminals() override {
    std::vector<TerminalRecord> out;
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(terminals_));
    KASSA_TRY_ASSIGN(bool found, cursor.First());
    while (found) {
      KASSA_TRY_ASSIGN(TerminalRecord t, ParseTerminal(cursor.key(), cursor.value()));
      out.push_back(std::move(t));
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
    return out;
  }

  Result<ChainStats> Stats() override {
    ChainStats stats;
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    KASSA_TRY_ASSIGN(stats.customers, txn.Count(tables_.customers()));
    KASSA_TRY_ASSIGN(stats.operations, txn.Count(ops_));
    auto head = txn.Get(meta_, AsBytes(kChangeSeqKey));
    if (head.ok()) stats.head_seq = FromBe64(*head);
    return stats;
  }

  Result<std::optional<std::string>> LoadConfigText() override {
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    KASSA_TRY_ASSIGN(const auto text, MetaSecret(txn, kConfigKey));
    if (!text) return std::optional<std::string>();
    return std::optional<std::string>(std::string(AsChars(*text)));
  }

  Status Read(const Reader& read) override {
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    return tables_.Read(txn, read);
  }

  Result<std::optional<AdminCredential>> FindAdminCredential(std::string_view token_sha256) override {
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    auto v = txn.Get(admin_, AsBytes("C" + std::string(token_sha256)));
    if (!v.ok()) {
      if (v.status().code() == StatusCode::kNotFound) return std::optional<AdminCredential>();
      return v.status();
    }
    const auto fields = Split(*v);
    if (fields.size() != 3) return Status(StatusCode::kDataLoss, "storage corrupted: malformed admin credential");
    return std::optional<AdminCredential>(
        AdminCredential{std::string(token_sha256), fields[1], fields[0], std::atoll(fields[2].c_str())});
  }

  Result<std::vector<AdminCredential>> AdminCredentials() override {
    std::vector<AdminCredential> out;
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(admin_));
    KASSA_TRY_ASSIGN(bool found, cursor.SeekAtLeast(AsBytes("C")));
    while (found && !cursor.key().empty() && cursor.key()[0] == 'C') {
      const auto fields = Split(cursor.value());
      if (fields.size() != 3) return Status(StatusCode::kDataLoss, "storage corrupted: malformed admin credential");
      const auto key = AsChars(cursor.key()).substr(1);
      out.push_back(AdminCredential{std::string(key), fields[1], fields[0], std::atoll(fields[2].c_str())});
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
    return out;
  }

  Result<std::string> ChainSecret(std::string_view name) override {
    const std::string key = std::string(kSecretPrefix) + std::string(name);
    const auto checked = [](const Bytes& v) -> Result<std::string> {
      if (v.size() != 32) return Status(StatusCode::kDataLoss, "storage corrupted: a chain secret is not 32 bytes");
      return std::string(AsChars(v));
    };
    {
      // Made once: afterwards a read, never a durable write.
      KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
      KASSA_TRY_ASSIGN(const auto stored, MetaSecret(txn, key));
      if (stored) return checked(*stored);
    }
    std::string secret;
    KASSA_TRY(Update(env_, [&](WriteTxn& txn) -> Status {
      KASSA_TRY_ASSIGN(const auto stored, MetaSecret(txn, key));
      if (stored) {
        KASSA_TRY_ASSIGN(secret, checked(*stored));
        return Status::Ok();
      }
      std::array<std::uint8_t, 32> fresh{};
      KASSA_TRY(crypto::RandomBytes(fresh));
      secret.assign(reinterpret_cast<const char*>(fresh.data()), fresh.size());
      KASSA_TRY_ASSIGN(const Bytes sealed, sealing_->Seal(txn, SealedTable::kSecret, nullptr, fresh));
      crypto::Wipe(fresh.data(), fresh.size());
      return txn.Put(meta_, AsBytes(key), sealed);
    }));
    return secret;
  }

  Result<std::vector<WipeOrder>> WipeOrders() override {
    std::vector<WipeOrder> out;
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(admin_));
    KASSA_TRY_ASSIGN(bool found, cursor.SeekAtLeast(AsBytes("W")));
    while (found && !cursor.key().empty() && cursor.key()[0] == 'W') {
      KASSA_TRY_ASSIGN(WipeOrder order, ParseWipeOrder(cursor.key(), cursor.value()));
      out.push_back(std::move(order));
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
    return out;
  }

  Result<bool> IsCertificateRevoked(std::string_view serial_hex) override {
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    auto v = txn.Get(admin_, AsBytes("R" + std::string(serial_hex)));
    if (v.ok()) return true;
    if (v.status().code() == StatusCode::kNotFound) return false;
    return v.status();
  }

  Result<std::vector<AuditEntry>> Audit(std::size_t max) override {
    std::vector<AuditEntry> out;
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(admin_));
    // The audit keys ('A') sort before the credentials ('C'): start at the
    // last key before 'B'.
    KASSA_TRY_ASSIGN(bool found, cursor.SeekAtLeast(AsBytes("B")));
    if (found) {
      KASSA_TRY_ASSIGN(found, cursor.Prev());
    } else {
      KASSA_TRY_ASSIGN(found, cursor.Last());
    }
    while (found && out.size() < max && !cursor.key().empty() && cursor.key()[0] == 'A') {
      const auto fields = Split(cursor.value());
      if (fields.size() != 3 || cursor.key().size() != 9) {
        return Status(StatusCode::kDataLoss, "storage corrupted: malformed audit entry");
      }
      out.push_back({FromBe64(cursor.key().subspan(1)), std::atoll(fields[0].c_str()), fields[1], fields[2]});
      KASSA_TRY_ASSIGN(found, cursor.Prev());
    }
    return out;
  }

  Result<std::vector<model::Customer>> CustomersAfter(const std::optional<model::LocalId>& after,
                                                     std::size_t max) override {
    std::vector<model::Customer> out;
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(tables_.customers()));
    bool found = false;
    if (after) {
      KASSA_TRY_ASSIGN(found, cursor.SeekAtLeast(IdKey(*after)));
      if (found && std::equal(cursor.key().begin(), cursor.key().end(), after->bytes.begin(), after->bytes.end())) {
        KASSA_TRY_ASSIGN(found, cursor.Next());
      }
    } else {
      KASSA_TRY_ASSIGN(found, cursor.First());
    }
    for (; found && out.size() < max; ) {
      model::LocalId id;
      if (cursor.key().size() != model::kLocalIdBytes) return Status(StatusCode::kDataLoss, "storage corrupted: bad id");
      std::copy_n(cursor.key().begin(), model::kLocalIdBytes, id.bytes.begin());
      KASSA_TRY_ASSIGN(auto customer, tables_.Find(txn, id));
      if (customer) out.push_back(std::move(*customer));
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
    return out;
  }

  Result<std::size_t> PruneAudit(std::int64_t before_ms) override {
    std::size_t pruned = 0;
    KASSA_TRY(Update(env_, [&](WriteTxn& txn) -> Status {
      pruned = 0;
      std::vector<Bytes> doomed;
      KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(admin_));
      KASSA_TRY_ASSIGN(bool found, cursor.SeekAtLeast(AsBytes("A")));
      // Entries are in time order: stop at the first one young enough.
      while (found && cursor.key().size() == 9 && cursor.key()[0] == 'A') {
        const auto fields = Split(cursor.value());
        if (fields.size() != 3) return Status(StatusCode::kDataLoss, "storage corrupted: malformed audit entry");
        if (std::atoll(fields[0].c_str()) >= before_ms) break;
        doomed.emplace_back(cursor.key().begin(), cursor.key().end());
        KASSA_TRY_ASSIGN(found, cursor.Next());
      }
      for (const Bytes& key : doomed) KASSA_TRY(txn.Del(admin_, key));
      pruned = doomed.size();
      // Access events are in time order per customer: every key is read.
      doomed.clear();
      KASSA_TRY_ASSIGN(Cursor events, txn.OpenCursor(access_));
      KASSA_TRY_ASSIGN(found, events.First());
      while (found) {
        if (events.key().size() < kAccessKeyFixedBytes) {
          return Status(StatusCode::kDataLoss, "storage corrupted: malformed access event");
        }
        const auto at = static_cast<std::int64_t>(FromBe64(events.key().subspan(model::kLocalIdBytes, 8)));
        if (at < before_ms) doomed.emplace_back(events.key().begin(), events.key().end());
        KASSA_TRY_ASSIGN(found, events.Next());
      }
      for (const Bytes& key : doomed) KASSA_TRY(txn.Del(access_, key));
      pruned += doomed.size();
      return Status::Ok();
    }));
    return pruned;
  }

  Result<std::size_t> PruneErasureMarkers(std::string_view legal_entity, std::uint64_t confirmed_upto) override {
    std::size_t pruned = 0;
    KASSA_TRY(Update(env_, [&](WriteTxn& txn) -> Status {
      std::vector<Key8> doomed;
      KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(changes_));
      KASSA_TRY_ASSIGN(bool found, cursor.First());
      // In log order: stop past the confirmed part.
      while (found && FromBe64(cursor.key()) <= confirmed_upto) {
        const ByteView v = cursor.value();
        if (v.size() < 2 || v.size() < 2u + v[1]) return Status(StatusCode::kDataLoss, "storage corrupted: bad change");
        if (static_cast<model::Change::Kind>(v[0]) == model::Change::Kind::kCustomerErased &&
            AsChars(v.subspan(2, v[1])) == legal_entity) {
          Key8 seq{};
          std::copy_n(cursor.key().begin(), seq.size(), seq.begin());
          doomed.push_back(seq);
        }
        KASSA_TRY_ASSIGN(found, cursor.Next());
      }
      for (const Key8& seq : doomed) KASSA_TRY(txn.Del(changes_, seq));
      pruned = doomed.size();
      return Status::Ok();
    }));
    return pruned;
  }

  Result<std::vector<model::AccessEvent>> AccessEvents(const model::LocalId& id, std::size_t max) override {
    std::vector<model::AccessEvent> out;
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(access_));
    // Past the customer's newest possible key, then backwards.
    Bytes past(id.bytes.begin(), id.bytes.end());
    past.insert(past.end(), 9, 0xFF);
    KASSA_TRY_ASSIGN(bool found, cursor.SeekAtLeast(past));
    if (found) {
      KASSA_TRY_ASSIGN(found, cursor.Prev());
    } else {
      KASSA_TRY_ASSIGN(found, cursor.Last());
    }
    while (found && out.size() < max && cursor.key().size() >= model::kLocalIdBytes &&
           std::equal(id.bytes.begin(), id.bytes.end(), cursor.key().begin())) {
      KASSA_TRY_ASSIGN(model::AccessEvent e, ParseAccessEvent(cursor.key(), cursor.value()));
      out.push_back(std::move(e));
      KASSA_TRY_ASSIGN(found, cursor.Prev());
    }
    return out;
  }

  Result<RewrapBatch> RewrapKeys(std::uint32_t from, std::uint32_t max) override {
    if (!sealing_->encrypted()) return Status(StatusCode::kFailedPrecondition, "data: the store is not sealed");
    RewrapBatch batch;
    KASSA_TRY(Update(env_, [&](WriteTxn& txn) -> Status {
      KASSA_TRY_ASSIGN(batch, sealing_->Rewrap(txn, from, max));
      return Status::Ok();
    }));
    return batch;
  }

  Result<std::vector<ErasureRecord>> Erasures(std::size_t max) override {
    std::vector<ErasureRecord> out;
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(admin_));
    // The listing keys ('X') sort last: start at the last key.
    KASSA_TRY_ASSIGN(bool found, cursor.Last());
    while (found && out.size() < max && cursor.key().size() == 9 && cursor.key()[0] == 'X') {
      KASSA_TRY_ASSIGN(ErasureRecord record, ParseErasure(FromBe64(cursor.key().subspan(1)), cursor.value()));
      out.push_back(std::move(record));
      KASSA_TRY_ASSIGN(found, cursor.Prev());
    }
    return out;
  }

 // Everything, in plain form, into `to` (chain_copy.h), from one snapshot.
  Status CopyTo(ChainCopySink& to, ChainCopyReport& report) {
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(env_));
    const auto counter = [&](std::string_view key) -> Result<std::uint64_t> {
      auto v = txn.Get(meta_, AsBytes(key));
      if (v.ok()) return FromBe64(*v);
      if (v.status().code() == StatusCode::kNotFound) return std::uint64_t{0};
      return v.status();
    };
    ChainCounters counters;
    KASSA_TRY_ASSIGN(counters.account, counter(kAccountSeqKey));
    KASSA_TRY_ASSIGN(counters.change, counter(kChangeSeqKey));
    KASSA_TRY_ASSIGN(counters.book, counter(kBookSeqKey));
    KASSA_TRY_ASSIGN(counters.consent, counter(kConsentSeqKey));
    report.head_seq = counters.change;
    KASSA_TRY(to.Counters(counters));
    // Visits every entry of `dbi` in key order.
    const auto each = [&](MDB_dbi dbi, const std::function<Status(ByteView key, ByteView value)>& visit) -> Status {
      KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(dbi));
      KASSA_TRY_ASSIGN(bool found, cursor.First());
      while (found) {
        KASSA_TRY(visit(cursor.key(), cursor.value()));
        KASSA_TRY_ASSIGN(found, cursor.Next());
      }
      return Status::Ok();
    };
    const auto id_of = [](ByteView key) -> Result<model::LocalId> {
      if (key.size() != model::kLocalIdBytes) return Status(StatusCode::kDataLoss, "storage corrupted: bad id");
      model::LocalId id;
      std::copy_n(key.begin(), model::kLocalIdBytes, id.bytes.begin());
      return id;
    };
    KASSA_TRY(each(owners_, [&](ByteView key, ByteView value) -> Status {
      KASSA_TRY_ASSIGN(const model::LocalId id, id_of(key));
      ++report.owners;
      return to.Owner(id, AsChars(value));
    }));
    KASSA_TRY(each(tables_.customers(), [&](ByteView key, ByteView) -> Status {
      KASSA_TRY_ASSIGN(const model::LocalId id, id_of(key));
      KASSA_TRY_ASSIGN(const auto customer, tables_.Find(txn, id));
      if (!customer) return Status::Ok();  // its key shredded: erased
      ++report.customers;
      return to.Customer(*customer);
    }));
    KASSA_TRY(each(ops_, [&](ByteView, ByteView value) -> Status {
      KASSA_TRY_ASSIGN(const Bytes plain, sealing_->Unseal(txn, SealedTable::kOutcome, nullptr, value));
      KASSA_TRY_ASSIGN(const auto acks, proto_codec::DecodeUploadAcks(plain));
      if (acks.size() != 1) return Status(StatusCode::kDataLoss, "storage corrupted: bad operation outcome");
      ++report.operations;
      return to.Outcome(acks.front());
    }));
    KASSA_TRY(each(changes_, [&](ByteView key, ByteView v) -> Status {
      if (v.size() < 2 || v.size() < 2u + v[1]) return Status(StatusCode::kDataLoss, "storage corrupted: bad change");
      CopiedChange change;
      change.seq = FromBe64(key);
      change.kind = static_cast<model::Change::Kind>(v[0]);
      change.scope = std::string(AsChars(v.subspan(2, v[1])));
      const ByteView body = v.subspan(2u + v[1]);
      if (change.kind == model::Change::Kind::kCustomerUpsert || change.kind == model::Change::Kind::kCustomerErased) {
        KASSA_TRY_ASSIGN(change.customer, id_of(body));
      } else if (change.kind == model::Change::Kind::kClienteling) {
        auto plain = sealing_->UnsealTagged(txn, SealedTable::kChange, body);
        if (plain.ok()) {
          KASSA_TRY_ASSIGN(change.clienteling, proto_codec::DecodeClientelingRecord(*plain));
          crypto::Wipe(plain->data(), plain->size());
          if (const model::LocalId* owner = ClientelingTables::CustomerOf(*change.clienteling)) change.customer = *owner;
        } else if (plain.status().code() == StatusCode::kNotFound && body.size() > model::kLocalIdBytes &&
                   body[0] == 1) {
          KASSA_TRY_ASSIGN(change.customer, id_of(body.subspan(1, model::kLocalIdBytes)));  // erased since
        } else {
          return plain.status();
        }
      }
      ++report.changes;
      return to.Change(change);
    }));
    std::uint64_t unreadable = 0;
    KASSA_TRY(clienteling_.ForEach(txn, unreadable,
                                   [&](char tag, std::string_view scope, const model::ClientelingRecord& r) {
                                     ++report.clienteling;
                                     return to.Clienteling(tag, scope, r);
                                   }));
    if (unreadable > 0) KASSA_LOG(kWarning) << unreadable << " clienteling record(s) of erased customers left behind";
    KASSA_TRY(each(terminals_, [&](ByteView key, ByteView value) -> Status {
      KASSA_TRY_ASSIGN(const TerminalRecord t, ParseTerminal(key, value));
      ++report.terminals;
      return to.Terminal(t);
    }));
    KASSA_TRY(each(meta_, [&](ByteView key, ByteView value) -> Status {
      const std::string_view name = AsChars(key);
      if (name != kConfigKey && !name.starts_with(kSecretPrefix)) return Status::Ok();
      KASSA_TRY_ASSIGN(Bytes plain, sealing_->Unseal(txn, SealedTable::kSecret, nullptr, value));
      const Status s = to.Secret(name == kConfigKey ? "config" : name, plain);
      crypto::Wipe(plain.data(), plain.size());
      ++report.other;
      return s;
    }));
    KASSA_TRY(each(admin_, [&](ByteView key, ByteView value) -> Status {
      if (key.empty()) return Status(StatusCode::kDataLoss, "storage corrupted: an empty admin key");
      const auto fields = Split(value);
      switch (key[0]) {
        case 'A':
          if (fields.size() != 3 || key.size() != 9) return Status(StatusCode::kDataLoss, "storage corrupted: malformed audit entry");
          ++report.audit;
          return to.Audit({FromBe64(key.subspan(1)), std::atoll(fields[0].c_str()), fields[1], fields[2]});
        case 'C':
          if (fields.size() != 3) return Status(StatusCode::kDataLoss, "storage corrupted: malformed admin credential");
          ++report.other;
          return to.Credential({std::string(AsChars(key.subspan(1))), fields[1], fields[0], std::atoll(fields[2].c_str())});
        case 'R':
          ++report.other;
          return to.Revoked(AsChars(key.subspan(1)), std::atoll(std::string(AsChars(value)).c_str()));
        case 'W': {
          KASSA_TRY_ASSIGN(const WipeOrder order, ParseWipeOrder(key, value));
          ++report.other;
          return to.Wipe(order);
        }
        case 'X': {
          if (key.size() != 9) return Status(StatusCode::kDataLoss, "storage corrupted: malformed erasure");
          KASSA_TRY_ASSIGN(const ErasureRecord erasure, ParseErasure(FromBe64(key.subspan(1)), value));
          ++report.erasures;
          return to.Erasure(erasure);
        }
        default:
          return Status::Ok();  // 'E': the erasures' index, derived from 'X'
      }
    }));
    KASSA_TRY(each(access_, [&](ByteView key, ByteView value) -> Status {
      KASSA_TRY_ASSIGN(const model::AccessEvent e, ParseAccessEvent(key, value));
      ++report.audit;
      return to.Access(e, static_cast<char>(key[key.size() - kAccessKeySuffixBytes + 1]));
    }));
    return Status::Ok();
  }

 private:
  friend class LmdbChainTxn;
  LmdbEnv env_;
  std::unique_ptr<Sealing> sealing_;
  CustomerTables tables_;
  ClientelingTables clienteling_;  // scope: the legal entity
  MDB_dbi ops_ = 0;        // op id (16) -> sealed encoded OperationAck: every outcome, forever
  MDB_dbi changes_ = 0;    // seq (8, big-endian) -> kind | scope | customer id, or sealed clienteling record
  MDB_dbi terminals_ = 0;  // terminal id -> TerminalValue
  MDB_dbi meta_ = 0;       // schema, sequences, sealed configuration text and secrets
  // 'A' + seq (8) -> at | who | what; 'C' + token SHA-256 -> role | name | created;
  // 'R' + certificate serial (hex) -> revoked at; 'W' + terminal id -> wipe order;
  // 'E' and 'X': erasures (ErasureKey, ErasureListKey)
  MDB_dbi admin_ = 0;
  MDB_dbi owners_ = 0;     // customer id (16) -> legal entity, set by the first put
  MDB_dbi access_ = 0;     // AccessKey -> action (1) | operator id: the data-access audit trail
  // customer id (16) -> seq (8): its newest upsert in the change log. The
  // log is compacted: a customer's earlier upserts are deleted as a newer
  // one is appended (each sends the customer as it is now, so a terminal
  // behind the newer one misses nothing), and all of them on its erasure.
  MDB_dbi latest_ = 0;
};

Result<std::optional<model::OperationAck>> LmdbChainTxn::FindOutcome(const model::LocalId& op_id) {
  auto v = txn_.Get(store_.ops_, IdKey(op_id));
  if (!v.ok()) {
    if (v.status().code() == StatusCode::kNotFound) return std::optional<model::OperationAck>();
    return v.status();
  }
  KASSA_TRY_ASSIGN(const Bytes plain, store_.sealing_->Unseal(txn_, SealedTable::kOutcome, nullptr, *v));
  KASSA_TRY_ASSIGN(auto acks, proto_codec::DecodeUploadAcks(plain));
  if (acks.size() != 1) return Status(StatusCode::kDataLoss, "storage corrupted: bad operation outcome");
  return std::optional<model::OperationAck>(std::move(acks.front()));
}

Status LmdbChainTxn::RecordOutcome(const model::OperationAck& ack) {
  KASSA_TRY_ASSIGN(const Bytes v, proto_codec::EncodeUploadAcks(std::span<const model::OperationAck>(&ack, 1)));
  KASSA_TRY_ASSIGN(const Bytes sealed, store_.sealing_->Seal(txn_, SealedTable::kOutcome, nullptr, v));
  return txn_.Put(store_.ops_, IdKey(ack.op_id), sealed);
}

Result<std::optional<model::Customer>> LmdbChainTxn::FindCustomer(const model::LocalId& id) {
  return store_.tables_.Find(txn_, id);
}

Result<std::optional<std::string>> LmdbChainTxn::LegalEntityOf(const model::LocalId& id) {
  return LmdbChainStore::OwnerIn(txn_.Get(store_.owners_, IdKey(id)));
}

Status LmdbChainTxn::PutCustomer(const model::Customer& c, std::string_view legal_entity) {
  KASSA_TRY_ASSIGN(const auto old, store_.tables_.Find(txn_, c.id));
  KASSA_TRY_ASSIGN(const Bytes record, store_.tables_.Seal(txn_, c));
  // A refused customer (a taken account number or loyalty card) is refused
  // before anything is written: the operations around it still commit.
  KASSA_TRY(store_.tables_.Put(txn_, c, record, old ? &*old : nullptr, /*check_unique=*/true));
  if (!old) KASSA_TRY(txn_.Put(store_.owners_, IdKey(c.id), AsBytes(legal_entity)));
  KASSA_TRY_ASSIGN(const std::uint64_t seq,
                   AppendChange(ChangeValue(model::Change::Kind::kCustomerUpsert, legal_entity, IdKey(c.id))));
  return Supersede(c.id, seq);
}

Status LmdbChainTxn::Supersede(const model::LocalId& id, std::uint64_t seq) {
  auto before = txn_.Get(store_.latest_, IdKey(id));
  if (before.ok()) {
    const Status deleted = txn_.Del(store_.changes_, Be64(FromBe64(*before)));
    if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return deleted;
  } else if (before.status().code() != StatusCode::kNotFound) {
    return before.status();
  }
  if (seq == 0) {
    const Status gone = txn_.Del(store_.latest_, IdKey(id));
    return gone.code() == StatusCode::kNotFound ? Status::Ok() : gone;
  }
  return txn_.Put(store_.latest_, IdKey(id), Be64(seq));
}

Result<std::uint64_t> LmdbChainTxn::Counter(std::string_view key) {
  std::uint64_t next = 1;
  auto v = txn_.Get(store_.meta_, AsBytes(key));
  if (v.ok()) {
    next = FromBe64(*v) + 1;
  } else if (v.status().code() != StatusCode::kNotFound) {
    return v.status();
  }
  const Key8 b = Be64(next);
  KASSA_TRY(txn_.Put(store_.meta_, AsBytes(key), b));
  return next;
}

Result<std::uint64_t> LmdbChainTxn::NextAccountNumber() { return Counter(kAccountSeqKey); }

Result<std::uint64_t> LmdbChainTxn::AppendChange(const Bytes& value) {
  KASSA_TRY_ASSIGN(const std::uint64_t seq, Counter(kChangeSeqKey));
  KASSA_TRY(txn_.Put(store_.changes_, Be64(seq), value, MDB_APPEND));
  return seq;
}

Status LmdbChainTxn::AppendStoreConfigChange(std::string_view store_id) {
  return AppendChange(ChangeValue(model::Change::Kind::kStoreConfig, store_id, ByteView())).status();
}

Status LmdbChainTxn::ApplyClienteling(std::string_view legal_entity, const model::ClientelingRecord& record) {
  KASSA_TRY(store_.clienteling_.Apply(txn_, legal_entity, record));
  KASSA_TRY_ASSIGN(const Bytes body, store_.SealChange(txn_, record));
  return AppendChange(ChangeValue(model::Change::Kind::kClienteling, legal_entity, body)).status();
}

Result<std::optional<model::BookEntry>> LmdbChainTxn::FindBook(std::string_view legal_entity, std::string_view owner) {
  return store_.clienteling_.Book(txn_, legal_entity, owner);
}

Result<std::uint64_t> LmdbChainTxn::NextBookNumber() { return Counter(kBookSeqKey); }
Result<std::uint64_t> LmdbChainTxn::NextConsentNumber() { return Counter(kConsentSeqKey); }

Status LmdbChainTxn::PutTerminal(const TerminalRecord& terminal) {
  return txn_.Put(store_.terminals_, AsBytes(terminal.terminal_id), TerminalValue(terminal));
}

Status LmdbChainTxn::PutAdminCredential(const AdminCredential& c) {
  const std::string created = std::to_string(c.created_ms);
  return txn_.Put(store_.admin_, AsBytes("C" + c.token_sha256), Joined({c.role, c.name, created}));
}

Status LmdbChainTxn::RemoveAdminCredential(std::string_view token_sha256) {
  const Status s = txn_.Del(store_.admin_, AsBytes("C" + std::string(token_sha256)));
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

Status LmdbChainTxn::RevokeCertificate(std::string_view serial_hex, std::int64_t at_ms) {
  return txn_.Put(store_.admin_, AsBytes("R" + std::string(serial_hex)), AsBytes(std::to_string(at_ms)));
}

Status LmdbChainTxn::PutWipeOrder(const WipeOrder& order) {
  const std::string ordered = std::to_string(order.ordered_ms);
  const std::string confirmed = std::to_string(order.confirmed_ms);
  return txn_.Put(store_.admin_, AsBytes("W" + order.terminal_id),
                  Joined({ordered, order.who, confirmed, order.certificate_serial}));
}

Status LmdbChainTxn::AppendAccessEvent(const model::AccessEvent& event) {
  model::AccessEvent e = event;
  std::uint8_t origin = 'T';
  if (e.seq == 0) {
    origin = 'H';
    KASSA_TRY_ASSIGN(e.seq, Counter(kAccessSeqKey));
  }
  Bytes value{static_cast<std::uint8_t>(e.action)};
  value.insert(value.end(), e.operator_id.begin(), e.operator_id.end());
  return txn_.Put(store_.access_, AccessKey(e, origin), value);
}

Status LmdbChainTxn::AppendAudit(std::int64_t at_ms, std::string_view who, std::string_view what) {
  KASSA_TRY_ASSIGN(const std::uint64_t seq, Counter(kAuditSeqKey));
  Bytes key{'A'};
  const Key8 b = Be64(seq);
  key.insert(key.end(), b.begin(), b.end());
  const std::string at = std::to_string(at_ms);
  return txn_.Put(store_.admin_, key, Joined({at, who, what}));
}

Result<std::optional<ErasureRecord>> LmdbChainTxn::FindErasure(const model::LocalId& id) {
  return ReadErasure(txn_, store_.admin_, id);
}

Result<ErasureRecord> LmdbChainTxn::EraseCustomer(const model::LocalId& id, std::string_view legal_entity,
                                                  std::int64_t at_ms, std::string_view who) {
  KASSA_TRY_ASSIGN(const auto before, FindErasure(id));
  if (before) return *before;
  KASSA_TRY(store_.tables_.Erase(txn_, id).status());
  KASSA_TRY(store_.clienteling_.EraseCustomer(txn_, legal_entity, id).status());
  KASSA_TRY(Supersede(id, 0));  // its upserts leave the log: only the erasure travels
  if (auto owner = txn_.Get(store_.owners_, IdKey(id)); !owner.ok()) {
    if (owner.status().code() != StatusCode::kNotFound) return owner.status();
    // Never held here: the legal entity it would have had.
    KASSA_TRY(txn_.Put(store_.owners_, IdKey(id), AsBytes(legal_entity)));
  }
  KASSA_TRY_ASSIGN(const std::uint64_t erased,
                   AppendChange(ChangeValue(model::Change::Kind::kCustomerErased, legal_entity, IdKey(id))));
  const ErasureRecord record{id, std::string(legal_entity), erased, at_ms, std::string(who)};
  const Key8 seq = Be64(record.seq);
  KASSA_TRY(txn_.Put(store_.admin_, ErasureKey(id), seq));
  KASSA_TRY(txn_.Put(store_.admin_, ErasureListKey(record.seq),
                     Joined({id.ToHex(), std::to_string(at_ms), legal_entity, who})));
  return record;
}

Status LmdbChainTxn::SaveConfigText(std::string_view text) {
  KASSA_TRY_ASSIGN(const Bytes sealed, store_.sealing_->Seal(txn_, SealedTable::kSecret, nullptr, AsBytes(text)));
  return txn_.Put(store_.meta_, AsBytes(kConfigKey), sealed);
}

}  // namespace

Status BackupLmdbChainStore(const ChainStoreOptions& from, const std::string& out_dir) {
  if (::mkdir(out_dir.c_str(), 0700) != 0) {
    if (errno == EEXIST) return Status(StatusCode::kAlreadyExists, "out: the backup directory exists already");
    KASSA_LOG(kError) << "cannot create " << out_dir << ": " << std::strerror(errno);
    return Status(StatusCode::kUnavailable, "out: the backup directory cannot be created (see log)");
  }
  const auto failed = [&](const std::string& file) {
    KASSA_LOG(kError) << "backup: cannot write " << file << ": " << std::strerror(errno);
    return Status(StatusCode::kUnavailable, "out: the backup cannot be written (see log)");
  };
  // Writes `file` from `fill` (given the descriptor), synced.
  const auto write_file = [&](const std::string& file, const std::function<Status(int fd)>& fill) -> Status {
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return failed(file);
    Status s = fill(fd);
    if (s.ok() && ::fsync(fd) != 0) s = failed(file);
    ::close(fd);
    return s;
  };
  {
    // The environment only: no migration, no write (headquarters may be running).
    KASSA_TRY_ASSIGN(const LmdbEnv env, LmdbEnv::Open(from.path, from.map_size_bytes, kMaxDbs));
    KASSA_TRY(write_file(out_dir + "/data.mdb",
                         [&](int fd) { return FromMdb(mdb_env_copyfd2(env.get(), fd, MDB_CP_COMPACT), "backup copy"); }));
  }
  // The slots after the data: every slot a copied record names was written
  // and synced before that record committed.
  const std::string slots = from.key_slots_file.empty() ? DefaultKeySlotsPath(from.path) : from.key_slots_file;
  const int in = ::open(slots.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    if (errno == ENOENT && !from.key_store) return Status::Ok();  // a plaintext store has none
    return failed(slots);
  }
  const Status copied = write_file(out_dir + "/key-slots", [&](int fd) -> Status {
    std::array<char, 1 << 16> buffer{};
    for (;;) {
      const ssize_t n = ::read(in, buffer.data(), buffer.size());
      if (n == 0) return Status::Ok();
      if (n < 0 || ::write(fd, buffer.data(), static_cast<std::size_t>(n)) != n) return failed(out_dir + "/key-slots");
    }
  });
  ::close(in);
  KASSA_TRY(copied);
  const int dir = ::open(out_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return failed(out_dir);
  const int synced = ::fsync(dir);
  ::close(dir);
  return synced == 0 ? Status::Ok() : failed(out_dir);
}

Status CopyLmdbChainStore(const ChainStoreOptions& from, ChainCopySink& to, ChainCopyReport& report) {
  KASSA_TRY_ASSIGN(std::unique_ptr<ChainStore> store, OpenLmdbChainStore(from));
  return static_cast<LmdbChainStore&>(*store).CopyTo(to, report);
}

Result<std::unique_ptr<ChainStore>> OpenLmdbChainStore(const ChainStoreOptions& options) {
  const std::string& path = options.path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    KASSA_LOG(kError) << "data directory " << path << " does not exist";
    return Status(StatusCode::kUnavailable, "data: the data directory does not exist");
  }
  KASSA_TRY_ASSIGN(LmdbEnv env, LmdbEnv::Open(path, options.map_size_bytes, kMaxDbs));
  auto store = std::make_unique<LmdbChainStore>(std::move(env), options);
  KASSA_TRY_ASSIGN(const bool sealed_now, store->Init());
  if (sealed_now) {
    store.reset();  // the environment closes before its file is replaced
    KASSA_TRY(CompactEnvironment(path, options.map_size_bytes, kMaxDbs));
    KASSA_LOG(kInfo) << "sealed the headquarters store in " << path << " and compacted its file";
    KASSA_TRY_ASSIGN(LmdbEnv reopened, LmdbEnv::Open(path, options.map_size_bytes, kMaxDbs));
    store = std::make_unique<LmdbChainStore>(std::move(reopened), options);
    KASSA_TRY(store->Init().status());
    KASSA_TRY(store->CompactionDone());
  }
  return std::unique_ptr<ChainStore>(std::move(store));
}

Result<std::unique_ptr<ChainStore>> OpenLmdbChainStore(const std::string& path, std::size_t map_size_bytes,
                                                       std::shared_ptr<crypto::KeyStore> key_store) {
  return OpenLmdbChainStore(ChainStoreOptions{path, map_size_bytes, std::move(key_store), {}});
}

}  // namespace kassa::storage
