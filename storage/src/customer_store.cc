#include "kassa/storage/customer_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <set>

#include "clienteling_tables.h"
#include "customer_tables.h"
#include "kassa/base/log.h"
#include "kassa/proto_codec/codec.h"
#include "lmdb_txn.h"

namespace kassa::storage {
namespace {

// Bumped when the on-disk layout changes; older layouts are migrated on open.
// 1: customers, index, outbox, meta.  2: + outbox_refs, quarantine.
// 3: name index entries carry the customer's name tokens (index rebuilt).
// 4: one index entry a phone: national number + country code; a count of
//    pending customers in meta instead of a pending marker in the index.
// 5: + index_recent: the index entries of customers created here, kept
//    apart until folded in (recent_index.h); outbox_refs dropped: each
//    outbox value starts with its customer's id instead.
constexpr std::string_view kSchemaVersion = "5";
constexpr std::string_view kSchemaVersion4 = "4";
constexpr std::string_view kSchemaVersion3 = "3";
constexpr std::string_view kSchemaVersion2 = "2";
constexpr std::string_view kSchemaVersion1 = "1";
constexpr std::string_view kSchemaKey = "schema_version";
constexpr std::string_view kNextSeqKey = "outbox_next_seq";
constexpr std::string_view kPendingKey = "pending_customers";  // layout 4: customers without an account
constexpr std::string_view kStoreConfigKey = "store_config";
constexpr std::string_view kCursorKey = "distribution_cursor";
constexpr std::string_view kLastAckKey = "last_ack_at_ms";
constexpr std::string_view kPinFailuresPrefix = "pin_failures/";  // + worker id: wrong (8) | locked until (8)
// customers, index, index_recent, outbox, quarantine, meta, clienteling;
// and outbox_refs of layouts 2 to 4 while it is migrated away.
constexpr unsigned kMaxDbs = 8;

// An outbox value: the operation's customer id (16 bytes), then the sealed
// operation.
constexpr std::size_t kOutboxIdBytes = model::kLocalIdBytes;

bool FiledUnder(ByteView outbox_value, const model::LocalId& id) {
  return outbox_value.size() >= kOutboxIdBytes && std::equal(id.bytes.begin(), id.bytes.end(), outbox_value.begin());
}

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
      KASSA_TRY_ASSIGN(bool found, cursor.First());
      while (found) {
        if (cursor.value().size() < kOutboxIdBytes) {
          return Status(StatusCode::kDataLoss, "storage corrupted: malformed outbox entry");
        }
        model::LocalId owner;
        std::copy_n(cursor.value().begin(), kOutboxIdBytes, owner.bytes.begin());
        by_customer_[owner].push_back(FromBe64(cursor.key()));
        KASSA_TRY_ASSIGN(found, cursor.Next());
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
  std::unique_ptr<RecordProtection> protection;
  CustomerTables tables;    // customers + index
  MDB_dbi outbox = 0;       // sequence (8 bytes, big-endian) -> customer id | sealed Operation record
  MDB_dbi quarantine = 0;   // sequence -> sealed (rejected_at_ms, reason, Operation)
  MDB_dbi meta = 0;         // name -> value (schema, next sequence, store config, cursor, last ack)
  ClientelingTables clienteling;  // scope "": the terminal's legal entity

  Result<model::Operation> OpenOperation(ByteView sealed) {
    KASSA_TRY_ASSIGN(Bytes plain, protection->Open(sealed));
    return proto_codec::DecodeOperation(plain);
  }
  Result<model::Operation> OpenQueued(ByteView outbox_value) {
    if (outbox_value.size() < kOutboxIdBytes) {
      return Status(StatusCode::kDataLoss, "storage corrupted: malformed outbox entry");
    }
    return OpenOperation(outbox_value.subspan(kOutboxIdBytes));
  }
  // The outbox value of `op`.
  Result<Bytes> Queued(const model::Operation& op) {
    KASSA_TRY_ASSIGN(Bytes plain, proto_codec::EncodeOperation(op));
    KASSA_TRY_ASSIGN(Bytes sealed, protection->Seal(plain));
    sealed.insert(sealed.begin(), op.customer.id.bytes.begin(), op.customer.id.bytes.end());
    return sealed;
  }

  Result<std::uint64_t> MetaU64(const ReadTxn& txn, std::string_view key, std::uint64_t absent) {
    auto v = txn.Get(meta, AsBytes(key));
    if (v.ok()) return FromBe64(*v);
    if (v.status().code() == StatusCode::kNotFound) return absent;
    return v.status();
  }
  Status PutMetaU64(WriteTxn& txn, std::string_view key, std::uint64_t value) {
    const Key8 v = Be64(value);
    return txn.Put(meta, AsBytes(key), v);
  }

  Status Append(WriteTxn& txn, ByteView queued) {
    KASSA_TRY_ASSIGN(const std::uint64_t next, MetaU64(txn, kNextSeqKey, 1));
    KASSA_TRY(txn.Put(outbox, Be64(next), queued, MDB_APPEND));
    return PutMetaU64(txn, kNextSeqKey, next + 1);
  }

  Result<std::vector<OutboxEntry>> ReadOutbox(const ReadTxn& txn, std::size_t max) {
    std::vector<OutboxEntry> entries;
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(outbox));
    KASSA_TRY_ASSIGN(bool found, cursor.First());
    while (found && entries.size() < max) {
      KASSA_TRY_ASSIGN(model::Operation op, OpenQueued(cursor.value()));
      entries.push_back({FromBe64(cursor.key()), std::move(op)});
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
    return entries;
  }

  // tables.Put, keeping the count of pending customers in the same
  // transaction (written only when it changes).
  Status PutCustomer(WriteTxn& txn, const model::Customer& c, ByteView record, const model::Customer* old,
                     bool check_unique, NewEntries placement = NewEntries::kIndex) {
    KASSA_TRY(tables.Put(txn, c, record, old, check_unique, placement));
    const bool was_pending = old != nullptr && old->pending();
    if (c.pending() == was_pending) return Status::Ok();
    KASSA_TRY_ASSIGN(const std::uint64_t pending, MetaU64(txn, kPendingKey, 0));
    // Never below zero; Check() reports a count that disagrees with the customers.
    return PutMetaU64(txn, kPendingKey, c.pending() ? pending + 1 : (pending > 0 ? pending - 1 : 0));
  }

  // Writes `next` over `old` (index entries rewritten) when they differ.
  Status Rewrite(WriteTxn& txn, const model::Customer& next, const model::Customer& old) {
    if (next == old) return Status::Ok();
    KASSA_TRY_ASSIGN(const Bytes record, tables.Seal(next));
    // Headquarters is the system of record: what it decided is never refused here.
    return PutCustomer(txn, next, record, &old, /*check_unique=*/false);
  }

  // Puts the account number into every operation still queued for `id`.
  Status StampQueued(WriteTxn& txn, QueuedOps& queued, const model::LocalId& id, const std::string& account) {
    KASSA_TRY_ASSIGN(const auto seqs, queued.For(id));
    for (const std::uint64_t seq : seqs) {
      KASSA_TRY_ASSIGN(const ByteView value, txn.Get(outbox, Be64(seq)));
      KASSA_TRY_ASSIGN(model::Operation op, OpenQueued(value));
      op.customer.account = account;
      KASSA_TRY_ASSIGN(const Bytes requeued, Queued(op));
      KASSA_TRY(txn.Put(outbox, Be64(seq), requeued));
    }
    return Status::Ok();
  }

  // Gives customer `id`, when still pending, its account number: the record,
  // its index entries and every operation still queued for it.
  // Returns whether it bound the number now.
  Result<bool> BindAccount(WriteTxn& txn, QueuedOps& queued, const model::LocalId& id, const std::string& account) {
    KASSA_TRY_ASSIGN(const auto local, tables.Find(txn, id));
    if (!local || !local->pending() || account.empty()) return false;
    model::Customer bound = *local;
    bound.account = account;
    KASSA_TRY(Rewrite(txn, bound, *local));
    KASSA_TRY(StampQueued(txn, queued, id, account));
    return true;
  }

  Status Quarantine(WriteTxn& txn, std::uint64_t seq, const model::Operation& op, std::string_view reason,
                    std::int64_t now_ms) {
    KASSA_TRY_ASSIGN(Bytes plain, proto_codec::EncodeOperation(op));
    Bytes record;
    const Key8 at = Be64(static_cast<std::uint64_t>(now_ms));
    record.insert(record.end(), at.begin(), at.end());
    const auto n = static_cast<std::uint16_t>(std::min<std::size_t>(reason.size(), 0xFFFF));
    record.push_back(static_cast<std::uint8_t>(n >> 8));
    record.push_back(static_cast<std::uint8_t>(n & 0xFF));
    record.insert(record.end(), reason.begin(), reason.begin() + n);
    record.insert(record.end(), plain.begin(), plain.end());
    KASSA_TRY_ASSIGN(const Bytes sealed, protection->Seal(record));
    return txn.Put(quarantine, Be64(seq), sealed);
  }

  Result<QuarantineEntry> OpenQuarantined(std::uint64_t seq, ByteView sealed) {
    KASSA_TRY_ASSIGN(const Bytes record, protection->Open(sealed));
    if (record.size() < 10) return Status(StatusCode::kDataLoss, "storage corrupted: malformed quarantine entry");
    QuarantineEntry e;
    e.seq = seq;
    e.rejected_at_ms = static_cast<std::int64_t>(FromBe64(ByteView(record.data(), 8)));
    const std::size_t n = (std::size_t{record[8]} << 8) | record[9];
    if (record.size() < 10 + n) return Status(StatusCode::kDataLoss, "storage corrupted: malformed quarantine entry");
    e.reason.assign(reinterpret_cast<const char*>(record.data() + 10), n);
    KASSA_TRY_ASSIGN(e.operation, proto_codec::DecodeOperation(ByteView(record).subspan(10 + n)));
    return e;
  }

  Status UpsertFromHeadquarters(WriteTxn& txn, QueuedOps& queued, const model::Customer& incoming) {
    KASSA_TRY_ASSIGN(const auto local, tables.Find(txn, incoming.id));
    if (!local) {
      KASSA_TRY_ASSIGN(const Bytes record, tables.Seal(incoming));
      return PutCustomer(txn, incoming, record, nullptr, /*check_unique=*/false);
    }
    KASSA_TRY_ASSIGN(const auto seqs, queued.For(incoming.id));
    if (seqs.empty()) {
      if (!local->pending() && incoming.version < local->version) return Status::Ok();  // an older copy
      return Rewrite(txn, incoming, *local);
    }
    // Local edits are on their way; headquarters will merge them and send the
    // result. Meanwhile only what headquarters alone decides changes here.
    model::Customer next = *local;
    if (next.pending() && !incoming.account.empty()) {
      next.account = incoming.account;
      KASSA_TRY(StampQueued(txn, queued, incoming.id, incoming.account));
    }
    next.financial_dimensions = incoming.financial_dimensions;
    return Rewrite(txn, next, *local);
  }

  // Layouts 1 to 4 to 5: each outbox value gets its customer's id in front,
  // and outbox_refs (layouts 2 to 4) goes.
  Status FileOutboxUnderCustomers(WriteTxn& txn) {
    std::vector<std::pair<std::uint64_t, Bytes>> queued;
    {
      KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(outbox));
      KASSA_TRY_ASSIGN(bool found, cursor.First());
      while (found) {
        KASSA_TRY_ASSIGN(const model::Operation op, OpenOperation(cursor.value()));
        KASSA_TRY_ASSIGN(Bytes value, Queued(op));
        queued.emplace_back(FromBe64(cursor.key()), std::move(value));
        KASSA_TRY_ASSIGN(found, cursor.Next());
      }
    }
    for (const auto& [seq, value] : queued) KASSA_TRY(txn.Put(outbox, Be64(seq), value));
    MDB_dbi refs = 0;
    const int rc = mdb_dbi_open(txn.get(), "outbox_refs", 0, &refs);
    if (rc == MDB_NOTFOUND) return Status::Ok();
    KASSA_TRY(FromMdb(rc, "dbi outbox_refs"));
    return FromMdb(mdb_drop(txn.get(), refs, 1), "drop outbox_refs");
  }

