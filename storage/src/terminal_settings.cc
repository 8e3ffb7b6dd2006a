#include "terminal_views.h"

#include <set>

#include "kassa/proto_codec/codec.h"

namespace kassa::storage::terminal {

Status LmdbClienteling::WriteClienteling(const std::vector<ClientelingWrite>& writes) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  return Update(core->env, [&](WriteTxn& txn) -> Status {
    for (const auto& w : writes) {
      KASSA_TRY(core->clienteling.Apply(txn, "", w.record));
      if (w.op) {
        KASSA_TRY_ASSIGN(const Bytes queued, core->Queued(txn, *w.op));
        KASSA_TRY(core->Append(txn, queued));
      }
    }
    return Status::Ok();
  });
}

Result<std::optional<model::ClientelingConfig>> LmdbClienteling::LoadClientelingConfig() {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  return core->clienteling.Config(txn, "");
}

Result<std::vector<model::Operator>> LmdbClienteling::Operators() {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  return core->clienteling.Operators(txn, "");
}

Result<std::optional<model::Operator>> LmdbClienteling::FindOperator(std::string_view worker_id) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  return core->clienteling.FindOperator(txn, "", worker_id);
}

Result<std::optional<model::BookEntry>> LmdbClienteling::BookOf(std::string_view owner) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  return core->clienteling.Book(txn, "", owner);
}

Result<std::vector<model::BookEntry>> LmdbClienteling::BookEntries(std::string_view owner) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  return core->clienteling.Entries(txn, "", owner);
}

Result<bool> LmdbClienteling::InBook(std::string_view owner, const model::LocalId& customer) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  return core->clienteling.InBook(txn, "", owner, customer);
}

Result<std::vector<model::TimelineEntry>> LmdbClienteling::Timeline(const model::LocalId& customer, std::size_t max) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  return core->clienteling.Timeline(txn, "", customer, max);
}

Result<std::vector<model::AttributeValue>> LmdbClienteling::Measures(const model::LocalId& customer) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  return core->clienteling.Measures(txn, "", customer);
}

Result<std::vector<model::ConsentEntry>> LmdbClienteling::Consents(const model::LocalId& customer) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  KASSA_TRY_ASSIGN(std::vector<model::ConsentEntry> out, core->clienteling.Consents(txn, "", customer));
  std::set<model::LocalId> ordered;
  for (const auto& e : out) ordered.insert(e.id);
  // Not ordered yet: the entries of this customer's queued operations (only
  // their records are opened; an entry already distributed back is skipped).
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(core->outbox));
  KASSA_TRY_ASSIGN(bool found, FirstQueued(cursor));
  while (found) {
    if (FiledUnder(cursor.value(), customer)) {
      KASSA_TRY_ASSIGN(const model::Operation op, core->OpenQueued(txn, cursor.value()));
      for (const auto& e : op.consents) {
        if (!ordered.contains(e.id)) out.push_back(e);
      }
    }
    KASSA_TRY_ASSIGN(found, NextQueued(cursor));
  }
  return out;
}

Result<PinFailures> LmdbOperatorLockouts::LoadPinFailures(std::string_view worker_id) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  const std::string key = std::string(kPinFailuresPrefix) + std::string(worker_id);
  auto v = txn.Get(core->meta, AsBytes(key));
  if (!v.ok()) {
    if (v.status().code() == StatusCode::kNotFound) return PinFailures{};
    return v.status();
  }
  // 16 bytes (wall clock only), or 24 and the boot id.
  if (v->size() != 16 && (v->size() < 24 || v->size() > 24 + kMaxBootIdBytes)) {
    return Status(StatusCode::kDataLoss, "storage corrupted: malformed PIN failure record");
  }
  PinFailures out{static_cast<std::uint32_t>(FromBe64(v->subspan(0, 8))),
                  static_cast<std::int64_t>(FromBe64(v->subspan(8, 8)))};
  if (v->size() >= 24) {
    out.locked_until_boot_ms = static_cast<std::int64_t>(FromBe64(v->subspan(16, 8)));
    out.boot_id.assign(AsChars(v->subspan(24)));
  }
  return out;
}

Status LmdbOperatorLockouts::SavePinFailures(std::string_view worker_id, const PinFailures& failures) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  const std::string key = std::string(kPinFailuresPrefix) + std::string(worker_id);
  return Update(core->env, [&](WriteTxn& txn) -> Status {
    if (failures.wrong == 0 && failures.locked_until_ms == 0 && failures.locked_until_boot_ms == 0) {
      const Status del = txn.Del(core->meta, AsBytes(key));
      return del.code() == StatusCode::kNotFound ? Status::Ok() : del;
    }
    if (failures.boot_id.size() > kMaxBootIdBytes) {
      return Status(StatusCode::kInvalidArgument, "pin: the boot id is too long");
    }
    Bytes v;
    for (std::uint64_t x : {std::uint64_t{failures.wrong}, static_cast<std::uint64_t>(failures.locked_until_ms),
                            static_cast<std::uint64_t>(failures.locked_until_boot_ms)}) {
      const Key8 b = Be64(x);
      v.insert(v.end(), b.begin(), b.end());
    }
    v.insert(v.end(), failures.boot_id.begin(), failures.boot_id.end());
    return txn.Put(core->meta, AsBytes(key), v);
  });
}

Result<std::optional<model::StoreConfig>> LmdbStoreSettings::LoadStoreConfig() {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  return core->LoadStoreConfig(txn);
}

Status LmdbStoreSettings::SaveStoreConfig(const model::StoreConfig& config) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  return Update(core->env, [&](WriteTxn& txn) -> Status {
    KASSA_TRY_ASSIGN(const Bytes sealed, core->SealStoreConfig(txn, config));
    KASSA_TRY(txn.Put(core->meta, AsBytes(kStoreConfigKey), sealed));
    return core->PutMetaU64(txn, kStoreConfigFromHqKey, 0);
  });
}

Result<bool> LmdbStoreSettings::StoreConfigFromHeadquarters() {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  KASSA_TRY_ASSIGN(const std::uint64_t from_hq, core->MetaU64(txn, kStoreConfigFromHqKey, 0));
  return from_hq != 0;
}

}  // namespace kassa::storage::terminal
