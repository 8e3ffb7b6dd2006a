#include "recent_index.h"

#include <algorithm>
#include <chrono>

#include "record_warmer.h"

namespace kassa::storage {
namespace {

constexpr std::size_t kIdBytes = model::kLocalIdBytes;

void AppendSized(std::string& record, std::string_view part) {
  record.push_back(static_cast<char>(part.size() >> 8));
  record.push_back(static_cast<char>(part.size() & 0xFF));
  record.append(part);
}

// Reads one length-prefixed part of `rest`, advancing it.
bool TakeSized(std::string_view& rest, std::string_view& part) {
  if (rest.size() < 2) return false;
  const std::size_t n = (std::size_t{static_cast<std::uint8_t>(rest[0])} << 8) | static_cast<std::uint8_t>(rest[1]);
  if (rest.size() < 2 + n) return false;
  part = rest.substr(2, n);
  rest.remove_prefix(2 + n);
  return true;
}

Status Malformed() { return Status(StatusCode::kDataLoss, "storage corrupted: malformed recent index record"); }

bool IsVersion(ByteView key) { return key.size() == 8 && FromBe64(key) == RecentIndex::kVersionKey; }

bool KeyLess(const RecentEntry& a, const RecentEntry& b) { return a.key < b.key; }

// The first of sorted `entries` whose key is not below `prefix`.
std::vector<RecentEntry>::const_iterator LowerBound(const std::vector<RecentEntry>& entries, std::string_view prefix) {
  return std::lower_bound(entries.begin(), entries.end(), prefix,
                          [](const RecentEntry& e, std::string_view p) { return e.key < p; });
}

}  // namespace

void RecentEntries::StartingWith(std::string_view prefix, std::vector<RecentEntry>& out) const {
  if (!sorted_) {
    const std::size_t from = out.size();
    for (const RecentEntry& e : entries_) {
      if (e.key.starts_with(prefix)) out.push_back(e);
    }
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(from), out.end(), KeyLess);
    return;
  }
  for (auto it = LowerBound(entries_, prefix); it != entries_.end() && it->key.starts_with(prefix); ++it) {
    out.push_back(*it);
  }
}

bool RecentEntries::MayStartWith(std::string_view prefix) const {
  if (!sorted_) return !entries_.empty();
  const auto it = LowerBound(entries_, prefix);
  return it != entries_.end() && it->key.starts_with(prefix);
}

RecentIndex::RecentIndex() : shared_(std::make_unique<Shared>()) {}
RecentIndex::~RecentIndex() = default;
RecentIndex::RecentIndex(RecentIndex&&) noexcept = default;
RecentIndex& RecentIndex::operator=(RecentIndex&&) noexcept = default;

Status RecentIndex::Open(WriteTxn& txn) {
  KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "index_recent", MDB_CREATE, &dbi_), "dbi index_recent"));
  KASSA_TRY_ASSIGN(const std::optional<std::uint64_t> version, Version(txn));
  return version ? Status::Ok() : txn.Put(dbi_, Be64(kVersionKey), Be64(1));
}

Result<std::optional<std::uint64_t>> RecentIndex::Version(const ReadTxn& txn) const {
  auto stamp = txn.Get(dbi_, Be64(kVersionKey));
  if (!stamp.ok()) {
    if (stamp.status().code() == StatusCode::kNotFound) return std::optional<std::uint64_t>();
    return stamp.status();
  }
  if (stamp->size() != 8) return Status(StatusCode::kDataLoss, "storage corrupted: malformed recent index version");
  return std::optional<std::uint64_t>(FromBe64(*stamp));
}

Status RecentIndex::Bump(WriteTxn& txn) {
  KASSA_TRY_ASSIGN(const std::optional<std::uint64_t> version, Version(txn));
  return txn.Put(dbi_, Be64(kVersionKey), Be64(version.value_or(0) + 1));
}

Result<std::size_t> RecentIndex::Customers(const ReadTxn& txn) const {
  KASSA_TRY_ASSIGN(const std::size_t records, txn.Count(dbi_));
  KASSA_TRY_ASSIGN(const std::optional<std::uint64_t> version, Version(txn));
  return version ? records - 1 : records;
}

Status RecentIndex::Add(WriteTxn& txn, const model::LocalId& id,
                        const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string record(reinterpret_cast<const char*>(id.bytes.data()), kIdBytes);
  for (const auto& [key, value] : entries) {
    if (key.size() > 0xFFFF || value.size() > 0xFFFF) {
      return Status(StatusCode::kInvalidArgument, "index: entry too long");
    }
    AppendSized(record, key);
    AppendSized(record, value);
  }
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(dbi_));
  KASSA_TRY_ASSIGN(bool any, cursor.Last());
  if (any && IsVersion(cursor.key())) {
    KASSA_TRY_ASSIGN(any, cursor.Prev());
  }
  const std::uint64_t next = any ? FromBe64(cursor.key()) + 1 : 1;
  if (next >= kVersionKey) return Status(StatusCode::kResourceExhausted, "index: recent index sequence exhausted");
  // Not an append (MDB_APPEND): the version's key sorts after it.
  KASSA_TRY(txn.Put(dbi_, Be64(next), AsBytes(record)));
  return Bump(txn);
}

