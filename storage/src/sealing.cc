#include "sealing.h"

#include <algorithm>
#include <cstdio>

#include "kassa/base/log.h"

namespace kassa::storage {
namespace {

constexpr std::string_view kSlotsName = "slots";


ByteView NameOf(const model::LocalId& id) { return ByteView(id.bytes.data(), id.bytes.size()); }

}  // namespace

std::size_t Sealing::CacheSlotOf(const model::LocalId& id) {
  return static_cast<std::size_t>(id.Hash() % kCachedKeys);
}


Bytes Sealing::SlotName(std::uint32_t slot) const {
  Bytes name(binding_.begin(), binding_.end());
  const Key8 n = Be64(slot);
  name.insert(name.end(), n.begin() + 4, n.end());
  return name;
}

namespace {

// "slots": binding (16) | reserved (4) | tag (8).
constexpr std::size_t kSlotsValueBytes = KeySlots::kBindingBytes + 4 + 8;

struct SlotsState {
  KeySlots::Binding binding{};
  std::uint32_t reserved = 0;
  std::array<std::uint8_t, 8> tag{};
};

Result<std::optional<SlotsState>> ReadSlotsState(const ReadTxn& txn, MDB_dbi keys) {
  auto v = txn.Get(keys, AsBytes(kSlotsName));
  if (!v.ok()) {
    if (v.status().code() == StatusCode::kNotFound) return std::optional<SlotsState>();
    return v.status();
  }
  if (v->size() != kSlotsValueBytes) return Status(StatusCode::kDataLoss, "storage corrupted: malformed key slots state");
  SlotsState state;
  std::copy_n(v->begin(), KeySlots::kBindingBytes, state.binding.begin());
  state.reserved = static_cast<std::uint32_t>(FromBe64(v->subspan(KeySlots::kBindingBytes, 4)));
  std::copy_n(v->begin() + KeySlots::kBindingBytes + 4, state.tag.size(), state.tag.begin());
  return std::optional<SlotsState>(state);
}

Status WriteSlotsState(WriteTxn& txn, MDB_dbi keys, const SlotsState& state) {
  Bytes v(state.binding.begin(), state.binding.end());
  const Key8 reserved = Be64(state.reserved);
  v.insert(v.end(), reserved.begin() + 4, reserved.end());
  v.insert(v.end(), state.tag.begin(), state.tag.end());
  return txn.Put(keys, AsBytes(kSlotsName), v);
}

Status RandomFill(std::uint8_t* out, std::size_t n) {
  KASSA_TRY_ASSIGN(const crypto::SecretKey random, crypto::SecretKey::Random());
  std::copy_n(random.data(), std::min(n, crypto::SecretKey::kBytes), out);
  return Status::Ok();
}

}  // namespace

Result<Sealing::KeysFound> Sealing::Init(WriteTxn& txn, bool upgrading) {
  if (!encrypted()) {
    const int rc = mdb_dbi_open(txn.get(), "keys", 0, &keys_);
    if (rc == MDB_NOTFOUND) return KeysFound::kNone;
    KASSA_TRY(FromMdb(rc, "dbi keys"));
    KASSA_TRY_ASSIGN(const std::size_t n, txn.Count(keys_));
    if (n == 0) return KeysFound::kNone;
    KASSA_LOG(kError) << "the store is encrypted and no key file was given";
    return Status(StatusCode::kFailedPrecondition, "data: the store is encrypted; its key file is needed");
  }
  KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "keys", MDB_CREATE, &keys_), "dbi keys"));
  bool fresh = false;
  const auto load = [&](std::string_view name) -> Result<crypto::SecretKey> {
    auto wrapped = txn.Get(keys_, AsBytes(name));
    if (wrapped.ok()) return Unwrap(AsBytes(name), *wrapped);
    if (wrapped.status().code() != StatusCode::kNotFound) return wrapped.status();
    fresh = true;
    KASSA_TRY_ASSIGN(crypto::SecretKey key, crypto::SecretKey::Random());
    KASSA_TRY_ASSIGN(const Bytes w, Wrap(AsBytes(name), key));
    KASSA_TRY(txn.Put(keys_, AsBytes(name), w));
    return key;
  };
  KASSA_TRY_ASSIGN(store_key_, load(kStoreKeyName));
  KASSA_TRY_ASSIGN(const crypto::SecretKey index_key, load(kIndexKeyName));
  index_hash_ = std::make_unique<crypto::PrefixHash>(index_key);

  KASSA_TRY_ASSIGN(auto state, ReadSlotsState(txn, keys_));
  const KeysFound found = state ? KeysFound::kInSlots : fresh ? KeysFound::kNone : KeysFound::kInRecords;
  if (!state) {
    state.emplace();
    KASSA_TRY(RandomFill(state->binding.data(), state->binding.size()));
    KASSA_TRY(WriteSlotsState(txn, keys_, *state));
  }
  binding_ = state->binding;
  // Until a slot is reserved no record names one, so a missing file (or one
  // with only a header: a first start that crashed) is made anew.
  auto slots = KeySlots::Open(slots_path_, data_dir_, binding_, /*create=*/state->reserved == 0);
  if (!slots.ok() && slots.status().code() == StatusCode::kAlreadyExists && upgrading && found != KeysFound::kInSlots) {
    // An upgrade (a move into the slots, or the sealing of a plaintext
    // store) that crashed before it committed: each attempt draws a new
    // binding, and no record names a slot of that file. Set aside, never
    // deleted.
    const std::string aside = slots_path_ + ".unused";
    KASSA_LOG(kWarning) << "key slots " << slots_path_ << " were left by an unfinished upgrade; moved to " << aside;
    if (std::rename(slots_path_.c_str(), aside.c_str()) != 0) return slots.status();
    slots = KeySlots::Open(slots_path_, data_dir_, binding_, /*create=*/true);
  }
  KASSA_TRY_ASSIGN(slots_, std::move(slots));
  return found;
}

