#include "customer_tables.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>

#include "kassa/base/log.h"
#include "kassa/proto_codec/codec.h"
#include "lmdb_pages.h"

namespace kassa::storage {
namespace {

constexpr const char* kIndexName = "index";  // the search index's database

// The id a customers key holds.
Result<model::LocalId> IdOf(ByteView key) {
  if (key.size() != model::kLocalIdBytes) return Status(StatusCode::kDataLoss, "storage corrupted: malformed customer key");
  model::LocalId id;
  std::copy_n(key.begin(), model::kLocalIdBytes, id.bytes.begin());
  return id;
}

}  // namespace

Status CustomerTables::Open(WriteTxn& txn, Sealing& sealing, std::optional<MDB_dbi> recent_host) {
  sealing_ = &sealing;
  recent_kept_ = recent_host.has_value();
  KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "customers", MDB_CREATE, &customers_), "dbi customers"));
  KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), kIndexName, MDB_CREATE, &index_), "dbi index"));
  KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "index_heads", MDB_CREATE, &heads_), "dbi index_heads"));
  if (auto version = txn.Get(heads_, AsBytes(HeadsCache::kVersionKey)); !version.ok()) {
    if (version.status().code() != StatusCode::kNotFound) return version.status();
    KASSA_TRY(txn.Put(heads_, AsBytes(HeadsCache::kVersionKey), Be64(1)));
  }
  sealing.AttachRecords(customers_);
  warmer_->Attach(mdb_txn_env(txn.get()), customers_,
                 [&sealing](const model::LocalId&, ByteView record) { sealing.TouchKey(record); });
  return recent_host ? recent_.Open(txn, *recent_host) : Status::Ok();
}

Result<Bytes> CustomerTables::Seal(WriteTxn& txn, const model::Customer& c) const {
  KASSA_TRY_ASSIGN(Bytes plain, proto_codec::EncodeCustomer(c));
  auto sealed = sealing_->SealRecord(txn, c.id, plain);
  crypto::Wipe(plain.data(), plain.size());
  return sealed;
}

Result<model::Customer> CustomerTables::Unseal(const ReadTxn& txn, const model::LocalId& id, ByteView sealed) const {
  model::Customer c;
  KASSA_TRY(UnsealInto(txn, id, sealed, c));
  return c;
}

Status CustomerTables::UnsealInto(const ReadTxn& txn, const model::LocalId& id, ByteView sealed,
                                  model::Customer& out) const {
  // One buffer a thread for every record it reads, wiped after each.
  thread_local Bytes plain;
  KASSA_TRY(sealing_->UnsealRecordInto(txn, id, sealed, plain));
  const Status decoded = proto_codec::DecodeCustomerInto(plain, out);
  crypto::Wipe(plain.data(), plain.size());
  return decoded;
}

std::string CustomerTables::TermPrefix(search::IndexKind kind, std::string_view term) const {
  std::string key(1, static_cast<char>(kind));
  key += sealing_->IndexTerm(kind, term);
  return key;
}

std::string CustomerTables::EntryKey(const search::IndexEntry& e, const model::LocalId& id) const {
  std::string key = TermPrefix(e.kind, e.term);
  key += '\0';
  key.append(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
  return key;
}

std::string_view CustomerTables::Head(std::string_view kind_term) const {
  const std::size_t bytes = 1 + sealing_->StoredTermBytes(kHeadBytes);
  return kind_term.size() >= bytes ? kind_term.substr(0, bytes) : std::string_view();
}

namespace {

// An index entry's key without its separator and id: kind | stored term.
std::string_view KindTerm(std::string_view key) {
  return key.size() > 1 + model::kLocalIdBytes ? key.substr(0, key.size() - 1 - model::kLocalIdBytes) : std::string_view();
}

std::array<std::uint8_t, 4> Be32(std::uint32_t v) {
  return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
          static_cast<std::uint8_t>(v)};
}

}  // namespace

