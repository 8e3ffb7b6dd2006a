#pragma once

// The Prometheus text exposition format (0.0.4), written by hand: Debian 12
// packages no C++ Prometheus client, and what kassa exposes is a page of
// gauges and counters computed at scrape time, not a registry to keep.
//
//   MetricsText m;
//   m.Family("kassa_outbox_operations", "gauge", "Operations waiting for headquarters.");
//   m.Sample({}, 3);
//   m.Family("kassa_hq_terminal_lag_changes", "gauge", "...");
//   m.Sample({{"terminal", "RIGA-01-POS-1"}}, 12);
//   reply.text = m.str();
//
// Names follow Prometheus' conventions (`kassa_` prefix, `_total` counters,
// base units: `_seconds`, `_bytes`); label values are escaped here.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kassa::http {

inline constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";

class MetricsText {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;
  // Starts a metric family. REQUIRES: `name` matches [a-zA-Z_:][a-zA-Z0-9_:]*,
  // `type` is "gauge", "counter" or "histogram", and no family of that name
  // came before.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // A sample of the family started last; `suffix` for a histogram's
  // "_bucket", "_sum" and "_count".
  void Sample(const Labels& labels, double value, std::string_view suffix = {});
  // A family of one sample without labels.
  void Gauge(std::string_view name, std::string_view help, double value) { Single(name, "gauge", help, value); }
  void Counter(std::string_view name, std::string_view help, double value) { Single(name, "counter", help, value); }
  const std::string& str() const { return out_; }

 private:
  void Single(std::string_view name, std::string_view type, std::string_view help, double value) {
    Family(name, type, help);
    Sample({}, value);
  }
  std::string family_;
  std::string out_;
};

}  // namespace kassa::http
