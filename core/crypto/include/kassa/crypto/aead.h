#pragma once

// Authenticated encryption of stored values and the keys that seal them,
// from OpenSSL's libcrypto (AES-256-GCM, ChaCha20-Poly1305).
//
// A sealed value is self-describing:
//   algorithm (1) | nonce (12, random) | ciphertext | tag (16)
// so values sealed with either algorithm open on any build. The nonce is
// random: at 2^32 values under one key the chance of a repeat is about
// 2^-33; a store rotates long before (docs/PRIVACY.md).
//
// Threading: every function is safe from any thread (each thread keeps its
// own cipher context).

#include <array>
#include <cstddef>
#include <cstdint>

#include "kassa/base/bytes.h"
#include "kassa/base/status.h"

namespace kassa::crypto {

// 32 bytes of key material, wiped when destroyed.
class SecretKey {
 public:
  static constexpr std::size_t kBytes = 32;
  SecretKey() = default;
  explicit SecretKey(ByteView bytes);  // REQUIRES: bytes.size() == kBytes
  SecretKey(const SecretKey&) = default;
  SecretKey& operator=(const SecretKey&) = default;
  ~SecretKey();

  // A new random key. Returns kUnavailable when the random source fails.
  static Result<SecretKey> Random();

  ByteView view() const { return ByteView(bytes_.data(), bytes_.size()); }
  const std::uint8_t* data() const { return bytes_.data(); }

 private:
  std::array<std::uint8_t, kBytes> bytes_{};
};

enum class AeadAlgorithm : std::uint8_t {
  kAes256Gcm = 1,
  kChaCha20Poly1305 = 2,
};

// What new values are sealed with on this build: AES-256-GCM where the
// cores have AES instructions (x86-64, ARMv8), ChaCha20-Poly1305 on 32-bit
// ARM, whose cores usually have none (it is 3-4x faster there in software).
AeadAlgorithm DefaultAead();

inline constexpr std::size_t kNonceBytes = 12;
inline constexpr std::size_t kTagBytes = 16;
inline constexpr std::size_t kSealOverhead = 1 + kNonceBytes + kTagBytes;

// Seals `plain` under `key`, binding `aad` (not stored: the reader gives it
// again, so a value moved to another place does not open).
// Returns: kOk; kUnavailable when the random source fails; kInternal when
// OpenSSL fails.
Result<Bytes> Seal(const SecretKey& key, ByteView aad, ByteView plain, AeadAlgorithm algorithm = DefaultAead());

// Returns: kOk with the plaintext; kDataLoss "sealed value: ..." when it is
// malformed, of an unknown algorithm, or fails authentication (another key,
// another `aad`, or changed bytes).
Result<Bytes> Open(const SecretKey& key, ByteView aad, ByteView sealed);
// The same into `out` (resized; its capacity kept, so a reader of many
// values allocates once); on failure `out` is left wiped and empty.
Status OpenInto(const SecretKey& key, ByteView aad, ByteView sealed, Bytes& out);

// Overwrites `bytes` with zeros in a way the compiler keeps.
void Wipe(std::uint8_t* bytes, std::size_t size);

}  // namespace kassa::crypto
