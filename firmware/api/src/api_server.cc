#include "kassa/api/api_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <list>

#include "json_mapping.h"
#include "kassa/base/log.h"
#include "router.h"

namespace kassa::api {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
// An idle keep-alive connection, or a client that stalls mid-request, is
// closed after this long.
constexpr auto kIdleTimeout = std::chrono::seconds(30);

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Router& router) : stream_(std::move(socket)), router_(router) {}

  void Start() { Read(); }
  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->body_limit(kMaxBodyBytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
        ec == beast::error::timeout || ec == asio::error::connection_reset || ec == asio::error::eof) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      return Write(JsonResponse(413, boost::json::serialize(ErrorJson(ApiError{413, "invalid_argument", "body",
                                     "larger than the 65536-byte limit"})), 11, false));
    }
    if (ec) {
      return Write(JsonResponse(400, boost::json::serialize(ErrorJson(ApiError{400, "invalid_argument", "request",
                                     "not a valid HTTP request: " + ec.message()})), 11, false));
    }
    Write(router_.Handle(parser_->get()));
  }

  void Write(Response response) {
    response_ = std::make_unique<Response>(std::move(response));
    stream_.expires_after(kIdleTimeout);
    http::async_write(stream_, *response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      const bool keep_alive = self->response_->keep_alive();
      self->response_.reset();
      if (ec || !keep_alive) return self->Close();
      self->Read();
    });
  }

  beast::tcp_stream stream_;
  Router& router_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<Response> response_;
};

}  // namespace

struct ApiServer::Impl : std::enable_shared_from_this<ApiServer::Impl> {
  Impl(asio::any_io_executor executor, customers::CustomerService& customers, storage::CustomerStore& store,
       hal::Clock& clock)
      : acceptor(executor), router(customers, store, clock) {}

  void Accept() {
    acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
      if (ec) {
        KASSA_LOG(kWarning) << "accept: " << ec.message();
      } else {
        auto session = std::make_shared<Session>(std::move(socket), self->router);
        self->sessions.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
        self->sessions.push_back(session);
        session->Start();
      }
      self->Accept();
    });
  }

  tcp::acceptor acceptor;
  Router router;
  std::list<std::weak_ptr<Session>> sessions;  // to close on Stop()
};

ApiServer::ApiServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
ApiServer::~ApiServer() { Stop(); }

Result<std::unique_ptr<ApiServer>> ApiServer::Start(asio::any_io_executor executor, const std::string& address,
                                                    std::uint16_t port, customers::CustomerService& customers,
                                                    storage::CustomerStore& store, hal::Clock& clock) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) return Status(StatusCode::kInvalidArgument, "listen: not an IP address");
  if (!ip.is_loopback()) {
    return Status(StatusCode::kInvalidArgument, "listen: the local API serves loopback addresses only (127.0.0.1 or ::1)");
  }
  auto impl = std::make_shared<Impl>(executor, customers, store, clock);
  const tcp::endpoint endpoint(ip, port);
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    KASSA_LOG(kError) << "listen on " << address << ':' << port << ": " << ec.message();
    return Status(StatusCode::kUnavailable, "listen: cannot bind the API address (port in use?)");
  }
  impl->Accept();
  return std::unique_ptr<ApiServer>(new ApiServer(std::move(impl)));
}

std::uint16_t ApiServer::port() const { return impl_->acceptor.local_endpoint().port(); }

void ApiServer::Stop() {
  if (!impl_) return;
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  for (auto& weak : impl_->sessions) {
    if (auto s = weak.lock()) s->Close();
  }
  impl_->sessions.clear();
}

}  // namespace kassa::api
