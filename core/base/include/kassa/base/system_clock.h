#pragma once

// The kernel's real-time clock (CLOCK_REALTIME), for both daemons.

#include "kassa/base/clock.h"

namespace kassa {

class SystemClock final : public Clock {
 private:
  std::int64_t DoNowMs() override;
};

}  // namespace kassa
