#pragma once

// LinkServer: headquarters' end of the link. Accepts terminals over mutual
// TLS (link_tls.h; plain TCP only with `tls` unset, the development flag,
// which logs a warning per connection), requires a Hello first, then:
//   - upload batches and real-time requests from every connection are
//     applied together in one transaction (group commit) as soon as the
//     network loop is idle and no commit is under way (what arrives during
//     one goes in the next), and acknowledged only after that commit;
//   - each terminal is streamed the changes of its scope from its own
//     cursor, one distribution frame in flight at a time (the terminal's
//     DistributionAck releases the next), and woken whenever changes land;
//   - chain-wide searches are answered from the system of record.
// A malformed frame, or a message that breaks the protocol, drops that one
// connection; nothing of it is applied, and the others carry on.
//
// Who a terminal is comes from its certificate, never from what it says:
// the certificate must chain to the chain CA, be in date and not revoked
// (ChainStore::IsCertificateRevoked, checked on every connection), and its
// Hello must name the certificate's terminal (CN) and store (OU). Its
// operations are applied as its store's, and it receives its store's scope.
//
// Before Hello a connection is unauthenticated: the TLS handshake must
// finish and the Hello arrive within `hello_timeout` of the connect (the
// registry's answer to it may take longer), nothing
// else (heartbeats included) is accepted, and such connections are capped
// per source address and in total, apart from terminals that said Hello,
// so junk connections cannot lock real terminals out. A second connection
// of a terminal replaces the first only when it shows the same certificate.
//
// Threading: two threads. The server's own network thread (started here)
// runs every connection: TLS, frames, heartbeats. The executor given to
// Start is the registry's (one thread, which headquarters' admin API and
// sweeps share): every use of the registry and its store runs there, so a
// durable commit or a database round trip never stalls the network thread.
// Every member below is called on the registry's thread (ConnectedTerminals
// and port on any); the executor's loop is kept running until Stop().

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "kassa/base/status.h"
#include "kassa/hq/registry.h"
#include "kassa/link/frame_connection.h"
#include "kassa/tls/link_tls.h"

namespace kassa::hq {

struct LinkServerOptions {
  link::ConnectionOptions connection;
  std::shared_ptr<tls::Context> tls;  // null: plain TCP (development only)
  std::chrono::milliseconds hello_timeout{5000};
  std::size_t max_terminals = 4096;                 // connections that said Hello
  std::size_t max_unauthenticated = 256;            // connections before Hello, in total
  std::size_t max_unauthenticated_per_source = 16;  // ... from one address
};

class LinkServer {
 public:
  // Binds `address`:`port` (0 picks a free port) and starts the network thread.
  // Returns: kOk; kInvalidArgument "listen: ..."; kUnavailable "listen: ...".
  static Result<std::unique_ptr<LinkServer>> Start(boost::asio::any_io_executor registry_executor,
                                                   const std::string& address,
                                                   std::uint16_t port, Registry& registry, LinkServerOptions options);
  ~LinkServer();

  std::uint16_t port() const;
  // Terminals connected now (said Hello), by terminal id.
  std::vector<std::string> ConnectedTerminals() const;
  // New changes exist (e.g. a configuration replaced): wake every terminal.
  void ChangesAppended();
  // Closes `terminal_id`'s connection, if any, so that its next one starts
  // with what its Welcome carries (a wipe order).
  void Reconnect(std::string_view terminal_id);
  // Stops accepting, closes every connection, ends the network thread and
  // saves the acknowledged cursors. Also on the registry's thread when its
  // loop no longer runs (a destructor after the loop ended).
  void Stop();

  struct Impl;

 private:
  explicit LinkServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace kassa::hq
