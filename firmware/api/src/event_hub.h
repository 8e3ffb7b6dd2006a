#pragma once

// EventHub: the API's event stream (WebSocket on /v1/events). Every
// published event (a JSON text) goes to every connected client, in order.
// A client that does not read fast enough is dropped rather than let its
// queue grow (it reconnects and reloads what it shows).

#include <boost/beast/core/tcp_stream.hpp>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include "kassa/http/http_server.h"

namespace kassa::api {

class EventSession;

class EventHub {
 public:
  // Whether a handshake request may receive events (a signed-in operator:
  // events carry customers).
  using Authorize = std::function<bool(const http::Request&)>;
  explicit EventHub(Authorize authorize) : authorize_(std::move(authorize)) {}

  // Completes the WebSocket handshake of `request` on `stream` and adds the
  // client. Answers 404 for any path other than /v1/events, 401 when
  // `authorize` refuses the request.
  void Accept(boost::beast::tcp_stream stream, http::Request request);
  void Publish(const std::string& json_text);
  std::size_t clients();
  void CloseAll();

 private:
  Authorize authorize_;
  std::list<std::weak_ptr<EventSession>> sessions_;
};

}  // namespace kassa::api
