#pragma once

// LinkSocket: the byte stream under a FrameConnection, either TLS (the
// link as it runs: a Boost.Asio ssl::stream whose handshake has completed)
// or plain TCP (only behind the daemons' development flag, and in tests
// that inject faults into frames). Framing never knows which.
//
// Threading: the socket's executor, like FrameConnection.

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <memory>
#include <utility>
#include <variant>

namespace kassa::link {

class LinkSocket {
 public:
  using Tcp = boost::asio::ip::tcp::socket;
  using Tls = boost::asio::ssl::stream<Tcp>;

  explicit LinkSocket(Tcp plain) : stream_(std::move(plain)) {}
  // REQUIRES: the handshake of `tls` completed.
  explicit LinkSocket(std::unique_ptr<Tls> tls) : stream_(std::move(tls)) {}

  // boost::asio::async_read / async_write on whichever stream this is.
  template <typename Buffers, typename Handler>
  void AsyncRead(const Buffers& buffers, Handler&& handler) {
    std::visit([&](auto& s) { boost::asio::async_read(Stream(s), buffers, std::forward<Handler>(handler)); }, stream_);
  }
  template <typename Buffers, typename Handler>
  void AsyncWrite(const Buffers& buffers, Handler&& handler) {
    std::visit([&](auto& s) { boost::asio::async_write(Stream(s), buffers, std::forward<Handler>(handler)); },
               stream_);
  }

  // The TCP socket under the stream (endpoints, options, close).
  Tcp& tcp() {
    return std::visit([](auto& s) -> Tcp& { return Socket(s); }, stream_);
  }
  boost::asio::any_io_executor get_executor() { return tcp().get_executor(); }
  bool encrypted() const { return std::holds_alternative<std::unique_ptr<Tls>>(stream_); }

  // Closes the TCP socket (no TLS close_notify: a peer that stopped
  // reading must not hold the close up); pending operations end with an
  // error.
  void Close() {
    boost::system::error_code ignored;
    tcp().shutdown(Tcp::shutdown_both, ignored);
    tcp().close(ignored);
  }

 private:
  static Tcp& Stream(Tcp& s) { return s; }
  static Tls& Stream(std::unique_ptr<Tls>& s) { return *s; }
  static Tcp& Socket(Tcp& s) { return s; }
  static Tcp& Socket(std::unique_ptr<Tls>& s) { return s->next_layer(); }

  std::variant<Tcp, std::unique_ptr<Tls>> stream_;
};

}  // namespace kassa::link
