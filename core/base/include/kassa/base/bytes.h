#pragma once

// Byte buffers as kassa passes them between storage, codec and the link.

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace kassa {

using ByteView = std::span<const std::uint8_t>;
using Bytes = std::vector<std::uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(ByteView b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace kassa
