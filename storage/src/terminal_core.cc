#include "terminal_core.h"

#include <algorithm>
#include <array>

#include "kassa/base/log.h"
#include "kassa/crypto/aead.h"
#include "kassa/proto_codec/codec.h"

namespace kassa::storage::terminal {

bool FiledUnder(ByteView outbox_value, const model::LocalId& id) {
  return outbox_value.size() >= kOutboxIdBytes && std::equal(id.bytes.begin(), id.bytes.end(), outbox_value.begin());
}

namespace {

// An operation's key: not the recent index's (layout 13), not the tail record.
bool IsQueued(ByteView key) {
  return !RecentIndex::Owns(key) && key.size() == 8 && FromBe64(key) != kOutboxTailKey;
}

// From where `cursor` stands (`found`: on an entry), forward to the first
// queued operation: false past the last (the recent index's state and the
// tail record sort after every operation).
Result<bool> SkipToQueued(Cursor& cursor, bool found) {
  while (found && !IsQueued(cursor.key())) {
    if (FromBe64(cursor.key()) >= RecentIndex::kStateKey) return false;
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  return found;
}

constexpr std::size_t kOutboxTailBytes = 16;

model::LocalId FiledId(ByteView value) {
  model::LocalId id;
  std::copy_n(value.begin(), kOutboxIdBytes, id.bytes.begin());
  return id;
}

}  // namespace

Result<bool> FirstQueued(Cursor& cursor) {
  KASSA_TRY_ASSIGN(const bool found, cursor.First());
  return SkipToQueued(cursor, found);
}

Result<bool> NextQueued(Cursor& cursor) {
  KASSA_TRY_ASSIGN(const bool found, cursor.Next());
  return SkipToQueued(cursor, found);
}

Result<model::Operation> StoreCore::OpenQueued(const ReadTxn& txn, ByteView outbox_value) {
  if (outbox_value.size() < kOutboxIdBytes) {
    return Status(StatusCode::kDataLoss, "storage corrupted: malformed outbox entry");
  }
  const model::LocalId id = FiledId(outbox_value);
  KASSA_TRY_ASSIGN(Bytes plain, sealing->Unseal(txn, SealedTable::kOutbox, &id, outbox_value.subspan(kOutboxIdBytes)));
  auto op = proto_codec::DecodeOperation(plain);
  crypto::Wipe(plain.data(), plain.size());
  return op;
}

Result<Bytes> StoreCore::Queued(WriteTxn& txn, const model::Operation& op) {
  KASSA_TRY_ASSIGN(Bytes plain, proto_codec::EncodeOperation(op));
  auto sealed = sealing->Seal(txn, SealedTable::kOutbox, &op.customer.id, plain);
  crypto::Wipe(plain.data(), plain.size());
  KASSA_TRY(sealed.status());
  sealed->insert(sealed->begin(), op.customer.id.bytes.begin(), op.customer.id.bytes.end());
  return sealed;
}

Result<Bytes> StoreCore::SealStoreConfig(WriteTxn& txn, const model::StoreConfig& config) {
  KASSA_TRY_ASSIGN(const Bytes plain, proto_codec::EncodeStoreConfig(config));
  return sealing->Seal(txn, SealedTable::kSecret, nullptr, plain);
}

Result<std::optional<model::StoreConfig>> StoreCore::LoadStoreConfig(const ReadTxn& txn) {
  auto sealed = txn.Get(meta, AsBytes(kStoreConfigKey));
  if (!sealed.ok()) {
    if (sealed.status().code() == StatusCode::kNotFound) return std::optional<model::StoreConfig>();
    return sealed.status();
  }
  KASSA_TRY_ASSIGN(const Bytes plain, sealing->Unseal(txn, SealedTable::kSecret, nullptr, *sealed));
  KASSA_TRY_ASSIGN(model::StoreConfig config, proto_codec::DecodeStoreConfig(plain));
  return std::optional<model::StoreConfig>(std::move(config));
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

Result<OutboxTail> StoreCore::Tail(const ReadTxn& txn) {
  auto v = txn.Get(outbox, Be64(kOutboxTailKey));
  if (!v.ok()) {
    if (v.status().code() != StatusCode::kNotFound) return v.status();
    return Status(StatusCode::kDataLoss, "storage corrupted: the outbox's tail record is missing");
  }
  if (v->size() != kOutboxTailBytes) {
    return Status(StatusCode::kDataLoss, "storage corrupted: the outbox's tail record is malformed");
  }
  return OutboxTail{FromBe64(v->subspan(0, 8)), FromBe64(v->subspan(8, 8))};
}

Status StoreCore::PutTail(WriteTxn& txn, const OutboxTail& tail) {
  std::array<std::uint8_t, kOutboxTailBytes> value{};
  const Key8 next = Be64(tail.next_seq), pending = Be64(tail.pending);
  std::copy(next.begin(), next.end(), value.begin());
  std::copy(pending.begin(), pending.end(), value.begin() + 8);
  return txn.Put(outbox, Be64(kOutboxTailKey), value);
}

Status StoreCore::StartTail(WriteTxn& txn) {
  if (auto v = txn.Get(outbox, Be64(kOutboxTailKey)); v.ok()) return Status::Ok();
  else if (v.status().code() != StatusCode::kNotFound) return v.status();
  OutboxTail tail;
  KASSA_TRY_ASSIGN(tail.next_seq, MetaU64(txn, kNextSeqKey, 1));
  KASSA_TRY_ASSIGN(tail.pending, MetaU64(txn, kPendingKey, 0));
  {
    // Never behind an entry queued (a counter an older layout lost would
    // hand out a sequence again).
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(outbox));
    KASSA_TRY_ASSIGN(bool found, cursor.Last());
    while (found && !IsQueued(cursor.key())) {
      KASSA_TRY_ASSIGN(found, cursor.Prev());
    }
    if (found) tail.next_seq = std::max(tail.next_seq, FromBe64(cursor.key()) + 1);
  }
  KASSA_TRY(PutTail(txn, tail));
  for (const std::string_view key : {kNextSeqKey, kPendingKey}) {
    if (Status s = txn.Del(meta, AsBytes(key)); !s.ok() && s.code() != StatusCode::kNotFound) return s;
  }
  return Status::Ok();
}

Result<std::size_t> StoreCore::QueuedCount(const ReadTxn& txn) {
  KASSA_TRY_ASSIGN(std::size_t records, txn.Count(outbox));
  auto tail = txn.Get(outbox, Be64(kOutboxTailKey));
  if (!tail.ok() && tail.status().code() != StatusCode::kNotFound) return tail.status();
  if (tail.ok()) --records;
  KASSA_TRY_ASSIGN(const std::size_t recent, tables.recent()->EntriesInHost(txn));
  if (recent > records) {
    return Status(StatusCode::kDataLoss, "storage corrupted: the recent index counts more than the outbox holds");
  }
  return records - recent;
}

Status StoreCore::Append(WriteTxn& txn, ByteView queued) {
  KASSA_TRY_ASSIGN(OutboxTail tail, Tail(txn));
  if (tail.next_seq >= RecentIndex::kStateKey) return Status(StatusCode::kResourceExhausted, "outbox: no sequence left");
  // Not MDB_APPEND: the tail record sorts after it (the same last leaf).
  KASSA_TRY(txn.Put(outbox, Be64(tail.next_seq), queued));
  ++tail.next_seq;
  return PutTail(txn, tail);
}

Result<std::vector<OutboxEntry>> StoreCore::ReadOutbox(const ReadTxn& txn, std::size_t max) {
  std::vector<OutboxEntry> entries;
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(outbox));
  KASSA_TRY_ASSIGN(bool found, FirstQueued(cursor));
  while (found && entries.size() < max) {
    KASSA_TRY_ASSIGN(model::Operation op, OpenQueued(txn, cursor.value()));
    entries.push_back({FromBe64(cursor.key()), std::move(op)});
    KASSA_TRY_ASSIGN(found, NextQueued(cursor));
  }
  return entries;
}

Status StoreCore::PutCustomer(WriteTxn& txn, const model::Customer& c, ByteView record, const model::Customer* old,
                   bool check_unique, NewEntries placement) {
  KASSA_TRY(tables.Put(txn, c, record, old, check_unique, placement));
  const bool was_pending = old != nullptr && old->pending();
  if (c.pending() == was_pending) return Status::Ok();
  KASSA_TRY_ASSIGN(OutboxTail tail, Tail(txn));
  // Never below zero; Check() reports a count that disagrees with the customers.
  tail.pending = c.pending() ? tail.pending + 1 : (tail.pending > 0 ? tail.pending - 1 : 0);
  return PutTail(txn, tail);
}

Status StoreCore::Rewrite(WriteTxn& txn, const model::Customer& next, const model::Customer& old) {
  if (next == old) return Status::Ok();
  KASSA_TRY_ASSIGN(const Bytes record, tables.Seal(txn, next));
  // Headquarters is the system of record: what it decided is never refused here.
  return PutCustomer(txn, next, record, &old, /*check_unique=*/false);
}

Status StoreCore::StampQueued(WriteTxn& txn, QueuedOps& queued, const model::LocalId& id, const std::string& account) {
  KASSA_TRY_ASSIGN(const auto seqs, queued.For(id));
  for (const std::uint64_t seq : seqs) {
    KASSA_TRY_ASSIGN(const ByteView value, txn.Get(outbox, Be64(seq)));
    KASSA_TRY_ASSIGN(model::Operation op, OpenQueued(txn, value));
    op.customer.account = account;
    KASSA_TRY_ASSIGN(const Bytes requeued, Queued(txn, op));
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
  auto sealed = sealing->Seal(txn, SealedTable::kQuarantine, &op.customer.id, record);
  crypto::Wipe(record.data(), record.size());
  crypto::Wipe(plain.data(), plain.size());
  KASSA_TRY(sealed.status());
  sealed->insert(sealed->begin(), op.customer.id.bytes.begin(), op.customer.id.bytes.end());
  return txn.Put(quarantine, Be64(seq), *sealed);
}

Result<QuarantineEntry> StoreCore::OpenQuarantined(const ReadTxn& txn, std::uint64_t seq, ByteView value) {
  if (value.size() < kOutboxIdBytes) return Status(StatusCode::kDataLoss, "storage corrupted: malformed quarantine entry");
  const model::LocalId id = FiledId(value);
  KASSA_TRY_ASSIGN(const Bytes record, sealing->Unseal(txn, SealedTable::kQuarantine, &id, value.subspan(kOutboxIdBytes)));
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
    KASSA_TRY_ASSIGN(const Bytes record, tables.Seal(txn, incoming));
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

namespace {

std::string ErasedKey(const model::LocalId& id) {
  std::string key(kErasedPrefix);
  key.append(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
  return key;
}

}  // namespace

Result<std::size_t> StoreCore::EraseCustomer(WriteTxn& txn, QueuedOps& queued, const model::LocalId& id,
                                             std::uint64_t seq) {
  KASSA_TRY_ASSIGN(const std::size_t deleted, ForgetCustomer(txn, queued, id));
  KASSA_TRY(PutMetaU64(txn, ErasedKey(id), seq));
  return deleted;
}

Result<std::size_t> StoreCore::ForgetCustomer(WriteTxn& txn, QueuedOps& queued, const model::LocalId& id) {
  KASSA_TRY_ASSIGN(const auto old, tables.Erase(txn, id));
  if (old && old->pending()) {
    KASSA_TRY_ASSIGN(OutboxTail tail, Tail(txn));
    tail.pending = tail.pending > 0 ? tail.pending - 1 : 0;
    KASSA_TRY(PutTail(txn, tail));
  }
  KASSA_TRY_ASSIGN(std::size_t deleted, clienteling.EraseCustomer(txn, "", id));
  KASSA_TRY_ASSIGN(const auto seqs, queued.For(id));
  for (const std::uint64_t s : seqs) {
    KASSA_TRY(txn.Del(outbox, Be64(s)));
    queued.Removed(id, s);
    ++deleted;
  }
  std::vector<Key8> rejected;
  {
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(quarantine));
    KASSA_TRY_ASSIGN(bool found, cursor.First());
    while (found) {
      if (FiledUnder(cursor.value(), id)) rejected.push_back(Be64(FromBe64(cursor.key())));
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
  }
  for (const Key8& key : rejected) KASSA_TRY(txn.Del(quarantine, key));
  deleted += rejected.size();
  return deleted;
}

Result<bool> StoreCore::Erased(const ReadTxn& txn, const model::LocalId& id) {
  auto v = txn.Get(meta, AsBytes(ErasedKey(id)));
  if (v.ok()) return true;
  if (v.status().code() == StatusCode::kNotFound) return false;
  return v.status();
}

Status StoreCore::Migrate(WriteTxn& txn, std::string_view from, const Sealing& plain) {
  if (from != kSchemaVersion1 && from != kSchemaVersion2 && from != kSchemaVersion3 && from != kSchemaVersion4 &&
      from != kSchemaVersion5) {
    return Status(StatusCode::kFailedPrecondition, "data: written by an incompatible kassa version");
  }
  KASSA_LOG(kInfo) << "migrating the customer store from layout " << from << " to " << kSchemaVersion
                   << (sealing->encrypted() ? " (sealing every value)" : "");
  // The records first: every other value of a customer takes its record's key.
  KASSA_TRY_ASSIGN(const std::uint64_t pending, tables.Reseal(txn, plain));
  KASSA_TRY(PutMetaU64(txn, kPendingKey, pending));
  // The outbox: layouts 1 to 4 keep the bare operation, 5 the customer's id
  // in front; every value is read whole before any is written.
  const bool filed = from == kSchemaVersion5;
  std::vector<std::pair<std::uint64_t, model::Operation>> queued;
  {
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(outbox));
    KASSA_TRY_ASSIGN(bool found, FirstQueued(cursor));
    while (found) {
      ByteView value = cursor.value();
      if (filed) {
        if (value.size() < kOutboxIdBytes) return Status(StatusCode::kDataLoss, "storage corrupted: malformed outbox entry");
        value = value.subspan(kOutboxIdBytes);
      }
      KASSA_TRY_ASSIGN(const Bytes bare, plain.Unseal(txn, SealedTable::kOutbox, nullptr, value));
      KASSA_TRY_ASSIGN(model::Operation op, proto_codec::DecodeOperation(bare));
      queued.emplace_back(FromBe64(cursor.key()), std::move(op));
      KASSA_TRY_ASSIGN(found, NextQueued(cursor));
    }
  }
  for (const auto& [seq, op] : queued) {
    KASSA_TRY_ASSIGN(const Bytes value, Queued(txn, op));
    KASSA_TRY(txn.Put(outbox, Be64(seq), value));
  }
  MDB_dbi refs = 0;
  if (const int rc = mdb_dbi_open(txn.get(), "outbox_refs", 0, &refs); rc != MDB_NOTFOUND) {
    KASSA_TRY(FromMdb(rc, "dbi outbox_refs"));
    KASSA_TRY(FromMdb(mdb_drop(txn.get(), refs, 1), "drop outbox_refs"));
  }
  // The quarantine (layout 2 on): rejected_at (8) | reason length (2) | reason | operation.
  std::vector<std::pair<std::uint64_t, QuarantineEntry>> rejected;
  {
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(quarantine));
    KASSA_TRY_ASSIGN(bool found, cursor.First());
    while (found) {
      const ByteView record = cursor.value();
      QuarantineEntry e;
      const std::size_t n = record.size() >= 10 ? (std::size_t{record[8]} << 8) | record[9] : 0;
      if (record.size() < 10 + n) return Status(StatusCode::kDataLoss, "storage corrupted: malformed quarantine entry");
      e.rejected_at_ms = static_cast<std::int64_t>(FromBe64(record.subspan(0, 8)));
      e.reason.assign(reinterpret_cast<const char*>(record.data() + 10), n);
      KASSA_TRY_ASSIGN(e.operation, proto_codec::DecodeOperation(record.subspan(10 + n)));
      rejected.emplace_back(FromBe64(cursor.key()), std::move(e));
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
  }
  for (const auto& [seq, e] : rejected) KASSA_TRY(Quarantine(txn, seq, e.operation, e.reason, e.rejected_at_ms));
  if (auto config = txn.Get(meta, AsBytes(kStoreConfigKey)); config.ok()) {
    KASSA_TRY_ASSIGN(const model::StoreConfig c, proto_codec::DecodeStoreConfig(*config));
    KASSA_TRY_ASSIGN(const Bytes sealed, SealStoreConfig(txn, c));
    KASSA_TRY(txn.Put(meta, AsBytes(kStoreConfigKey), sealed));
  } else if (config.status().code() != StatusCode::kNotFound) {
    return config.status();
  }
  KASSA_TRY(clienteling.Reseal(txn, plain));
  if (sealing->encrypted()) KASSA_TRY(PutMetaU64(txn, kCompactPendingKey, 1));
  return txn.Put(meta, AsBytes(kSchemaKey), AsBytes(kSchemaVersion));
}

}  // namespace kassa::storage::terminal
