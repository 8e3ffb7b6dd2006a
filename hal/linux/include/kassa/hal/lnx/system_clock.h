#pragma once

// The kernel's real-time clock (CLOCK_REALTIME).

#include "kassa/hal/clock.h"

namespace kassa::hal::lnx {

class SystemClock final : public Clock {
 private:
  std::int64_t DoNowMs() override;
};

}  // namespace kassa::hal::lnx
