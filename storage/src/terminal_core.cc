#include "terminal_core.h"

#include <algorithm>

#include "kassa/base/log.h"
#include "kassa/proto_codec/codec.h"

namespace kassa::storage::terminal {

bool FiledUnder(ByteView outbox_value, const model::LocalId& id) {
  return outbox_value.size() >= kOutboxIdBytes && std::equal(id.bytes.begin(), id.bytes.end(), outbox_value.begin());
}

MDB_dbi outbox = 0;       // sequence (8 bytes, big-endian) -> customer id | sealed Operation record
MDB_dbi quarantine = 0;   // sequence -> sealed (rejected_at_ms, reason, Operation)
MDB_dbi meta = 0;         // name -> value (schema, next sequence, store config, cursor, last ack)
ClientelingTables clienteling;  // scope "": the terminal's legal entity

Result<model::Operation> StoreCore::OpenOperation(ByteView sealed) {
  KASSA_TRY_ASSIGN(Bytes plain, protection->Open(sealed));
  return proto_codec::DecodeOperation(plain);
}

Result<model::Operation> StoreCore::OpenQueued(ByteView outbox_value) {
  if (outbox_value.size() < kOutboxIdBytes) {
    return Status(StatusCode::kDataLoss, "storage corrupted: malformed outbox entry");
  }
  return OpenOperation(outbox_value.subspan(kOutboxIdBytes));
}

Result<Bytes> StoreCore::Queued(const model::Operation& op) {
  KASSA_TRY_ASSIGN(Bytes plain, proto_codec::EncodeOperation(op));
  KASSA_TRY_ASSIGN(Bytes sealed, protection->Seal(plain));
  sealed.insert(sealed.begin(), op.customer.id.bytes.begin(), op.customer.id.bytes.end());
  return sealed;
}

Result<std::uint64_t> StoreCore::MetaU64(const ReadTxn& txn, std::string_view key, std::uint64_t absent) {
  auto v = txn.Get(meta, AsBytes(key));
  if (v.ok()) return FromBe64(*v);
  if (v.status().code() == StatusCode::kNotFound) return absent;
  return v.status();
}

Status StoreCore::PutMetaU64(WriteTxn& txn, std::string_view key, std::uint64_t value) {
  const Key8 v = Be64(value);
  return txn.Put(meta, AsBytes(key), v);
}

Status StoreCore::Append(WriteTxn& txn, ByteView queued) {
  KASSA_TRY_ASSIGN(const std::uint64_t next, MetaU64(txn, kNextSeqKey, 1));
  KASSA_TRY(txn.Put(outbox, Be64(next), queued, MDB_APPEND));
  return PutMetaU64(txn, kNextSeqKey, next + 1);
}

Result<std::vector<OutboxEntry>> StoreCore::ReadOutbox(const ReadTxn& txn, std::size_t max) {
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

Status StoreCore::PutCustomer(WriteTxn& txn, const model::Customer& c, ByteView record, const model::Customer* old,
                   bool check_unique, NewEntries placement) {
  KASSA_TRY(tables.Put(txn, c, record, old, check_unique, placement));
  const bool was_pending = old != nullptr && old->pending();
  if (c.pending() == was_pending) return Status::Ok();
  KASSA_TRY_ASSIGN(const std::uint64_t pending, MetaU64(txn, kPendingKey, 0));
  // Never below zero; Check() reports a count that disagrees with the customers.
  return PutMetaU64(txn, kPendingKey, c.pending() ? pending + 1 : (pending > 0 ? pending - 1 : 0));
}

Status StoreCore::Rewrite(WriteTxn& txn, const model::Customer& next, const model::Customer& old) {
  if (next == old) return Status::Ok();
  KASSA_TRY_ASSIGN(const Bytes record, tables.Seal(next));
  // Headquarters is the system of record: what it decided is never refused here.
  return PutCustomer(txn, next, record, &old, /*check_unique=*/false);
}

Status StoreCore::StampQueued(WriteTxn& txn, QueuedOps& queued, const model::LocalId& id, const std::string& account) {
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

Result<bool> StoreCore::BindAccount(WriteTxn& txn, QueuedOps& queued, const model::LocalId& id, const std::string& account) {
  KASSA_TRY_ASSIGN(const auto local, tables.Find(txn, id));
  if (!local || !local->pending() || account.empty()) return false;
  model::Customer bound = *local;
  bound.account = account;
  KASSA_TRY(Rewrite(txn, bound, *local));
  KASSA_TRY(StampQueued(txn, queued, id, account));
  return true;
}

Status StoreCore::Quarantine(WriteTxn& txn, std::uint64_t seq, const model::Operation& op, std::string_view reason,
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

Result<QuarantineEntry> StoreCore::OpenQuarantined(std::uint64_t seq, ByteView sealed) {
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

Status StoreCore::UpsertFromHeadquarters(WriteTxn& txn, QueuedOps& queued, const model::Customer& incoming) {
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

Status StoreCore::FileOutboxUnderCustomers(WriteTxn& txn) {
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

Status StoreCore::Migrate(WriteTxn& txn, std::string_view from) {
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

}  // namespace kassa::storage::terminal
