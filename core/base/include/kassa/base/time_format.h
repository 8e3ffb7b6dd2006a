#pragma once

#include <cstdint>
#include <string>

namespace kassa {

// Unix milliseconds as ISO 8601 UTC with milliseconds, e.g.
// "2026-11-22T17:05:00.123Z".
std::string FormatIsoTime(std::int64_t unix_ms);

}  // namespace kassa
