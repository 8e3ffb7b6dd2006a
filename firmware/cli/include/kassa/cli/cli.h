#pragma once

// Small helpers shared by the daemons' command lines (kassad, kassa-hq).

#include <cstdint>
#include <string>
#include <string_view>

namespace kassa::cli {

// Runs a daemon's `main_body`: the single `try` of the process. An exception
// escaping it is logged and ends the process with 1 (systemd restarts it).
int RunGuarded(int (*main_body)(int, char**), int argc, char** argv);

// "HOST:PORT" or "[V6]:PORT".
bool ParseHostPort(std::string_view s, std::string& host, std::uint16_t& port);
// debug | info | warning | error; sets the process log level.
bool SetLogLevelByName(std::string_view name);
// A size in MiB from 1 to 1048576, as bytes.
bool ParseMiB(std::string_view s, std::size_t& bytes);
// Creates `path` (one level, mode 0700) when missing. False with errno set.
bool EnsureDirectory(const std::string& path);
// Writes `text` to `path` through a temporary file and a rename, so readers
// never see half of it.
bool WriteFileReplacing(const std::string& path, const std::string& text);

}  // namespace kassa::cli
