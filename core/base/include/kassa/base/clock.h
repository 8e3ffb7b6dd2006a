#pragma once

// Time as a daemon knows it. An interface so tests control time (hal/sim's
// SimClock); SystemClock (system_clock.h) is the real one.
//
// Two clocks, for two questions:
// - NowMs(), the wall clock: stamps on customers, consents, outbox entries
//   and headquarters' records, and dates ("within N days"). It can jump
//   either way (an NTP step, a dead RTC battery, a person with `date`).
// - MonotonicMs(), time since boot: how long something lasted (a session's
//   idle time, a PIN lockout). It never jumps and keeps counting across a
//   process restart within one boot (CLOCK_BOOTTIME: suspend included);
//   BootId() says which boot it counts from.
//
// Threading: implementations are safe to call from any thread.

#include <cstdint>
#include <string>

namespace kassa {

class Clock {
 public:
  virtual ~Clock() = default;

  // Milliseconds since the Unix epoch, UTC.
  std::int64_t NowMs() { return DoNowMs(); }
  // Milliseconds since boot, never going back.
  std::int64_t MonotonicMs() { return DoMonotonicMs(); }
  // This boot's identity: MonotonicMs() values compare only within one boot.
  std::string BootId() { return DoBootId(); }

 private:
  virtual std::int64_t DoNowMs() = 0;
  virtual std::int64_t DoMonotonicMs() = 0;
  virtual std::string DoBootId() = 0;
};

}  // namespace kassa