Result<crypto::SecretKey> Sealing::ReadSlot(std::uint32_t slot) const {
  KASSA_TRY_ASSIGN(KeySlots::Slot bytes, slots_->Read(slot));
  if (std::all_of(bytes.begin(), bytes.end(), [](std::uint8_t b) { return b == 0; })) {
    return Status(StatusCode::kNotFound, "customer: erased (its key is gone)");
  }
  auto key = Unwrap(SlotName(slot), ByteView(bytes.data(), kWrappedKeyBytes));
  crypto::Wipe(bytes.data(), bytes.size());
  return key;
}

Status Sealing::Reserve(WriteTxn& txn, std::uint32_t from, std::uint32_t count) {
  std::vector<std::uint8_t> block(std::size_t{count} * KeySlots::kSlotBytes, 0);
  std::vector<crypto::SecretKey> keys;
  keys.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    KASSA_TRY_ASSIGN(crypto::SecretKey key, crypto::SecretKey::Random());
    KASSA_TRY_ASSIGN(const Bytes wrapped, Wrap(SlotName(from + i), key));
    std::copy(wrapped.begin(), wrapped.end(), block.data() + std::size_t{i} * KeySlots::kSlotBytes);
    keys.push_back(std::move(key));
  }
  // Durable before any record can name one of them.
  KASSA_TRY(slots_->Write(from, block.data(), count));
  crypto::Wipe(block.data(), block.size());
  KASSA_TRY(slots_->Sync());
  SlotsState state{binding_, from + count, {}};
  KASSA_TRY(RandomFill(state.tag.data(), state.tag.size()));
  KASSA_TRY(WriteSlotsState(txn, keys_, state));
  reserved_ = Reserved{from, from + count, state.tag, std::move(keys)};
  return Status::Ok();
}