Result<bool> CustomerTables::MayHold(const ReadTxn& txn, const HeadSet* heads, search::IndexKind kind,
                                     std::string_view prefix) const {
  if (prefix.size() < kHeadBytes) return true;
  // Only the head's bytes hashed: most scans end here.
  const std::string head = TermPrefix(kind, prefix.substr(0, kHeadBytes));
  if (heads != nullptr) return heads->MayContain(head);
  const auto count = txn.Get(heads_, AsBytes(head));
  if (count.ok()) return true;
  if (count.status().code() == StatusCode::kNotFound) return false;
  return count.status();
}

bool CustomerTables::MayWait(const RecentEntries& recent, search::IndexKind kind, std::string_view prefix) const {
  if (recent.empty()) return false;
  if (prefix.size() < kHeadBytes) return true;
  return recent.MayStartWith(TermPrefix(kind, prefix.substr(0, kHeadBytes)));
}

Status CustomerTables::CountHead(WriteTxn& txn, std::string_view key, bool added) {
  const std::string_view head = Head(KindTerm(key));
  if (head.empty()) return Status::Ok();
  std::uint32_t count = 0;
  if (auto v = txn.Get(heads_, AsBytes(head)); v.ok()) {
    if (v->size() != 4) return Status(StatusCode::kDataLoss, "storage corrupted: malformed index head");
    count = static_cast<std::uint32_t>(FromBe64(*v));
  } else if (v.status().code() != StatusCode::kNotFound) {
    return v.status();
  }
  if (added) {
    if (count == UINT32_MAX) return Status(StatusCode::kResourceExhausted, "index: too many entries share a head");
    if (count == 0) KASSA_TRY(BumpHeadsVersion(txn));
    return txn.Put(heads_, AsBytes(head), Be32(count + 1));
  }
  if (count == 0) {
    // Never by kassa's own writes; Check() reports it. Nothing to take off:
    // a head that counts too many only costs a scan.
    KASSA_LOG_THROTTLED("index heads: an entry was deleted that no head counted");
    return Status::Ok();
  }
  if (count == 1) {
    KASSA_TRY(BumpHeadsVersion(txn));
    return txn.Del(heads_, AsBytes(head));
  }
  return txn.Put(heads_, AsBytes(head), Be32(count - 1));
}

Status CustomerTables::BumpHeadsVersion(WriteTxn& txn) {
  auto version = txn.Get(heads_, AsBytes(HeadsCache::kVersionKey));
  if (!version.ok()) return version.status().code() == StatusCode::kNotFound ? Status::Ok() : version.status();
  if (version->size() != 8) return Status(StatusCode::kDataLoss, "storage corrupted: malformed index heads version");
  return txn.Put(heads_, AsBytes(HeadsCache::kVersionKey), Be64(FromBe64(*version) + 1));
}

Status CustomerTables::DropHeads(WriteTxn& txn) {
  std::uint64_t version = 0;
  if (auto v = txn.Get(heads_, AsBytes(HeadsCache::kVersionKey)); v.ok()) {
    version = FromBe64(*v);
  } else if (v.status().code() != StatusCode::kNotFound) {
    return v.status();
  }
  KASSA_TRY(FromMdb(mdb_drop(txn.get(), heads_, 0), "drop index_heads"));
  return txn.Put(heads_, AsBytes(HeadsCache::kVersionKey), Be64(version + 1));
}

Status CustomerTables::PutEntry(WriteTxn& txn, std::string_view key, std::string_view value) {
  const Status put = txn.Put(index_, AsBytes(key), AsBytes(value), MDB_NOOVERWRITE);
  if (put.code() == StatusCode::kAlreadyExists) return txn.Put(index_, AsBytes(key), AsBytes(value));  // counted
  KASSA_TRY(put);
  return CountHead(txn, key, true);
}

