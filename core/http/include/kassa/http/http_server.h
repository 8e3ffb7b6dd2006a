#pragma once

// A small HTTP/1.1 server (Boost.Beast): keep-alive, a body limit, an idle
// timeout, a cap on open connections, and handlers that answer at once or
// later (after a call to headquarters). kassad's local API and kassa-hq's
// admin API run on it on a loopback address; with ServerOptions::tls it
// speaks HTTPS only and may listen beyond loopback (the metrics listener).
//
// Before any handler (or WebSocket upgrade) sees a request, the edge refuses
// (and logs) one whose Host header does not name this listener (403, field
// "host": DNS rebinding), whose Origin is another site's (403, "origin":
// cross-site requests), or whose body is not application/json nor one of
// ServerOptions::body_types (415, "content_type": a cross-site form post).
// An HTTPS listener skips the Host check: it is reached by whatever name
// the fleet's monitoring gives it, and every request to it must carry a
// bearer token, which a browser never adds to another site's request.
//
// Threading: everything on the executor's one thread.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kassa/base/status.h"

namespace kassa::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
// Sends the response; call exactly once.
using Respond = std::function<void(Response)>;
using Handler = std::function<void(const Request&, Respond)>;

// Takes over a connection whose request asks for a WebSocket upgrade.
using UpgradeHandler = std::function<void(boost::beast::tcp_stream stream, Request request)>;

struct ServerOptions {
  std::size_t max_body_bytes = 64 * 1024;
  UpgradeHandler on_upgrade;  // null: upgrade requests get 400
  // Open connections at once. Past it the oldest connection that is only
  // waiting for a request is closed to make room; when every one is busy the
  // new one is closed and accepting pauses 100 ms. Every client is local, so
  // a per-client cap would mean nothing.
  std::size_t max_connections = 256;
  // Media types a request body may have besides application/json
  // ("text/csv"); none of them may be one a cross-site form can send.
  std::vector<std::string> body_types;
  // Non-null: every connection is TLS with this (server) context, completed
  // within 10 s; no WebSocket upgrades; any address may be listened on.
  std::shared_ptr<boost::asio::ssl::context> tls;
};

// A JSON response with `status`.
Response JsonResponse(unsigned status, const std::string& body, unsigned version, bool keep_alive);
// The same with another media type.
Response TypedResponse(unsigned status, std::string_view content_type, const std::string& body, unsigned version,
                       bool keep_alive);

class HttpServer {
 public:
  // Binds `address`:`port` (port 0 picks a free one) and starts accepting.
  //
  // Returns:
  //   kOk               the running server.
  //   kInvalidArgument  "listen: ..." the address is not an IP address, or
  //                     not a loopback address (without options.tls).
  //   kUnavailable      "listen: ..." the port cannot be bound (in use).
  static Result<std::unique_ptr<HttpServer>> Start(boost::asio::any_io_executor executor, const std::string& address,
                                                   std::uint16_t port, ServerOptions options, Handler handler);
  ~HttpServer();

  std::uint16_t port() const;
  // Stops accepting and closes open connections.
  void Stop();

  struct Impl;

 private:
  explicit HttpServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace kassa::http
