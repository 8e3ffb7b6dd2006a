#include "kassa/http/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <list>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "kassa/base/log.h"
#include "kassa/http/reply.h"
#include "kassa/net/listen.h"

namespace kassa::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {
// An idle keep-alive connection, or a client that stalls mid-request, is
// closed after this long.
constexpr auto kIdleTimeout = std::chrono::seconds(30);

// A new connection past the cap waits this long before the next accept, so
// a flood of junk connections cannot spin the event loop; so does an accept
// that fails (out of file descriptors).
constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

// A TLS client must complete its handshake within this.
constexpr auto kHandshakeTimeout = std::chrono::seconds(10);

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// The error envelope of reply.h, as a body.
std::string ErrorBody(const std::string& field, const std::string& message, const char* code = "invalid_argument") {
  return boost::json::serialize(ErrorJson(ApiError{0, code, field, message}));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

// The Host values that name this listener ("127.0.0.1:8080",
// "localhost:8080"); a browser sends one of them for a page it loaded from
// here, never for a page of another site (DNS rebinding).
std::vector<std::string> OwnHosts(const tcp::endpoint& local) {
  const std::string port = std::to_string(local.port());
  const auto address = local.address();
  std::vector<std::string> hosts;
  hosts.push_back(address.is_v6() ? "[" + address.to_string() + "]:" + port : address.to_string() + ":" + port);
  if (address.is_loopback()) hosts.push_back("localhost:" + port);
  return hosts;
}

// Why `request` may not reach a handler, as the response to send: a Host
// that is not this listener (not checked when `own_hosts` is empty: an HTTPS
// listener), an Origin of another site, or a body of a type the API does not
// take. nullopt: it may.
std::optional<Response> EdgeRefusal(const Request& request, const std::vector<std::string>& own_hosts,
                                    const std::vector<std::string>& body_types) {
  const auto host = request.find(bhttp::field::host);
  const std::string host_value = host == request.end() ? std::string() : Lower(host->value());
  if (!own_hosts.empty() && std::find(own_hosts.begin(), own_hosts.end(), host_value) == own_hosts.end()) {
    KASSA_LOG_THROTTLED("refused a request for Host \"" << ForLog(host_value) << "\"");
    return JsonResponse(403, ErrorBody("host", "the Host header must name this server (" + own_hosts.front() + ")",
                                       "permission_denied"), request.version(), false);
  }
  if (const auto origin = request.find(bhttp::field::origin); origin != request.end()) {
    const std::string value = Lower(origin->value());
    const bool own = std::any_of(own_hosts.begin(), own_hosts.end(),
                                 [&](const std::string& h) { return value == "http://" + h; }) ||
                     (own_hosts.empty() && value == "https://" + host_value);
    if (!own) {
      KASSA_LOG_THROTTLED("refused a request from Origin \"" << ForLog(value) << "\"");
      return JsonResponse(403, ErrorBody("origin", "requests from another site are refused", "permission_denied"),
                          request.version(), false);
    }
  }
  if (!request.body().empty()) {
    const auto type = request.find(bhttp::field::content_type);
    std::string media = type == request.end() ? std::string() : Lower(type->value());
    media = media.substr(0, media.find(';'));
    while (!media.empty() && media.back() == ' ') media.pop_back();
    if (media != "application/json" && std::find(body_types.begin(), body_types.end(), media) == body_types.end()) {
      return JsonResponse(415, ErrorBody("content_type", "the body must be sent as Content-Type: application/json",
                                         "unsupported_media_type"), request.version(), false);
    }
  }
  return std::nullopt;
}

// One connection, over a plain TCP stream or TLS.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void Start() = 0;
  // Waiting for a request (none half-read, none being answered).
  virtual bool waiting() const = 0;
  virtual void Close() = 0;
};

template <typename Stream>
class Session : public Connection, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  Session(Stream stream, const Handler& handler, const ServerOptions& options, const std::vector<std::string>& own_hosts)
      : stream_(std::move(stream)), handler_(handler), options_(options), own_hosts_(own_hosts) {}

