#include "kassa/model/ids.h"

#include <sys/random.h>

#include <cerrno>

#include "kassa/base/bytes.h"

namespace kassa::model {

bool LocalId::is_zero() const {
  for (auto b : bytes) {
    if (b != 0) return false;
  }
  return true;
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

Result<LocalId> LocalId::Generate() {
  LocalId id;
  std::size_t filled = 0;
  while (filled < id.bytes.size()) {
    const ssize_t n = getrandom(id.bytes.data() + filled, id.bytes.size() - filled, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status(StatusCode::kUnavailable, "random source unavailable");
    }
    filled += static_cast<std::size_t>(n);
  }
  // RFC 9562 version 4 / variant bits, so the id is also a valid UUID.
  id.bytes[6] = static_cast<std::uint8_t>((id.bytes[6] & 0x0F) | 0x40);
  id.bytes[8] = static_cast<std::uint8_t>((id.bytes[8] & 0x3F) | 0x80);
  return id;
}

}  // namespace kassa::model
