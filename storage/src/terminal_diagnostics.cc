#include "terminal_views.h"

#include <set>
#include <map>

namespace kassa::storage::terminal {

StorageHealth LmdbDiagnostics::Health() { return keeper_.Health(); }

Result<StoreStats> LmdbDiagnostics::Stats() {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  StoreStats stats;
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));
  KASSA_TRY_ASSIGN(stats.customers, txn.Count(core->tables.customers()));
  KASSA_TRY_ASSIGN(stats.outbox_length, core->QueuedCount(txn));
  KASSA_TRY_ASSIGN(stats.quarantined, txn.Count(core->quarantine));
  KASSA_TRY_ASSIGN(stats.access_events, txn.Count(core->access));
  KASSA_TRY_ASSIGN(const OutboxTail tail, core->Tail(txn));
  stats.pending_customers = tail.pending;
  KASSA_TRY_ASSIGN(stats.recent_index_customers, core->tables.RecentCustomers(txn));
  KASSA_TRY_ASSIGN(auto oldest, core->ReadOutbox(txn, 1));
  if (!oldest.empty()) stats.oldest = std::move(oldest.front());
  KASSA_TRY_ASSIGN(stats.distribution_cursor, core->MetaU64(txn, kCursorKey, 0));
  KASSA_TRY_ASSIGN(const std::uint64_t last_ack, core->MetaU64(txn, kLastAckKey, 0));
  stats.last_ack_at_ms = static_cast<std::int64_t>(last_ack);
  MDB_envinfo info{};
  MDB_stat env_stat{};
  KASSA_TRY(FromMdb(mdb_env_info(core->env.get(), &info), "env_info"));
  KASSA_TRY(FromMdb(mdb_env_stat(core->env.get(), &env_stat), "env_stat"));
  stats.map_size_bytes = info.me_mapsize;
  stats.used_bytes = (info.me_last_pgno + 1) * static_cast<std::uint64_t>(env_stat.ms_psize);
  return stats;
}

Result<CheckReport> LmdbDiagnostics::Check() {
  KASSA_TRY_ASSIGN(StoreCore* const core, Core());
  CheckReport report;
  const auto problem = [&](std::string text) {
    if (report.problems.size() < CheckReport::kMaxProblems) report.problems.push_back(std::move(text));
  };
  // One snapshot for the whole check, so concurrent writes cannot cause false alarms.
  KASSA_TRY_ASSIGN(const ReadTxn txn, ReadTxn::Begin(core->env));

  std::set<model::LocalId> pending;
  KASSA_TRY(core->tables.Check(txn, report.customers, report.index_entries, problem,
                                [&](const model::Customer& c) {
                                  if (c.pending()) pending.insert(c.id);
                                }));

  std::map<model::LocalId, int> creations;
  std::uint64_t last_seq = 0;
  {
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(core->outbox));
    KASSA_TRY_ASSIGN(bool found, FirstQueued(cursor));
    for (; found; ++report.outbox_entries) {
      last_seq = FromBe64(cursor.key());
      auto op = core->OpenQueued(txn, cursor.value());
      if (!op.ok()) {
        problem("outbox entry " + std::to_string(last_seq) + ": does not decode (" + op.status().detail() + ")");
      } else {
        if (op->kind == model::OperationKind::kCreateCustomer) ++creations[op->customer.id];
        if (!txn.Get(core->tables.customers(), IdKey(op->customer.id)).ok()) {
          problem("outbox entry " + std::to_string(last_seq) + ": customer " + op->customer.id.ToHex() + " is not stored");
        }
        if (!FiledUnder(cursor.value(), op->customer.id)) {
          problem("outbox entry " + std::to_string(last_seq) + ": filed under another customer than its operation's");
        }
      }
      KASSA_TRY_ASSIGN(found, NextQueued(cursor));
    }
  }
  {
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(core->quarantine));
    KASSA_TRY_ASSIGN(bool found, cursor.First());
    for (; found; ++report.quarantined) {
      auto e = core->OpenQuarantined(txn, FromBe64(cursor.key()), cursor.value());
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
  KASSA_TRY(core->tables.recent()->Check(txn, problem));
  const Result<OutboxTail> tail = core->Tail(txn);
  if (!tail.ok()) {
    problem(tail.status().detail());
    return report;
  }
  if (tail->pending != pending.size()) {
    problem("the pending count says " + std::to_string(tail->pending) + " but " + std::to_string(pending.size()) +
            " customers are pending");
  }
  // A queued creation of a customer that is no longer pending is fine: the
  // account number arrived by distribution before the acknowledgement.
  if (report.outbox_entries > 0 && tail->next_seq <= last_seq) {
    problem("outbox sequence counter is behind its last entry " + std::to_string(last_seq));
  }
  return report;
}

}  // namespace kassa::storage::terminal