Status CustomerTables::DelEntry(WriteTxn& txn, std::string_view key) {
  KASSA_TRY(txn.Del(index_, AsBytes(key)));
  return CountHead(txn, key, false);
}

Status CustomerTables::ForEachIndexHead(const ReadTxn& txn,
                                        const std::function<Status(std::string_view, std::uint32_t)>& each) const {
  // The index is in key order, so each head's entries are one run of it.
  std::string head;
  std::uint32_t count = 0;
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(index_));
  KASSA_TRY_ASSIGN(bool found, cursor.First());
  while (found) {
    const std::string_view next = Head(KindTerm(AsChars(cursor.key())));
    if (!next.empty()) {
      if (next != head) {
        if (count > 0) KASSA_TRY(each(head, count));
        head = next;
        count = 0;
      }
      ++count;
    }
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  return count > 0 ? each(head, count) : Status::Ok();
}

Status CustomerTables::RebuildHeads(WriteTxn& txn) {
  KASSA_TRY(DropHeads(txn));
  std::vector<std::pair<std::string, std::uint32_t>> heads;  // written after the cursor is done
  KASSA_TRY(ForEachIndexHead(txn, [&](std::string_view head, std::uint32_t count) {
    heads.emplace_back(head, count);
    return Status::Ok();
  }));
  for (const auto& [head, count] : heads) KASSA_TRY(txn.Put(heads_, AsBytes(head), Be32(count), MDB_APPEND));
  KASSA_LOG(kInfo) << "index heads counted: " << heads.size();
  return Status::Ok();
}

Result<std::optional<model::Customer>> CustomerTables::Find(const ReadTxn& txn, const model::LocalId& id) const {
  auto record = txn.Get(customers_, IdKey(id));
  if (!record.ok()) {
    if (record.status().code() == StatusCode::kNotFound) return std::optional<model::Customer>();
    return record.status();
  }
  auto c = Unseal(txn, id, *record);
  // A record whose key was shredded (left behind by a backup restored after
  // its erasure) is gone for every reader.
  if (!c.ok() && c.status().code() == StatusCode::kNotFound) return std::optional<model::Customer>();
  KASSA_TRY(c.status());
  return std::optional<model::Customer>(std::move(*c));
}

Status CustomerTables::Put(WriteTxn& txn, const model::Customer& c, ByteView sealed, const model::Customer* old,
                           bool check_unique, NewEntries placement) {
  RecordWarmer::PrimeThread();
  const std::vector<search::IndexEntry> entries = search::IndexEntriesOf(c);
  // Before any write: a refusal leaves the transaction as it was (the
  // customer's own entries, which the check passes over, are still there).
  if (check_unique) KASSA_TRY(CheckUnique(txn, c, entries));
  if (old == nullptr) {
    const Status put = txn.Put(customers_, IdKey(c.id), sealed, MDB_NOOVERWRITE);
    if (put.code() == StatusCode::kAlreadyExists) {
      return Status(StatusCode::kAlreadyExists, "id: a customer with this id exists");
    }
    KASSA_TRY(put);
  } else {
    bool was_recent = false;
    if (recent_kept_) {
      KASSA_TRY_ASSIGN(was_recent, recent_.Remove(txn, old->id));
    }
    if (!was_recent) {
      for (const auto& e : search::IndexEntriesOf(*old)) {
        const Status del = DelEntry(txn, EntryKey(e, old->id));
        if (!del.ok() && del.code() != StatusCode::kNotFound) return del;
      }
    }
    KASSA_TRY(txn.Put(customers_, IdKey(c.id), sealed));
  }
  if (old == nullptr && placement == NewEntries::kRecent && recent_kept_) {
    KASSA_TRY_ASSIGN(const std::size_t waiting, recent_.Customers(txn));
    if (waiting >= RecentIndex::kFoldAt) {
      KASSA_TRY(recent_.FoldInto(
          txn, index_,
          [this](WriteTxn& t, std::string_view key, std::string_view value) { return PutEntry(t, key, value); },
          warmer_.get()));
    }
    std::vector<std::pair<std::string, std::string>> pairs;
    pairs.reserve(entries.size());
    StoredNames names;
    for (const auto& e : entries) pairs.emplace_back(EntryKey(e, c.id), EntryValue(e, names));
    return recent_.Add(txn, c.id, pairs);
  }
  StoredNames names;
  for (const auto& e : entries) KASSA_TRY(PutEntry(txn, EntryKey(e, c.id), EntryValue(e, names)));
  return Status::Ok();
}

