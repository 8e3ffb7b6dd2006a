#pragma once

// Minimal leveled logging to stderr, one line per message, safe to call from
// any thread (each line is written with a single write(2)).
//
//   KASSA_LOG(kWarning) << "outbox full, " << n << " waiting";

#include <sstream>

namespace kassa {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// Messages below `level` are dropped. Default kInfo.
void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();

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
