#include "event_hub.h"

#include <boost/beast/websocket.hpp>
#include <deque>

#include "kassa/base/log.h"

namespace kassa::api {
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {
constexpr std::size_t kMaxQueuedEvents = 256;
}

class EventSession : public std::enable_shared_from_this<EventSession> {
 public:
  EventSession(beast::tcp_stream stream, bool signed_in) : ws_(std::move(stream)), signed_in_(signed_in) {}

  void Start(http::Request request) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.async_accept(request, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return;
      self->open_ = true;
      self->Read();
      self->WriteNext();
    });
  }

  void Send(const std::string& text) {
    if (closed_) return;
    if (queue_.size() >= kMaxQueuedEvents) {
      KASSA_LOG(kWarning) << "event stream: a client stopped reading; dropping it";
      return Close();
    }
    queue_.push_back(text);
    if (open_ && !writing_) WriteNext();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ec;
    beast::get_lowest_layer(ws_).socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    beast::get_lowest_layer(ws_).close();
  }

  bool alive() const { return !closed_; }
  // Whether the handshake came with a signed-in operator's token.
  bool signed_in() const { return signed_in_; }

 private:
  // Clients send nothing we need; reading keeps pings and the close handshake working.
  void Read() {
    ws_.async_read(in_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->Close();
      self->in_.clear();
      self->Read();
    });
  }

  void WriteNext() {
    if (queue_.empty() || closed_) {
      writing_ = false;
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(boost::asio::buffer(queue_.front()), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->Close();
      self->queue_.pop_front();
      self->WriteNext();
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer in_;
  std::deque<std::string> queue_;
  bool open_ = false;
  bool writing_ = false;
  bool closed_ = false;
  const bool signed_in_;
};

void EventHub::Accept(beast::tcp_stream stream, http::Request request) {
  const std::string_view target(request.target().data(), request.target().size());
  const auto refuse = [&](unsigned status, const char* body) {
    auto response = std::make_shared<http::Response>(http::JsonResponse(status, body, request.version(), false));
    auto s = std::make_shared<beast::tcp_stream>(std::move(stream));
    beast::http::async_write(*s, *response, [s, response](beast::error_code, std::size_t) { s->close(); });
  };
  if (target.substr(0, target.find('?')) != "/v1/events") {
    return refuse(404, R"({"error":{"code":"not_found","field":"path","message":"the event stream is /v1/events"}})");
  }
  auto session = std::make_shared<EventSession>(std::move(stream), authorize_(request));
  sessions_.remove_if([](const std::weak_ptr<EventSession>& w) {
    auto s = w.lock();
    return !s || !s->alive();
  });
  sessions_.push_back(session);
  session->Start(std::move(request));
}

void EventHub::Publish(const std::string& json_text, bool carries_customer) {
  for (auto& weak : sessions_) {
    auto s = weak.lock();
    if (s && (s->signed_in() || !carries_customer)) s->Send(json_text);
  }
}

std::size_t EventHub::clients() {
  std::size_t n = 0;
  for (auto& weak : sessions_) {
    if (auto s = weak.lock(); s && s->alive()) ++n;
  }
  return n;
}

void EventHub::CloseAll() {
  for (auto& weak : sessions_) {
    if (auto s = weak.lock()) s->Close();
  }
  sessions_.clear();
}

}  // namespace kassa::api