  Status Migrate(WriteTxn& txn, std::string_view from) {
    if (from != kSchemaVersion1 && from != kSchemaVersion2 && from != kSchemaVersion3 && from != kSchemaVersion4) {
      return Status(StatusCode::kFailedPrecondition, "data: written by an incompatible kassa version");
    }
    KASSA_LOG(kInfo) << "migrating the customer store from layout " << from << " to " << kSchemaVersion;
    KASSA_TRY(FileOutboxUnderCustomers(txn));
    // index_recent (layout 5) was created empty on open.
    if (from == kSchemaVersion4) return txn.Put(meta, AsBytes(kSchemaKey), AsBytes(kSchemaVersion));
    KASSA_TRY_ASSIGN(const std::uint64_t pending, tables.RebuildIndex(txn));
    KASSA_TRY(PutMetaU64(txn, kPendingKey, pending));
    return txn.Put(meta, AsBytes(kSchemaKey), AsBytes(kSchemaVersion));
  }
};

// The views of terminal_tables.h, each over the tables it names there.
class LmdbCustomerTable final : public CustomerTable {
 public:
  explicit LmdbCustomerTable(StoreCore& core) : core_(core) {}
  Status Create(const model::Customer& customer, const model::Operation* op) override;
  Status Replace(const model::Customer& customer, std::uint32_t expected_version, const model::Operation* op) override;
  Result<model::Customer> Get(const model::LocalId& id) override;
  Status Read(const Reader& read) override;
  Status ApplyHeadquartersCustomer(const model::Customer& customer) override;

