#pragma once

// How both kinds of headquarters store and the terminal's store wrap a key
// under the master key, and what a sealed value is bound to. Shared by
// Sealing (LMDB, sealing.h) and PgKeys (PostgreSQL, pg_keys.h) so a key
// wrapped by one opens in the other (kassa-hq migrate copies them).
//
//   a wrapped key: master generation (4, big-endian) | crypto::Seal(master
//                  key, aad = "kassa key" | name | generation, key)
//   a sealed value's aad: table (1) | the customer's id (16) when it is
//                  about one
//
// Private to kassa::storage.

#include <cstdint>
#include <string_view>

#include "kassa/base/bytes.h"
#include "kassa/base/status.h"
#include "kassa/crypto/aead.h"
#include "kassa/crypto/key_store.h"
#include "kassa/model/ids.h"

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
  kAccessEvent = 8,
};

// The additional data a value of `table` about `owner` (null: none) is sealed with.
Bytes SealAad(SealedTable table, const model::LocalId* owner);

// `key` wrapped under the current master key of `keys`, bound to `name`.
Result<Bytes> WrapKey(crypto::KeyStore& keys, ByteView name, const crypto::SecretKey& key);
// Returns: kOk; kDataLoss "data: ..." when the generation is not in `keys`
// or the key does not open (another key file), or malformed.
Result<crypto::SecretKey> UnwrapKey(crypto::KeyStore& keys, ByteView name, ByteView wrapped);
// The master key generation `wrapped` is under (0 when malformed).
std::uint32_t WrappedGeneration(ByteView wrapped);

// The names a store's own keys are wrapped under.
inline constexpr std::string_view kIndexKeyName = "index";
inline constexpr std::string_view kStoreKeyName = "store";

// generation (4) | algorithm (1) | nonce | key | tag
inline constexpr std::size_t kWrappedKeyBytes = 4 + crypto::kSealOverhead + crypto::SecretKey::kBytes;

}  // namespace kassa::storage
