#pragma once

// LocalId: the 128-bit id a terminal gives every customer it creates. It is
// globally unique without coordination (random, from the kernel's CSPRNG), so
// headquarters can key idempotent uploads on it.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "kassa/base/status.h"
#include "kassa/model/limits.h"

namespace kassa::model {

struct LocalId {
  std::array<std::uint8_t, kLocalIdBytes> bytes{};

  bool is_zero() const;
  // 32 lower-case hex digits.
  std::string ToHex() const;
  // Parses 32 hex digits (either case); nullopt otherwise.
  static std::optional<LocalId> FromHex(std::string_view hex);
  // Returns: kOk, or kUnavailable when the kernel's random source fails.
  static Result<LocalId> Generate();

  friend bool operator==(const LocalId&, const LocalId&) = default;
  friend auto operator<=>(const LocalId&, const LocalId&) = default;
};

}  // namespace kassa::model
