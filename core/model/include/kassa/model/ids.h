#pragma once

// LocalId: the 128-bit id a terminal gives every customer, operation and
// entry it creates. It is globally unique without coordination, so
// headquarters can key idempotent uploads on it.
//
// Generate() makes an RFC 9562 version 7 UUID: the Unix time in milliseconds
// in the first 48 bits, then 74 random bits from the kernel's CSPRNG. Ids
// made together sort together, so every B-tree keyed by them (records,
// operations, owners, access events; at the terminal and at headquarters, in
// LMDB and in PostgreSQL) fills the pages at its right edge instead of
// dirtying a random leaf per id: headquarters' async ingest went from about
// 15,500 to about 35,000 operations/s (docs/PERFORMANCE.md, "Time-ordered
// ids"). Such an id tells when it was made, to the millisecond
// (docs/PRIVACY.md); Random() makes ids that must not: secrets such as
// session tokens.

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
  // 64 well-mixed bits for hash tables and caches, from the random part
  // (never the first bytes: a version 7 id's millisecond, shared by every id
  // made in it). Ids come from terminals: a table keyed by this may see
  // chosen collisions, so it bounds its size.
  std::uint64_t Hash() const;
  // 32 lower-case hex digits.
  std::string ToHex() const;
  // Parses 32 hex digits (either case); nullopt otherwise.
  static std::optional<LocalId> FromHex(std::string_view hex);
  // A time-ordered id for a record (RFC 9562 version 7), made now.
  // Returns: kOk, or kUnavailable when the kernel's random source fails.
  static Result<LocalId> Generate();
  // The version 7 id of `unix_ms` (its low 48 bits; a clock before 1970
  // gives 0) with the 74 bits `random` holds after the version and variant
  // bits are set.
  static LocalId Version7(std::int64_t unix_ms, const std::array<std::uint8_t, 10>& random);
  // An id of 122 random bits (RFC 9562 version 4): nothing in it but chance.
  // Returns: kOk, or kUnavailable when the kernel's random source fails.
  static Result<LocalId> Random();

  friend bool operator==(const LocalId&, const LocalId&) = default;
  friend auto operator<=>(const LocalId&, const LocalId&) = default;
};

}  // namespace kassa::model
