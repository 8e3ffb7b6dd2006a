#include "kassa/base/system_clock.h"

#include <time.h>

#include <fstream>

namespace kassa {

namespace {
std::int64_t Ms(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}
}  // namespace

std::int64_t SystemClock::DoNowMs() { return Ms(CLOCK_REALTIME); }

std::int64_t SystemClock::DoMonotonicMs() { return Ms(CLOCK_BOOTTIME); }

std::string SystemClock::DoBootId() {
  // Read once: it cannot change while the process runs. Empty where the
  // kernel does not say (then durations are compared by the wall clock
  // across restarts, as before).
  static const std::string id = [] {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string line;
    std::getline(in, line);
    return line;
  }();
  return id;
}

}  // namespace kassa
