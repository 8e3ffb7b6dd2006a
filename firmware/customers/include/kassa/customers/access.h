#pragma once

// Whether the terminal serves customer data now (docs/PRIVACY.md "Lock and
// wipe"):
//   open    the normal state;
//   locked  the store's offline limit passed (StoreConfig::
//           lock_after_offline_days without headquarters on the link): no
//           customer data is shown, searched, created or changed, but the
//           outbox is kept and uploads when the link returns, which unlocks;
//   wiped   headquarters ordered the terminal wiped: keys and data are
//           destroyed and it serves nothing until it is enrolled anew.

#include <cstdint>
#include <string>

namespace kassa::customers {

enum class AccessState { kOpen, kLocked, kWiped };
const char* ToString(AccessState state);  // "open", "locked", "wiped"

struct Access {
  AccessState state = AccessState::kOpen;
  std::int64_t since_ms = 0;  // locked: the last contact with headquarters; wiped: the order's time
  bool open() const { return state == AccessState::kOpen; }
};

inline constexpr std::int64_t kMsPerDay = 24LL * 60 * 60 * 1000;

// The offline lock's rule: `lock_after_days` (0: never) have passed since
// `last_contact_ms` at `now_ms`. A clock set back (now before the last
// contact) never locks.
inline bool OfflineLimitPassed(std::uint32_t lock_after_days, std::int64_t last_contact_ms, std::int64_t now_ms) {
  return lock_after_days != 0 && now_ms - last_contact_ms >= static_cast<std::int64_t>(lock_after_days) * kMsPerDay;
}

}  // namespace kassa::customers
