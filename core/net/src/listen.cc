#include "kassa/net/listen.h"

#include "kassa/base/log.h"

namespace kassa::net {
namespace asio = boost::asio;

Status Listen(asio::ip::tcp::acceptor& acceptor, const std::string& address, std::uint16_t port,
              bool loopback_only) {
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(address, ec);
  if (ec) return Status(StatusCode::kInvalidArgument, "listen: not an IP address");
  if (loopback_only && !ip.is_loopback()) {
    return Status(StatusCode::kInvalidArgument, "listen: local APIs serve loopback addresses only (127.0.0.1 or ::1)");
  }
  const asio::ip::tcp::endpoint endpoint(ip, port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    KASSA_LOG(kError) << "listen on " << address << ':' << port << ": " << ec.message();
    return Status(StatusCode::kUnavailable, "listen: cannot bind the address (port in use?)");
  }
  return Status::Ok();
}

}  // namespace kassa::net
