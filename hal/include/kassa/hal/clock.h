#pragma once

// Wall-clock time as the terminal knows it: stamps on customers, consents
// and outbox entries. Injected so tests control time.
//
// Threading: implementations are safe to call from any thread.

#include <cstdint>

namespace kassa::hal {

class Clock {
 public:
  virtual ~Clock() = default;

  // Milliseconds since the Unix epoch, UTC.
  std::int64_t NowMs() { return DoNowMs(); }

 private:
  virtual std::int64_t DoNowMs() = 0;
};

}  // namespace kassa::hal
