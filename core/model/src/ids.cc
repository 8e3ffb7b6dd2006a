#include "kassa/model/ids.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <span>

#include "kassa/base/bytes.h"

namespace kassa::model {

bool LocalId::is_zero() const {
  for (auto b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

std::uint64_t LocalId::Hash() const {
  std::uint64_t h = 0;
  std::memcpy(&h, bytes.data() + 8, sizeof h);
  // splitmix64's finalizer
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
  return h ^ (h >> 31);
}

std::string LocalId::ToHex() const { return HexOf(bytes); }

std::optional<LocalId> LocalId::FromHex(std::string_view hex) {
  if (hex.size() != kLocalIdBytes * 2) return std::nullopt;
  const auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  LocalId id;
  for (std::size_t i = 0; i < kLocalIdBytes; ++i) {
    const int hi = nibble(hex[2 * i]);
    const int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id.bytes[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return id;
}

namespace {

// Fills `out` from the kernel's CSPRNG.
Status FillRandom(std::span<std::uint8_t> out) {
  std::size_t filled = 0;
  while (filled < out.size()) {
    const ssize_t n = getrandom(out.data() + filled, out.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status(StatusCode::kUnavailable, "random source unavailable");
    }
    filled += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

LocalId LocalId::Version7(std::int64_t unix_ms, const std::array<std::uint8_t, 10>& random) {
  const std::uint64_t ms = unix_ms < 0 ? 0 : static_cast<std::uint64_t>(unix_ms);
  LocalId id;
  for (std::size_t i = 0; i < 6; ++i) id.bytes[i] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
  std::copy(random.begin(), random.end(), id.bytes.begin() + 6);
  // RFC 9562 version 7 / variant bits.
  id.bytes[6] = static_cast<std::uint8_t>((id.bytes[6] & 0x0F) | 0x70);
  id.bytes[8] = static_cast<std::uint8_t>((id.bytes[8] & 0x3F) | 0x80);
  return id;
}

Result<LocalId> LocalId::Generate() {
  std::array<std::uint8_t, 10> random{};
  KASSA_TRY(FillRandom(random));
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  return Version7(std::chrono::duration_cast<std::chrono::milliseconds>(now).count(), random);
}

Result<LocalId> LocalId::Random() {
  LocalId id;
  KASSA_TRY(FillRandom(id.bytes));
  // RFC 9562 version 4 / variant bits, so the id is also a valid UUID.
  id.bytes[6] = static_cast<std::uint8_t>((id.bytes[6] & 0x0F) | 0x40);
  id.bytes[8] = static_cast<std::uint8_t>((id.bytes[8] & 0x3F) | 0x80);
  return id;
}

}  // namespace kassa::model
