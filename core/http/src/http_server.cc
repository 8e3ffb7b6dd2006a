#include "kassa/http/http_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <charconv>
#include <list>
#include <optional>

#include "kassa/base/log.h"
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

std::string ErrorBody(const std::string& field, const std::string& message) {
  std::string body = R"({"error":{"code":"invalid_argument","field":")" + field + R"(","message":")";
  for (char c : message) {
    if (c == '"' || c == '\\') body += '\\';
    body += c;
  }
  return body + "\"}}";
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Handler& handler, ServerOptions options)
      : stream_(std::move(socket)), handler_(handler), options_(options) {}

  void Start() { Read(); }
  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(kIdleTimeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout || ec == asio::error::connection_reset || ec == asio::error::eof) {
      return Close();
    }
    if (ec == bhttp::error::body_limit) {
      return Write(JsonResponse(413, ErrorBody("body", "larger than the " + std::to_string(options_.max_body_bytes) +
                                                           "-byte limit"), 11, false));
    }
    if (ec) {
      return Write(JsonResponse(400, ErrorBody("request", "not a valid HTTP request: " + ec.message()), 11, false));
    }
    // The timeout stays off while a handler waits on headquarters.
    stream_.expires_never();
    if (boost::beast::websocket::is_upgrade(parser_->get())) {
      if (!options_.on_upgrade) {
        return Write(JsonResponse(400, ErrorBody("upgrade", "no WebSocket on this path"), 11, false));
      }
      return options_.on_upgrade(std::move(stream_), parser_->release());
    }
    handler_(parser_->get(), [self = shared_from_this()](Response r) { self->Write(std::move(r)); });
  }

  void Write(Response response) {
    response_ = std::make_unique<Response>(std::move(response));
    stream_.expires_after(kIdleTimeout);
    bhttp::async_write(stream_, *response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      const bool keep_alive = self->response_->keep_alive();
      self->response_.reset();
      if (ec || !keep_alive) return self->Close();
      self->Read();
    });
  }

  beast::tcp_stream stream_;
  const Handler& handler_;
  const ServerOptions options_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::unique_ptr<Response> response_;
};

}  // namespace

Response JsonResponse(unsigned status, const std::string& body, unsigned version, bool keep_alive) {
  Response r{static_cast<bhttp::status>(status), version};
  r.set(bhttp::field::server, "kassa");
  r.set(bhttp::field::content_type, "application/json");
  r.set(bhttp::field::cache_control, "no-store");
  r.keep_alive(keep_alive);
  r.body() = body;
  r.prepare_payload();
  return r;
}

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::any_io_executor executor, ServerOptions opts, Handler h)
      : acceptor(executor), options(opts), handler(std::move(h)) {}

  void Accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (ec) {
        KASSA_LOG(kWarning) << "accept: " << ec.message();
      } else {
        auto session = std::make_shared<Session>(std::move(socket), self->handler, self->options);
        self->sessions.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
        self->sessions.push_back(session);
        session->Start();
      }
      self->Accept();
    });
  }

  tcp::acceptor acceptor;
  ServerOptions options;
  Handler handler;
  std::list<std::weak_ptr<Session>> sessions;  // to close on Stop()
};

HttpServer::HttpServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(asio::any_io_executor executor, const std::string& address,
                                                      std::uint16_t port, ServerOptions options, Handler handler) {
  auto impl = std::make_shared<Impl>(executor, options, std::move(handler));
  KASSA_TRY(net::Listen(impl->acceptor, address, port, /*loopback_only=*/true));
  impl->Accept();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

std::uint16_t HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void HttpServer::Stop() {
  if (!impl_) return;
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  for (auto& weak : impl_->sessions) {
    if (auto s = weak.lock()) s->Close();
  }
  impl_->sessions.clear();
}

}  // namespace kassa::http
