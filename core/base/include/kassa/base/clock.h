#pragma once

// Wall-clock time as a daemon knows it: stamps on customers, consents,
// outbox entries and headquarters' records. An interface so tests control
// time (hal/sim's SimClock); SystemClock (system_clock.h) is the real one.
//
// Threading: implementations are safe to call from any thread.

#include <cstdint>

namespace kassa {

class Clock {
 public:
  virtual ~Clock() = default;

  // Milliseconds since the Unix epoch, UTC.
  std::int64_t NowMs() { return DoNowMs(); }

 private:
  virtual std::int64_t DoNowMs() = 0;
};

}  // namespace kassa
