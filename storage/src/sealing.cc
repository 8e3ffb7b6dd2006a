#include "sealing.h"

#include <algorithm>
#include <cstring>

#include "kassa/base/log.h"

namespace kassa::storage {
namespace {

constexpr std::string_view kIndexKeyName = "index";
constexpr std::string_view kStoreKeyName = "store";
constexpr std::string_view kWrapLabel = "kassa key";

Bytes Aad(SealedTable table, const model::LocalId* owner) {
  Bytes aad{static_cast<std::uint8_t>(table)};
  if (owner != nullptr) aad.insert(aad.end(), owner->bytes.begin(), owner->bytes.end());
  return aad;
}

ByteView NameOf(const model::LocalId& id) { return ByteView(id.bytes.data(), id.bytes.size()); }

}  // namespace

std::size_t Sealing::SlotOf(const model::LocalId& id) {
  std::uint32_t h = 0;
  std::memcpy(&h, id.bytes.data(), sizeof h);  // ids are random
  return h % kCachedKeys;
}

Result<Bytes> Sealing::Wrap(ByteView name, const crypto::SecretKey& key) const {
  KASSA_TRY_ASSIGN(const crypto::MasterKey master, key_store_->Current());
  const Key8 generation = Be64(master.generation);
  Bytes aad(kWrapLabel.begin(), kWrapLabel.end());
  aad.insert(aad.end(), name.begin(), name.end());
  aad.insert(aad.end(), generation.begin() + 4, generation.end());
  KASSA_TRY_ASSIGN(Bytes sealed, crypto::Seal(master.key, aad, key.view()));
  sealed.insert(sealed.begin(), generation.begin() + 4, generation.end());
  return sealed;
}

Result<crypto::SecretKey> Sealing::Unwrap(ByteView name, ByteView wrapped) const {
  if (wrapped.size() < 4) return Status(StatusCode::kDataLoss, "storage corrupted: malformed key");
  const std::uint32_t generation = static_cast<std::uint32_t>(wrapped[0]) << 24 |
                                   static_cast<std::uint32_t>(wrapped[1]) << 16 |
                                   static_cast<std::uint32_t>(wrapped[2]) << 8 | wrapped[3];
  auto master = key_store_->Find(generation);
  if (!master.ok()) {
    KASSA_LOG_THROTTLED("a key of this store is wrapped under master key generation "
                        << generation << ", which " << key_store_->Describe() << " does not hold");
    return Status(StatusCode::kDataLoss, "data: the master key of this store is not in its key file");
  }
  Bytes aad(kWrapLabel.begin(), kWrapLabel.end());
  aad.insert(aad.end(), name.begin(), name.end());
  aad.insert(aad.end(), wrapped.begin(), wrapped.begin() + 4);
  auto key = crypto::Open(master->key, aad, wrapped.subspan(4));
  if (!key.ok() || key->size() != crypto::SecretKey::kBytes) {
    KASSA_LOG_THROTTLED("a key of this store does not open with " << key_store_->Describe()
                        << " (another store's key file?)");
    return Status(StatusCode::kDataLoss, "data: the key file does not open this store");
  }
  crypto::SecretKey out(*key);
  crypto::Wipe(key->data(), key->size());
  return out;
}

Result<bool> Sealing::Init(WriteTxn& txn) {
  if (!encrypted()) {
    const int rc = mdb_dbi_open(txn.get(), "keys", 0, &keys_);
    if (rc == MDB_NOTFOUND) return true;
    KASSA_TRY(FromMdb(rc, "dbi keys"));
    KASSA_TRY_ASSIGN(const std::size_t n, txn.Count(keys_));
    if (n == 0) return true;
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
  return fresh;
}

void Sealing::Remember(const model::LocalId& id, const crypto::SecretKey& key) const {
  std::lock_guard lock(cache_mutex_);
  CachedKey& slot = cache_[SlotOf(id)];
  slot.id = id;
  slot.key = key;
  slot.used = true;
}

Result<std::optional<ByteView>> Sealing::StoredKeyOf(const ReadTxn& txn, const model::LocalId& id) const {
  auto record = txn.Get(records_, NameOf(id));
  if (record.ok()) {
    if (record->size() < kWrappedKeyBytes) return Status(StatusCode::kDataLoss, "storage corrupted: malformed record");
    return std::optional<ByteView>(record->subspan(0, kWrappedKeyBytes));
  }
  if (record.status().code() != StatusCode::kNotFound) return record.status();
  auto wrapped = txn.Get(keys_, NameOf(id));
  if (wrapped.ok()) return std::optional<ByteView>(*wrapped);
  if (wrapped.status().code() != StatusCode::kNotFound) return wrapped.status();
  return std::optional<ByteView>();
}

std::optional<crypto::SecretKey> Sealing::Cached(const model::LocalId& id) const {
  std::lock_guard lock(cache_mutex_);
  if (const CachedKey& slot = cache_[SlotOf(id)]; slot.used && slot.id == id) return slot.key;
  return std::nullopt;
}

Result<crypto::SecretKey> Sealing::DataKey(const ReadTxn& txn, const model::LocalId& id) const {
  if (auto key = Cached(id)) return std::move(*key);
  KASSA_TRY_ASSIGN(const auto wrapped, StoredKeyOf(txn, id));
  if (!wrapped) return Status(StatusCode::kDataLoss, "data: the customer's key is gone (erased)");
  KASSA_TRY_ASSIGN(crypto::SecretKey key, Unwrap(NameOf(id), *wrapped));
  Remember(id, key);
  return key;
}

Result<crypto::SecretKey> Sealing::DataKeyForWrite(WriteTxn& txn, const model::LocalId& id) {
  // The tables decide whether the customer has a key (a key made in a
  // transaction that was then aborted may linger in the cache).
  KASSA_TRY_ASSIGN(const auto wrapped, StoredKeyOf(txn, id));
  if (wrapped) return DataKey(txn, id);
  // No record yet (a timeline entry that arrived before its customer): the
  // key waits in "keys", and the record takes it when it comes.
  KASSA_TRY_ASSIGN(crypto::SecretKey key, crypto::SecretKey::Random());
  KASSA_TRY_ASSIGN(const Bytes w, Wrap(NameOf(id), key));
  KASSA_TRY(txn.Put(keys_, NameOf(id), w));
  Remember(id, key);
  return key;
}

Result<Bytes> Sealing::SealRecord(WriteTxn& txn, const model::LocalId& id, ByteView plain) {
  if (!encrypted()) return Bytes(plain.begin(), plain.end());
  Bytes record;
  std::optional<crypto::SecretKey> key;
  KASSA_TRY_ASSIGN(const auto wrapped, StoredKeyOf(txn, id));
  if (wrapped) {
    record.assign(wrapped->begin(), wrapped->end());
    KASSA_TRY_ASSIGN(key, DataKey(txn, id));
  } else {
    KASSA_TRY_ASSIGN(key, crypto::SecretKey::Random());
    KASSA_TRY_ASSIGN(record, Wrap(NameOf(id), *key));
    Remember(id, *key);
  }
  KASSA_TRY_ASSIGN(const Bytes body, crypto::Seal(*key, Aad(SealedTable::kCustomer, &id), plain));
  record.insert(record.end(), body.begin(), body.end());
  return record;
}

Result<Bytes> Sealing::UnsealRecord(const ReadTxn& txn, const model::LocalId& id, ByteView value) const {
  (void)txn;
  if (!encrypted()) return Bytes(value.begin(), value.end());
  if (value.size() < kWrappedKeyBytes) return Status(StatusCode::kDataLoss, "storage corrupted: malformed record");
  std::optional<crypto::SecretKey> key = Cached(id);
  if (!key) {
    KASSA_TRY_ASSIGN(key, Unwrap(NameOf(id), value.subspan(0, kWrappedKeyBytes)));
    Remember(id, *key);
  }
  auto plain = crypto::Open(*key, Aad(SealedTable::kCustomer, &id), value.subspan(kWrappedKeyBytes));
  if (!plain.ok()) return Status(StatusCode::kDataLoss, "storage corrupted: a sealed value does not open");
  return plain;
}

Result<Bytes> Sealing::Seal(WriteTxn& txn, SealedTable table, const model::LocalId* owner, ByteView plain) {
  KASSA_CHECK(table != SealedTable::kCustomer);  // records: SealRecord
  if (!encrypted()) return Bytes(plain.begin(), plain.end());
  const Bytes aad = Aad(table, owner);
  if (owner == nullptr) return crypto::Seal(*store_key_, aad, plain);
  KASSA_TRY_ASSIGN(const crypto::SecretKey key, DataKeyForWrite(txn, *owner));
  return crypto::Seal(key, aad, plain);
}

Result<Bytes> Sealing::Unseal(const ReadTxn& txn, SealedTable table, const model::LocalId* owner,
                              ByteView sealed) const {
  KASSA_CHECK(table != SealedTable::kCustomer);  // records: UnsealRecord
  if (!encrypted()) return Bytes(sealed.begin(), sealed.end());
  const Bytes aad = Aad(table, owner);
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
