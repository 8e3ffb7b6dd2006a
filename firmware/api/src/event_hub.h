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
  // Whether a handshake request comes from a signed-in operator. Every
  // client gets device, badge and sync events (the sign-in screen needs the
  // badge swipe); events that carry a customer go to signed-in clients only.
  using Authorize = std::function<bool(const http::Request&)>;
  explicit EventHub(Authorize authorize) : authorize_(std::move(authorize)) {}

  // Completes the WebSocket handshake of `request` on `stream` and adds the
  // client. Answers 404 for any path other than /v1/events.
  void Accept(boost::beast::tcp_stream stream, http::Request request);
  // Sends `json_text` to every client, or only to signed-in ones when it
  // carries customer data.
  void Publish(const std::string& json_text, bool carries_customer);
  std::size_t clients();
  void CloseAll();

 private:
  Authorize authorize_;
  std::list<std::weak_ptr<EventSession>> sessions_;
};

}  // namespace kassa::api
