#include "recent_index.h"

#include <algorithm>
#include <array>
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

// The table of layouts 5 to 12, moved into the host by Open.
constexpr const char* kOldTable = "index_recent";
constexpr std::size_t kRecordKeyBytes = 16;
constexpr std::size_t kStateBytes = 32;
using Key16 = std::array<std::uint8_t, kRecordKeyBytes>;

bool IsState(ByteView key) { return key.size() == 8 && FromBe64(key) == RecentIndex::kStateKey; }

Key16 RecordKey(std::uint64_t seq, std::uint64_t number) {
  Key16 key{};
  const Key8 s = Be64(seq), n = Be64(number);
  std::copy(s.begin(), s.end(), key.begin());
  std::copy(n.begin(), n.end(), key.begin() + 8);
  return key;
}

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

bool RecentIndex::Owns(ByteView key) { return key.size() == kRecordKeyBytes || IsState(key); }

Result<RecentIndex::State> RecentIndex::ReadState(const ReadTxn& txn) const {
  auto v = txn.Get(host_, Be64(kStateKey));
  if (!v.ok()) {
    if (v.status().code() != StatusCode::kNotFound) return v.status();
    return Status(StatusCode::kDataLoss, "storage corrupted: the recent index's state record is missing");
  }
  if (v->size() != kStateBytes) return Status(StatusCode::kDataLoss, "storage corrupted: malformed recent index state");
  return State{FromBe64(v->subspan(0, 8)), FromBe64(v->subspan(8, 8)), FromBe64(v->subspan(16, 8)),
               FromBe64(v->subspan(24, 8))};
}

Status RecentIndex::WriteState(WriteTxn& txn, const State& state) {
  std::array<std::uint8_t, kStateBytes> value{};
  std::size_t at = 0;
  for (const std::uint64_t field : {state.first, state.customers, state.next, state.version}) {
    const Key8 bytes = Be64(field);
    std::copy(bytes.begin(), bytes.end(), value.begin() + static_cast<std::ptrdiff_t>(at));
    at += 8;
  }
  return txn.Put(host_, Be64(kStateKey), value);
}

template <typename Visit>
Status RecentIndex::Walk(const ReadTxn& txn, const State& state, Visit visit) const {
  if (state.customers == 0) return Status::Ok();
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(host_));
  KASSA_TRY_ASSIGN(bool found, cursor.SeekAtLeast(Be64(state.first)));
  std::uint64_t seen = 0;
  while (found && !IsState(cursor.key())) {
    if (cursor.key().size() == kRecordKeyBytes) {  // not one of the host's own
      if (cursor.value().size() < kIdBytes) return Malformed();
      if (!visit(cursor.key(), cursor.value()) || ++seen == state.customers) return Status::Ok();
    }
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  return Status::Ok();  // fewer than counted: what there is (Check() reports it)
}

Status RecentIndex::Open(WriteTxn& txn, MDB_dbi host) {
  host_ = host;
  if (auto v = txn.Get(host_, Be64(kStateKey)); v.ok()) return Status::Ok();
  else if (v.status().code() != StatusCode::kNotFound) return v.status();
  State state;
  MDB_dbi old = 0;
  if (const int rc = mdb_dbi_open(txn.get(), kOldTable, 0, &old); rc != MDB_NOTFOUND) {
    KASSA_TRY(FromMdb(rc, "dbi index_recent"));
    // Layouts 5 to 12: sequence (8) -> the record, and the version under UINT64_MAX (layouts 11, 12).
    std::vector<std::string> moved;  // in their sequences' order
    {
      KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(old));
      KASSA_TRY_ASSIGN(bool found, cursor.First());
      while (found) {
        if (cursor.key().size() != 8) return Malformed();
        if (FromBe64(cursor.key()) == UINT64_MAX) {
          if (cursor.value().size() != 8) return Malformed();
          state.version = FromBe64(cursor.value()) + 1;
        } else {
          if (cursor.value().size() < kIdBytes) return Malformed();
          moved.emplace_back(AsChars(cursor.value()));
        }
        KASSA_TRY_ASSIGN(found, cursor.Next());
      }
    }
    for (const std::string& record : moved) {
      KASSA_TRY(txn.Put(host_, RecordKey(0, state.next++), AsBytes(record)));
    }
    state.customers = moved.size();
    KASSA_TRY(FromMdb(mdb_drop(txn.get(), old, 1), "drop index_recent"));
  }
  return WriteState(txn, state);
}

Result<std::size_t> RecentIndex::Customers(const ReadTxn& txn) const {
  KASSA_TRY_ASSIGN(const State state, ReadState(txn));
  return static_cast<std::size_t>(state.customers);
}

Result<std::size_t> RecentIndex::EntriesInHost(const ReadTxn& txn) const {
  KASSA_TRY_ASSIGN(const State state, ReadState(txn));
  return static_cast<std::size_t>(state.customers) + 1;
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
  KASSA_TRY_ASSIGN(State state, ReadState(txn));
  // The sequence of the host's last entry below the state: the record sorts
  // after it, on the host's last leaf.
  std::uint64_t seq = 0;
  {
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(host_));
    KASSA_TRY_ASSIGN(bool found, cursor.SeekAtLeast(Be64(kStateKey)));
    KASSA_TRY_ASSIGN(found, found ? cursor.Prev() : cursor.Last());
    if (found && cursor.key().size() >= 8) seq = FromBe64(cursor.key().subspan(0, 8));
  }
  if (seq >= kStateKey || state.next == UINT64_MAX) {
    return Status(StatusCode::kResourceExhausted, "index: recent index sequence exhausted");
  }
  if (state.customers == 0) state.first = seq;
  KASSA_TRY(txn.Put(host_, RecordKey(seq, state.next), AsBytes(record)));
  ++state.next;
  ++state.customers;
  ++state.version;
  return WriteState(txn, state);
}

