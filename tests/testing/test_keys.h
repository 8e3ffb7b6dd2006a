#pragma once

// A master key held in memory for one test's stores: sealed at rest, as
// the daemons always are, without a key file.

#include <memory>

#include "kassa/crypto/key_store.h"

namespace kassa::testing {

inline std::shared_ptr<crypto::KeyStore> TestKeys() {
  return std::make_shared<crypto::MemoryKeyStore>(*crypto::SecretKey::Random());
}

}  // namespace kassa::testing