Result<std::optional<model::Customer>> CustomerTables::Erase(WriteTxn& txn, const model::LocalId& id) {
  KASSA_TRY_ASSIGN(auto old, Find(txn, id));
  if (old) {
    bool was_recent = false;
    if (recent_kept_) {
      KASSA_TRY_ASSIGN(was_recent, recent_.Remove(txn, id));
    }
    if (!was_recent) {
      for (const auto& e : search::IndexEntriesOf(*old)) {
        const Status del = DelEntry(txn, EntryKey(e, id));
        if (!del.ok() && del.code() != StatusCode::kNotFound) return del;
      }
    }
  }
  // The key first: were the record deleted and the shred then to fail, the
  // key would be left behind in the slot with nothing to find it by.
  KASSA_TRY(sealing_->Shred(txn, id));
  const Status del = txn.Del(customers_, IdKey(id));
  if (!del.ok() && del.code() != StatusCode::kNotFound) return del;
  return old;
}

Status CustomerTables::CheckUnique(const ReadTxn& txn, const model::Customer& c,
                                   const std::vector<search::IndexEntry>& entries) const {
  const auto unique = [](const search::IndexEntry& e) {
    return e.kind == search::IndexKind::kAccount || e.kind == search::IndexKind::kLoyaltyCard;
  };
  if (std::none_of(entries.begin(), entries.end(), unique)) return Status::Ok();
  KASSA_TRY_ASSIGN(const std::shared_ptr<const RecentEntries> recent, Waiting(txn));
  for (const auto& e : entries) {
    if (!unique(e)) continue;
    std::vector<model::LocalId> others;
    KASSA_TRY(Scan(txn, e.kind, e.term, *recent, [&](const search::IndexEntryView& hit) {
      if (!hit.exact) return false;  // exact terms come first
      if (hit.id != c.id) others.push_back(hit.id);
      return true;
    }));
    bool taken = false;
    for (const auto& other : others) {
      if (taken) break;
      KASSA_TRY_ASSIGN(taken, Holds(txn, other, e));
    }
    if (taken) {
      return e.kind == search::IndexKind::kAccount
                 ? Status(StatusCode::kAlreadyExists, "account: already belongs to another customer")
                 : Status(StatusCode::kAlreadyExists, "loyalty_cards: card already belongs to another customer");
    }
  }
  return Status::Ok();
}

Result<bool> CustomerTables::Holds(const ReadTxn& txn, const model::LocalId& other, const search::IndexEntry& e) const {
  if (sealing_->exact_terms()) return true;
  KASSA_TRY_ASSIGN(const auto customer, Find(txn, other));
  if (!customer) return false;
  for (const auto& theirs : search::IndexEntriesOf(*customer)) {
    if (theirs.kind == e.kind && theirs.term == e.term) return true;
  }
  return false;
}

std::string CustomerTables::EntryValue(const search::IndexEntry& e, StoredNames& names) const {
  std::string value(1, static_cast<char>(e.field));
  if (e.kind != search::IndexKind::kName) return value + e.detail;
  // Each name token as the index stores terms, so that they compare alike;
  // worked out once for the customer's name entries, which share them.
  if (!names.done || names.detail != e.detail) {
    names.detail = e.detail;
    names.stored.clear();
    std::string_view rest = e.detail;
    while (!rest.empty()) {
      const std::size_t space = rest.find(' ');
      if (!names.stored.empty()) names.stored += ' ';
      names.stored += sealing_->IndexTerm(search::IndexKind::kName, rest.substr(0, space));
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    }
    names.done = true;
  }
  return value + names.stored;
}

