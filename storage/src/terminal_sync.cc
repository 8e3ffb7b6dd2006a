#include "terminal_views.h"

#include <algorithm>

#include "kassa/base/log.h"
#include "kassa/proto_codec/codec.h"

namespace kassa::storage::terminal {

Result<std::vector<OutboxEntry>> LmdbOutbox::PeekOutbox(std::size_t max) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  return core->ReadOutbox(txn, max);
}

Result<std::size_t> LmdbOutbox::QueuedFor(const model::LocalId& id) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  // Each outbox value starts with its customer's id: one pass, nothing decoded or kept.
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(core->outbox));
  KASSA_TRY_ASSIGN(bool found, FirstQueued(cursor));
  std::size_t queued = 0;
  while (found) {
    const ByteView v = cursor.value();
    if (v.size() < kOutboxIdBytes) return Status(StatusCode::kDataLoss, "storage corrupted: malformed outbox entry");
    if (std::equal(id.bytes.begin(), id.bytes.end(), v.begin())) ++queued;
    KASSA_TRY_ASSIGN(found, NextQueued(cursor));
  }
  return queued;
}

Result<AckResult> LmdbSyncState::ApplyAcks(const std::vector<std::pair<std::uint64_t, model::OperationAck>>& acks,
                                           std::int64_t now_ms) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  AckResult result;
  KASSA_TRY(Update(core->env, [&](WriteTxn& txn) -> Status {
    result = AckResult{};
    QueuedOps queued_ops(txn, core->outbox);
    for (const auto& [seq, ack] : acks) {
      if (seq >= RecentIndex::kStateKey) {  // never a queued operation's: headquarters is mistaken
        ++result.ignored;
        continue;
      }
      auto queued = txn.Get(core->outbox, Be64(seq));
      if (!queued.ok()) {
        if (queued.status().code() != StatusCode::kNotFound) return queued.status();
        ++result.ignored;
        continue;
      }
      KASSA_TRY_ASSIGN(const model::Operation op, core->OpenQueued(txn, *queued));
      if (op.op_id != ack.op_id) {
        KASSA_LOG(kWarning) << "acknowledgement of operation " << ack.op_id.ToHex() << " does not match outbox entry "
                            << seq << "; ignored";
        ++result.ignored;
        continue;
      }
      KASSA_TRY(txn.Del(core->outbox, Be64(seq)));
      queued_ops.Removed(op.customer.id, seq);
      if (ack.applied()) {
        KASSA_TRY_ASSIGN(const bool bound, core->BindAccount(txn, queued_ops, op.customer.id, ack.account));
        if (bound) result.accounts_bound.push_back(op.customer.id);
        ++result.applied;
      } else {
        KASSA_LOG(kWarning) << "headquarters rejected operation " << op.op_id.ToHex() << " (outbox " << seq
                            << "): " << ack.reason << "; quarantined";
        KASSA_TRY(core->Quarantine(txn, seq, op, ack.reason, now_ms));
        ++result.rejected;
      }
    }
    return core->PutMetaU64(txn, kLastAckKey, static_cast<std::uint64_t>(now_ms));
  }));
  return result;
}

