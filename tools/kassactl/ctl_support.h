#pragma once

// What every kassactl command shares: the global options, the exit codes
// (README.md), one request to kassad with its error printing, and output.

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "http_client.h"

namespace kassa::ctl {

enum Exit { kOk = 0, kFailed = 1, kUsage = 2, kInvalid = 3, kNotFound = 4, kRefused = 5 };

struct Globals {
  HttpUrl url;
  bool json = false;
  std::string token;  // the operator's session ($KASSA_SESSION, else the session file)
};

// Prints a usage error; returns kUsage.
int Usage(const std::string& message);
// The exit code of an API error code ("not_found" -> kNotFound, ...).
int ExitFor(const std::string& code);
// Sends a request; on success stores the parsed JSON body. On failure prints
// the error (JSON or text) and returns the exit code.
std::optional<int> Call(const Globals& g, const std::string& method, const std::string& path, const std::string& body,
                        boost::json::value& out);
// Member `key` of object `v` as text ("" when absent).
std::string Str(const boost::json::value& v, const char* key);
// Prints `v` as JSON with --json, else through `human`; returns kOk.
int Print(const Globals& g, const boost::json::value& v, void (*human)(const boost::json::value&));
// Percent-encodes a path segment or query value.
std::string Encode(const std::string& text);

}  // namespace kassa::ctl
