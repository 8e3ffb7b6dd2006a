#include "clienteling_tables.h"

#include <functional>

#include "kassa/base/log.h"
#include "kassa/crypto/aead.h"
#include "kassa/crypto/pin_hash.h"
#include "kassa/proto_codec/codec.h"

namespace kassa::storage {
namespace {

std::string Prefix(char tag, std::string_view scope) {
  std::string key(1, tag);
  key.append(scope);
  key.push_back('\0');
  return key;
}

void AppendId(std::string& key, const model::LocalId& id) {
  key.append(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
}

std::string EntryKey(std::string_view scope, std::string_view owner, const model::LocalId& customer) {
  std::string key = Prefix('E', scope);
  key.append(owner);
  key.push_back('\0');
  AppendId(key, customer);
  return key;
}

std::string TimelineKey(std::string_view scope, const model::TimelineEntry& e) {
  std::string key = Prefix('T', scope);
  AppendId(key, e.customer_id);
  const Key8 at = Be64(~static_cast<std::uint64_t>(e.at_ms));  // newest first
  key.append(reinterpret_cast<const char*>(at.data()), at.size());
  AppendId(key, e.id);
  return key;
}

// The ledger in headquarters' order: customer id, then seq (big-endian).
std::string ConsentKey(std::string_view scope, const model::ConsentEntry& e) {
  std::string key = Prefix('G', scope);
  AppendId(key, e.customer_id);
  const Key8 seq = Be64(e.seq);
  key.append(reinterpret_cast<const char*>(seq.data()), seq.size());
  return key;
}

}  // namespace

const model::LocalId* ClientelingTables::CustomerOf(const model::ClientelingRecord& r) {
  if (r.timeline_entry) return &r.timeline_entry->customer_id;
  if (r.consent) return &r.consent->customer_id;
  if (r.measures) return &r.measures->customer_id;
  if (r.book_entry && !r.book_entry->customer_id.is_zero()) return &r.book_entry->customer_id;
  return nullptr;
}

Status ClientelingTables::Open(WriteTxn& txn, Sealing& sealing) {
  sealing_ = &sealing;
  return FromMdb(mdb_dbi_open(txn.get(), "clienteling", MDB_CREATE, &dbi_), "dbi clienteling");
}

Status ClientelingTables::Put(WriteTxn& txn, const std::string& key, const model::ClientelingRecord& r) const {
  KASSA_TRY_ASSIGN(Bytes plain, proto_codec::EncodeClientelingRecord(r));
  auto sealed = sealing_->SealTagged(txn, SealedTable::kClienteling, CustomerOf(r), plain);
  crypto::Wipe(plain.data(), plain.size());
  KASSA_TRY(sealed.status());
  return txn.Put(dbi_, AsBytes(key), *sealed);
}

Result<model::ClientelingRecord> ClientelingTables::Decode(const ReadTxn& txn, ByteView value) const {
  KASSA_TRY_ASSIGN(Bytes plain, sealing_->UnsealTagged(txn, SealedTable::kClienteling, value));
  auto record = proto_codec::DecodeClientelingRecord(plain);
  crypto::Wipe(plain.data(), plain.size());
  return record;
}

Status ClientelingTables::Reseal(WriteTxn& txn, const Sealing& from) {
  std::vector<std::pair<std::string, model::ClientelingRecord>> records;
  {
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(dbi_));
    KASSA_TRY_ASSIGN(bool found, cursor.First());
    while (found) {
      KASSA_TRY_ASSIGN(Bytes plain, from.UnsealTagged(txn, SealedTable::kClienteling, cursor.value()));
      KASSA_TRY_ASSIGN(auto record, proto_codec::DecodeClientelingRecord(plain));
      records.emplace_back(std::string(AsChars(cursor.key())), std::move(record));
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
  }
  for (const auto& [key, record] : records) KASSA_TRY(Put(txn, key, record));
  return Status::Ok();
}

Result<std::optional<model::ClientelingRecord>> ClientelingTables::Get(const ReadTxn& txn, const std::string& key) const {
  auto v = txn.Get(dbi_, AsBytes(key));
  if (!v.ok()) {
    if (v.status().code() == StatusCode::kNotFound) return std::optional<model::ClientelingRecord>();
    return v.status();
  }
  KASSA_TRY_ASSIGN(auto record, Decode(txn, *v));
  return std::optional<model::ClientelingRecord>(std::move(record));
}

Status ClientelingTables::Scan(const ReadTxn& txn, const std::string& prefix,
                               const std::function<Status(const model::ClientelingRecord&)>& each) const {
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(dbi_));
  KASSA_TRY_ASSIGN(bool found, cursor.SeekAtLeast(AsBytes(prefix)));
  while (found && AsChars(cursor.key()).substr(0, prefix.size()) == prefix) {
    KASSA_TRY_ASSIGN(const auto record, Decode(txn, cursor.value()));
    KASSA_TRY(each(record));
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  return Status::Ok();
}

Status ClientelingTables::ForEach(
    const ReadTxn& txn, std::uint64_t& unreadable,
    const std::function<Status(char tag, std::string_view scope, const model::ClientelingRecord&)>& each) const {
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(dbi_));
  KASSA_TRY_ASSIGN(bool found, cursor.First());
  while (found) {
    const std::string_view key = AsChars(cursor.key());
    const std::size_t end = key.find('\0', 1);
    if (key.size() < 2 || end == std::string_view::npos) {
      return Status(StatusCode::kDataLoss, "storage corrupted: malformed clienteling key");
    }
    auto record = Decode(txn, cursor.value());
    if (!record.ok() && record.status().code() == StatusCode::kNotFound) {
      ++unreadable;
    } else {
      KASSA_TRY(record.status());
      KASSA_TRY(each(key[0], key.substr(1, end - 1), *record));
    }
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  return Status::Ok();
}

Result<std::size_t> ClientelingTables::EraseCustomer(WriteTxn& txn, std::string_view scope,
                                                     const model::LocalId& customer) const {
  std::vector<std::string> doomed;
  const std::string id(reinterpret_cast<const char*>(customer.bytes.data()), customer.bytes.size());
  const auto collect = [&](const std::string& prefix, const std::function<bool(std::string_view)>& whose) -> Status {
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(dbi_));
    KASSA_TRY_ASSIGN(bool found, cursor.SeekAtLeast(AsBytes(prefix)));
    while (found && AsChars(cursor.key()).substr(0, prefix.size()) == prefix) {
      const std::string_view key = AsChars(cursor.key());
      if (whose(key)) doomed.emplace_back(key);
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
    return Status::Ok();
  };
  // Book entries end in the customer's id, whichever the owner.
  KASSA_TRY(collect(Prefix('E', scope), [&](std::string_view key) { return key.ends_with(id); }));
  KASSA_TRY(collect(Prefix('T', scope) + id, [](std::string_view) { return true; }));
  KASSA_TRY(collect(Prefix('M', scope) + id, [](std::string_view) { return true; }));
  KASSA_TRY(collect(Prefix('G', scope) + id, [](std::string_view) { return true; }));
  for (const std::string& key : doomed) KASSA_TRY(txn.Del(dbi_, AsBytes(key)));
  return doomed.size();
}

Status ClientelingTables::Apply(WriteTxn& txn, std::string_view scope, const model::ClientelingRecord& r) const {
  if (r.config) return Put(txn, Prefix('C', scope), r);
  if (r.op) {
    if (!AcceptsOperator(*r.op)) return Status::Ok();
    return Put(txn, Prefix('O', scope) + r.op->worker_id, r);
  }
  if (r.measures) {
    std::string key = Prefix('M', scope);
    AppendId(key, r.measures->customer_id);
    return Put(txn, key, r);
  }
  if (r.timeline_entry) return Put(txn, TimelineKey(scope, *r.timeline_entry), r);
  if (r.consent) {
    if (r.consent->seq == 0) return Status(StatusCode::kInvalidArgument, "consent: not ordered by headquarters");
    return Put(txn, ConsentKey(scope, *r.consent), r);
  }
  if (!r.book_entry) return Status(StatusCode::kInvalidArgument, "clienteling: an empty record");
  const model::BookEntry& e = *r.book_entry;
  if (!e.from_owner.empty() && e.from_owner != e.owner) {
    const Status del = txn.Del(dbi_, AsBytes(EntryKey(scope, e.from_owner, e.customer_id)));
    if (!del.ok() && del.code() != StatusCode::kNotFound) return del;
  }
  const std::string key = EntryKey(scope, e.owner, e.customer_id);
  if (e.present) {
    KASSA_TRY(Put(txn, key, r));
  } else {
    const Status del = txn.Del(dbi_, AsBytes(key));
    if (!del.ok() && del.code() != StatusCode::kNotFound) return del;
  }
  KASSA_TRY_ASSIGN(const auto header, Book(txn, scope, e.owner));
  const auto next = BookHeaderAfter(header, e);
  return next ? Put(txn, Prefix('H', scope) + e.owner, *next) : Status::Ok();
}

bool ClientelingTables::AcceptsOperator(const model::Operator& op) {
  // A PIN hash outside the accepted cost (crypto::CheckPinHashFormat: a
  // 30,000,000-round hash would stall every sign-in) is refused: the
  // operator's record stays as it was.
  if (op.pin_hash.empty()) return true;
  const Status s = crypto::CheckPinHashFormat(op.pin_hash);
  if (s.ok()) return true;
  KASSA_LOG(kError) << "clienteling: refused operator " << op.worker_id << "'s PIN hash (" << s.detail()
                    << "); the record stored before is kept";
  return false;
}

std::optional<model::ClientelingRecord> ClientelingTables::BookHeaderAfter(const std::optional<model::BookEntry>& header,
                                                                          const model::BookEntry& e) {
  if (header && (!header->book_number.empty() || e.book_number.empty())) return std::nullopt;
  model::BookEntry h;
  h.owner = e.owner;
  h.book_id = header && e.book_id.is_zero() ? header->book_id : e.book_id;
  h.book_number = e.book_number;
  h.changed_at_ms = e.changed_at_ms;
  model::ClientelingRecord hr;
  hr.book_entry = std::move(h);
  return hr;
}

Result<std::optional<model::ClientelingConfig>> ClientelingTables::Config(const ReadTxn& txn, std::string_view scope) const {
  KASSA_TRY_ASSIGN(auto r, Get(txn, Prefix('C', scope)));
  if (!r || !r->config) return std::optional<model::ClientelingConfig>();
  return std::optional<model::ClientelingConfig>(std::move(*r->config));
}

Result<std::vector<model::Operator>> ClientelingTables::Operators(const ReadTxn& txn, std::string_view scope) const {
  std::vector<model::Operator> out;
  KASSA_TRY(Scan(txn, Prefix('O', scope), [&](const model::ClientelingRecord& r) {
    if (r.op) out.push_back(*r.op);
    return Status::Ok();
  }));
  return out;
}

Result<std::optional<model::Operator>> ClientelingTables::FindOperator(const ReadTxn& txn, std::string_view scope,
                                                                     std::string_view worker_id) const {
  KASSA_TRY_ASSIGN(auto r, Get(txn, Prefix('O', scope) + std::string(worker_id)));
  if (!r || !r->op) return std::optional<model::Operator>();
  return std::optional<model::Operator>(std::move(*r->op));
}

Result<std::optional<model::BookEntry>> ClientelingTables::Book(const ReadTxn& txn, std::string_view scope,
                                                               std::string_view owner) const {
  std::string key = Prefix('H', scope);
  key.append(owner);
  KASSA_TRY_ASSIGN(auto r, Get(txn, key));
  if (!r || !r->book_entry) return std::optional<model::BookEntry>();
  return std::optional<model::BookEntry>(std::move(*r->book_entry));
}

Result<std::vector<model::BookEntry>> ClientelingTables::Entries(const ReadTxn& txn, std::string_view scope,
                                                                std::string_view owner) const {
  std::vector<model::BookEntry> out;
  std::string prefix = Prefix('E', scope);
  if (!owner.empty()) {
    prefix.append(owner);
    prefix.push_back('\0');
  }
  KASSA_TRY(Scan(txn, prefix, [&](const model::ClientelingRecord& r) {
    if (r.book_entry) out.push_back(*r.book_entry);
    return Status::Ok();
  }));
  return out;
}

Result<bool> ClientelingTables::InBook(const ReadTxn& txn, std::string_view scope, std::string_view owner,
                                       const model::LocalId& customer) const {
  auto v = txn.Get(dbi_, AsBytes(EntryKey(scope, owner, customer)));
  if (v.ok()) return true;
  if (v.status().code() == StatusCode::kNotFound) return false;
  return v.status();
}

Result<std::vector<model::TimelineEntry>> ClientelingTables::Timeline(const ReadTxn& txn, std::string_view scope,
                                                                     const model::LocalId& customer,
                                                                     std::size_t max) const {
  std::vector<model::TimelineEntry> out;
  std::string prefix = Prefix('T', scope);
  AppendId(prefix, customer);
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(dbi_));
  KASSA_TRY_ASSIGN(bool found, cursor.SeekAtLeast(AsBytes(prefix)));
  while (found && out.size() < max && AsChars(cursor.key()).substr(0, prefix.size()) == prefix) {
    KASSA_TRY_ASSIGN(auto record, Decode(txn, cursor.value()));
    if (record.timeline_entry) out.push_back(std::move(*record.timeline_entry));
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  return out;
}

Result<std::vector<model::ConsentEntry>> ClientelingTables::Consents(const ReadTxn& txn, std::string_view scope,
                                                                    const model::LocalId& customer) const {
  std::vector<model::ConsentEntry> out;
  std::string prefix = Prefix('G', scope);
  AppendId(prefix, customer);
  KASSA_TRY(Scan(txn, prefix, [&](const model::ClientelingRecord& record) {
    if (record.consent) out.push_back(*record.consent);
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<model::AttributeValue>> ClientelingTables::Measures(const ReadTxn& txn, std::string_view scope,
                                                                      const model::LocalId& customer) const {
  std::string key = Prefix('M', scope);
  AppendId(key, customer);
  KASSA_TRY_ASSIGN(auto r, Get(txn, key));
  if (!r || !r->measures) return std::vector<model::AttributeValue>();
  return std::move(r->measures->measures);
}

}  // namespace kassa::storage
