#pragma once

// Minimal leveled logging to stderr, one line per message, safe to call from
// any thread (each line is written with a single write(2)).
//
//   2026-12-03T01:02:03.456Z W uplink.cc:42] headquarters ...: connect refused
//
// Under systemd, when stderr is the journal's stream ($JOURNAL_STREAM names
// its device and inode), each line starts with its syslog priority instead of
// a time of its own (the journal stamps it), so `journalctl -p err` works:
//
//   <4>W uplink.cc:42] headquarters ...: connect refused
//
//   KASSA_LOG(kWarning) << "outbox full, " << n << " waiting";

#include <chrono>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

namespace kassa {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Messages below `level` are dropped. Default kInfo.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

// `text` from a client (a header, a path) made safe for one log line: at
// most 80 bytes, control characters shown as '?'.
inline std::string ForLog(std::string_view text) {
  std::string out(text.substr(0, 80));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  if (text.size() > 80) out += "...";
  return out;
}

// Lets a log line that an attacker could repeat at will (a refused request)
// through at most once per `interval`; says how many were held back.
// Threading: one thread (the daemon's event loop).
class LogThrottle {
 public:
  explicit LogThrottle(std::chrono::milliseconds interval) : interval_(interval) {}
  // Whether to log now; `held_back` is set to the lines skipped since the last one.
  bool Allow(std::uint64_t& held_back) {
    const auto now = std::chrono::steady_clock::now();
    if (logged_once_ && now - last_ < interval_) {
      ++skipped_;
      return false;
    }
    logged_once_ = true;
    last_ = now;
    held_back = skipped_;
    skipped_ = 0;
    return true;
  }

 private:
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point last_{};
  bool logged_once_ = false;
  std::uint64_t skipped_ = 0;
};

// Logs a warning a stranger can make kassa repeat (refused requests,
// connections, PINs) at most once per 10 s from this place, with how many
// were held back since: a flood cannot grow the log.
//   KASSA_LOG_THROTTLED("refused a request for Host " << host);
#define KASSA_LOG_THROTTLED(stream)                                                                 \
  do {                                                                                              \
    static ::kassa::LogThrottle kassa_log_throttle(std::chrono::seconds(10));                       \
    if (std::uint64_t kassa_held_back = 0; kassa_log_throttle.Allow(kassa_held_back)) {             \
      KASSA_LOG(kWarning) << stream                                                                 \
                          << (kassa_held_back > 0                                                   \
                                  ? " (and " + std::to_string(kassa_held_back) + " more like it)"   \
                                  : std::string());                                                 \
    }                                                                                               \
  } while (false)

class LogLine {
 public:
  LogLine(LogLevel level, const char* file, int line);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  template <typename T>
  LogLine& operator<<(const T& v) {
    stream_ << v;
    return *this;
  }

 private:
  std::ostringstream stream_;
};

// Lets KASSA_LOG be a single expression (no dangling else).
struct LogVoidify {
  void operator&(LogLine&) {}
};

#define KASSA_LOG(level)                                         \
  (::kassa::LogLevel::level < ::kassa::GetLogLevel())            \
      ? (void)0                                                  \
      : ::kassa::LogVoidify() & ::kassa::LogLine(::kassa::LogLevel::level, __FILE__, __LINE__)

}  // namespace kassa