 private:
  StoreCore& core_;
};

class LmdbOutbox final : public OutboxView {
 public:
  explicit LmdbOutbox(StoreCore& core) : core_(core) {}
  Result<std::vector<OutboxEntry>> PeekOutbox(std::size_t max) override;

 private:
  StoreCore& core_;
};

class LmdbSyncState final : public SyncState {
 public:
  explicit LmdbSyncState(StoreCore& core) : core_(core) {}
  Result<AckResult> ApplyAcks(const std::vector<std::pair<std::uint64_t, model::OperationAck>>& acks,
                              std::int64_t now_ms) override;
  Result<DistributionResult> ApplyDistribution(const std::vector<model::Change>& changes) override;
  Result<std::uint64_t> DistributionCursor() override;
  Status ResetDistributionCursor(std::uint64_t cursor) override;

 private:
  StoreCore& core_;
};

class LmdbQuarantine final : public QuarantineView {
 public:
  explicit LmdbQuarantine(StoreCore& core) : core_(core) {}
  Result<std::vector<QuarantineEntry>> Quarantined(std::size_t max) override;

 private:
  StoreCore& core_;
};

class LmdbStoreSettings final : public StoreSettings {
 public:
  explicit LmdbStoreSettings(StoreCore& core) : core_(core) {}
  Result<std::optional<model::StoreConfig>> LoadStoreConfig() override;
  Status SaveStoreConfig(const model::StoreConfig& config) override;

