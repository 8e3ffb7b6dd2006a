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

}  // namespace

Status RecentIndex::Open(WriteTxn& txn) {
  return FromMdb(mdb_dbi_open(txn.get(), "index_recent", MDB_CREATE, &dbi_), "dbi index_recent");
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
  KASSA_TRY_ASSIGN(const bool any, cursor.Last());
  const std::uint64_t next = any ? FromBe64(cursor.key()) + 1 : 1;
  return txn.Put(dbi_, Be64(next), AsBytes(record), MDB_APPEND);
}

Result<bool> RecentIndex::Remove(WriteTxn& txn, const model::LocalId& id) {
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(dbi_));
  KASSA_TRY_ASSIGN(bool found, cursor.First());
  while (found) {
    const ByteView value = cursor.value();
    if (value.size() >= kIdBytes && std::equal(id.bytes.begin(), id.bytes.end(), value.begin())) {
      const Key8 seq = Be64(FromBe64(cursor.key()));
      KASSA_TRY(txn.Del(dbi_, seq));
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

Status RecentIndex::Clear(WriteTxn& txn) { return FromMdb(mdb_drop(txn.get(), dbi_, 0), "drop index_recent"); }

}  // namespace kassa::storage