Result<Sealing::SlotKey> Sealing::NewSlot(WriteTxn& txn) {
  std::lock_guard lock(reserved_mutex_);
  KASSA_TRY_ASSIGN(const auto state, ReadSlotsState(txn, keys_));
  if (!state) return Status(StatusCode::kDataLoss, "storage corrupted: the key slots state is gone");
  // What this process reserved counts only while "slots" says so: a
  // reservation whose transaction aborted, or one another process made
  // since, leaves the rest unused.
  const bool ours = state->reserved == reserved_.end && state->tag == reserved_.tag;
  if (!ours || reserved_.next == reserved_.end) KASSA_TRY(Reserve(txn, state->reserved, kReserveBatch));
  const std::size_t index = reserved_.keys.size() - (reserved_.end - reserved_.next);
  SlotKey out{reserved_.next++, reserved_.keys[index]};
  reserved_.keys[index] = crypto::SecretKey();
  return out;
}

void Sealing::Remember(const model::LocalId& id, const crypto::SecretKey& key) const {
  std::lock_guard lock(cache_mutex_);
  CachedKey& slot = cache_[CacheSlotOf(id)];
  slot.id = id;
  slot.key = key;
  slot.used = true;
}

void Sealing::Forget(const model::LocalId& id) const {
  std::lock_guard lock(cache_mutex_);
  if (CachedKey& slot = cache_[CacheSlotOf(id)]; slot.used && slot.id == id) {
    slot.key = crypto::SecretKey();
    slot.used = false;
  }
}

Result<std::optional<std::uint32_t>> Sealing::SlotOfCustomer(const ReadTxn& txn, const model::LocalId& id) const {
  auto record = txn.Get(records_, NameOf(id));
  if (!record.ok() && record.status().code() != StatusCode::kNotFound) return record.status();
  if (!record.ok()) record = txn.Get(keys_, NameOf(id));
  if (!record.ok()) {
    if (record.status().code() == StatusCode::kNotFound) return std::optional<std::uint32_t>();
    return record.status();
  }
  if (record->size() < kSlotRefBytes) return Status(StatusCode::kDataLoss, "storage corrupted: malformed record");
  return std::optional<std::uint32_t>(static_cast<std::uint32_t>(FromBe64(record->subspan(0, kSlotRefBytes))));
}

std::optional<crypto::SecretKey> Sealing::Cached(const model::LocalId& id) const {
  std::lock_guard lock(cache_mutex_);
  if (const CachedKey& slot = cache_[CacheSlotOf(id)]; slot.used && slot.id == id) return slot.key;
  return std::nullopt;
}

Result<crypto::SecretKey> Sealing::DataKey(const ReadTxn& txn, const model::LocalId& id) const {
  if (auto key = Cached(id)) return std::move(*key);
  KASSA_TRY_ASSIGN(const auto slot, SlotOfCustomer(txn, id));
  if (!slot) return Status(StatusCode::kNotFound, "customer: erased (its key is gone)");
  KASSA_TRY_ASSIGN(crypto::SecretKey key, ReadSlot(*slot));
  Remember(id, key);
  return key;
}

Result<crypto::SecretKey> Sealing::DataKeyForWrite(WriteTxn& txn, const model::LocalId& id) {
  // The tables decide whether the customer has a key (a key made in a
  // transaction that was then aborted may linger in the cache).
  KASSA_TRY_ASSIGN(const auto slot, SlotOfCustomer(txn, id));
  if (slot) return DataKey(txn, id);
  // No record yet (a timeline entry that arrived before its customer): the
  // slot waits in "keys", and the record takes it when it comes.
  KASSA_TRY_ASSIGN(SlotKey fresh, NewSlot(txn));
  const Key8 ref = Be64(fresh.slot);
  KASSA_TRY(txn.Put(keys_, NameOf(id), ByteView(ref.data() + 4, kSlotRefBytes)));
  Remember(id, fresh.key);
  return std::move(fresh.key);
}

