#pragma once

// PgKeys: how headquarters' PostgreSQL store seals what it keeps, the
// PostgreSQL twin of Sealing (sealing.h), with the same formats (key_wrap.h):
//
//   store_keys "index", "store":  the index key and the store key, wrapped
//                                 under the master key (kassa-hq's key file)
//   customer_keys:                one data key per customer, wrapped
//   a customer's record, and every value about one customer: crypto::Seal
//                 under its data key, aad = table | customer id
//   any other value:  crypto::Seal under the store key, aad = table
//   a search term:    crypto::PrefixHash under the index key (prefixes kept)
//   a unique tag:     HMAC-SHA-256 of kind | term under a key derived from
//                     the index key: equal terms, equal tags, nothing else
//                     shared (unique account numbers and loyalty cards)
//
// Shred() deletes the customer's key row: from its commit on, nothing
// sealed under it opens, in the database or in any dump made afterwards.
// A dump or base backup made before still holds the wrapped key (and the
// data): an erasure reaches those when they age out (docs/PRIVACY.md).
//
// Plaintext (no KeyStore: unit tests, benchmarks' comparison column):
// values, terms and tags as they are. A sealed database never opens in
// plaintext, nor the reverse.
//
// Threading: one thread (the store's). Private to kassa::storage.

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "kassa/crypto/aead.h"
#include "kassa/crypto/key_store.h"
#include "kassa/crypto/prefix_hash.h"
#include "kassa/model/ids.h"
#include "kassa/search/index.h"
#include "kassa/storage/key_rotation.h"
#include "key_wrap.h"
#include "pg_conn.h"

namespace kassa::storage {

class PgKeys {
 public:
  PgKeys() = default;  // plaintext
  explicit PgKeys(std::shared_ptr<crypto::KeyStore> keys) : key_store_(std::move(keys)) {}

  // Reads (or, in a new database, makes) the store's keys, inside the
  // caller's transaction.
  // Returns: kOk; kFailedPrecondition "data: ..." when the database is sealed
  // and no key file was given, or the reverse; kDataLoss "data: ..." when
  // the key file does not open it.
  Status Init(PgConn& db);
  bool encrypted() const { return key_store_ != nullptr; }

  // `plain` sealed for `table`, under `owner`'s data key (made on first use)
  // or the store key (owner null).
  Result<Bytes> Seal(PgConn& db, SealedTable table, const model::LocalId* owner, ByteView plain);
  // Returns: kOk; kNotFound "customer: ..." when the owner's key is gone
  // (erased); kDataLoss when the bytes were changed.
  Result<Bytes> Unseal(PgConn& db, SealedTable table, const model::LocalId* owner, ByteView sealed);

  // Deletes customer `id`'s data key (no error when it has none).
  Status Shred(PgConn& db, const model::LocalId& id);

  std::string IndexTerm(search::IndexKind kind, std::string_view term) const;
  Bytes UniqueTag(search::IndexKind kind, std::string_view term) const;

  // Customer `id`'s key as read with its record (a prefetch): kept for
  // Seal/Unseal. Returns UnwrapKey's errors.
  Status Remember(const model::LocalId& id, ByteView wrapped);
  // Customer `id` has no key in the database (a prefetch found none): the
  // first Seal for it makes one without looking.
  void RememberAbsent(const model::LocalId& id);

  // Writes the keys made in this transaction (in one statement); call
  // before committing it.
  Status WriteMade(PgConn& db);
  // The transaction around the calls above committed, or rolled back: keys
  // made in it are remembered, or forgotten.
  void Committed();
  void RolledBack();

  // Master key rotation, one batch of customer keys (by their row number),
  // the store's keys with the first. REQUIRES: encrypted().
  Result<RewrapBatch> Rewrap(PgConn& db, std::uint32_t from, std::uint32_t max);

 private:
  Result<crypto::SecretKey> DataKey(PgConn& db, const model::LocalId& id, bool create);
  Result<crypto::SecretKey> MakeKey(const model::LocalId& id);

  std::shared_ptr<crypto::KeyStore> key_store_;
  std::optional<crypto::SecretKey> store_key_;
  std::optional<crypto::SecretKey> tag_key_;
  std::unique_ptr<crypto::PrefixHash> index_hash_;
  struct IdHash {
    std::size_t operator()(const model::LocalId& id) const;
  };
  // Data keys read back or made, by customer; those made in the open
  // transaction wait in made_ until it commits. Bounded: cleared at kCached.
  static constexpr std::size_t kCached = 4096;
  std::unordered_map<model::LocalId, crypto::SecretKey, IdHash> cache_;
  std::unordered_map<model::LocalId, crypto::SecretKey, IdHash> made_;
  std::vector<std::pair<model::LocalId, Bytes>> unwritten_;  // made_'s keys, wrapped, until WriteMade
  std::unordered_map<model::LocalId, bool, IdHash> absent_;   // known to have no key (this transaction)
};

}  // namespace kassa::storage
