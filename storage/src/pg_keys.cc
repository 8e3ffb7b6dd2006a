#include "pg_keys.h"


#include "kassa/base/log.h"
#include "kassa/crypto/sha256.h"

namespace kassa::storage {
namespace {

constexpr std::string_view kTagLabel = "kassa unique tag";

ByteView IdBytes(const model::LocalId& id) { return ByteView(id.bytes.data(), id.bytes.size()); }

}  // namespace

std::size_t PgKeys::IdHash::operator()(const model::LocalId& id) const {
  return static_cast<std::size_t>(id.Hash());
}

Status PgKeys::Init(PgConn& db) {
  KASSA_TRY_ASSIGN(const PgRows sealed, db.Exec("SELECT value FROM settings WHERE name = 'sealed'"));
  const std::string want = encrypted() ? "yes" : "no";
  if (sealed.size() == 0) {
    KASSA_TRY(db.Exec("INSERT INTO settings (name, value) VALUES ('sealed', $1)", {PgParam::Text(want)}).status());
  } else if (sealed.Text(0, 0) != want) {
    if (!encrypted()) {
      KASSA_LOG(kError) << "the database is sealed and no key file was given";
      return Status(StatusCode::kFailedPrecondition, "data: the store is encrypted; its key file is needed");
    }
    return Status(StatusCode::kFailedPrecondition, "data: a plaintext database cannot be sealed");
  }
  if (!encrypted()) return Status::Ok();
  const auto load = [&](std::string_view name) -> Result<crypto::SecretKey> {
    KASSA_TRY_ASSIGN(const PgRows rows,
                     db.Exec("SELECT wrapped FROM store_keys WHERE name = $1", {PgParam::Text(name)}));
    if (rows.size() == 1) return UnwrapKey(*key_store_, AsBytes(name), rows.Bytes(0, 0));
    KASSA_TRY_ASSIGN(crypto::SecretKey key, crypto::SecretKey::Random());
    KASSA_TRY_ASSIGN(const Bytes wrapped, WrapKey(*key_store_, AsBytes(name), key));
    KASSA_TRY(db.Exec("INSERT INTO store_keys (name, wrapped) VALUES ($1, $2)",
                      {PgParam::Text(name), PgParam::Bytea(wrapped)})
                  .status());
    return key;
  };
  KASSA_TRY_ASSIGN(store_key_, load(kStoreKeyName));
  KASSA_TRY_ASSIGN(const crypto::SecretKey index_key, load(kIndexKeyName));
  index_hash_ = std::make_unique<crypto::PrefixHash>(index_key);
  const crypto::Digest tag = crypto::HmacSha256(index_key.view(), AsBytes(kTagLabel));
  tag_key_.emplace(ByteView(tag.data(), tag.size()));
  return Status::Ok();
}

Result<crypto::SecretKey> PgKeys::DataKey(PgConn& db, const model::LocalId& id, bool create) {
  if (const auto it = cache_.find(id); it != cache_.end()) return it->second;
  if (const auto it = made_.find(id); it != made_.end()) return it->second;
  if (absent_.contains(id)) {
    if (!create) return Status(StatusCode::kNotFound, "customer: its data key is gone (erased)");
    return MakeKey(id);
  }
  KASSA_TRY_ASSIGN(const PgRows rows,
                   db.Exec("SELECT wrapped FROM customer_keys WHERE customer_id = $1", {PgParam::Bytea(IdBytes(id))}));
  if (rows.size() == 1) {
    KASSA_TRY_ASSIGN(crypto::SecretKey key, UnwrapKey(*key_store_, IdBytes(id), rows.Bytes(0, 0)));
    if (cache_.size() >= kCached) cache_.clear();
    cache_.emplace(id, key);
    return key;
  }
  if (!create) return Status(StatusCode::kNotFound, "customer: its data key is gone (erased)");
  return MakeKey(id);
}

Result<crypto::SecretKey> PgKeys::MakeKey(const model::LocalId& id) {
  KASSA_TRY_ASSIGN(crypto::SecretKey key, crypto::SecretKey::Random());
  KASSA_TRY_ASSIGN(Bytes wrapped, WrapKey(*key_store_, IdBytes(id), key));
  unwritten_.emplace_back(id, std::move(wrapped));
  made_.emplace(id, key);
  absent_.erase(id);
  return key;
}

void PgKeys::RememberAbsent(const model::LocalId& id) {
  if (encrypted() && !cache_.contains(id) && !made_.contains(id)) absent_[id] = true;
}

Result<Bytes> PgKeys::Seal(PgConn& db, SealedTable table, const model::LocalId* owner, ByteView plain) {
  if (!encrypted()) return Bytes(plain.begin(), plain.end());
  const Bytes aad = SealAad(table, owner);
  if (owner == nullptr) return crypto::Seal(*store_key_, aad, plain);
  KASSA_TRY_ASSIGN(const crypto::SecretKey key, DataKey(db, *owner, /*create=*/true));
  return crypto::Seal(key, aad, plain);
}

Result<Bytes> PgKeys::Unseal(PgConn& db, SealedTable table, const model::LocalId* owner, ByteView sealed) {
  if (!encrypted()) return Bytes(sealed.begin(), sealed.end());
  const Bytes aad = SealAad(table, owner);
  Result<Bytes> plain = Status(StatusCode::kInternal, "unreachable");
  if (owner == nullptr) {
    plain = crypto::Open(*store_key_, aad, sealed);
  } else {
    KASSA_TRY_ASSIGN(const crypto::SecretKey key, DataKey(db, *owner, /*create=*/false));
    plain = crypto::Open(key, aad, sealed);
  }
  if (!plain.ok()) return Status(StatusCode::kDataLoss, "storage corrupted: a sealed value does not open");
  return plain;
}

Status PgKeys::Shred(PgConn& db, const model::LocalId& id) {
  cache_.erase(id);
  absent_.erase(id);
  made_.erase(id);
  std::erase_if(unwritten_, [&](const auto& k) { return k.first == id; });
  if (!encrypted()) return Status::Ok();
  return db.Exec("DELETE FROM customer_keys WHERE customer_id = $1", {PgParam::Bytea(IdBytes(id))}).status();
}

std::string PgKeys::IndexTerm(search::IndexKind kind, std::string_view term) const {
  if (!encrypted()) return std::string(term);
  return index_hash_->Apply(static_cast<std::uint8_t>(kind), term);
}

Bytes PgKeys::UniqueTag(search::IndexKind kind, std::string_view term) const {
  Bytes message{static_cast<std::uint8_t>(kind)};
  message.insert(message.end(), term.begin(), term.end());
  if (!encrypted()) return message;
  const crypto::Digest tag = crypto::HmacSha256(tag_key_->view(), message);
  return Bytes(tag.begin(), tag.end());
}

Status PgKeys::Remember(const model::LocalId& id, ByteView wrapped) {
  if (!encrypted() || cache_.contains(id)) return Status::Ok();
  KASSA_TRY_ASSIGN(crypto::SecretKey key, UnwrapKey(*key_store_, IdBytes(id), wrapped));
  if (cache_.size() >= kCached) cache_.clear();
  cache_.emplace(id, std::move(key));
  return Status::Ok();
}

Status PgKeys::WriteMade(PgConn& db) {
  if (unwritten_.empty()) return Status::Ok();
  PgCopyRows rows;
  for (const auto& [id, wrapped] : unwritten_) rows.Row(2).Bytes(IdBytes(id)).Bytes(wrapped);
  KASSA_TRY(db.Copy("customer_keys (customer_id, wrapped)", rows));
  unwritten_.clear();
  return Status::Ok();
}

void PgKeys::Committed() {
  KASSA_CHECK(unwritten_.empty());  // WriteMade() before the commit, or the keys would be lost
  for (auto& [id, key] : made_) {
    if (cache_.size() >= kCached) cache_.clear();
    cache_.insert_or_assign(id, key);
  }
  made_.clear();
  absent_.clear();
}

void PgKeys::RolledBack() {
  made_.clear();
  unwritten_.clear();
  absent_.clear();
}

Result<RewrapBatch> PgKeys::Rewrap(PgConn& db, std::uint32_t from, std::uint32_t max) {
  KASSA_CHECK(encrypted());
  KASSA_TRY_ASSIGN(const crypto::MasterKey current, key_store_->Current());
  RewrapBatch batch;
  if (from == 0) {
    KASSA_TRY_ASSIGN(const PgRows own, db.Exec("SELECT name, wrapped FROM store_keys ORDER BY name"));
    for (int r = 0; r < own.size(); ++r) {
      if (WrappedGeneration(own.Bytes(r, 1)) == current.generation) continue;
      KASSA_TRY_ASSIGN(const crypto::SecretKey key, UnwrapKey(*key_store_, own.Bytes(r, 0), own.Bytes(r, 1)));
      KASSA_TRY_ASSIGN(const Bytes again, WrapKey(*key_store_, own.Bytes(r, 0), key));
      KASSA_TRY(db.Exec("UPDATE store_keys SET wrapped = $2 WHERE name = $1",
                        {PgParam::Bytea(own.Bytes(r, 0)), PgParam::Bytea(again)})
                    .status());
      ++batch.rewrapped;
    }
  }
  KASSA_TRY_ASSIGN(const PgRows last, db.Exec("SELECT coalesce(max(n), 0) FROM customer_keys"));
  batch.slots = static_cast<std::uint32_t>(last.Int(0, 0));
  KASSA_TRY_ASSIGN(const PgRows rows,
                   db.Exec("SELECT n, customer_id, wrapped FROM customer_keys WHERE n >= $1 AND n < $2 ORDER BY n",
                           {PgParam::Int(from), PgParam::Int(std::int64_t{from} + max)}));
  for (int r = 0; r < rows.size(); ++r) {
    if (WrappedGeneration(rows.Bytes(r, 2)) == current.generation) continue;
    KASSA_TRY_ASSIGN(const crypto::SecretKey key, UnwrapKey(*key_store_, rows.Bytes(r, 1), rows.Bytes(r, 2)));
    KASSA_TRY_ASSIGN(const Bytes again, WrapKey(*key_store_, rows.Bytes(r, 1), key));
    KASSA_TRY(db.Exec("UPDATE customer_keys SET wrapped = $2 WHERE n = $1",
                      {PgParam::Int(rows.Int(r, 0)), PgParam::Bytea(again)})
                  .status());
    ++batch.rewrapped;
  }
  batch.next = static_cast<std::uint32_t>(std::min<std::uint64_t>(std::uint64_t{from} + max, batch.slots + 1ULL));
  batch.done = batch.next > batch.slots;
  return batch;
}

}  // namespace kassa::storage
