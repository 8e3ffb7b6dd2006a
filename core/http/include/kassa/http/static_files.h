#pragma once

// StaticFiles: the files of one directory served read-only over HTTP (the
// terminal's web UI in ui/). Only plain relative paths of letters, digits,
// '.', '-', '_' and '/' are served, never '..' or hidden files, and only
// files of known types; everything else is 404. Each answer carries a
// content security policy that allows the page only its own origin.

#include <string>
#include <string_view>

#include "kassa/http/http_server.h"

namespace kassa::http {

class StaticFiles {
 public:
  // `root`: the directory; empty serves nothing (404 for every path).
  explicit StaticFiles(std::string root) : root_(std::move(root)) {}

  // The answer to GET or HEAD `path` ("/" is index.html): 200 with the file,
  // 404, or 405 for other methods.
  Response Serve(const Request& request, std::string_view path) const;

 private:
  std::string root_;
};

}  // namespace kassa::http
