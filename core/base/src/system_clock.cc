#include "kassa/base/system_clock.h"

#include <time.h>

namespace kassa {

std::int64_t SystemClock::DoNowMs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

}  // namespace kassa
