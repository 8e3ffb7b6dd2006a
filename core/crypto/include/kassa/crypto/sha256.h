#pragma once

// SHA-256, HMAC-SHA-256 and PBKDF2-HMAC-SHA-256 from OpenSSL's libcrypto
// (the same Debian library the link's TLS uses), and random bytes from its
// generator. Only what kassa needs, behind Status: OpenSSL's own types and
// error queue stay in core/crypto/src.
//
// Threading: every function is safe to call from any thread.

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "kassa/base/bytes.h"
#include "kassa/base/status.h"

namespace kassa::crypto {

using Digest = std::array<std::uint8_t, 32>;

// An incremental SHA-256.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(ByteView data);
  // The digest of everything given; the object is spent afterwards.
  Digest Finish();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

Digest Sha256Of(ByteView data);
Digest HmacSha256(ByteView key, ByteView message);

// Derives `out.size()` bytes.
// Returns: kOk; kInvalidArgument when `iterations` is 0 or `out` is empty;
// kInternal when OpenSSL fails (out of memory).
Status Pbkdf2HmacSha256(ByteView password, ByteView salt, std::uint32_t iterations, std::span<std::uint8_t> out);

// Fills `out` from OpenSSL's generator (seeded by the kernel); requests of
// up to 64 bytes from a per-thread pool of its output (never shared with a
// forked child). Thread-safe.
// Returns: kOk; kUnavailable when the generator cannot be seeded.
Status RandomBytes(std::span<std::uint8_t> out);

// Whether `a` and `b` are equal, in time that depends only on their sizes.
bool ConstantTimeEqual(ByteView a, ByteView b);

}  // namespace kassa::crypto
