#pragma once

// Latency samples and their summary (p50, p99, max), in microseconds.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

namespace kassa::bench {

struct LatencySummary {
  double p50_us = 0;
  double p99_us = 0;
  double max_us = 0;
  std::size_t samples = 0;
};

class Latencies {
 public:
  using Clock = std::chrono::steady_clock;

  void Add(Clock::duration d) { samples_.push_back(std::chrono::duration<double, std::micro>(d).count()); }

  // Nearest-rank percentiles over everything added.
  LatencySummary Summary() const {
    if (samples_.empty()) return {};
    std::vector<double> s = samples_;
    std::sort(s.begin(), s.end());
    const auto rank = [&](double p) {
      const std::size_t i = static_cast<std::size_t>(p * static_cast<double>(s.size()) + 0.999999);
      return s[std::min(s.size(), std::max<std::size_t>(i, 1)) - 1];
    };
    return {rank(0.50), rank(0.99), s.back(), s.size()};
  }

 private:
  std::vector<double> samples_;
};

// Runs `body` and adds its wall time to `into`; returns what `body` returns.
template <typename Body>
auto Timed(Latencies& into, Body&& body) {
  const auto start = Latencies::Clock::now();
  auto result = body();
  into.Add(Latencies::Clock::now() - start);
  return result;
}

}  // namespace kassa::bench
