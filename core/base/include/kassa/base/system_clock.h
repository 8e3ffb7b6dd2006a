#pragma once

// The kernel's clocks, for both daemons: CLOCK_REALTIME for the wall clock,
// CLOCK_BOOTTIME for the monotonic one, /proc/sys/kernel/random/boot_id for
// the boot.

#include "kassa/base/clock.h"

namespace kassa {

class SystemClock final : public Clock {
 private:
  std::int64_t DoNowMs() override;
  std::int64_t DoMonotonicMs() override;
  std::string DoBootId() override;
};

}  // namespace kassa
