#pragma once

// A minimal blocking HTTP/1.1 client for kassactl: one request per
// connection, JSON in and out, with a deadline.

#include <optional>
#include <string>

namespace kassa::ctl {

struct HttpUrl {
  std::string host;
  std::string port;
  std::string base_path;  // without trailing '/'
};

// Parses "http://host[:port][/path]". nullopt when it is not such a URL.
std::optional<HttpUrl> ParseUrl(const std::string& url);

struct HttpReply {
  unsigned status = 0;
  std::string body;
};

// Sends `method` `path` (with `body` as JSON when not empty). Returns nullopt
// and sets `error` when kassad cannot be reached or does not answer in time.
std::optional<HttpReply> Send(const HttpUrl& url, const std::string& method, const std::string& path,
                              const std::string& body, const std::string& session_token, std::string& error);

// Percent-encodes `s` for a query string or path segment.
std::string UrlEncode(const std::string& s);

}  // namespace kassa::ctl