Status Sealing::Shred(WriteTxn& txn, const model::LocalId& id) {
  if (!encrypted()) return Status::Ok();
  Forget(id);
  KASSA_TRY_ASSIGN(const auto slot, SlotOfCustomer(txn, id));
  if (!slot) return Status::Ok();
  KASSA_TRY(slots_->Shred(*slot));
  const Status deleted = txn.Del(keys_, NameOf(id));
  if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return deleted;
  return Status::Ok();
}

Status Sealing::MoveKeysToSlots(WriteTxn& txn) {
  KASSA_CHECK(encrypted());
  // Every customer's wrapped key, read before anything is written.
  std::vector<std::pair<model::LocalId, bool>> owners;  // id, whether it has a record
  for (const MDB_dbi dbi : {records_, keys_}) {
    KASSA_TRY_ASSIGN(Cursor cursor, txn.OpenCursor(dbi));
    KASSA_TRY_ASSIGN(bool found, cursor.First());
    while (found) {
      if (cursor.key().size() == model::kLocalIdBytes) {
        model::LocalId id;
        std::copy_n(cursor.key().begin(), model::kLocalIdBytes, id.bytes.begin());
        owners.emplace_back(id, dbi == records_);
      }
      KASSA_TRY_ASSIGN(found, cursor.Next());
    }
  }
  KASSA_TRY_ASSIGN(const auto state, ReadSlotsState(txn, keys_));
  if (!state) return Status(StatusCode::kDataLoss, "storage corrupted: the key slots state is gone");
  const std::uint32_t first = state->reserved;
  std::vector<std::uint8_t> block;
  std::uint32_t block_first = first;
  const auto flush = [&]() -> Status {
    if (block.empty()) return Status::Ok();
    KASSA_TRY(slots_->Write(block_first, block.data(), block.size() / KeySlots::kSlotBytes));
    block_first += static_cast<std::uint32_t>(block.size() / KeySlots::kSlotBytes);
    crypto::Wipe(block.data(), block.size());
    block.clear();
    return Status::Ok();
  };
  std::uint32_t slot = first;
  for (const auto& [id, has_record] : owners) {
    const MDB_dbi dbi = has_record ? records_ : keys_;
    KASSA_TRY_ASSIGN(const ByteView value, txn.Get(dbi, NameOf(id)));
    if (value.size() < kWrappedKeyBytes) return Status(StatusCode::kDataLoss, "storage corrupted: malformed record");
    KASSA_TRY_ASSIGN(const crypto::SecretKey key, Unwrap(NameOf(id), value.subspan(0, kWrappedKeyBytes)));
    KASSA_TRY_ASSIGN(const Bytes wrapped, Wrap(SlotName(slot), key));
    block.insert(block.end(), wrapped.begin(), wrapped.end());
    block.resize(block.size() + KeySlots::kSlotBytes - wrapped.size(), 0);
    const Key8 ref = Be64(slot);
    Bytes next(ref.begin() + 4, ref.end());
    next.insert(next.end(), value.begin() + kWrappedKeyBytes, value.end());
    KASSA_TRY(txn.Put(dbi, NameOf(id), next));
    ++slot;
    if (block.size() >= std::size_t{kReserveBatch} * KeySlots::kSlotBytes) KASSA_TRY(flush());
  }
  KASSA_TRY(flush());
  KASSA_TRY(slots_->Sync());
  SlotsState moved{binding_, slot, {}};
  KASSA_TRY(RandomFill(moved.tag.data(), moved.tag.size()));
  KASSA_LOG(kInfo) << "moved " << owners.size() << " customers' data keys into " << slots_->path();
  return WriteSlotsState(txn, keys_, moved);
}