 private:
  StoreCore& core_;
};

class LmdbClienteling final : public ClientelingTable {
 public:
  explicit LmdbClienteling(StoreCore& core) : core_(core) {}
  Status WriteClienteling(const std::vector<ClientelingWrite>& writes) override;
  Result<std::optional<model::ClientelingConfig>> LoadClientelingConfig() override;
  Result<std::vector<model::Operator>> Operators() override;
  Result<std::optional<model::Operator>> FindOperator(std::string_view worker_id) override;
  Result<std::optional<model::BookEntry>> BookOf(std::string_view owner) override;
  Result<std::vector<model::BookEntry>> BookEntries(std::string_view owner) override;
  Result<bool> InBook(std::string_view owner, const model::LocalId& customer) override;
  Result<std::vector<model::TimelineEntry>> Timeline(const model::LocalId& customer, std::size_t max) override;
  Result<std::vector<model::AttributeValue>> Measures(const model::LocalId& customer) override;

 private:
  StoreCore& core_;
};

class LmdbOperatorLockouts final : public OperatorLockouts {
 public:
  explicit LmdbOperatorLockouts(StoreCore& core) : core_(core) {}
  Result<PinFailures> LoadPinFailures(std::string_view worker_id) override;
  Status SavePinFailures(std::string_view worker_id, const PinFailures& failures) override;

 private:
  StoreCore& core_;
};

class LmdbDiagnostics final : public Diagnostics {
 public:
  explicit LmdbDiagnostics(StoreCore& core) : core_(core) {}
  Result<StoreStats> Stats() override;
  Result<CheckReport> Check() override;

 private:
  StoreCore& core_;
};

}  // namespace

struct CustomerStore::Impl {
  explicit Impl(StoreCore c) : core(std::move(c)) {}
  StoreCore core;
  LmdbCustomerTable customers{core};
  LmdbOutbox outbox{core};
  LmdbSyncState sync{core};
  LmdbQuarantine quarantine{core};
  LmdbStoreSettings settings{core};
  LmdbClienteling clienteling{core};
  LmdbOperatorLockouts lockouts{core};
  LmdbDiagnostics diagnostics{core};
};

CustomerStore::CustomerStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CustomerStore::~CustomerStore() = default;

CustomerTable& CustomerStore::customers() { return impl_->customers; }
OutboxView& CustomerStore::outbox() { return impl_->outbox; }
SyncState& CustomerStore::sync() { return impl_->sync; }
QuarantineView& CustomerStore::quarantine() { return impl_->quarantine; }
StoreSettings& CustomerStore::settings() { return impl_->settings; }
ClientelingTable& CustomerStore::clienteling() { return impl_->clienteling; }
OperatorLockouts& CustomerStore::lockouts() { return impl_->lockouts; }
Diagnostics& CustomerStore::diagnostics() { return impl_->diagnostics; }

