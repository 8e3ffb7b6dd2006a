#include "customer_tables.h"

#include <algorithm>

#include "kassa/base/log.h"
#include "kassa/proto_codec/codec.h"

namespace kassa::storage {

Status CustomerTables::Open(WriteTxn& txn, RecordProtection& protection) {
  protection_ = &protection;
  KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "customers", MDB_CREATE, &customers_), "dbi customers"));
  return FromMdb(mdb_dbi_open(txn.get(), "index", MDB_CREATE, &index_), "dbi index");
}

Result<Bytes> CustomerTables::Seal(const model::Customer& c) const {
  KASSA_TRY_ASSIGN(Bytes plain, proto_codec::EncodeCustomer(c));
  return protection_->Seal(plain);
}

Result<model::Customer> CustomerTables::Unseal(ByteView sealed) const {
  KASSA_TRY_ASSIGN(Bytes plain, protection_->Open(sealed));
  return proto_codec::DecodeCustomer(plain);
}

std::string CustomerTables::TermPrefix(IndexKind kind, std::string_view term) const {
  std::string key(1, static_cast<char>(kind));
  key += protection_->IndexTerm(term);
  return key;
}

std::string CustomerTables::EntryKey(const IndexEntry& e, const model::LocalId& id) const {
  std::string key = TermPrefix(e.kind, e.term);
  key += '\0';
  key.append(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
  return key;
}

Result<std::optional<model::Customer>> CustomerTables::Find(const ReadTxn& txn, const model::LocalId& id) const {
  auto record = txn.Get(customers_, IdKey(id));
  if (!record.ok()) {
    if (record.status().code() == StatusCode::kNotFound) return std::optional<model::Customer>();
    return record.status();
  }
  KASSA_TRY_ASSIGN(model::Customer c, Unseal(*record));
  return std::optional<model::Customer>(std::move(c));
}

Status CustomerTables::Put(WriteTxn& txn, const model::Customer& c, ByteView sealed, const model::Customer* old,
                           bool check_unique) const {
  const std::vector<IndexEntry> entries = IndexEntriesOf(c);
  if (old == nullptr) {
    const Status put = txn.Put(customers_, IdKey(c.id), sealed, MDB_NOOVERWRITE);
    if (put.code() == StatusCode::kAlreadyExists) {
      return Status(StatusCode::kAlreadyExists, "id: a customer with this id exists");
    }
    KASSA_TRY(put);
  } else {
    for (const auto& e : IndexEntriesOf(*old)) {
      const Status del = txn.Del(index_, AsBytes(EntryKey(e, old->id)));
      if (!del.ok() && del.code() != StatusCode::kNotFound) return del;
    }
    KASSA_TRY(txn.Put(customers_, IdKey(c.id), sealed));
  }
  for (const auto& e : entries) {
    if (check_unique && (e.kind == IndexKind::kAccount || e.kind == IndexKind::kLoyaltyCard)) {
      bool taken = false;
      KASSA_TRY(Scan(txn, e.kind, e.term, [&](const IndexEntryView& hit) {
        taken = taken || (hit.term == protection_->IndexTerm(e.term) && hit.id != c.id);
        return !taken;
      }));
      if (taken) {
        return e.kind == IndexKind::kAccount
                   ? Status(StatusCode::kAlreadyExists, "account: already belongs to another customer")
                   : Status(StatusCode::kAlreadyExists, "loyalty_cards: card already belongs to another customer");
      }
    }
    const std::string value = EntryValue(e);
    KASSA_TRY(txn.Put(index_, AsBytes(EntryKey(e, c.id)), AsBytes(value)));
  }
  return Status::Ok();
}

std::string CustomerTables::EntryValue(const IndexEntry& e) const {
  std::string value(1, static_cast<char>(e.field));
  if (e.kind != IndexKind::kName) return value + e.detail;
  // Each name token as the index stores terms, so that they compare alike.
  std::string_view rest = e.detail;
  while (!rest.empty()) {
    const std::size_t space = rest.find(' ');
    if (value.size() > 1) value += ' ';
    value += protection_->IndexTerm(rest.substr(0, space));
    rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  }
  return value;
}

Result<std::uint64_t> CustomerTables::RebuildIndex(WriteTxn& txn) const {
  KASSA_TRY(FromMdb(mdb_drop(txn.get(), index_, 0), "drop index"));
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(customers_));
  KASSA_TRY_ASSIGN(bool found, cursor.First());
  std::uint64_t customers = 0;
  std::uint64_t pending = 0;
  while (found) {
    KASSA_TRY_ASSIGN(const model::Customer c, Unseal(cursor.value()));
    if (c.pending()) ++pending;
    for (const auto& e : IndexEntriesOf(c)) {
      const std::string value = EntryValue(e);
      KASSA_TRY(txn.Put(index_, AsBytes(EntryKey(e, c.id)), AsBytes(value)));
    }
    ++customers;
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  KASSA_LOG(kInfo) << "index rebuilt for " << customers << " customers";
  return pending;
}

Status CustomerTables::Scan(const ReadTxn& txn, IndexKind kind, std::string_view prefix,
                            const IndexSnapshot::Visitor& visit) const {
  const std::string scan = TermPrefix(kind, prefix);
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(index_));
  KASSA_TRY_ASSIGN(bool found, cursor.SeekAtLeast(AsBytes(scan)));
  while (found) {
    const std::string_view key = AsChars(cursor.key());
    if (key.substr(0, scan.size()) != scan) break;
    const std::string_view value = AsChars(cursor.value());
    if (key.size() < 1 + 1 + model::kLocalIdBytes || value.empty() ||
        key[key.size() - 1 - model::kLocalIdBytes] != '\0') {
      return Status(StatusCode::kDataLoss, "storage corrupted: malformed index entry");
    }
    model::LocalId id;
    std::copy_n(key.end() - model::kLocalIdBytes, model::kLocalIdBytes, id.bytes.begin());
    const IndexEntryView hit{id, key.substr(1, key.size() - 2 - model::kLocalIdBytes),
                             static_cast<MatchedField>(value[0]), value.substr(1)};
    if (!visit(hit)) break;
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  return Status::Ok();
}

namespace {

class TablesSnapshot final : public IndexSnapshot {
 public:
  TablesSnapshot(const CustomerTables& tables, const ReadTxn& txn) : tables_(tables), txn_(txn) {}
  Status VisitPrefix(IndexKind kind, std::string_view prefix, const Visitor& visit) const override {
    return tables_.Scan(txn_, kind, prefix, visit);
  }
  Result<std::vector<model::Customer>> GetMany(const std::vector<model::LocalId>& ids) const override {
    return tables_.GetMany(txn_, ids);
  }

 private:
  const CustomerTables& tables_;
  const ReadTxn& txn_;
};

}  // namespace

Status CustomerTables::Read(const ReadTxn& txn, const CustomerIndex::Reader& read) const {
  const TablesSnapshot snapshot(*this, txn);
  return read(snapshot);
}

Result<std::vector<model::Customer>> CustomerTables::GetMany(const ReadTxn& txn,
                                                             const std::vector<model::LocalId>& ids) const {
  std::vector<model::Customer> out;
  out.reserve(ids.size());
  for (const auto& id : ids) {
    KASSA_TRY_ASSIGN(const ByteView record, txn.Get(customers_, IdKey(id)));
    KASSA_TRY_ASSIGN(model::Customer c, Unseal(record));
    out.push_back(std::move(c));
  }
  return out;
}

Status CustomerTables::Check(const ReadTxn& txn, std::uint64_t& customers, std::uint64_t& index_entries,
                             const std::function<void(std::string)>& problem,
                             const std::function<void(const model::Customer&)>& each) const {
  std::uint64_t expected_entries = 0;
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(customers_));
  KASSA_TRY_ASSIGN(bool found, cursor.First());
  for (; found; ++customers) {
    model::LocalId id;
    if (cursor.key().size() == model::kLocalIdBytes) {
      std::copy_n(cursor.key().begin(), model::kLocalIdBytes, id.bytes.begin());
    }
    const std::string hex_key = id.ToHex();
    auto customer = Unseal(cursor.value());
    if (!customer.ok()) {
      problem("customer " + hex_key + ": record does not decode (" + customer.status().detail() + ")");
    } else if (customer->id != id) {
      problem("customer " + hex_key + ": record holds another id " + customer->id.ToHex());
    } else {
      each(*customer);
      for (const auto& e : IndexEntriesOf(*customer)) {
        ++expected_entries;
        auto v = txn.Get(index_, AsBytes(EntryKey(e, id)));
        if (!v.ok()) {
          problem("customer " + hex_key + ": index entry missing for " + ToString(e.field) + " '" + e.term + "'");
        } else if (AsChars(*v) != EntryValue(e)) {
          problem("customer " + hex_key + ": index entry for '" + e.term + "' is stale (wrong field or detail)");
        }
      }
    }
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  KASSA_TRY_ASSIGN(index_entries, txn.Count(index_));
  if (index_entries != expected_entries) {
    problem("index holds " + std::to_string(index_entries) + " entries but the customers derive " +
            std::to_string(expected_entries) + " (stale entries left behind)");
  }
  return Status::Ok();
}

}  // namespace kassa::storage
