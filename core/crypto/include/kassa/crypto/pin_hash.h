#pragma once

// Operator PINs are stored only as a slow salted hash, in one string:
//   pbkdf2-sha256$ITERATIONS$SALT_HEX$HASH_HEX
// (the same string Python's hashlib.pbkdf2_hmac gives, for tools and tests).

#include <cstdint>
#include <string>
#include <string_view>

#include "kassa/base/status.h"

namespace kassa::crypto {

// The accepted cost of a PIN hash: at least 10,000 rounds (a stolen hash
// must not be cheap to guess), at most 1,000,000 (one sign-in must not
// stall the terminal; a distributed hash above it is refused).
inline constexpr std::uint32_t kDefaultPinIterations = 100000;
inline constexpr std::uint32_t kMinPinIterations = 10000;
inline constexpr std::uint32_t kMaxPinIterations = 1000000;

// A new hash of `pin` with a random 16-byte salt.
// Returns: kOk; kInvalidArgument "pin: ..." (4 to 12 digits); kUnavailable
// when the kernel's random source fails.
Result<std::string> HashPin(std::string_view pin, std::uint32_t iterations = kDefaultPinIterations);

// Returns: kOk when `pin_hash` has the format above and a cost within
// kMinPinIterations..kMaxPinIterations (kInvalidArgument "pin_hash: ..."
// otherwise).
Status CheckPinHashFormat(std::string_view pin_hash);

// Whether `pin` matches `pin_hash`, compared in constant time. False, at
// once, for a malformed hash or one outside the accepted cost.
bool VerifyPin(std::string_view pin, std::string_view pin_hash);

// A badge as kassa keeps it: HMAC-SHA-256 of `badge` under the legal
// entity's badge key, 64 lower-case hex digits. Keyed, so a stolen list of
// them cannot be checked against guessed badges without the key; fast, so
// a swipe costs one hash whatever the number of operators.
std::string BadgeHmac(std::string_view badge_key, std::string_view badge);

}  // namespace kassa::crypto
