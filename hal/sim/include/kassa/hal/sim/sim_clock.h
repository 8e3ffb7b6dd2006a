#pragma once

// A clock that moves only when told to, for tests and the sim board.

#include <atomic>
#include <mutex>
#include <string>

#include "kassa/base/clock.h"

namespace kassa::hal::sim {

class SimClock final : public kassa::Clock {
 public:
  explicit SimClock(std::int64_t start_ms) : now_ms_(start_ms) {}

  // Test hooks. Time passing moves both clocks; a jump moves the wall
  // clock only (Set, Jump), as an NTP step or `date` would; a reboot starts
  // the monotonic clock of a new boot.
  void Advance(std::int64_t delta_ms) {
    now_ms_.fetch_add(delta_ms);
    monotonic_ms_.fetch_add(delta_ms);
  }
  void Set(std::int64_t now_ms) { now_ms_.store(now_ms); }
  void Jump(std::int64_t delta_ms) { now_ms_.fetch_add(delta_ms); }
  void Reboot() {
    std::lock_guard lock(boot_mutex_);
    boot_id_ = "sim-boot-" + std::to_string(++boots_);
    monotonic_ms_.store(kBootMs);
  }

 private:
  static constexpr std::int64_t kBootMs = 10'000;  // a board is up some seconds before kassad starts
  std::int64_t DoNowMs() override { return now_ms_.load(); }
  std::int64_t DoMonotonicMs() override { return monotonic_ms_.load(); }
  std::string DoBootId() override {
    std::lock_guard lock(boot_mutex_);
    return boot_id_;
  }
  std::atomic<std::int64_t> now_ms_;
  std::atomic<std::int64_t> monotonic_ms_{kBootMs};
  std::mutex boot_mutex_;
  int boots_ = 0;
  std::string boot_id_ = "sim-boot-0";
};

}  // namespace kassa::hal::sim
