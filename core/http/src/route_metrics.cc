#include "kassa/http/route_metrics.h"

#include <cstdio>

namespace kassa::http {

void RouteMetrics::Observe(std::string_view method, std::string_view pattern, unsigned status,
                           std::chrono::nanoseconds took) {
  Route& r = routes_[{std::string(method), std::string(pattern)}];
  const unsigned status_class = status / 100;
  if (status_class >= 1 && status_class <= 5) ++r.by_class[status_class - 1];
  const double seconds = std::chrono::duration<double>(took).count();
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++r.buckets[i];
      break;
    }
  }
  ++r.count;
  r.seconds += seconds;
}

void RouteMetrics::Write(MetricsText& out, std::string_view prefix) const {
  const std::string requests = std::string(prefix) + "_http_requests_total";
  out.Family(requests, "counter", "Answers of the API by route pattern and status class.");
  for (const auto& [key, r] : routes_) {
    for (std::size_t c = 0; c < r.by_class.size(); ++c) {
      if (r.by_class[c] == 0) continue;
      out.Sample({{"method", key.first}, {"route", key.second}, {"code", std::to_string(c + 1) + "xx"}},
                 static_cast<double>(r.by_class[c]));
    }
  }
  const std::string duration = std::string(prefix) + "_http_request_duration_seconds";
  out.Family(duration, "histogram", "Time from a request's arrival to its answer, by route pattern.");
  for (const auto& [key, r] : routes_) {
    const MetricsText::Labels labels{{"method", key.first}, {"route", key.second}};
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      cumulative += r.buckets[i];
      char le[16];
      std::snprintf(le, sizeof(le), "%g", kBuckets[i]);
      MetricsText::Labels with = labels;
      with.emplace_back("le", le);
      out.Sample(with, static_cast<double>(cumulative), "_bucket");
    }
    MetricsText::Labels inf = labels;
    inf.emplace_back("le", "+Inf");
    out.Sample(inf, static_cast<double>(r.count), "_bucket");
    out.Sample(labels, r.seconds, "_sum");
    out.Sample(labels, static_cast<double>(r.count), "_count");
  }
}

}  // namespace kassa::http
