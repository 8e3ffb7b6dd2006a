#pragma once

// A clock that moves only when told to, for tests and the sim board.

#include <atomic>

#include "kassa/base/clock.h"

namespace kassa::hal::sim {

class SimClock final : public kassa::Clock {
 public:
  explicit SimClock(std::int64_t start_ms) : now_ms_(start_ms) {}

  // Test hooks.
  void Set(std::int64_t now_ms) { now_ms_.store(now_ms); }
  void Advance(std::int64_t delta_ms) { now_ms_.fetch_add(delta_ms); }

 private:
  std::int64_t DoNowMs() override { return now_ms_.load(); }
  std::atomic<std::int64_t> now_ms_;
};

}  // namespace kassa::hal::sim