Result<bool> RecentIndex::Remove(WriteTxn& txn, const model::LocalId& id) {
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(dbi_));
  KASSA_TRY_ASSIGN(bool found, cursor.First());
  while (found) {
    const ByteView value = cursor.value();
    if (!IsVersion(cursor.key()) && value.size() >= kIdBytes &&
        std::equal(id.bytes.begin(), id.bytes.end(), value.begin())) {
      const Key8 seq = Be64(FromBe64(cursor.key()));
      KASSA_TRY(txn.Del(dbi_, seq));
      KASSA_TRY(Bump(txn));
      return true;
    }
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  return false;
}

Status RecentIndex::Load(const ReadTxn& txn, std::vector<RecentEntry>& out) const {
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(dbi_));
  KASSA_TRY_ASSIGN(bool found, cursor.First());
  while (found) {
    if (IsVersion(cursor.key())) {
      KASSA_TRY_ASSIGN(found, cursor.Next());
      continue;
    }
    std::string_view rest = AsChars(cursor.value());
    if (rest.size() < kIdBytes) return Malformed();
    rest.remove_prefix(kIdBytes);
    while (!rest.empty()) {
      RecentEntry e;
      if (!TakeSized(rest, e.key) || !TakeSized(rest, e.value)) return Malformed();
      out.push_back(e);
    }
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  return Status::Ok();
}

Result<std::shared_ptr<const RecentEntries>> RecentIndex::Entries(const ReadTxn& txn) const {
  // A write transaction's entries may be its own, not committed: never shared.
  const std::size_t id = txn.writable() ? 0 : mdb_txn_id(txn.get());
  if (id != 0) {
    std::lock_guard lock(shared_->mutex);
    if (shared_->entries != nullptr && id == shared_->txn_id) return shared_->entries;
  }
  KASSA_TRY_ASSIGN(const std::optional<std::uint64_t> version, Version(txn));
  if (version) {
    std::lock_guard lock(shared_->mutex);
    // A write transaction that has not changed the table sees the committed
    // entries of its version, which only a committed snapshot put here.
    if (shared_->entries != nullptr && *version == shared_->version) {
      if (id != 0) shared_->txn_id = std::max(shared_->txn_id, id);
      return shared_->entries;
    }
  }
  auto entries = std::make_shared<RecentEntries>();
  KASSA_TRY(Load(txn, entries->entries_));
  // Shared only when newer than the copy held; an older snapshot's entries are its own.
  bool share = id != 0 && version.has_value();
  if (share) {
    std::lock_guard lock(shared_->mutex);
    share = shared_->entries == nullptr || *version > shared_->version;
  }
  if (share) {
    // Copied out of the map, which later writers reuse once this snapshot ends.
    std::size_t bytes = 0;
    for (const RecentEntry& e : entries->entries_) bytes += e.key.size() + e.value.size();
    entries->bytes_.reserve(bytes);  // no reallocation: the views below stay valid
    for (RecentEntry& e : entries->entries_) {
      const std::size_t at = entries->bytes_.size();
      entries->bytes_.append(e.key).append(e.value);
      const std::string_view held(entries->bytes_.data() + at, e.key.size() + e.value.size());
      e = RecentEntry{held.substr(0, e.key.size()), held.substr(e.key.size())};
    }
    std::sort(entries->entries_.begin(), entries->entries_.end(), KeyLess);
    entries->sorted_ = true;
    std::lock_guard lock(shared_->mutex);
    // Another thread may have read a newer version meanwhile.
    if (shared_->entries == nullptr || *version > shared_->version) {
      shared_->entries = entries;
      shared_->version = *version;
      shared_->txn_id = id;
    }
  }
  return std::shared_ptr<const RecentEntries>(std::move(entries));
}

Status RecentIndex::FoldInto(WriteTxn& txn, MDB_dbi index, const PutEntry& put, RecordWarmer* warmer) {
  std::vector<RecentEntry> views;
  KASSA_TRY(Load(txn, views));
  // Copied: what LMDB returns is valid only until the next write.
  std::vector<std::pair<std::string, std::string>> entries;
  entries.reserve(views.size());
  for (const RecentEntry& e : views) entries.emplace_back(e.key, e.value);
  // In key order: each put lands next to the one before.
  std::sort(entries.begin(), entries.end());
  bool warming = warmer == nullptr;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto start = std::chrono::steady_clock::now();
    KASSA_TRY(put(txn, entries[i].first, entries[i].second));
    if (!warming && i + 2 < entries.size() && RecordWarmer::FromDisk(std::chrono::steady_clock::now() - start)) {
      // The warmers' read transactions see the committed index: the same
      // leaves this transaction copies before it changes them.
      std::vector<std::string> rest;
      rest.reserve(entries.size() - i - 1);
      for (std::size_t j = i + 1; j < entries.size(); ++j) rest.push_back(entries[j].first);
      warmer->WarmSeeks(index, std::move(rest));
      warming = true;
    }
  }
  return Clear(txn);
}

Status RecentIndex::Clear(WriteTxn& txn) {
  KASSA_TRY_ASSIGN(const std::optional<std::uint64_t> version, Version(txn));
  KASSA_TRY(FromMdb(mdb_drop(txn.get(), dbi_, 0), "drop index_recent"));
  return txn.Put(dbi_, Be64(kVersionKey), Be64(version.value_or(0) + 1));
}

}  // namespace kassa::storage
