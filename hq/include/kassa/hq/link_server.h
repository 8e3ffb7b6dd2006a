#pragma once

// LinkServer: headquarters' end of the link. Accepts terminals, requires a
// Hello first, then:
//   - upload batches and real-time requests from every connection are
//     applied together in one transaction (group commit) as soon as the
//     event loop is idle, and acknowledged only after that commit;
//   - each terminal is streamed the changes of its scope from its own
//     cursor, one distribution frame in flight at a time (the terminal's
//     DistributionAck releases the next), and woken whenever changes land;
//   - chain-wide searches are answered from the system of record.
// A malformed frame, or a message that breaks the protocol, drops that one
// connection; nothing of it is applied, and the others carry on.
//
// Threading: the executor's one thread.

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "kassa/base/status.h"
#include "kassa/hq/registry.h"
#include "kassa/link/frame_connection.h"

namespace kassa::hq {

struct LinkServerOptions {
  link::ConnectionOptions connection;
  std::size_t max_connections = 1024;
};

class LinkServer {
 public:
  // Binds `address`:`port` (0 picks a free port).
  // Returns: kOk; kInvalidArgument "listen: ..."; kUnavailable "listen: ...".
  static Result<std::unique_ptr<LinkServer>> Start(boost::asio::any_io_executor executor, const std::string& address,
                                                   std::uint16_t port, Registry& registry, LinkServerOptions options);
  ~LinkServer();

  std::uint16_t port() const;
  // Terminals connected now (said Hello), by terminal id.
  std::vector<std::string> ConnectedTerminals() const;
  // New changes exist (e.g. a configuration replaced): wake every terminal.
  void ChangesAppended();
  // Stops accepting and closes every connection.
  void Stop();

  struct Impl;

 private:
  explicit LinkServer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace kassa::hq