Result<std::uint64_t> CustomerTables::Reseal(WriteTxn& txn, const Sealing& from) {
  std::vector<std::pair<model::LocalId, Bytes>> resealed;
  {
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(customers_));
    KASSA_TRY_ASSIGN(bool found, cursor.First());
    while (found) {
      KASSA_TRY_ASSIGN(const model::LocalId id, IdOf(cursor.key()));
      KASSA_TRY_ASSIGN(Bytes plain, from.UnsealRecord(txn, id, cursor.value()));
      resealed.emplace_back(id, std::move(plain));
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
  }
  for (auto& [id, plain] : resealed) {
    // The record as `from` wrote it goes first: a new one takes a new key.
    KASSA_TRY(txn.Del(customers_, IdKey(id)));
    KASSA_TRY_ASSIGN(const Bytes sealed, sealing_->SealRecord(txn, id, plain));
    crypto::Wipe(plain.data(), plain.size());
    KASSA_TRY(txn.Put(customers_, IdKey(id), sealed));
  }
  return RebuildIndex(txn);
}

Result<std::uint64_t> CustomerTables::RebuildIndex(WriteTxn& txn) {
  KASSA_TRY(FromMdb(mdb_drop(txn.get(), index_, 0), "drop index"));
  KASSA_TRY(DropHeads(txn));
  if (recent_kept_) KASSA_TRY(recent_.Clear(txn));
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(customers_));
  KASSA_TRY_ASSIGN(bool found, cursor.First());
  std::uint64_t customers = 0;
  std::uint64_t pending = 0;
  while (found) {
    KASSA_TRY_ASSIGN(const model::LocalId id, IdOf(cursor.key()));
    KASSA_TRY_ASSIGN(const model::Customer c, Unseal(txn, id, cursor.value()));
    if (c.pending()) ++pending;
    StoredNames names;
    for (const auto& e : search::IndexEntriesOf(c)) KASSA_TRY(PutEntry(txn, EntryKey(e, c.id), EntryValue(e, names)));
    ++customers;
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  KASSA_LOG(kInfo) << "index rebuilt for " << customers << " customers";
  return pending;
}

namespace {

// The parts of index entry (`key`, `value`). Returns false when malformed.
bool ParseEntry(std::string_view key, std::string_view value, model::LocalId& id, std::string_view& term,
                search::MatchedField& field, std::string_view& detail) {
  if (key.size() < 1 + 1 + model::kLocalIdBytes || value.empty() ||
      key[key.size() - 1 - model::kLocalIdBytes] != '\0') {
    return false;
  }
  std::copy_n(key.end() - model::kLocalIdBytes, model::kLocalIdBytes, id.bytes.begin());
  term = key.substr(1, key.size() - 2 - model::kLocalIdBytes);
  field = static_cast<search::MatchedField>(value[0]);
  detail = value.substr(1);
  return true;
}

}  // namespace

Result<std::size_t> CustomerTables::RecentCustomers(const ReadTxn& txn) const {
  if (!recent_kept_) return std::size_t{0};
  return recent_.Customers(txn);
}

Result<std::shared_ptr<const RecentEntries>> CustomerTables::Waiting(const ReadTxn& txn) const {
  if (!recent_kept_) {
    static const auto none = std::make_shared<const RecentEntries>();
    return none;
  }
  return recent_.Entries(txn);
}