Result<std::unique_ptr<CustomerStore>> CustomerStore::Open(const StorageOptions& options,
                                                           std::unique_ptr<RecordProtection> protection) {
  struct stat st {};
  if (::stat(options.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    KASSA_LOG(kError) << "data directory " << options.path << " does not exist";
    return Status(StatusCode::kUnavailable, "data: the data directory does not exist");
  }
  KASSA_TRY_ASSIGN(LmdbEnv env, LmdbEnv::Open(options.path, options.map_size_bytes, kMaxDbs));
  StoreCore core{std::move(env), std::move(protection), {}, 0, 0, 0, {}};
  KASSA_TRY(Update(core.env, [&](WriteTxn& txn) -> Status {
    KASSA_TRY(core.tables.Open(txn, *core.protection, CustomerTables::Recent::kKept));
    KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "outbox", MDB_CREATE, &core.outbox), "dbi outbox"));
    KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "quarantine", MDB_CREATE, &core.quarantine), "dbi quarantine"));
    KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "meta", MDB_CREATE, &core.meta), "dbi meta"));
    KASSA_TRY(core.clienteling.Open(txn, *core.protection));
    auto schema = txn.Get(core.meta, AsBytes(kSchemaKey));
    if (schema.ok()) {
      if (AsChars(*schema) == kSchemaVersion) return Status::Ok();
      return core.Migrate(txn, AsChars(*schema));
    }
    if (schema.status().code() != StatusCode::kNotFound) return schema.status();
    return txn.Put(core.meta, AsBytes(kSchemaKey), AsBytes(kSchemaVersion));
  }));
  return std::unique_ptr<CustomerStore>(new CustomerStore(std::make_unique<Impl>(std::move(core))));
}

Status LmdbCustomerTable::Create(const model::Customer& customer, const model::Operation* op) {
  // Encode and seal before the transaction: the write lock is held only for puts.
  KASSA_TRY_ASSIGN(const Bytes record, core_.tables.Seal(customer));
  Bytes queued;
  if (op != nullptr) {
    KASSA_TRY_ASSIGN(queued, core_.Queued(*op));
  }
  return Update(core_.env, [&](WriteTxn& txn) -> Status {
    KASSA_TRY(core_.PutCustomer(txn, customer, record, nullptr, /*check_unique=*/true, NewEntries::kRecent));
    if (op != nullptr) KASSA_TRY(core_.Append(txn, queued));
    return Status::Ok();
  });
}

Status LmdbCustomerTable::Replace(const model::Customer& customer, std::uint32_t expected_version,
                              const model::Operation* op) {
  KASSA_TRY_ASSIGN(const Bytes record, core_.tables.Seal(customer));
  Bytes queued;
  if (op != nullptr) {
    KASSA_TRY_ASSIGN(queued, core_.Queued(*op));
  }
  return Update(core_.env, [&](WriteTxn& txn) -> Status {
    KASSA_TRY_ASSIGN(const auto old, core_.tables.Find(txn, customer.id));
    if (!old) return Status(StatusCode::kNotFound, "customer: no customer with this id");
    if (old->version != expected_version) {
      return Status(StatusCode::kAborted, "version: the customer was changed by someone else; reload it and edit again");
    }
    if (old->account != customer.account) {
      // Headquarters assigned the number since the caller read the customer.
      return Status(StatusCode::kAborted, "version: the customer was changed by someone else; reload it and edit again");
    }
    KASSA_TRY(core_.PutCustomer(txn, customer, record, &*old, /*check_unique=*/true));
    if (op != nullptr) KASSA_TRY(core_.Append(txn, queued));
    return Status::Ok();
  });
}

Result<model::Customer> LmdbCustomerTable::Get(const model::LocalId& id) {
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
  KASSA_TRY_ASSIGN(auto found, core_.tables.Find(txn, id));
  if (!found) return Status(StatusCode::kNotFound, "customer: no customer with this id");
  return std::move(*found);
}

Status LmdbCustomerTable::Read(const Reader& read) {
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
  return core_.tables.Read(txn, read);
}

Result<std::vector<OutboxEntry>> LmdbOutbox::PeekOutbox(std::size_t max) {
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
  return core_.ReadOutbox(txn, max);
}

