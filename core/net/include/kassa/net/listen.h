#pragma once

// Opening a listening TCP socket the way every kassa server does: a numeric
// address, SO_REUSEADDR (a restarted daemon gets its port back at once), and
// errors as Status with the cause in the log.

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>

#include "kassa/base/status.h"

namespace kassa::net {

// Opens, binds and listens `acceptor` on `address`:`port` (0: a free port).
//
// Returns:
//   kOk               listening.
//   kInvalidArgument  "listen: ..." not an IP address, or not a loopback one
//                     when `loopback_only`.
//   kUnavailable      "listen: ..." the port cannot be bound (in use).
Status Listen(boost::asio::ip::tcp::acceptor& acceptor, const std::string& address, std::uint16_t port,
              bool loopback_only);

}  // namespace kassa::net
