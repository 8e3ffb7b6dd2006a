#pragma once

// The edge of a metrics listener beyond loopback (kassad and kassa-hq
// --metrics-listen, an HttpServer with TLS): it answers only
// GET /metrics (and /v1/metrics), only with a bearer token `accepts` takes,
// by passing the request on to the daemon's own router as GET /v1/metrics
// (so the same route, its metrics and, at headquarters, its role check
// answer it). Everything else is refused before the router sees it:
//   - no "Authorization: Bearer ..." or one `accepts` refuses: 401 with
//     "WWW-Authenticate: Bearer" (logged, throttled; never the token);
//   - another path: 404; another method on the path: 405.
//
// Threading: the returned handler runs on the server's thread; `accepts`
// is called there.

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "kassa/base/status.h"
#include "kassa/http/http_server.h"

namespace kassa::http {

using TokenCheck = std::function<bool(std::string_view token)>;

Handler ScrapeEdge(Handler inner, TokenCheck accepts);

// Where a daemon's metrics listener listens, with which certificate.
struct ScrapeListener {
  std::string address;  // empty: no listener
  std::uint16_t port = 0;
  std::string certificate_file;  // PEM, with its chain
  std::string key_file;          // PEM, mode 0600 or stricter
};

// Starts `listener`: HTTPS (tls/link_tls.h's MakeHttpsServerContext), at
// most 16 connections, ScrapeEdge over `inner`. Null when it has no address.
// Returns: kOk; kInvalidArgument "link_tls: ..." (a certificate or key that
// cannot be used; which and why in the log) or "listen: ..."; kUnavailable
// "listen: ..." (the port is taken).
Result<std::unique_ptr<HttpServer>> StartScrapeListener(boost::asio::any_io_executor executor,
                                                        const ScrapeListener& listener, Handler inner,
                                                        TokenCheck accepts);

}  // namespace kassa::http
