#include "terminal_views.h"

#include "kassa/model/limits.h"

namespace kassa::storage::terminal {
namespace {

// customer id (16) | action (1) | at_ms (8, big-endian) | operator id
constexpr std::size_t kFixedBytes = model::kLocalIdBytes + 1 + 8;

Bytes EncodeEvent(const model::AccessEvent& e) {
  Bytes out(e.customer.bytes.begin(), e.customer.bytes.end());
  out.push_back(static_cast<std::uint8_t>(e.action));
  const Key8 at = Be64(static_cast<std::uint64_t>(e.at_ms));
  out.insert(out.end(), at.begin(), at.end());
  out.insert(out.end(), e.operator_id.begin(), e.operator_id.end());
  return out;
}

Result<model::AccessEvent> DecodeEvent(std::uint64_t seq, ByteView v) {
  const auto action = v.size() > kFixedBytes ? model::AccessActionFromWire(v[model::kLocalIdBytes]) : std::nullopt;
  if (!action) return Status(StatusCode::kDataLoss, "storage corrupted: malformed access event");
  model::AccessEvent e;
  std::copy_n(v.begin(), model::kLocalIdBytes, e.customer.bytes.begin());
  e.action = *action;
  e.at_ms = static_cast<std::int64_t>(FromBe64(v.subspan(model::kLocalIdBytes + 1, 8)));
  e.operator_id = std::string(AsChars(v.subspan(kFixedBytes)));
  e.seq = seq;
  return e;
}

}  // namespace

Status LmdbAccessEvents::AppendAccessEvents(const std::vector<model::AccessEvent>& events) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  for (const auto& e : events) {
    if (e.operator_id.empty() || e.operator_id.size() > model::kMaxOperatorIdBytes) {
      return Status(StatusCode::kInvalidArgument, "operator_id: empty or longer than 32 bytes");
    }
  }
  if (events.empty()) return Status::Ok();
  return Update(core->env, [&](WriteTxn& txn) -> Status {
    KASSA_TRY_ASSIGN(std::uint64_t next, core->MetaU64(txn, kAccessNextSeqKey, 1));
    for (const auto& e : events) {
      KASSA_TRY_ASSIGN(const Bytes sealed,
                       core->sealing->Seal(txn, SealedTable::kAccessEvent, nullptr, EncodeEvent(e)));
      KASSA_TRY(txn.Put(core->access, Be64(next), sealed, MDB_APPEND));
      ++next;
    }
    return core->PutMetaU64(txn, kAccessNextSeqKey, next);
  });
}

Result<std::vector<model::AccessEvent>> LmdbAccessEvents::PeekAccessEvents(std::size_t max) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  std::vector<model::AccessEvent> out;
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(core->access));
  KASSA_TRY_ASSIGN(bool found, cursor.First());
  while (found && out.size() < max) {
    if (cursor.key().size() != 8) return Status(StatusCode::kDataLoss, "storage corrupted: malformed access event key");
    KASSA_TRY_ASSIGN(const Bytes plain,
                     core->sealing->Unseal(txn, SealedTable::kAccessEvent, nullptr, cursor.value()));
    KASSA_TRY_ASSIGN(model::AccessEvent e, DecodeEvent(FromBe64(cursor.key()), plain));
    out.push_back(std::move(e));
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  return out;
}

Result<std::size_t> LmdbAccessEvents::DropAccessEvents(std::uint64_t through_seq) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  std::size_t dropped = 0;
  KASSA_TRY(Update(core->env, [&](WriteTxn& txn) -> Status {
    dropped = 0;
    std::vector<Key8> doomed;
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(core->access));
    KASSA_TRY_ASSIGN(bool found, cursor.First());
    while (found && cursor.key().size() == 8 && FromBe64(cursor.key()) <= through_seq) {
      doomed.push_back(Be64(FromBe64(cursor.key())));
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
    for (const Key8& key : doomed) KASSA_TRY(txn.Del(core->access, key));
    dropped = doomed.size();
    return Status::Ok();
  }));
  return dropped;
}

Result<std::uint64_t> LmdbAccessEvents::QueuedAccessEvents() {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  KASSA_TRY_ASSIGN(const std::size_t n, txn.Count(core->access));
  return std::uint64_t{n};
}

}  // namespace kassa::storage::terminal
