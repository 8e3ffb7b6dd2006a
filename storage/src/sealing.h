#pragma once

// Sealing: how a store's values and index terms rest on disk, shared by the
// terminal's CustomerStore and headquarters' LmdbChainStore.
//
// Encrypted (a KeyStore given, the default of both daemons):
//   a customer's record: its data key, wrapped (kWrappedKeyBytes), then
//                        crypto::Seal(that key, aad = table | id, plain):
//                        reading a record needs no other lookup, and
//                        creating one writes no other page
//   keys:  customer id (16)  -> a customer's data key, wrapped, while it has
//                               no record here (a timeline entry that came
//                               first); its record takes the same key
//          "index"           -> the index key, wrapped
//          "store"           -> the store key, wrapped
//   a wrapped key: master generation (4, big-endian) | crypto::Seal(master
//                  key, aad = "kassa key" | name | generation, key)
//   another value about a customer: crypto::Seal(the customer's data key,
//                          aad = table | customer id, plain)
//   any other value:       crypto::Seal(the store key, aad = table, plain)
//   an index term:         crypto::PrefixHash under the index key, the
//                          index kind as its domain
// Every value about one customer is sealed under that customer's own key:
// erasing the customer deletes the key with its record, and once the master
// key generation that wrapped it is retired, no copy left behind (old LMDB
// pages, backups) opens: crypto-shredding (docs/PRIVACY.md says what is
// built of it). The master key never enters the file.
//
// Plaintext (no KeyStore: unit tests and the benchmark's comparison
// column): values and terms stored as they are. A store written encrypted
// never opens in plaintext.
//
// Threading: safe from any thread (the data key cache has a lock); each
// call works inside its caller's transaction.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "kassa/crypto/aead.h"
#include "kassa/crypto/key_store.h"
#include "kassa/crypto/prefix_hash.h"
#include "kassa/model/customer.h"
#include "kassa/search/index.h"
#include "lmdb_txn.h"

namespace kassa::storage {

// Which table a sealed value belongs to: bound into it, so a value copied
// to another table (or another customer) does not open.
enum class SealedTable : std::uint8_t {
  kCustomer = 1,
  kOutbox = 2,
  kQuarantine = 3,
  kClienteling = 4,
  kChange = 5,
  kOutcome = 6,
  kSecret = 7,
};

class Sealing {
 public:
  // Plaintext.
  Sealing() = default;
  // Encrypted under the master key of `keys`.
  explicit Sealing(std::shared_ptr<crypto::KeyStore> keys) : key_store_(std::move(keys)) {}
  Sealing(const Sealing&) = delete;
  Sealing& operator=(const Sealing&) = delete;

  // Opens the keys table in `txn` (creating it and the store's index and
  // store keys when encrypted and new).
  //
  // Returns: kOk with true when the store had no keys before (new, or
  // written in plaintext by an earlier layout: the caller seals what is
  // there); kFailedPrecondition "data: ..." when a plaintext Sealing meets
  // an encrypted store; kDataLoss "data: ..." when the master key does not
  // open the store's keys (another key file).
  Result<bool> Init(WriteTxn& txn);

  bool encrypted() const { return key_store_ != nullptr; }

  // Where customers' records are (their data keys lead them); set by the
  // customer table once it is open.
  void AttachRecords(MDB_dbi customers) { records_ = customers; }

  // A customer's record as stored: its data key (the one it has, or a new
  // one) wrapped in front of the sealed `plain`.
  Result<Bytes> SealRecord(WriteTxn& txn, const model::LocalId& id, ByteView plain);
  // Returns: kOk; kDataLoss when the record does not open.
  Result<Bytes> UnsealRecord(const ReadTxn& txn, const model::LocalId& id, ByteView value) const;

  // Any other value. `owner`: the customer the value is about (its data key
  // seals it), or null for the store key. REQUIRES: table is not kCustomer.
  Result<Bytes> Seal(WriteTxn& txn, SealedTable table, const model::LocalId* owner, ByteView plain);
  // Returns: kOk; kDataLoss when the value does not open (its customer's
  // key is gone, or the bytes were changed).
  Result<Bytes> Unseal(const ReadTxn& txn, SealedTable table, const model::LocalId* owner, ByteView sealed) const;

  // Seal() with its owner written in front when encrypted (0, or 1 and the
  // customer id), for tables whose keys do not say whose a value is.
  Result<Bytes> SealTagged(WriteTxn& txn, SealedTable table, const model::LocalId* owner, ByteView plain);
  Result<Bytes> UnsealTagged(const ReadTxn& txn, SealedTable table, ByteView value) const;

  // The stored form of an index term of `kind`.
  std::string IndexTerm(search::IndexKind kind, std::string_view term) const;
  // Whether stored terms are the terms themselves (plaintext); otherwise a
  // match found on them is confirmed on the decrypted record.
  bool exact_terms() const { return !encrypted(); }

 private:
  Result<crypto::SecretKey> Unwrap(ByteView name, ByteView wrapped) const;
  Result<Bytes> Wrap(ByteView name, const crypto::SecretKey& key) const;
  // The wrapped key of customer `id`: in front of its record, or in keys.
  Result<std::optional<ByteView>> StoredKeyOf(const ReadTxn& txn, const model::LocalId& id) const;
  std::optional<crypto::SecretKey> Cached(const model::LocalId& id) const;
  Result<crypto::SecretKey> DataKey(const ReadTxn& txn, const model::LocalId& id) const;
  Result<crypto::SecretKey> DataKeyForWrite(WriteTxn& txn, const model::LocalId& id);
  void Remember(const model::LocalId& id, const crypto::SecretKey& key) const;

  // generation (4) | algorithm (1) | nonce | key | tag
  static constexpr std::size_t kWrappedKeyBytes = 4 + crypto::kSealOverhead + crypto::SecretKey::kBytes;

  std::shared_ptr<crypto::KeyStore> key_store_;
  MDB_dbi keys_ = 0;
  MDB_dbi records_ = 0;
  std::optional<crypto::SecretKey> store_key_;
  std::unique_ptr<crypto::PrefixHash> index_hash_;

  // Unwrapped data keys of recently used customers, direct-mapped by id (ids
  // are random): a busy counter opens the same few customers again and
  // again. 4096 slots, 200 KB.
  static constexpr std::size_t kCachedKeys = 4096;
  struct CachedKey {
    model::LocalId id;
    crypto::SecretKey key;
    bool used = false;
  };
  static std::size_t SlotOf(const model::LocalId& id);
  mutable std::mutex cache_mutex_;
  mutable std::unique_ptr<CachedKey[]> cache_ = std::make_unique<CachedKey[]>(kCachedKeys);
};

}  // namespace kassa::storage