Status CustomerTables::WarmScans(const ReadTxn& txn, const std::vector<std::pair<search::IndexKind, std::string>>& scans,
                                 const std::vector<model::LocalId>& records, const HeadSet* heads) const {
  std::vector<std::string> keys;
  keys.reserve(scans.size());
  for (const auto& [kind, prefix] : scans) {
    KASSA_TRY_ASSIGN(const bool may_hold, MayHold(txn, heads, kind, prefix));
    if (may_hold) keys.push_back(TermPrefix(kind, prefix));
  }
  warmer_->WarmSeeks(index_, std::move(keys), records);
  return Status::Ok();
}

Status CustomerTables::Scan(const ReadTxn& txn, search::IndexKind kind, std::string_view prefix,
                            const RecentEntries& recent, const search::IndexSnapshot::Visitor& visit,
                            SeekReport* report, const HeadSet* heads) const {
  KASSA_TRY_ASSIGN(const bool may_hold, MayHold(txn, heads, kind, prefix));
  if (!may_hold && !MayWait(recent, kind, prefix)) return Status::Ok();
  const std::string scan = TermPrefix(kind, prefix);
  std::vector<RecentEntry> waiting;  // in key order
  recent.StartingWith(scan, waiting);
  auto next_waiting = waiting.begin();
  // Visits one entry; false when the visitor has seen enough.
  auto emit = [&](std::string_view key, std::string_view value) -> Result<bool> {
    model::LocalId id;
    std::string_view term, detail;
    search::MatchedField field{};
    if (!ParseEntry(key, value, id, term, field, detail)) {
      return Status(StatusCode::kDataLoss, "storage corrupted: malformed index entry");
    }
    const bool exact = term.size() + 1 == scan.size();
    if (report != nullptr && report->slow && exact && report->exact_hits.size() < kMaxReportedHits) {
      report->exact_hits.push_back(id);
    }
    return visit(search::IndexEntryView{id, term, field, detail, exact});
  };
  std::optional<Cursor> cursor;
  std::optional<lmdb_pages::LeavesAhead> ahead;  // on a cold index only
  bool found = false;
  if (may_hold) {
    auto opened = txn.OpenCursor(index_);
    KASSA_TRY(opened.status());
    cursor.emplace(std::move(*opened));
    const auto seek_start = std::chrono::steady_clock::now();
    KASSA_TRY_ASSIGN(found, cursor->SeekAtLeast(AsBytes(scan)));
    const bool slow = RecordWarmer::FromDisk(std::chrono::steady_clock::now() - seek_start);
    if (report != nullptr) report->slow = slow;
    // A write transaction's pages may be its own copies, outside the map.
    if ((slow || (report != nullptr && report->cold)) && !txn.writable()) {
      ahead.emplace(txn.get(), kIndexName, scan, kLeavesAhead);
    }
  }
  while (found) {
    const std::string_view key = AsChars(cursor->key());
    if (key.substr(0, scan.size()) != scan) break;
    if (ahead) ahead->At(cursor->key());
    for (; next_waiting != waiting.end() && next_waiting->key < key; ++next_waiting) {
      KASSA_TRY_ASSIGN(const bool more, emit(next_waiting->key, next_waiting->value));
      if (!more) return Status::Ok();
    }
    KASSA_TRY_ASSIGN(const bool more, emit(key, AsChars(cursor->value())));
    if (!more) return Status::Ok();
    KASSA_TRY_ASSIGN(found, cursor->Next());
  }
  for (; next_waiting != waiting.end(); ++next_waiting) {
    KASSA_TRY_ASSIGN(const bool more, emit(next_waiting->key, next_waiting->value));
    if (!more) return Status::Ok();
  }
  return Status::Ok();
}

