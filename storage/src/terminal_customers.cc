#include "terminal_views.h"

namespace kassa::storage::terminal {

Status LmdbCustomerTable::Create(const model::Customer& customer, const model::Operation* op) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  // Sealed inside the transaction: a new customer's data key is written
  // with its record (microseconds of the write lock; the commit's sync is
  // milliseconds).
  return Update(core->env, [&](WriteTxn& txn) -> Status {
    KASSA_TRY_ASSIGN(const Bytes record, core->tables.Seal(txn, customer));
    KASSA_TRY(core->PutCustomer(txn, customer, record, nullptr, /*check_unique=*/true, NewEntries::kRecent));
    if (op != nullptr) {
      KASSA_TRY_ASSIGN(const Bytes queued, core->Queued(txn, *op));
      KASSA_TRY(core->Append(txn, queued));
    }
    return Status::Ok();
  });
}

Status LmdbCustomerTable::Replace(const model::Customer& customer, std::uint32_t expected_version,
                              const model::Operation* op) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  return Update(core->env, [&](WriteTxn& txn) -> Status {
    KASSA_TRY_ASSIGN(const auto old, core->tables.Find(txn, customer.id));
    if (!old) return Status(StatusCode::kNotFound, "customer: no customer with this id");
    if (old->version != expected_version) {
      return Status(StatusCode::kAborted, "version: the customer was changed by someone else; reload it and edit again");
    }
    if (old->account != customer.account) {
      // Headquarters assigned the number since the caller read the customer.
      return Status(StatusCode::kAborted, "version: the customer was changed by someone else; reload it and edit again");
    }
    KASSA_TRY_ASSIGN(const Bytes record, core->tables.Seal(txn, customer));
    KASSA_TRY(core->PutCustomer(txn, customer, record, &*old, /*check_unique=*/true));
    if (op != nullptr) {
      KASSA_TRY_ASSIGN(const Bytes queued, core->Queued(txn, *op));
      KASSA_TRY(core->Append(txn, queued));
    }
    return Status::Ok();
  });
}

Result<model::Customer> LmdbCustomerTable::Get(const model::LocalId& id) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  KASSA_TRY_ASSIGN(auto found, core->tables.Find(txn, id));
  if (!found) return Status(StatusCode::kNotFound, "customer: no customer with this id");
  return std::move(*found);
}

namespace {

// Quarantine entry `seq`, read in `txn`.
Result<QuarantineEntry> RejectedIn(StoreCore& core, WriteTxn& txn, std::uint64_t seq) {
  auto value = txn.Get(core.quarantine, Be64(seq));
  if (!value.ok()) {
    if (value.status().code() != StatusCode::kNotFound) return value.status();
    return Status(StatusCode::kNotFound, "quarantine: no such rejected operation (resent or dropped meanwhile)");
  }
  return core.OpenQuarantined(txn, seq, *value);
}

}  // namespace

Status LmdbCustomerTable::ResendRejected(std::uint64_t quarantine_seq, const model::Customer& fixed,
                                         const model::Operation& op) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  return Update(core->env, [&](WriteTxn& txn) -> Status {
    KASSA_TRY_ASSIGN(const QuarantineEntry rejected, RejectedIn(*core, txn, quarantine_seq));
    const model::OperationKind kind = rejected.operation.kind;
    if ((kind != model::OperationKind::kCreateCustomer && kind != model::OperationKind::kUpdateCustomer) ||
        op.kind != kind || rejected.operation.customer.id != fixed.id || op.customer.id != fixed.id) {
      return Status(StatusCode::kFailedPrecondition,
                    "quarantine: only a rejected creation or edit is resent, as its own kind and customer");
    }
    KASSA_TRY_ASSIGN(const auto old, core->tables.Find(txn, fixed.id));
    if (!old) return Status(StatusCode::kFailedPrecondition, "quarantine: the customer is no longer on this terminal");
    if (kind == model::OperationKind::kCreateCustomer && (!old->pending() || !fixed.pending())) {
      return Status(StatusCode::kFailedPrecondition, "quarantine: the customer is no longer waiting for its creation");
    }
    if (kind == model::OperationKind::kUpdateCustomer && fixed.version != old->version + 1) {
      return Status(StatusCode::kAborted, "version: the customer was changed meanwhile; open it and fix it again");
    }
    KASSA_TRY_ASSIGN(const Bytes record, core->tables.Seal(txn, fixed));
    KASSA_TRY(core->PutCustomer(txn, fixed, record, &*old, /*check_unique=*/true));
    KASSA_TRY_ASSIGN(const Bytes queued, core->Queued(txn, op));
    KASSA_TRY(core->Append(txn, queued));
    return txn.Del(core->quarantine, Be64(quarantine_seq));
  });
}

Status LmdbCustomerTable::DiscardRejected(std::uint64_t quarantine_seq, const model::Customer* headquarters_copy) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  return Update(core->env, [&](WriteTxn& txn) -> Status {
    KASSA_TRY_ASSIGN(const QuarantineEntry rejected, RejectedIn(*core, txn, quarantine_seq));
    const model::LocalId& id = rejected.operation.customer.id;
    if (headquarters_copy != nullptr && headquarters_copy->id != id) {
      return Status(StatusCode::kFailedPrecondition, "quarantine: headquarters' copy is of another customer");
    }
    KASSA_TRY(txn.Del(core->quarantine, Be64(quarantine_seq)));
    KASSA_TRY_ASSIGN(const auto local, core->tables.Find(txn, id));
    if (!local) return Status::Ok();
    QueuedOps queued(txn, core->outbox);
    if (rejected.operation.kind == model::OperationKind::kCreateCustomer) {
      // Headquarters never had it: nothing of it stays (no erasure marker: nothing to keep out).
      if (local->pending()) KASSA_TRY(core->ForgetCustomer(txn, queued, id).status());
      return Status::Ok();
    }
    if (rejected.operation.kind == model::OperationKind::kUpdateCustomer && headquarters_copy != nullptr) {
      KASSA_TRY_ASSIGN(const auto seqs, queued.For(id));
      if (seqs.empty()) return core->Rewrite(txn, *headquarters_copy, *local);
    }
    return Status::Ok();
  });
}

Status LmdbCustomerTable::Read(const Reader& read) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  return core->tables.Read(txn, read);
}

Status LmdbCustomerTable::ApplyHeadquartersCustomer(const model::Customer& customer) {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  return Update(core->env, [&](WriteTxn& txn) {
    QueuedOps queued_ops(txn, core->outbox);
    return core->UpsertFromHeadquarters(txn, queued_ops, customer);
  });
}

}  // namespace kassa::storage::terminal