Result<RewrapBatch> Sealing::Rewrap(WriteTxn& txn, std::uint32_t from, std::uint32_t max) {
  KASSA_CHECK(encrypted());
  KASSA_TRY_ASSIGN(const crypto::MasterKey current, key_store_->Current());
  RewrapBatch batch;
  if (from == 0) {
    for (const std::string_view name : {kStoreKeyName, kIndexKeyName}) {
      KASSA_TRY_ASSIGN(const ByteView wrapped, txn.Get(keys_, AsBytes(name)));
      if (wrapped.size() < 4 || WrappedGeneration(wrapped) == current.generation) continue;
      KASSA_TRY_ASSIGN(const crypto::SecretKey key, Unwrap(AsBytes(name), wrapped));
      KASSA_TRY_ASSIGN(const Bytes again, Wrap(AsBytes(name), key));
      KASSA_TRY(txn.Put(keys_, AsBytes(name), again));
      ++batch.rewrapped;
    }
  }
  KASSA_TRY_ASSIGN(const auto state, ReadSlotsState(txn, keys_));
  if (!state) return Status(StatusCode::kDataLoss, "storage corrupted: the key slots state is gone");
  batch.slots = state->reserved;
  const auto end = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(std::uint64_t{from} + max, std::max(from, state->reserved)));
  bool written = false;
  for (std::uint32_t n = from; n < end; ++n) {
    KASSA_TRY_ASSIGN(KeySlots::Slot slot, slots_->Read(n));
    const bool empty = std::all_of(slot.begin(), slot.end(), [](std::uint8_t b) { return b == 0; });
    if (empty || WrappedGeneration(ByteView(slot.data(), 4)) == current.generation) continue;
    KASSA_TRY_ASSIGN(const crypto::SecretKey key, Unwrap(SlotName(n), ByteView(slot.data(), kWrappedKeyBytes)));
    KASSA_TRY_ASSIGN(const Bytes again, Wrap(SlotName(n), key));
    KeySlots::Slot next{};
    std::copy(again.begin(), again.end(), next.begin());
    KASSA_TRY(slots_->Write(n, next.data(), 1));
    crypto::Wipe(slot.data(), slot.size());
    crypto::Wipe(next.data(), next.size());
    written = true;
    ++batch.rewrapped;
  }
  if (written) KASSA_TRY(slots_->Sync());
  batch.next = end;
  batch.done = end >= state->reserved;
  return batch;
}

Result<Bytes> Sealing::SealRecord(WriteTxn& txn, const model::LocalId& id, ByteView plain) {
  if (!encrypted()) return Bytes(plain.begin(), plain.end());
  KASSA_TRY_ASSIGN(const auto slot, SlotOfCustomer(txn, id));
  SlotKey slot_key;
  if (slot) {
    KASSA_TRY_ASSIGN(slot_key.key, DataKey(txn, id));
    slot_key.slot = *slot;
  } else {
    KASSA_TRY_ASSIGN(slot_key, NewSlot(txn));
    Remember(id, slot_key.key);
  }
  const Key8 ref = Be64(slot_key.slot);
  Bytes record(ref.begin() + 4, ref.end());
  KASSA_TRY_ASSIGN(const Bytes body, crypto::Seal(slot_key.key, SealAad(SealedTable::kCustomer, &id), plain));
  record.insert(record.end(), body.begin(), body.end());
  return record;
}

void Sealing::PrefetchKey(const model::LocalId& id, ByteView value) const {
  if (!encrypted() || value.size() < kSlotRefBytes || Cached(id)) return;
  slots_->Prefetch(static_cast<std::uint32_t>(FromBe64(value.subspan(0, kSlotRefBytes))));
}

void Sealing::TouchKey(ByteView value) const {
  if (!encrypted() || value.size() < kSlotRefBytes) return;
  slots_->Touch(static_cast<std::uint32_t>(FromBe64(value.subspan(0, kSlotRefBytes))));
}

Result<Bytes> Sealing::UnsealRecord(const ReadTxn& txn, const model::LocalId& id, ByteView value) const {
  Bytes plain;
  KASSA_TRY(UnsealRecordInto(txn, id, value, plain));
  return plain;
}