namespace {

class TablesSnapshot final : public search::IndexSnapshot {
 public:
  TablesSnapshot(const CustomerTables& tables, const ReadTxn& txn, std::shared_ptr<const RecentEntries> recent,
                 std::shared_ptr<const HeadSet> heads)
      : tables_(tables), txn_(txn), recent_(std::move(recent)), heads_(std::move(heads)) {}
  Status VisitPrefix(search::IndexKind kind, std::string_view prefix, const Visitor& visit) const override {
    CustomerTables::SeekReport report;
    report.cold = cold_;
    const Status scanned = tables_.Scan(txn_, kind, prefix, *recent_, visit, &report, heads_.get());
    cold_ = cold_ || report.slow;
    if (report.slow && !expected_.empty()) {
      // The index is not in memory: the scans still to come, together, and
      // the records of this scan's exact hits (an identifier's customer)
      // with their key slots, which the search would otherwise read only
      // after every other scan.
      std::erase_if(expected_, [&](const auto& e) { return e.first == kind && e.second == prefix; });
      const Status warmed = tables_.WarmScans(txn_, expected_, report.exact_hits, heads_.get());
      expected_.clear();
      KASSA_TRY(warmed);
    }
    return scanned;
  }
  void Expect(search::IndexKind kind, std::string_view prefix) const override { expected_.emplace_back(kind, prefix); }
  Result<std::vector<model::Customer>> GetMany(const std::vector<model::LocalId>& ids) const override {
    return tables_.GetMany(txn_, ids, cold_);
  }
  std::string StoredTerm(search::IndexKind kind, std::string_view term) const override {
    return tables_.StoredTerm(kind, term);
  }
  bool exact_terms() const override { return tables_.exact_terms(); }

 private:
  const CustomerTables& tables_;
  const ReadTxn& txn_;
  const std::shared_ptr<const RecentEntries> recent_;  // read once for every scan of the snapshot
  const std::shared_ptr<const HeadSet> heads_;  // null: index_heads read
  // Scans the search said will come (Expect), until a slow one warms them.
  mutable std::vector<std::pair<search::IndexKind, std::string>> expected_;
  mutable bool cold_ = false;  // a scan read the disk: the index is not in memory
};

}  // namespace

Status CustomerTables::Read(const ReadTxn& txn, const search::CustomerIndex::Reader& read) const {
  RecordWarmer::PrimeThread();
  KASSA_TRY_ASSIGN(std::shared_ptr<const RecentEntries> recent, Waiting(txn));
  KASSA_TRY_ASSIGN(std::shared_ptr<const HeadSet> heads, Heads(txn));
  const TablesSnapshot snapshot(*this, txn, std::move(recent), std::move(heads));
  return read(snapshot);
}

Result<std::vector<model::Customer>> CustomerTables::GetMany(const ReadTxn& txn, const std::vector<model::LocalId>& ids,
                                                             bool cold) const {
  RecordWarmer::PrimeThread();
  // A get that read a page from the disk: the rest are warmed together. On a
  // cold snapshot every one of them at once, the first get not waited for.
  bool warming = ids.size() < 3;
  if (cold && !warming) {
    warmer_->Warm(ids.data(), ids.size());
    warming = true;
  }
  std::vector<ByteView> records;
  records.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto start = std::chrono::steady_clock::now();
    KASSA_TRY_ASSIGN(const ByteView record, txn.Get(customers_, IdKey(ids[i])));
    if (!warming && i + 2 < ids.size() && RecordWarmer::FromDisk(std::chrono::steady_clock::now() - start)) {
      warmer_->Warm(ids.data() + i + 1, ids.size() - i - 1);
      warming = true;
    }
    // Every key of a batch on its way before the first is needed; a lone
    // record reads its slot's own page, not the stretch around it.
    if (ids.size() > 1) sealing_->PrefetchKey(ids[i], record);
    records.push_back(record);
  }
  std::vector<model::Customer> out(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    KASSA_TRY(UnsealInto(txn, ids[i], records[i], out[i]));  // shredded: kNotFound, as missing
  }
  return out;
}