  void Start() override {
    if constexpr (kTls) {
      waiting_ = true;
      Lowest().expires_after(kHandshakeTimeout);
      stream_.async_handshake(asio::ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) {
          KASSA_LOG_THROTTLED("HTTPS: a client's handshake failed: " << ec.message());
          return self->Close();
        }
        self->Read();
      });
    } else {
      Read();
    }
  }
  bool waiting() const override { return waiting_; }
  void Close() override {
    beast::error_code ec;
    Lowest().socket().shutdown(tcp::socket::shutdown_both, ec);
    Lowest().close();
  }

 private:
  beast::tcp_stream& Lowest() { return beast::get_lowest_layer(stream_); }

  void Read() {
    waiting_ = true;
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(16 * 1024);
    Lowest().expires_after(kIdleTimeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    waiting_ = false;
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout || ec == asio::error::connection_reset || ec == asio::error::eof ||
        ec == asio::ssl::error::stream_truncated) {
      return Close();
    }
    if (ec == bhttp::error::body_limit) {
      return Write(JsonResponse(413, ErrorBody("body", "larger than the " + std::to_string(options_.max_body_bytes) +
                                                           "-byte limit"), 11, false));
    }
    if (ec) {
      return Write(JsonResponse(400, ErrorBody("request", "not a valid HTTP request: " + ec.message()), 11, false));
    }
    if (auto refused = EdgeRefusal(parser_->get(), own_hosts_, options_.body_types)) return Write(std::move(*refused));
    // The timeout stays off while a handler waits on headquarters.
    Lowest().expires_never();
    if (boost::beast::websocket::is_upgrade(parser_->get())) {
      if constexpr (!kTls) {
        if (options_.on_upgrade) return options_.on_upgrade(std::move(stream_), parser_->release());
      }
      return Write(JsonResponse(400, ErrorBody("upgrade", "no WebSocket on this path"), 11, false));
    }
    handler_(parser_->get(), [self = this->shared_from_this()](Response r) { self->Write(std::move(r)); });
  }

  void Write(Response response) {
    response_ = std::make_unique<Response>(std::move(response));
    Lowest().expires_after(kIdleTimeout);
    bhttp::async_write(stream_, *response_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      const bool keep_alive = self->response_->keep_alive();
      self->response_.reset();
      if (ec || !keep_alive) return self->Close();
      self->Read();
    });
  }

  Stream stream_;
  const Handler& handler_;
  const ServerOptions& options_;
  const std::vector<std::string>& own_hosts_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::unique_ptr<Response> response_;
  bool waiting_ = false;
};

}  // namespace

Response JsonResponse(unsigned status, const std::string& body, unsigned version, bool keep_alive) {
  return TypedResponse(status, "application/json", body, version, keep_alive);
}

Response TypedResponse(unsigned status, std::string_view content_type, const std::string& body, unsigned version,
                       bool keep_alive) {
  Response r{static_cast<bhttp::status>(status), version};
  r.set(bhttp::field::server, "kassa");
  r.set(bhttp::field::content_type, content_type);
  r.set(bhttp::field::cache_control, "no-store");
  r.keep_alive(keep_alive);
  r.body() = body;
  r.prepare_payload();
  return r;
}

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::any_io_executor executor, ServerOptions opts, Handler h)
      : acceptor(executor), backoff(executor), options(std::move(opts)), handler(std::move(h)) {}

  void Accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (ec) {
        // Out of file descriptors, most likely: wait instead of spinning.
        KASSA_LOG(kWarning) << "accept: " << ec.message() << "; retrying in 100 ms";
        return self->AcceptLater();
      }
      self->sessions.remove_if([](const std::weak_ptr<Connection>& w) { return w.expired(); });
      if (self->sessions.size() >= self->options.max_connections && !self->EvictOldestWaiting()) {
        // Every connection is busy answering: the new one is closed and
        // accepting pauses a moment.
        beast::error_code ignored;
        socket.close(ignored);
        return self->AcceptLater();
      }
      if (self->sessions.size() + 1 < self->options.max_connections) self->at_cap_logged = false;
      std::shared_ptr<Connection> session;
      if (self->options.tls) {
        session = std::make_shared<Session<TlsStream>>(TlsStream(beast::tcp_stream(std::move(socket)), *self->options.tls),
                                                       self->handler, self->options, self->own_hosts);
      } else {
        session = std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), self->handler,
                                                               self->options, self->own_hosts);
      }
      self->sessions.push_back(session);
      session->Start();
      self->Accept();
    });
  }

  // At the cap, the oldest connection that is only waiting for a request
  // makes room, so idle connections (a flood of them, or a slow client)
  // cannot lock real clients out. Logged once per stretch at the cap.
  bool EvictOldestWaiting() {
    if (!at_cap_logged) KASSA_LOG(kWarning) << "at the cap of " << options.max_connections << " connections";
    at_cap_logged = true;
    for (auto it = sessions.begin(); it != sessions.end(); ++it) {
      auto s = it->lock();
      if (s && s->waiting()) {
        s->Close();
        sessions.erase(it);
        return true;
      }
    }
    return false;
  }

  void AcceptLater() {
    backoff.expires_after(kAcceptBackoff);
    backoff.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec && self->acceptor.is_open()) self->Accept();
    });
  }

  tcp::acceptor acceptor;
  asio::steady_timer backoff;
  const ServerOptions options;
  Handler handler;
  std::vector<std::string> own_hosts;             // Host values naming this listener (HTTPS: none checked)
  std::list<std::weak_ptr<Connection>> sessions;  // to close on Stop(), and to count
  bool at_cap_logged = false;
};

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(asio::any_io_executor executor, const std::string& address,
                                                      std::uint16_t port, ServerOptions options, Handler handler) {
  auto impl = std::make_shared<Impl>(executor, options, std::move(handler));
  const bool tls = impl->options.tls != nullptr;
  KASSA_TRY(net::Listen(impl->acceptor, address, port, /*loopback_only=*/!tls));
  if (!tls) impl->own_hosts = OwnHosts(impl->acceptor.local_endpoint());
  impl->Accept();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

std::uint16_t HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::Stop() {
  if (!impl_) return;
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  impl_->backoff.cancel();
  for (auto& weak : impl_->sessions) {
    if (auto s = weak.lock()) s->Close();
  }
  impl_->sessions.clear();
}

}  // namespace kassa::http
