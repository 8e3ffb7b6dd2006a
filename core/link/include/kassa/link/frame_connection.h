#pragma once

// FrameConnection: one connection of the link (TLS, or plain TCP under the
// development flag: link_socket.h), carrying frames (frame.h) both ways, with the link's liveness rules built in:
//   - a heartbeat frame goes out whenever nothing was sent for
//     `heartbeat_interval`; received heartbeats are consumed here;
//   - the connection is closed when nothing arrives for `idle_timeout` (a dead
//     peer or cable), when a started frame or a queued write does not finish
//     within `stall_timeout` (a slow or stalled peer), or when the send queue
//     grows past `max_queued_bytes`;
//   - a malformed frame (header, checksum) closes the connection before any of
//     it reaches the handler;
//   - with `quiet_until_ready` (headquarters' side), nothing is accepted
//     before the peer is known: a heartbeat before MarkReady() closes the
//     connection, and none is sent before it.
//
// Threading: every call and every handler runs on the socket's executor (one
// thread). `on_closed` runs exactly once, after which no handler runs again.

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "kassa/base/bytes.h"
#include "kassa/base/status.h"
#include "kassa/link/frame.h"
#include "kassa/link/link_socket.h"

namespace kassa::link {

// The payloads of the link's own control frames, whose messages the link
// schema defines (proto_codec::LinkControlPayloads() provides them): given
// to each connection so that framing needs no message codec.
struct ControlPayloads {
  Result<Bytes> (*encode_heartbeat)(std::int64_t sent_at_ms) = nullptr;
  Result<std::int64_t> (*decode_heartbeat)(ByteView bytes) = nullptr;
  Result<Bytes> (*encode_error)(std::string_view reason) = nullptr;
};

struct ConnectionOptions {
  std::chrono::milliseconds heartbeat_interval{1000};
  std::chrono::milliseconds idle_timeout{3500};
  std::chrono::milliseconds stall_timeout{10000};
  std::size_t max_queued_bytes = 8 * 1024 * 1024;
  bool quiet_until_ready = false;
};

class FrameConnection : public std::enable_shared_from_this<FrameConnection> {
 public:
  using FrameHandler = std::function<void(FrameType, ByteView payload)>;
  using ClosedHandler = std::function<void(const Status& why)>;

  // REQUIRES: every function of `control` is set.
  FrameConnection(LinkSocket socket, ConnectionOptions options, ControlPayloads control);
  ~FrameConnection();

  // Starts reading and the liveness timer.
  void Start(FrameHandler on_frame, ClosedHandler on_closed);

  // Queues one frame. Ignored once closed.
  void Send(FrameType type, ByteView payload);
  // Sends an Error frame with `reason`, then closes with `why`.
  void CloseWithError(const std::string& reason, const Status& why);
  // Closes now; idempotent.
  void Close(const Status& why);

  // The peer is known (its Hello was accepted): heartbeats flow both ways.
  void MarkReady() { ready_ = true; }

  bool open() const { return open_; }
  bool encrypted() const { return socket_.encrypted(); }
  std::string peer() const { return peer_; }

 private:
  using Clock = std::chrono::steady_clock;
  void ReadHeader();
  void ReadPayload(FrameHeader header);
  void WriteNext();
  void Tick();

  LinkSocket socket_;
  boost::asio::steady_timer tick_;
  const ConnectionOptions options_;
  const ControlPayloads control_;
  FrameHandler on_frame_;
  ClosedHandler on_closed_;
  std::array<std::uint8_t, kFrameHeaderBytes> header_{};
  Bytes payload_;
  std::deque<Bytes> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool open_ = false;
  bool close_after_write_ = false;
  bool ready_ = false;
  Status close_reason_;
  Clock::time_point last_received_;
  Clock::time_point last_sent_;
  Clock::time_point read_started_;   // start of the frame being read; max() when between frames
  Clock::time_point write_started_;  // start of the write in flight
  std::string peer_;
};

}  // namespace kassa::link