Result<bool> RecentIndex::Remove(WriteTxn& txn, const model::LocalId& id) {
  KASSA_TRY_ASSIGN(State state, ReadState(txn));
  std::optional<Key16> found;
  KASSA_TRY(Walk(txn, state, [&](ByteView key, ByteView value) {
    if (!std::equal(id.bytes.begin(), id.bytes.end(), value.begin())) return true;
    found.emplace();
    std::copy(key.begin(), key.end(), found->begin());
    return false;
  }));
  if (!found) return false;
  KASSA_TRY(txn.Del(host_, *found));
  --state.customers;
  ++state.version;
  KASSA_TRY(WriteState(txn, state));
  return true;
}

Status RecentIndex::Load(const ReadTxn& txn, std::vector<RecentEntry>& out) const {
  KASSA_TRY_ASSIGN(const State state, ReadState(txn));
  bool sound = true;
  KASSA_TRY(Walk(txn, state, [&](ByteView, ByteView value) {
    std::string_view rest = AsChars(value);
    rest.remove_prefix(kIdBytes);
    while (!rest.empty()) {
      RecentEntry e;
      if (!TakeSized(rest, e.key) || !TakeSized(rest, e.value)) return sound = false;
      out.push_back(e);
    }
    return true;
  }));
  return sound ? Status::Ok() : Malformed();
}

Result<std::shared_ptr<const RecentEntries>> RecentIndex::Entries(const ReadTxn& txn) const {
  // A write transaction's entries may be its own, not committed: never shared.
  const std::size_t id = txn.writable() ? 0 : mdb_txn_id(txn.get());
  if (id != 0) {
    std::lock_guard lock(shared_->mutex);
    if (shared_->entries != nullptr && id == shared_->txn_id) return shared_->entries;
  }
  KASSA_TRY_ASSIGN(const State state, ReadState(txn));
  const std::uint64_t version = state.version;
  {
    std::lock_guard lock(shared_->mutex);
    // A write transaction that has not changed the index sees the committed
    // entries of its version, which only a committed snapshot put here.
    if (shared_->entries != nullptr && version == shared_->version) {
      if (id != 0) shared_->txn_id = std::max(shared_->txn_id, id);
      return shared_->entries;
    }
  }
  auto entries = std::make_shared<RecentEntries>();
  KASSA_TRY(Load(txn, entries->entries_));
  // Shared only when newer than the copy held; an older snapshot's entries are its own.
  bool share = id != 0;
  if (share) {
    std::lock_guard lock(shared_->mutex);
    share = shared_->entries == nullptr || version > shared_->version;
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
    if (shared_->entries == nullptr || version > shared_->version) {
      shared_->entries = entries;
      shared_->version = version;
      shared_->txn_id = id;
    }
  }
  return std::shared_ptr<const RecentEntries>(std::move(entries));
}

Status RecentIndex::FoldInto(WriteTxn& txn, MDB_dbi index, const PutEntry& put, RecordWarmer* warmer) {
  std::vector<RecentEntry> views;
  KASSA_TRY(Load(txn, views));
  // In key order: each put lands next to the one before. Copied: what LMDB
  // returns is valid only until the next write.
  std::sort(views.begin(), views.end(), KeyLess);
  std::vector<std::pair<std::string, std::string>> entries;
  entries.reserve(views.size());
  for (const RecentEntry& e : views) entries.emplace_back(e.key, e.value);
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
  KASSA_TRY_ASSIGN(State state, ReadState(txn));
  std::vector<Key16> keys;
  KASSA_TRY(Walk(txn, state, [&](ByteView key, ByteView) {
    Key16& k = keys.emplace_back();
    std::copy(key.begin(), key.end(), k.begin());
    return true;
  }));
  for (const Key16& key : keys) KASSA_TRY(txn.Del(host_, key));
  state.customers = 0;
  ++state.version;
  return WriteState(txn, state);
}

Status RecentIndex::Check(const ReadTxn& txn, const std::function<void(std::string)>& problem) const {
  const Result<State> state = ReadState(txn);
  if (!state.ok()) {
    problem(state.status().detail());
    return Status::Ok();
  }
  // Every record of the host, wherever it is: a walk from `first` would
  // not see one below it.
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(host_));
  KASSA_TRY_ASSIGN(bool found, cursor.First());
  std::uint64_t records = 0;
  while (found) {
    if (cursor.key().size() == kRecordKeyBytes) {
      ++records;
      const std::uint64_t seq = FromBe64(cursor.key());
      const std::uint64_t number = FromBe64(cursor.key().subspan(8));
      const char* wrong = nullptr;
      if (seq < state->first || seq >= kStateKey) wrong = "outside the sequences its state says (searches miss it)";
      if (number >= state->next) wrong = "numbered past the state's next";
      std::string_view rest = AsChars(cursor.value());
      bool sound = rest.size() >= kIdBytes;
      if (sound) rest.remove_prefix(kIdBytes);
      while (sound && !rest.empty()) {
        std::string_view key, value;
        sound = TakeSized(rest, key) && TakeSized(rest, value);
      }
      if (!sound) wrong = "malformed";
      if (wrong != nullptr) {
        problem("recent index record " + std::to_string(seq) + "/" + std::to_string(number) + ": " + wrong);
      }
    }
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  if (records != state->customers) {
    problem("the recent index's state counts " + std::to_string(state->customers) + " customers but " +
            std::to_string(records) + " records are stored");
  }
  return Status::Ok();
}

}  // namespace kassa::storage