Result<DistributionResult> LmdbSyncState::ApplyDistribution(const std::vector<model::Change>& changes) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  DistributionResult result;
  KASSA_TRY(Update(core->env, [&](WriteTxn& txn) -> Status {
    result = DistributionResult{};
    QueuedOps queued_ops(txn, core->outbox);
    KASSA_TRY_ASSIGN(std::uint64_t cursor, core->MetaU64(txn, kCursorKey, 0));
    for (const auto& change : changes) {
      if (change.seq <= cursor) continue;  // a duplicate of what is applied
      if (change.kind == model::Change::Kind::kCustomerErased) {
        KASSA_TRY_ASSIGN(const std::size_t deleted, core->EraseCustomer(txn, queued_ops, change.erased, change.seq));
        KASSA_LOG(kInfo) << "erased customer " << change.erased.ToHex() << " as headquarters said (change "
                         << change.seq << "; " << deleted << " more record(s) of it deleted)";
        result.erased.push_back(change.erased);
      } else if (change.kind == model::Change::Kind::kCustomerUpsert) {
        KASSA_TRY_ASSIGN(const bool erased, core->Erased(txn, change.customer.id));
        if (!erased) KASSA_TRY(core->UpsertFromHeadquarters(txn, queued_ops, change.customer));
        ++result.customers;
      } else if (change.kind == model::Change::Kind::kClienteling) {
        const model::LocalId* about = ClientelingTables::CustomerOf(change.clienteling);
        bool erased = false;
        if (about != nullptr) {
          KASSA_TRY_ASSIGN(erased, core->Erased(txn, *about));
        }
        if (!erased) KASSA_TRY(core->clienteling.Apply(txn, "", change.clienteling));
        ++result.clienteling;
      } else {
        KASSA_TRY_ASSIGN(const Bytes sealed, core->SealStoreConfig(txn, change.store_config));
        KASSA_TRY(txn.Put(core->meta, AsBytes(kStoreConfigKey), sealed));
        KASSA_TRY(core->PutMetaU64(txn, kStoreConfigFromHqKey, 1));
        result.store_config = change.store_config;
      }
      cursor = change.seq;
    }
    result.cursor = cursor;
    return core->PutMetaU64(txn, kCursorKey, cursor);
  }));
  return result;
}

Result<std::vector<model::LocalId>> LmdbSyncState::ApplyErasuresAhead(const std::vector<model::Change>& erasures) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  for (const auto& change : erasures) {
    if (change.kind != model::Change::Kind::kCustomerErased) {
      return Status(StatusCode::kInvalidArgument, "distribution: only erasures are sent ahead");
    }
  }
  std::vector<model::LocalId> erased;
  KASSA_TRY(Update(core->env, [&](WriteTxn& txn) -> Status {
    erased.clear();
    QueuedOps queued_ops(txn, core->outbox);
    KASSA_TRY_ASSIGN(const std::uint64_t cursor, core->MetaU64(txn, kCursorKey, 0));
    for (const auto& change : erasures) {
      if (change.seq <= cursor) continue;  // applied in order already
      KASSA_TRY_ASSIGN(const bool done, core->Erased(txn, change.erased));
      if (done) continue;
      KASSA_TRY(core->EraseCustomer(txn, queued_ops, change.erased, change.seq).status());
      erased.push_back(change.erased);
    }
    return Status::Ok();
  }));
  return erased;
}

Result<std::uint64_t> LmdbSyncState::DistributionCursor() {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  return core->MetaU64(txn, kCursorKey, 0);
}

Status LmdbSyncState::ResetDistributionCursor(std::uint64_t cursor) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  return Update(core->env, [&](WriteTxn& txn) { return core->PutMetaU64(txn, kCursorKey, cursor); });
}

Result<std::int64_t> LmdbSyncState::LastContactMs() {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  KASSA_TRY_ASSIGN(const std::uint64_t at, core->MetaU64(txn, kLastContactKey, 0));
  return static_cast<std::int64_t>(at);
}

Status LmdbSyncState::SaveLastContact(std::int64_t at_ms) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  return Update(core->env, [&](WriteTxn& txn) {
    return core->PutMetaU64(txn, kLastContactKey, static_cast<std::uint64_t>(std::max<std::int64_t>(at_ms, 0)));
  });
}

Result<std::vector<QuarantineEntry>> LmdbQuarantine::Quarantined(std::size_t max) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  std::vector<QuarantineEntry> entries;
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(core->quarantine));
  KASSA_TRY_ASSIGN(bool found, cursor.First());
  while (found && entries.size() < max) {
    KASSA_TRY_ASSIGN(QuarantineEntry e, core->OpenQuarantined(txn, FromBe64(cursor.key()), cursor.value()));
    entries.push_back(std::move(e));
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  return entries;
}

Result<QuarantineEntry> LmdbQuarantine::Entry(std::uint64_t seq) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  auto value = txn.Get(core->quarantine, Be64(seq));
  if (!value.ok()) {
    if (value.status().code() != StatusCode::kNotFound) return value.status();
    return Status(StatusCode::kNotFound, "quarantine: no such rejected operation");
  }
  return core->OpenQuarantined(txn, seq, *value);
}

}  // namespace kassa::storage::terminal