Result<AckResult> LmdbSyncState::ApplyAcks(const std::vector<std::pair<std::uint64_t, model::OperationAck>>& acks,
                                           std::int64_t now_ms) {
  AckResult result;
  KASSA_TRY(Update(core_.env, [&](WriteTxn& txn) -> Status {
    result = AckResult{};
    QueuedOps queued_ops(txn, core_.outbox);
    for (const auto& [seq, ack] : acks) {
      auto queued = txn.Get(core_.outbox, Be64(seq));
      if (!queued.ok()) {
        if (queued.status().code() != StatusCode::kNotFound) return queued.status();
        ++result.ignored;
        continue;
      }
      KASSA_TRY_ASSIGN(const model::Operation op, core_.OpenQueued(*queued));
      if (op.op_id != ack.op_id) {
        KASSA_LOG(kWarning) << "acknowledgement of operation " << ack.op_id.ToHex() << " does not match outbox entry "
                            << seq << "; ignored";
        ++result.ignored;
        continue;
      }
      KASSA_TRY(txn.Del(core_.outbox, Be64(seq)));
      queued_ops.Removed(op.customer.id, seq);
      if (ack.applied()) {
        KASSA_TRY_ASSIGN(const bool bound, core_.BindAccount(txn, queued_ops, op.customer.id, ack.account));
        if (bound) result.accounts_bound.push_back(op.customer.id);
        ++result.applied;
      } else {
        KASSA_LOG(kWarning) << "headquarters rejected operation " << op.op_id.ToHex() << " (outbox " << seq
                            << "): " << ack.reason << "; quarantined";
        KASSA_TRY(core_.Quarantine(txn, seq, op, ack.reason, now_ms));
        ++result.rejected;
      }
    }
    return core_.PutMetaU64(txn, kLastAckKey, static_cast<std::uint64_t>(now_ms));
  }));
  return result;
}

Result<DistributionResult> LmdbSyncState::ApplyDistribution(const std::vector<model::Change>& changes) {
  DistributionResult result;
  KASSA_TRY(Update(core_.env, [&](WriteTxn& txn) -> Status {
    result = DistributionResult{};
    QueuedOps queued_ops(txn, core_.outbox);
    KASSA_TRY_ASSIGN(std::uint64_t cursor, core_.MetaU64(txn, kCursorKey, 0));
    for (const auto& change : changes) {
      if (change.seq <= cursor) continue;  // a duplicate of what is applied
      if (change.kind == model::Change::Kind::kCustomerUpsert) {
        KASSA_TRY(core_.UpsertFromHeadquarters(txn, queued_ops, change.customer));
        ++result.customers;
      } else if (change.kind == model::Change::Kind::kClienteling) {
        KASSA_TRY(core_.clienteling.Apply(txn, "", change.clienteling));
        ++result.clienteling;
      } else {
        KASSA_TRY_ASSIGN(const Bytes plain, proto_codec::EncodeStoreConfig(change.store_config));
        KASSA_TRY_ASSIGN(const Bytes sealed, core_.protection->Seal(plain));
        KASSA_TRY(txn.Put(core_.meta, AsBytes(kStoreConfigKey), sealed));
        result.store_config = change.store_config;
      }
      cursor = change.seq;
    }
    result.cursor = cursor;
    return core_.PutMetaU64(txn, kCursorKey, cursor);
  }));
  return result;
}

Status LmdbClienteling::WriteClienteling(const std::vector<ClientelingWrite>& writes) {
  return Update(core_.env, [&](WriteTxn& txn) -> Status {
    for (const auto& w : writes) {
      KASSA_TRY(core_.clienteling.Apply(txn, "", w.record));
      if (w.op) {
        KASSA_TRY_ASSIGN(const Bytes queued, core_.Queued(*w.op));
        KASSA_TRY(core_.Append(txn, queued));
      }
    }
    return Status::Ok();
  });
}

Result<std::optional<model::ClientelingConfig>> LmdbClienteling::LoadClientelingConfig() {
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
  return core_.clienteling.Config(txn, "");
}

Result<std::vector<model::Operator>> LmdbClienteling::Operators() {
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
  return core_.clienteling.Operators(txn, "");
}

Result<std::optional<model::Operator>> LmdbClienteling::FindOperator(std::string_view worker_id) {
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
  return core_.clienteling.FindOperator(txn, "", worker_id);
}

Result<std::optional<model::BookEntry>> LmdbClienteling::BookOf(std::string_view owner) {
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
  return core_.clienteling.Book(txn, "", owner);
}

Result<std::vector<model::BookEntry>> LmdbClienteling::BookEntries(std::string_view owner) {
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
  return core_.clienteling.Entries(txn, "", owner);
}

Result<bool> LmdbClienteling::InBook(std::string_view owner, const model::LocalId& customer) {
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
  return core_.clienteling.InBook(txn, "", owner, customer);
}

