#include "pg_write_behind.h"

#include <algorithm>
#include <set>

namespace kassa::storage {
namespace {

ByteView IdBytes(const model::LocalId& id) { return ByteView(id.bytes.data(), id.bytes.size()); }
PgParam IdParam(const model::LocalId& id) { return PgParam::Bytea(IdBytes(id)); }

}  // namespace

void PgWriteBehind::Owner(const model::LocalId& customer, std::string_view legal_entity) {
  owners_.emplace_back(customer, std::string(legal_entity));
}

Status PgWriteBehind::Customer(PgCustomerRow row) {
  const auto claimed_by_other = [&](const Bytes& tag) {
    const auto it = tags_.find(tag);
    return it != tags_.end() && it->second != row.id;
  };
  if (row.account_tag && claimed_by_other(*row.account_tag)) {
    return Status(StatusCode::kAlreadyExists, "account: already belongs to another customer");
  }
  if (std::any_of(row.card_tags.begin(), row.card_tags.end(), claimed_by_other)) {
    return Status(StatusCode::kAlreadyExists, "loyalty_cards: card already belongs to another customer");
  }
  auto it = customers_.find(row.id);
  if (it != customers_.end()) {
    // Put before in this transaction: its tags are free again, its rows replaced.
    const PgCustomerRow& before = it->second;
    if (before.account_tag) tags_.erase(*before.account_tag);
    for (const Bytes& tag : before.card_tags) tags_.erase(tag);
    row.replaces = row.replaces || before.replaces;
  }
  if (row.account_tag) tags_[*row.account_tag] = row.id;
  for (const Bytes& tag : row.card_tags) tags_[tag] = row.id;
  const model::LocalId id = row.id;
  customers_.insert_or_assign(id, std::move(row));
  return Status::Ok();
}

void PgWriteBehind::Outcome(const model::LocalId& op_id, Bytes sealed, bool replaces) {
  if (replaces) {
    replaced_outcomes_.push_back(IdParam(op_id));
    replaced_outcomes_.push_back(PgParam::Bytea(sealed));
  } else {
    outcomes_.Row(2).Bytes(IdBytes(op_id)).Bytes(sealed);
  }
}

void PgWriteBehind::Change(std::uint64_t seq, model::Change::Kind kind, std::string_view scope,
                           const model::LocalId* customer, const Bytes* body) {
  changes_[seq] = ChangeRow{kind, std::string(scope), customer ? std::optional<model::LocalId>(*customer) : std::nullopt,
                            body ? std::optional<Bytes>(*body) : std::nullopt};
}

void PgWriteBehind::DropChange(std::uint64_t seq) {
  if (changes_.erase(seq) == 0) dropped_changes_.push_back(seq);
}

void PgWriteBehind::SetChangeSeq(const model::LocalId& id, std::uint64_t seq) {
  if (auto it = customers_.find(id); it != customers_.end()) it->second.change_seq = seq;
}

void PgWriteBehind::Access(const model::AccessEvent& e) {
  const std::int64_t at = std::max<std::int64_t>(e.at_ms, 0);
  if (e.seq == 0) {
    // origin 'H', seq from access_seq (the column's default)
    access_numbered_.Row(6).Bytes(IdBytes(e.customer)).Int64(at).Text(e.terminal_id).Text("H");
    access_numbered_.Int16(static_cast<std::int64_t>(e.action)).Text(e.operator_id);
    return;
  }
  for (PgParam p : {IdParam(e.customer), PgParam::Int(at), PgParam::Text(e.terminal_id), PgParam::Text("T"),
                    PgParam::Int(static_cast<std::int64_t>(e.action)), PgParam::Text(e.operator_id),
                    PgParam::Int(static_cast<std::int64_t>(e.seq))}) {
    access_.push_back(std::move(p));
  }
}

void PgWriteBehind::Terminal(const TerminalRecord& terminal) { terminals_.insert_or_assign(terminal.terminal_id, terminal); }

void PgWriteBehind::Counter(std::string_view name, std::uint64_t value) { counters_[std::string(name)] = value; }

void PgWriteBehind::Count(std::int64_t customers, std::int64_t operations) {
  customers_added_ += customers;
  operations_added_ += operations;
}

bool PgWriteBehind::empty() const {
  return owners_.empty() && customers_.empty() && outcomes_.rows() == 0 && replaced_outcomes_.empty() &&
         changes_.empty() && dropped_changes_.empty() && access_.empty() && access_numbered_.rows() == 0 && terminals_.empty() &&
         counters_.empty() && customers_added_ == 0 && operations_added_ == 0;
}

Status PgWriteBehind::Flush(PgConn& db) {
  if (!owners_.empty()) {
    PgCopyRows rows;
    for (const auto& [id, le] : owners_) rows.Row(2).Bytes(IdBytes(id)).Text(le);
    KASSA_TRY(db.Copy("owners (customer_id, legal_entity)", rows));
  }
  if (!customers_.empty()) {
    std::vector<model::LocalId> replaced;
    std::vector<PgParam> upserts;
    PgCopyRows fresh, cards, terms;
    for (const auto& [id, c] : customers_) {
      if (c.replaces) {
        replaced.push_back(id);
        upserts.push_back(IdParam(id));
        upserts.push_back(PgParam::Bytea(c.sealed));
        upserts.push_back(c.account_tag ? PgParam::Bytea(*c.account_tag) : PgParam::Null());
        upserts.push_back(c.change_seq ? PgParam::Int(static_cast<std::int64_t>(*c.change_seq)) : PgParam::Null());
      } else {
        fresh.Row(4).Bytes(IdBytes(id)).Bytes(c.sealed);
        if (c.account_tag) {
          fresh.Bytes(*c.account_tag);
        } else {
          fresh.Null();
        }
        if (c.change_seq) {
          fresh.Int64(static_cast<std::int64_t>(*c.change_seq));
        } else {
          fresh.Null();
        }
      }
      for (const Bytes& tag : c.card_tags) cards.Row(2).Bytes(tag).Bytes(IdBytes(id));
      // A customer's two entries of one term (the same card twice) are one.
      std::set<std::pair<std::int64_t, std::string_view>> seen;
      for (const PgTerm& t : c.terms) {
        if (!seen.emplace(t.kind, t.term).second) continue;
        terms.Row(5).Int16(t.kind).Text(t.term).Bytes(IdBytes(id)).Int16(t.field).Text(t.detail);
      }
    }
    if (!replaced.empty()) {
      // Their earlier terms and cards go first: a card one of them gave up
      // may be another's now.
      const PgParam list = PgParam::IdList(replaced);
      KASSA_TRY(db.Exec("DELETE FROM search_terms WHERE customer_id IN "
                        KASSA_PG_ID_LIST,
                        {list})
                    .status());
      KASSA_TRY(db.Exec("DELETE FROM loyalty_cards WHERE customer_id IN "
                        KASSA_PG_ID_LIST,
                        {list})
                    .status());
      // An account number held before by another of these customers: set
      // aside first, so that the order of the rows below does not matter.
      KASSA_TRY(db.Exec("UPDATE customers SET account_tag = NULL WHERE id IN "
                        KASSA_PG_ID_LIST,
                        {list})
                    .status());
      KASSA_TRY(db.InsertRows("INSERT INTO customers (id, record, account_tag, change_seq)",
                              "ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record, account_tag = EXCLUDED.account_tag, "
                              "change_seq = EXCLUDED.change_seq",
                              4, upserts));
    }
    KASSA_TRY(db.Copy("customers (id, record, account_tag, change_seq)", fresh));
    KASSA_TRY(db.Copy("loyalty_cards (card_tag, customer_id)", cards));
    KASSA_TRY(db.Copy("search_terms (kind, term, customer_id, field, detail)", terms));
  }
  KASSA_TRY(db.Copy("operations (op_id, outcome)", outcomes_));
  if (!replaced_outcomes_.empty()) {
    KASSA_TRY(db.InsertRows("INSERT INTO operations (op_id, outcome)",
                            "ON CONFLICT (op_id) DO UPDATE SET outcome = EXCLUDED.outcome", 2, replaced_outcomes_));
  }
  if (!dropped_changes_.empty()) {
    std::string list;
    for (const std::uint64_t seq : dropped_changes_) list += (list.empty() ? "" : ",") + std::to_string(seq);
    KASSA_TRY(db.Exec("DELETE FROM changes WHERE seq = ANY (string_to_array($1, ',')::bigint[])", {PgParam::Text(list)})
                  .status());
  }
  if (!changes_.empty()) {
    PgCopyRows rows;
    for (const auto& [seq, c] : changes_) {
      rows.Row(5).Int64(static_cast<std::int64_t>(seq)).Int16(static_cast<std::int64_t>(c.kind)).Text(c.scope);
      if (c.customer) {
        rows.Bytes(IdBytes(*c.customer));
      } else {
        rows.Null();
      }
      if (c.body) {
        rows.Bytes(*c.body);
      } else {
        rows.Null();
      }
    }
    KASSA_TRY(db.Copy("changes (seq, kind, scope, customer_id, body)", rows));
  }
  if (!access_.empty()) {
    KASSA_TRY(db.InsertRows("INSERT INTO access_events (customer_id, at_ms, terminal_id, origin, action, actor, seq)",
                            "ON CONFLICT DO NOTHING", 7, access_));
  }
  KASSA_TRY(db.Copy("access_events (customer_id, at_ms, terminal_id, origin, action, actor)", access_numbered_));
  if (!terminals_.empty()) {
    std::vector<PgParam> params;
    for (const auto& [id, t] : terminals_) {
      params.push_back(PgParam::Text(t.terminal_id));
      params.push_back(PgParam::Text(t.store_id));
      params.push_back(PgParam::Int(static_cast<std::int64_t>(t.cursor)));
      params.push_back(PgParam::Int(t.last_seen_ms));
      params.push_back(PgParam::Int(static_cast<std::int64_t>(t.operations_applied)));
      params.push_back(PgParam::Int(static_cast<std::int64_t>(t.rejections)));
    }
    KASSA_TRY(db.InsertRows(
        "INSERT INTO terminals (terminal_id, store_id, cursor, last_seen_ms, operations_applied, rejections)",
        "ON CONFLICT (terminal_id) DO UPDATE SET store_id = EXCLUDED.store_id, cursor = EXCLUDED.cursor, "
        "last_seen_ms = EXCLUDED.last_seen_ms, operations_applied = EXCLUDED.operations_applied, "
        "rejections = EXCLUDED.rejections",
        6, params));
  }
  if (customers_added_ != 0) counters_["customers+"] = static_cast<std::uint64_t>(customers_added_);
  if (operations_added_ != 0) counters_["operations+"] = static_cast<std::uint64_t>(operations_added_);
  if (!counters_.empty()) {
    // One statement: names ending in '+' add to the counter, others set it.
    std::vector<PgParam> params;
    for (const auto& [name, value] : counters_) {
      const bool add = name.back() == '+';
      params.push_back(PgParam::Text(add ? name.substr(0, name.size() - 1) : name));
      params.push_back(PgParam::Int(static_cast<std::int64_t>(value)));
      params.push_back(PgParam::Text(add ? "t" : "f"));
    }
    KASSA_TRY(db.InsertRows("UPDATE counters SET value = CASE WHEN v.add THEN counters.value + v.value ELSE v.value END "
                            "FROM (",
                            ") AS v (name, value, add) WHERE counters.name = v.name", 3, params,
                            {"text", "bigint", "boolean"}));
  }
  *this = PgWriteBehind();
  return Status::Ok();
}

}  // namespace kassa::storage