Status CustomerTables::Check(const ReadTxn& txn, std::uint64_t& customers, std::uint64_t& index_entries,
                             const std::function<void(std::string)>& problem,
                             const std::function<void(const model::Customer&)>& each) const {
  std::uint64_t expected_entries = 0;
  KASSA_TRY_ASSIGN(const std::shared_ptr<const RecentEntries> recent, Waiting(txn));
  // The entry stored under `key`, in the index or among the recent ones
  // (where an entry's own key comes first among those it begins).
  std::vector<RecentEntry> waiting;
  auto stored = [&](const std::string& key) -> std::optional<std::string_view> {
    auto v = txn.Get(index_, AsBytes(key));
    if (v.ok()) return AsChars(*v);
    waiting.clear();
    recent->StartingWith(key, waiting);
    if (waiting.empty() || waiting.front().key != key) return std::nullopt;
    return waiting.front().value;
  };
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(customers_));
  KASSA_TRY_ASSIGN(bool found, cursor.First());
  for (; found; ++customers) {
    model::LocalId id;
    if (cursor.key().size() == model::kLocalIdBytes) {
      std::copy_n(cursor.key().begin(), model::kLocalIdBytes, id.bytes.begin());
    }
    const std::string hex_key = id.ToHex();
    auto customer = Unseal(txn, id, cursor.value());
    if (!customer.ok()) {
      problem("customer " + hex_key + ": record does not decode (" + customer.status().detail() + ")");
    } else if (customer->id != id) {
      problem("customer " + hex_key + ": record holds another id " + customer->id.ToHex());
    } else {
      each(*customer);
      StoredNames names;
      for (const auto& e : search::IndexEntriesOf(*customer)) {
        ++expected_entries;
        const auto v = stored(EntryKey(e, id));
        if (!v) {
          // The field, never the term: the report may be shown and logged.
          problem("customer " + hex_key + ": index entry missing for its " + ToString(e.field));
        } else if (*v != EntryValue(e, names)) {
          problem("customer " + hex_key + ": index entry for its " + ToString(e.field) +
                  " is stale (wrong field or detail)");
        }
      }
    }
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  KASSA_TRY_ASSIGN(index_entries, txn.Count(index_));
  index_entries += recent->size();
  if (index_entries != expected_entries) {
    problem("index holds " + std::to_string(index_entries) + " entries but the customers derive " +
            std::to_string(expected_entries) + " (stale entries left behind)");
  }
  return CheckHeads(txn, problem);
}

Status CustomerTables::CheckHeads(const ReadTxn& txn, const std::function<void(std::string)>& problem) const {
  // Both tables in key order, side by side.
  KASSA_TRY_ASSIGN(Cursor heads, txn.OpenCursor(heads_));
  KASSA_TRY_ASSIGN(bool more, heads.First());
  if (more && AsChars(heads.key()) == HeadsCache::kVersionKey) {  // first: no kind is 0
    KASSA_TRY_ASSIGN(more, heads.Next());
  }
  std::uint64_t missing = 0, wrong = 0, extra = 0;
  KASSA_TRY(ForEachIndexHead(txn, [&](std::string_view head, std::uint32_t count) -> Status {
    for (; more && AsChars(heads.key()) < head; ++extra) {
      KASSA_TRY_ASSIGN(more, heads.Next());
    }
    if (!more || AsChars(heads.key()) != head) {
      ++missing;
      return Status::Ok();
    }
    if (heads.value().size() != 4 || FromBe64(heads.value()) != count) ++wrong;
    KASSA_TRY_ASSIGN(more, heads.Next());
    return Status::Ok();
  }));
  for (; more; ++extra) {
    KASSA_TRY_ASSIGN(more, heads.Next());
  }
  if (missing > 0 || wrong > 0) {
    problem("index heads: " + std::to_string(missing) + " missing and " + std::to_string(wrong) +
            " counting wrong (searches can miss customers)");
  }
  if (extra > 0) problem("index heads: " + std::to_string(extra) + " left with no entry under them");
  return Status::Ok();
}

}  // namespace kassa::storage
