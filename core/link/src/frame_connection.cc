#include "kassa/link/frame_connection.h"

#include "kassa/base/log.h"

namespace kassa::link {
namespace asio = boost::asio;
using boost::system::error_code;

namespace {
// How often the liveness rules are checked.
constexpr auto kTickInterval = std::chrono::milliseconds(100);

std::int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

FrameConnection::FrameConnection(LinkSocket socket, ConnectionOptions options, ControlPayloads control)
    : socket_(std::move(socket)), tick_(socket_.get_executor()), options_(options), control_(control) {
  KASSA_CHECK(control_.encode_heartbeat != nullptr && control_.decode_heartbeat != nullptr &&
              control_.encode_error != nullptr);
  error_code ec;
  const auto endpoint = socket_.tcp().remote_endpoint(ec);
  peer_ = ec ? std::string("unknown peer") : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  socket_.tcp().set_option(asio::ip::tcp::no_delay(true), ec);
  ready_ = !options_.quiet_until_ready;
}

FrameConnection::~FrameConnection() = default;

void FrameConnection::Start(FrameHandler on_frame, ClosedHandler on_closed) {
  on_frame_ = std::move(on_frame);
  on_closed_ = std::move(on_closed);
  open_ = true;
  last_received_ = last_sent_ = Clock::now();
  read_started_ = Clock::time_point::max();
  ReadHeader();
  Tick();
}

void FrameConnection::Send(FrameType type, ByteView payload) {
  if (!open_ || close_after_write_) return;
  queue_.push_back(EncodeFrame(type, payload));
  queued_bytes_ += queue_.back().size();
  if (queued_bytes_ > options_.max_queued_bytes) {
    return Close(Status(StatusCode::kResourceExhausted, "link: the peer does not read its frames"));
  }
  if (!writing_) WriteNext();
}

void FrameConnection::CloseWithError(const std::string& reason, const Status& why) {
  if (!open_) return;
  if (auto payload = control_.encode_error(reason); payload.ok()) Send(FrameType::kError, *payload);
  close_after_write_ = true;
  close_reason_ = why;
  if (!writing_) Close(why);
}

void FrameConnection::Close(const Status& why) {
  if (!open_) return;
  open_ = false;
  socket_.Close();
  tick_.cancel();
  queue_.clear();
  queued_bytes_ = 0;
  auto handler = std::move(on_closed_);
  on_frame_ = nullptr;
  if (handler) handler(why);
}

void FrameConnection::ReadHeader() {
  socket_.AsyncRead(asio::buffer(header_), [self = shared_from_this()](error_code ec, std::size_t) {
    if (!self->open_) return;
    if (ec) {
      return self->Close(Status(StatusCode::kUnavailable,
                                ec == asio::error::eof ? "link: closed by the peer" : "link: connection lost"));
    }
    self->last_received_ = Clock::now();
    auto header = ParseFrameHeader(self->header_);
    if (!header.ok()) {
      KASSA_LOG(kWarning) << "link " << self->peer_ << ": " << header.status().detail() << "; dropping the connection";
      return self->Close(header.status());
    }
    self->ReadPayload(*header);
  });
}

void FrameConnection::ReadPayload(FrameHeader header) {
  read_started_ = Clock::now();
  payload_.resize(header.length);
  socket_.AsyncRead(asio::buffer(payload_), [self = shared_from_this(), header](error_code ec, std::size_t) {
    if (!self->open_) return;
    if (ec) return self->Close(Status(StatusCode::kUnavailable, "link: connection lost mid-frame"));
    self->read_started_ = Clock::time_point::max();
    self->last_received_ = Clock::now();
    if (Status s = CheckFramePayload(self->header_, self->payload_, header); !s.ok()) {
      KASSA_LOG(kWarning) << "link " << self->peer_ << ": " << s.detail() << "; dropping the connection";
      return self->Close(s);
    }
    if (header.type != FrameType::kHeartbeat) {
      // A copy: the handler may close the connection, which drops on_frame_.
      const FrameHandler handler = self->on_frame_;
      if (!handler) return;
      handler(header.type, self->payload_);
      if (!self->open_) return;
    } else if (!self->ready_) {
      return self->Close(Status(StatusCode::kPermissionDenied, "link: a heartbeat before hello"));
    } else if (!self->control_.decode_heartbeat(self->payload_).ok()) {
      return self->Close(Status(StatusCode::kDataLoss, "frame: malformed heartbeat"));
    }
    self->ReadHeader();
  });
}

void FrameConnection::WriteNext() {
  if (queue_.empty()) {
    writing_ = false;
    if (close_after_write_) Close(close_reason_);
    return;
  }
  writing_ = true;
  write_started_ = Clock::now();
  socket_.AsyncWrite(asio::buffer(queue_.front()), [self = shared_from_this()](error_code ec, std::size_t n) {
    if (!self->open_) return;
    if (ec) return self->Close(Status(StatusCode::kUnavailable, "link: connection lost while sending"));
    self->queued_bytes_ -= n;
    self->queue_.pop_front();
    self->last_sent_ = Clock::now();
    self->WriteNext();
  });
}

void FrameConnection::Tick() {
  tick_.expires_after(kTickInterval);
  tick_.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || !self->open_) return;
    const auto now = Clock::now();
    if (self->read_started_ != Clock::time_point::max() && now - self->read_started_ > self->options_.stall_timeout) {
      return self->Close(Status(StatusCode::kDeadlineExceeded, "link: the peer stalled mid-frame"));
    }
    if (self->writing_ && now - self->write_started_ > self->options_.stall_timeout) {
      return self->Close(Status(StatusCode::kDeadlineExceeded, "link: the peer stopped reading"));
    }
    if (self->read_started_ == Clock::time_point::max() && now - self->last_received_ > self->options_.idle_timeout) {
      return self->Close(Status(StatusCode::kDeadlineExceeded, "link: no frame from the peer (heartbeat missed)"));
    }
    if (self->ready_ && !self->writing_ && now - self->last_sent_ >= self->options_.heartbeat_interval) {
      if (auto payload = self->control_.encode_heartbeat(UnixMs()); payload.ok()) {
        self->Send(FrameType::kHeartbeat, *payload);
      }
    }
    self->Tick();
  });
}

}  // namespace kassa::link
