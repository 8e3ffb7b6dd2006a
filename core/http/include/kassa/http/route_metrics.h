#pragma once

// Requests per route and their latency, for a daemon's /v1/metrics: the
// Router observes every answer it sends (by the route's pattern, never the
// raw path, so the series stay few), and the metrics route writes them.
//
//   <prefix>_http_requests_total{method, route, code}   counter ("2xx" ... "5xx")
//   <prefix>_http_request_duration_seconds{method, route}  histogram
//
// Threading: the server's one thread.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "kassa/http/metrics_text.h"

namespace kassa::http {

class RouteMetrics {
 public:
  // Upper bounds of the latency buckets, in seconds.
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1,    2.5};

  // One answer of `status` to a request of route `pattern` ("other" when no
  // route matched), `took` after it arrived.
  void Observe(std::string_view method, std::string_view pattern, unsigned status, std::chrono::nanoseconds took);
  // Both families, named with `prefix` ("kassa", "kassa_hq").
  void Write(MetricsText& out, std::string_view prefix) const;

 private:
  struct Route {
    std::array<std::uint64_t, 5> by_class{};  // 1xx .. 5xx
    std::array<std::uint64_t, kBuckets.size()> buckets{};  // not cumulative
    std::uint64_t count = 0;
    double seconds = 0;
  };
  std::map<std::pair<std::string, std::string>, Route, std::less<>> routes_;  // (method, pattern)
};

}  // namespace kassa::http