Result<std::vector<model::TimelineEntry>> LmdbClienteling::Timeline(const model::LocalId& customer, std::size_t max) {
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
  return core_.clienteling.Timeline(txn, "", customer, max);
}

Result<std::vector<model::AttributeValue>> LmdbClienteling::Measures(const model::LocalId& customer) {
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
  return core_.clienteling.Measures(txn, "", customer);
}

Result<PinFailures> LmdbOperatorLockouts::LoadPinFailures(std::string_view worker_id) {
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
  const std::string key = std::string(kPinFailuresPrefix) + std::string(worker_id);
  auto v = txn.Get(core_.meta, AsBytes(key));
  if (!v.ok()) {
    if (v.status().code() == StatusCode::kNotFound) return PinFailures{};
    return v.status();
  }
  if (v->size() != 16) return Status(StatusCode::kDataLoss, "storage corrupted: malformed PIN failure record");
  return PinFailures{static_cast<std::uint32_t>(FromBe64(v->subspan(0, 8))),
                     static_cast<std::int64_t>(FromBe64(v->subspan(8, 8)))};
}

Status LmdbOperatorLockouts::SavePinFailures(std::string_view worker_id, const PinFailures& failures) {
  const std::string key = std::string(kPinFailuresPrefix) + std::string(worker_id);
  return Update(core_.env, [&](WriteTxn& txn) -> Status {
    if (failures.wrong == 0 && failures.locked_until_ms == 0) {
      const Status del = txn.Del(core_.meta, AsBytes(key));
      return del.code() == StatusCode::kNotFound ? Status::Ok() : del;
    }
    Bytes v;
    for (std::uint64_t x : {std::uint64_t{failures.wrong}, static_cast<std::uint64_t>(failures.locked_until_ms)}) {
      const Key8 b = Be64(x);
      v.insert(v.end(), b.begin(), b.end());
    }
    return txn.Put(core_.meta, AsBytes(key), v);
  });
}

Status LmdbCustomerTable::ApplyHeadquartersCustomer(const model::Customer& customer) {
  return Update(core_.env, [&](WriteTxn& txn) {
    QueuedOps queued_ops(txn, core_.outbox);
    return core_.UpsertFromHeadquarters(txn, queued_ops, customer);
  });
}

Result<std::uint64_t> LmdbSyncState::DistributionCursor() {
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
  return core_.MetaU64(txn, kCursorKey, 0);
}

Status LmdbSyncState::ResetDistributionCursor(std::uint64_t cursor) {
  return Update(core_.env, [&](WriteTxn& txn) { return core_.PutMetaU64(txn, kCursorKey, cursor); });
}

Result<std::vector<QuarantineEntry>> LmdbQuarantine::Quarantined(std::size_t max) {
  std::vector<QuarantineEntry> entries;
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(core_.quarantine));
  KASSA_TRY_ASSIGN(bool found, cursor.First());
  while (found && entries.size() < max) {
    KASSA_TRY_ASSIGN(QuarantineEntry e, core_.OpenQuarantined(FromBe64(cursor.key()), cursor.value()));
    entries.push_back(std::move(e));
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  return entries;
}

Result<StoreStats> LmdbDiagnostics::Stats() {
  StoreStats stats;
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
  KASSA_TRY_ASSIGN(stats.customers, txn.Count(core_.tables.customers()));
  KASSA_TRY_ASSIGN(stats.outbox_length, txn.Count(core_.outbox));
  KASSA_TRY_ASSIGN(stats.quarantined, txn.Count(core_.quarantine));
  KASSA_TRY_ASSIGN(stats.pending_customers, core_.MetaU64(txn, kPendingKey, 0));
  KASSA_TRY_ASSIGN(stats.recent_index_customers, core_.tables.RecentCustomers(txn));
  KASSA_TRY_ASSIGN(auto oldest, core_.ReadOutbox(txn, 1));
  if (!oldest.empty()) stats.oldest = std::move(oldest.front());
  KASSA_TRY_ASSIGN(stats.distribution_cursor, core_.MetaU64(txn, kCursorKey, 0));
  KASSA_TRY_ASSIGN(const std::uint64_t last_ack, core_.MetaU64(txn, kLastAckKey, 0));
  stats.last_ack_at_ms = static_cast<std::int64_t>(last_ack);
  MDB_envinfo info{};
  MDB_stat env_stat{};
  KASSA_TRY(FromMdb(mdb_env_info(core_.env.get(), &info), "env_info"));
  KASSA_TRY(FromMdb(mdb_env_stat(core_.env.get(), &env_stat), "env_stat"));
  stats.map_size_bytes = info.me_mapsize;
  stats.used_bytes = (info.me_last_pgno + 1) * static_cast<std::uint64_t>(env_stat.ms_psize);
  return stats;
}

