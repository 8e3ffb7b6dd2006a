#pragma once

// SHA-256 (FIPS 180-4), HMAC-SHA-256 (RFC 2104) and PBKDF2-HMAC-SHA-256
// (RFC 8018): what operator PINs need, without a crypto library on the
// board. Tested against the published vectors (tests/model).

#include <array>
#include <cstdint>

#include "kassa/base/bytes.h"

namespace kassa::crypto {

using Digest = std::array<std::uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  void Update(ByteView data);
  Digest Finish();

 private:
  void Block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_{};
  std::size_t used_ = 0;
  std::uint64_t total_ = 0;
};

Digest Sha256Of(ByteView data);
Digest HmacSha256(ByteView key, ByteView message);
// Derives `out.size()` bytes.
void Pbkdf2HmacSha256(ByteView password, ByteView salt, std::uint32_t iterations, std::span<std::uint8_t> out);

}  // namespace kassa::crypto
