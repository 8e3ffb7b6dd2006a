#include "heads_cache.h"

#include <algorithm>
#include <bit>

namespace kassa::storage {

HeadSet::HeadSet(std::size_t heads) : slots_(std::bit_ceil(std::max<std::size_t>(2 * heads, 16)), 0) {}

std::uint64_t HeadSet::Fingerprint(std::string_view head) {
  // FNV-1a over the bytes, then a multiply-xorshift so that the low bits
  // (the slot) depend on every byte: 64 bits on every board (std::hash is
  // size_t, 32 bits on armhf).
  std::uint64_t h = 0xCBF29CE484222325ull;
  for (const char c : head) h = (h ^ static_cast<std::uint8_t>(c)) * 0x100000001B3ull;
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ull;
  h ^= h >> 32;
  return h == 0 ? 1 : h;  // 0 marks an empty slot
}

void HeadSet::Add(std::string_view head) {
  const std::uint64_t f = Fingerprint(head);
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = static_cast<std::size_t>(f) & mask;; i = (i + 1) & mask) {
    if (slots_[i] == f) return;
    if (slots_[i] == 0) {
      slots_[i] = f;
      return;
    }
  }
}

bool HeadSet::MayContain(std::string_view head) const {
  const std::uint64_t f = Fingerprint(head);
  const std::size_t mask = slots_.size() - 1;
  // At most half the slots are taken, so an empty one ends every probe.
  for (std::size_t i = static_cast<std::size_t>(f) & mask;; i = (i + 1) & mask) {
    if (slots_[i] == f) return true;
    if (slots_[i] == 0) return false;
  }
}

Result<std::shared_ptr<const HeadSet>> HeadsCache::For(const ReadTxn& txn, MDB_dbi heads) {
  if (txn.writable()) return std::shared_ptr<const HeadSet>();
  const std::size_t id = mdb_txn_id(txn.get());
  {
    std::lock_guard lock(mutex_);
    if (set_ != nullptr && id == txn_id_) return set_;
  }
  auto stamp = txn.Get(heads, AsBytes(kVersionKey));
  if (!stamp.ok()) {
    if (stamp.status().code() == StatusCode::kNotFound) return std::shared_ptr<const HeadSet>();
    return stamp.status();
  }
  if (stamp->size() != 8) return Status(StatusCode::kDataLoss, "storage corrupted: malformed index heads version");
  const std::uint64_t version = FromBe64(*stamp);
  {
    std::lock_guard lock(mutex_);
    if (set_ != nullptr && version == version_) {
      txn_id_ = std::max(txn_id_, id);
      return set_;
    }
    // An older snapshot (a reader that began before the last change of the
    // heads), or too many heads: index_heads answers, nothing is read here.
    if ((set_ != nullptr && version < version_) || version == too_many_version_) {
      return std::shared_ptr<const HeadSet>();
    }
  }
  // Read the heads of this version: the database's entries but its version.
  KASSA_TRY_ASSIGN(const std::size_t entries, txn.Count(heads));
  if (entries > kMaxHeads + 1) {
    std::lock_guard lock(mutex_);
    too_many_version_ = std::max(too_many_version_, version);
    return std::shared_ptr<const HeadSet>();
  }
  auto set = std::shared_ptr<HeadSet>(new HeadSet(entries));
  KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(heads));
  KASSA_TRY_ASSIGN(bool found, cursor.First());
  while (found) {
    const std::string_view key = AsChars(cursor.key());
    if (key != kVersionKey) set->Add(key);
    KASSA_TRY_ASSIGN(found, cursor.Next());
  }
  std::lock_guard lock(mutex_);
  if (set_ == nullptr || version > version_) {  // another thread may have read a newer one meanwhile
    set_ = set;
    version_ = version;
    txn_id_ = id;
  }
  return std::shared_ptr<const HeadSet>(std::move(set));
}

}  // namespace kassa::storage