Result<std::optional<model::StoreConfig>> LmdbStoreSettings::LoadStoreConfig() {
  Bytes plain;
  {
    KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));
    auto sealed = txn.Get(core_.meta, AsBytes(kStoreConfigKey));
    if (!sealed.ok()) {
      if (sealed.status().code() == StatusCode::kNotFound) return std::optional<model::StoreConfig>();
      return sealed.status();
    }
    KASSA_TRY_ASSIGN(plain, core_.protection->Open(*sealed));
  }
  KASSA_TRY_ASSIGN(model::StoreConfig config, proto_codec::DecodeStoreConfig(plain));
  return std::optional<model::StoreConfig>(std::move(config));
}

Status LmdbStoreSettings::SaveStoreConfig(const model::StoreConfig& config) {
  KASSA_TRY_ASSIGN(const Bytes plain, proto_codec::EncodeStoreConfig(config));
  KASSA_TRY_ASSIGN(const Bytes sealed, core_.protection->Seal(plain));
  return Update(core_.env, [&](WriteTxn& txn) { return txn.Put(core_.meta, AsBytes(kStoreConfigKey), sealed); });
}

Result<CheckReport> LmdbDiagnostics::Check() {
  CheckReport report;
  const auto problem = [&](std::string text) {
    if (report.problems.size() < CheckReport::kMaxProblems) report.problems.push_back(std::move(text));
  };
  // One snapshot for the whole check, so concurrent writes cannot cause false alarms.
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core_.env));

  std::set<model::LocalId> pending;
  KASSA_TRY(core_.tables.Check(txn, report.customers, report.index_entries, problem,
                                [&](const model::Customer& c) {
                                  if (c.pending()) pending.insert(c.id);
                                }));

  std::map<model::LocalId, int> creations;
  std::uint64_t last_seq = 0;
  {
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(core_.outbox));
    KASSA_TRY_ASSIGN(bool found, cursor.First());
    for (; found; ++report.outbox_entries) {
      last_seq = FromBe64(cursor.key());
      auto op = core_.OpenQueued(cursor.value());
      if (!op.ok()) {
        problem("outbox entry " + std::to_string(last_seq) + ": does not decode (" + op.status().detail() + ")");
      } else {
        if (op->kind == model::OperationKind::kCreateCustomer) ++creations[op->customer.id];
        if (!txn.Get(core_.tables.customers(), IdKey(op->customer.id)).ok()) {
          problem("outbox entry " + std::to_string(last_seq) + ": customer " + op->customer.id.ToHex() + " is not stored");
        }
        if (!FiledUnder(cursor.value(), op->customer.id)) {
          problem("outbox entry " + std::to_string(last_seq) + ": filed under another customer than its operation's");
        }
      }
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
  }
  {
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(core_.quarantine));
    KASSA_TRY_ASSIGN(bool found, cursor.First());
    for (; found; ++report.quarantined) {
      auto e = core_.OpenQuarantined(FromBe64(cursor.key()), cursor.value());
      if (!e.ok()) {
        problem("quarantine entry " + std::to_string(FromBe64(cursor.key())) + ": does not decode");
      } else if (e->operation.kind == model::OperationKind::kCreateCustomer) {
        ++creations[e->operation.customer.id];
      }
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
  }
  for (const auto& id : pending) {
    const auto it = creations.find(id);
    const int n = it == creations.end() ? 0 : it->second;
    if (n != 1) {
      problem("pending customer " + id.ToHex() + ": " + std::to_string(n) +
              " creations queued or quarantined (expected exactly 1)");
    }
  }
  KASSA_TRY_ASSIGN(const std::uint64_t pending_count, core_.MetaU64(txn, kPendingKey, 0));
  if (pending_count != pending.size()) {
    problem("the pending count says " + std::to_string(pending_count) + " but " + std::to_string(pending.size()) +
            " customers are pending");
  }
  // A queued creation of a customer that is no longer pending is fine: the
  // account number arrived by distribution before the acknowledgement.
  if (report.outbox_entries > 0) {
    KASSA_TRY_ASSIGN(const std::uint64_t next, core_.MetaU64(txn, kNextSeqKey, 0));
    if (next <= last_seq) problem("outbox sequence counter is behind its last entry " + std::to_string(last_seq));
  }
  return report;
}

}  // namespace kassa::storage
