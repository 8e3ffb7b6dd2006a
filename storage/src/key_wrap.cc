#include "key_wrap.h"

#include <algorithm>

#include "kassa/base/log.h"

namespace kassa::storage {
namespace {

constexpr std::string_view kWrapLabel = "kassa key";

Bytes WrapAad(ByteView name, ByteView generation) {
  Bytes aad(kWrapLabel.begin(), kWrapLabel.end());
  aad.insert(aad.end(), name.begin(), name.end());
  aad.insert(aad.end(), generation.begin(), generation.end());
  return aad;
}

}  // namespace

Bytes SealAad(SealedTable table, const model::LocalId* owner) {
  Bytes aad(owner != nullptr ? 1 + owner->bytes.size() : 1);
  aad[0] = static_cast<std::uint8_t>(table);
  if (owner != nullptr) std::copy(owner->bytes.begin(), owner->bytes.end(), aad.begin() + 1);
  return aad;
}

Result<Bytes> WrapKey(crypto::KeyStore& keys, ByteView name, const crypto::SecretKey& key) {
  KASSA_TRY_ASSIGN(const crypto::MasterKey master, keys.Current());
  const std::uint8_t tail_bytes[4] = {static_cast<std::uint8_t>(master.generation >> 24),
                                      static_cast<std::uint8_t>(master.generation >> 16),
                                      static_cast<std::uint8_t>(master.generation >> 8),
                                      static_cast<std::uint8_t>(master.generation)};
  const ByteView tail(tail_bytes, 4);
  KASSA_TRY_ASSIGN(Bytes sealed, crypto::Seal(master.key, WrapAad(name, tail), key.view()));
  sealed.insert(sealed.begin(), tail.begin(), tail.end());
  return sealed;
}

std::uint32_t WrappedGeneration(ByteView wrapped) {
  if (wrapped.size() < 4) return 0;
  return std::uint32_t{wrapped[0]} << 24 | std::uint32_t{wrapped[1]} << 16 | std::uint32_t{wrapped[2]} << 8 |
         std::uint32_t{wrapped[3]};
}

Result<crypto::SecretKey> UnwrapKey(crypto::KeyStore& keys, ByteView name, ByteView wrapped) {
  if (wrapped.size() < 4) return Status(StatusCode::kDataLoss, "storage corrupted: malformed key");
  const std::uint32_t generation = WrappedGeneration(wrapped);
  auto master = keys.Find(generation);
  if (!master.ok()) {
    KASSA_LOG_THROTTLED("a key of this store is wrapped under master key generation "
                        << generation << ", which " << keys.Describe() << " does not hold");
    return Status(StatusCode::kDataLoss, "data: the master key of this store is not in its key file");
  }
  auto key = crypto::Open(master->key, WrapAad(name, wrapped.subspan(0, 4)), wrapped.subspan(4));
  if (!key.ok() || key->size() != crypto::SecretKey::kBytes) {
    KASSA_LOG_THROTTLED("a key of this store does not open with " << keys.Describe() << " (another store's key file?)");
    return Status(StatusCode::kDataLoss, "data: the key file does not open this store");
  }
  crypto::SecretKey out(*key);
  crypto::Wipe(key->data(), key->size());
  return out;
}

}  // namespace kassa::storage