Status Sealing::UnsealRecordInto(const ReadTxn& txn, const model::LocalId& id, ByteView value, Bytes& plain) const {
  (void)txn;
  if (!encrypted()) {
    plain.assign(value.begin(), value.end());
    return Status::Ok();
  }
  if (value.size() < kSlotRefBytes) return Status(StatusCode::kDataLoss, "storage corrupted: malformed record");
  std::optional<crypto::SecretKey> key = Cached(id);
  if (!key) {
    KASSA_TRY_ASSIGN(key, ReadSlot(static_cast<std::uint32_t>(FromBe64(value.subspan(0, kSlotRefBytes)))));
    Remember(id, *key);
  }
  if (!crypto::OpenInto(*key, SealAad(SealedTable::kCustomer, &id), value.subspan(kSlotRefBytes), plain).ok()) {
    return Status(StatusCode::kDataLoss, "storage corrupted: a sealed value does not open");
  }
  return Status::Ok();
}
Result<Bytes> Sealing::Seal(WriteTxn& txn, SealedTable table, const model::LocalId* owner, ByteView plain) {
  KASSA_CHECK(table != SealedTable::kCustomer);  // records: SealRecord
  if (!encrypted()) return Bytes(plain.begin(), plain.end());
  const Bytes aad = SealAad(table, owner);
  if (owner == nullptr) return crypto::Seal(*store_key_, aad, plain);
  KASSA_TRY_ASSIGN(const crypto::SecretKey key, DataKeyForWrite(txn, *owner));
  return crypto::Seal(key, aad, plain);
}

Result<Bytes> Sealing::Unseal(const ReadTxn& txn, SealedTable table, const model::LocalId* owner,
                              ByteView sealed) const {
  KASSA_CHECK(table != SealedTable::kCustomer);  // records: UnsealRecord
  if (!encrypted()) return Bytes(sealed.begin(), sealed.end());
  const Bytes aad = SealAad(table, owner);
  if (owner == nullptr) {
    auto plain = crypto::Open(*store_key_, aad, sealed);
    if (!plain.ok()) return Status(StatusCode::kDataLoss, "storage corrupted: a sealed value does not open");
    return plain;
  }
  KASSA_TRY_ASSIGN(const crypto::SecretKey key, DataKey(txn, *owner));
  auto plain = crypto::Open(key, aad, sealed);
  if (!plain.ok()) return Status(StatusCode::kDataLoss, "storage corrupted: a sealed value does not open");
  return plain;
}

Result<Bytes> Sealing::SealTagged(WriteTxn& txn, SealedTable table, const model::LocalId* owner, ByteView plain) {
  KASSA_TRY_ASSIGN(Bytes sealed, Seal(txn, table, owner, plain));
  if (!encrypted()) return sealed;
  Bytes tag{static_cast<std::uint8_t>(owner != nullptr ? 1 : 0)};
  if (owner != nullptr) tag.insert(tag.end(), owner->bytes.begin(), owner->bytes.end());
  sealed.insert(sealed.begin(), tag.begin(), tag.end());
  return sealed;
}

Result<Bytes> Sealing::UnsealTagged(const ReadTxn& txn, SealedTable table, ByteView value) const {
  if (!encrypted()) return Bytes(value.begin(), value.end());
  if (!value.empty() && value[0] == 0) return Unseal(txn, table, nullptr, value.subspan(1));
  if (value.size() < 1 + model::kLocalIdBytes || value[0] != 1) {
    return Status(StatusCode::kDataLoss, "storage corrupted: malformed sealed value");
  }
  model::LocalId owner;
  std::copy_n(value.begin() + 1, model::kLocalIdBytes, owner.bytes.begin());
  return Unseal(txn, table, &owner, value.subspan(1 + model::kLocalIdBytes));
}

std::string Sealing::IndexTerm(search::IndexKind kind, std::string_view term) const {
  if (!encrypted()) return std::string(term);
  return index_hash_->Apply(static_cast<std::uint8_t>(kind), term);
}

}  // namespace kassa::storage
