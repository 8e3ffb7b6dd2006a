#include "kassa/uplink/uplink.h"

#include <openssl/ssl.h>
#include <sys/stat.h>

#include <boost/asio/connect.hpp>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "kassa/base/log.h"
#include "kassa/model/limits.h"
#include "kassa/proto_codec/link_codec.h"
#include "kassa/tls/pki.h"

namespace kassa::uplink {
namespace asio = boost::asio;
using boost::system::error_code;
using link::FrameType;
using tcp = asio::ip::tcp;

Result<std::shared_ptr<tls::Context>> LoadLinkTls(const UplinkOptions& options, const std::string& terminal_id,
                                                  const std::string& store_id, const std::string& host) {
  const tls::LinkCredentials files = tls::BundleCredentials(options.tls_bundle);
  const std::string& dialled = host.empty() ? options.host : host;
  KASSA_TRY_ASSIGN(auto context,
                   tls::MakeClientContext(files, options.server_name.empty() ? dialled : options.server_name));
  std::ifstream in(files.certificate_file);
  std::ostringstream pem;
  pem << in.rdbuf();
  auto identity = tls::TerminalIdentityOfPem(pem.str());
  if (!identity.ok() || identity->terminal_id != terminal_id || identity->store_id != store_id) {
    KASSA_LOG(kError) << "link bundle " << files.certificate_file << " names terminal "
                      << (identity.ok() ? identity->terminal_id : "(none)") << " of store "
                      << (identity.ok() ? identity->store_id : "(none)") << "; this is terminal " << terminal_id
                      << " of store " << store_id;
    return Status(StatusCode::kInvalidArgument, "link_bundle: the certificate names another terminal or store");
  }
  return context;
}

Uplink::Uplink(asio::any_io_executor executor, customers::CustomerService& customers, storage::OutboxView& outbox,
               storage::SyncState& sync, storage::AccessEventQueue& access, Clock& clock, UplinkOptions options,
               StoreConfigHandler on_store_config)
    : executor_(executor),
      customers_(customers),
      outbox_(outbox),
      sync_(sync),
      access_(access),
      clock_(clock),
      options_(std::move(options)),
      on_store_config_(std::move(on_store_config)),
      resolver_(executor),
      reconnect_timer_(executor),
      connect_timer_(executor),
      batch_timer_(executor),
      ack_timer_(executor),
      bundle_timer_(executor),
      jitter_(std::random_device{}()) {
  state_.address = options_.host + ":" + std::to_string(options_.port);
}

Uplink::~Uplink() { Stop(); }

void Uplink::Start() {
  stopped_ = false;
  if (options_.tls_bundle.empty()) {
    KASSA_LOG(kWarning) << "the link to headquarters runs WITHOUT TLS (--insecure-plaintext-link); development only";
  } else {
    bundle_stamp_ = BundleStamp();
    WatchBundle();
  }
  Connect();
}

std::string Uplink::BundleStamp() const {
  struct stat st {};
  const std::string path = tls::BundleCredentials(options_.tls_bundle).certificate_file;
  if (::stat(path.c_str(), &st) != 0) return "";
  return std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) +
         "." + std::to_string(st.st_mtim.tv_nsec);
}

void Uplink::WatchBundle() {
  bundle_timer_.expires_after(options_.bundle_check);
  bundle_timer_.async_wait([this](error_code ec) {
    if (ec || stopped_) return;
    if (const std::string stamp = BundleStamp(); stamp != bundle_stamp_) {
      bundle_stamp_ = stamp;
      KASSA_LOG(kInfo) << "the link bundle in " << options_.tls_bundle << " changed; reconnecting with it";
      if (conn_) {
        conn_->Close(Status(StatusCode::kCancelled, "link: reconnecting with the renewed certificate"));
      } else if (waiting_to_reconnect_) {
        reconnect_timer_.cancel();
        attempt_ = 0;
        Connect();
      }
    }
    WatchBundle();
  });
}

void Uplink::Stop() {
  if (stopped_) return;
  stopped_ = true;
  resolver_.cancel();
  reconnect_timer_.cancel();
  connect_timer_.cancel();
  batch_timer_.cancel();
  ack_timer_.cancel();
  bundle_timer_.cancel();
  if (connecting_) {
    error_code ec;
    connecting_->close(ec);
  }
  if (handshaking_) {
    error_code ec;
    handshaking_->lowest_layer().close(ec);
    handshaking_.reset();
  }
  if (conn_) conn_->Close(Status(StatusCode::kCancelled, "link: kassad is stopping"));
  conn_.reset();
  online_ = false;
  state_.online = false;
  FailCalls(Status(StatusCode::kUnavailable, "headquarters: kassad is stopping"));
}

void Uplink::Connect() {
  if (stopped_) return;
  waiting_to_reconnect_ = false;
  state_.address = target_host() + ":" + std::to_string(target_port());
  resolver_.async_resolve(target_host(), std::to_string(target_port()),
                          [this](error_code ec, tcp::resolver::results_type results) {
    if (stopped_ || ec == asio::error::operation_aborted) return;
    if (ec) return ScheduleReconnect("cannot resolve " + target_host() + ": " + ec.message());
    connecting_ = std::make_shared<tcp::socket>(executor_);
    auto socket = connecting_;
    connect_timer_.expires_after(options_.connect_timeout);
    connect_timer_.async_wait([socket](error_code timer_ec) {
      if (timer_ec) return;
      error_code ignored;
      socket->close(ignored);  // the connect below fails with operation_aborted
    });
    asio::async_connect(*socket, results, [this, socket](error_code connect_ec, const tcp::endpoint&) {
      connect_timer_.cancel();
      if (stopped_ || socket != connecting_) return;
      connecting_.reset();
      if (connect_ec) {
        return ScheduleReconnect(connect_ec == asio::error::operation_aborted ? "connect timed out"
                                                                             : "connect: " + connect_ec.message());
      }
      if (options_.tls_bundle.empty()) {
        KASSA_LOG(kWarning) << "headquarters " << state_.address << ": PLAINTEXT link (--insecure-plaintext-link): "
                            << "nothing authenticates headquarters or protects customers' data on the way";
        return OnConnected(link::LinkSocket(std::move(*socket)));
      }
      // The bundle anew for every connection: a renewed one is used at once.
      auto context =
          LoadLinkTls(options_, customers_.terminal_id(), customers_.store_config().store_id, target_host());
      if (!context.ok()) return ScheduleReconnect(context.status().detail());
      Handshake(std::move(*socket), std::move(*context));
    });
  });
}

void Uplink::Handshake(tcp::socket socket, std::shared_ptr<tls::Context> context) {
  auto stream = std::make_shared<link::LinkSocket::Tls>(std::move(socket), *context);
  const std::string name = options_.server_name.empty() ? target_host() : options_.server_name;
  SSL_set_tlsext_host_name(stream->native_handle(), name.c_str());
  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([stream](error_code timer_ec) {
    if (timer_ec) return;
    error_code ignored;
    stream->lowest_layer().close(ignored);  // the handshake fails with an error
  });
  handshaking_ = stream;
  stream->async_handshake(asio::ssl::stream_base::client, [this, stream, context](error_code ec) {
    connect_timer_.cancel();
    if (stopped_ || stream != handshaking_) return;
    handshaking_.reset();
    if (ec) {
      const std::string why = tls::DescribeHandshakeError(ec, SSL_get_verify_result(stream->native_handle()));
      KASSA_LOG(kWarning) << "headquarters " << state_.address << ": " << why;
      return ScheduleReconnect("TLS: " + why);
    }
    OnConnected(link::LinkSocket(std::make_unique<link::LinkSocket::Tls>(std::move(*stream))));
  });
}

void Uplink::OnConnected(link::LinkSocket socket) {
  conn_ = std::make_shared<link::FrameConnection>(std::move(socket), options_.connection,
                                                  proto_codec::LinkControlPayloads());
  auto conn = conn_;
  conn_->Start([this, conn](FrameType t, ByteView p) {
                 if (conn == conn_) OnFrame(t, p);
               },
               [this, conn](const Status& why) {
                 if (conn == conn_) OnClosed(why);
               });
  model::Hello hello;
  hello.terminal_id = customers_.terminal_id();
  hello.store_id = customers_.store_config().store_id;
  auto cursor = sync_.DistributionCursor();
  if (!cursor.ok()) return conn_->Close(cursor.status());
  hello.distribution_cursor = *cursor;
  auto payload = proto_codec::EncodeHello(hello);
  if (!payload.ok()) return conn_->Close(payload.status());
  conn_->Send(FrameType::kHello, *payload);
}

void Uplink::ScheduleReconnect(const std::string& why) {
  if (stopped_) return;
  state_.last_failure = why;
  state_.last_failure_ms = clock_.NowMs();
  // Capped exponential backoff with full jitter in [delay/2, delay].
  const auto base = std::min<std::int64_t>(options_.backoff_max.count(),
                                           options_.backoff_initial.count() << std::min(attempt_, 16));
  ++attempt_;
  std::uniform_int_distribution<std::int64_t> pick(base / 2, base);
  const auto delay = std::chrono::milliseconds(pick(jitter_));
  if (attempt_ <= 1) {
    KASSA_LOG(kWarning) << "headquarters " << state_.address << ": " << why << "; retrying in " << delay.count() << " ms";
  } else {
    KASSA_LOG(kDebug) << "headquarters " << state_.address << ": " << why << "; retrying in " << delay.count() << " ms";
  }
  // With standbys, the next address: whichever headquarters serves now.
  if (!options_.standby.empty()) target_ = (target_ + 1) % (options_.standby.size() + 1);
  waiting_to_reconnect_ = true;
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([this](error_code ec) {
    if (ec || stopped_) return;
    Connect();
  });
}

void Uplink::OnClosed(const Status& why) {
  if (wiped_) {
    KASSA_LOG(kInfo) << "headquarters closed the link after the wipe: " << why.detail() << "; the link stays down";
    conn_.reset();
    return Stop();
  }
  const bool was_online = online_;
  conn_.reset();
  online_ = false;
  state_.online = false;
  in_flight_.clear();
  access_in_flight_ = 0;
  batch_timer_.cancel();
  batch_scheduled_ = false;
  ack_timer_.cancel();
  FailCalls(Status(StatusCode::kUnavailable, "headquarters: the link went down"));
  if (was_online) KASSA_LOG(kWarning) << "headquarters link down: " << why.detail();
  if (was_online && on_sync_) on_sync_({});
  // What headquarters (or its answer) said, rather than how the link closed.
  ScheduleReconnect(refusal_.empty() ? std::string(why.detail()) : std::exchange(refusal_, std::string()));
}

void Uplink::FailCalls(const Status& why) {
  auto realtime = std::move(realtime_);
  auto searches = std::move(searches_);
  realtime_.clear();
  searches_.clear();
  for (auto& [id, call] : realtime) {
    call.deadline->cancel();
    call.done(why);
  }
  for (auto& [id, call] : searches) {
    call.deadline->cancel();
    call.done(why);
  }
}

void Uplink::ProtocolError(const std::string& reason) {
  KASSA_LOG(kError) << "headquarters " << state_.address << ": " << reason << "; reconnecting";
  if (conn_) conn_->CloseWithError(reason, Status(StatusCode::kDataLoss, "link: protocol error"));
}

void Uplink::OnFrame(FrameType type, ByteView payload) {
  if (wiped_ && type != FrameType::kError) return;  // nothing is applied after the wipe
  if (!online_ && type != FrameType::kWelcome && type != FrameType::kError) {
    return ProtocolError(std::string("expected a welcome, got ") + link::ToString(type));
  }
  switch (type) {
    case FrameType::kWelcome: return OnWelcome(payload);
    case FrameType::kUploadAcks: return OnAcks(payload);
    case FrameType::kDistribution: return OnDistribution(payload);
    case FrameType::kErasuresAhead: return OnErasuresAhead(payload);
    case FrameType::kRealtimeReply: return OnRealtimeReply(payload);
    case FrameType::kSearchReply: return OnSearchReply(payload);
    case FrameType::kAccessEventsAck: return OnAccessEventsAck(payload);
    case FrameType::kError: {
      auto reason = proto_codec::DecodeLinkError(payload);
      KASSA_LOG(kError) << "headquarters refused the link: " << (reason.ok() ? *reason : "(unreadable)");
      refusal_ = reason.ok() ? "headquarters refused the link: " + *reason : "headquarters refused the link";
      return conn_->Close(Status(StatusCode::kFailedPrecondition, "link: refused by headquarters"));
    }
    default:
      return ProtocolError(std::string("unexpected ") + link::ToString(type) + " frame from headquarters");
  }
}

void Uplink::OnWelcome(ByteView payload) {
  if (online_) return ProtocolError("a second welcome");
  auto welcome = proto_codec::DecodeWelcome(payload);
  if (!welcome.ok()) return ProtocolError("malformed welcome");
  if (const std::string problem = model::LinkVersionProblem(welcome->protocol_version, "headquarters", "this terminal");
      !problem.empty()) {
    // Working offline until one of the two is upgraded; the status says which.
    KASSA_LOG_THROTTLED("headquarters " << state_.address << ": " << problem);
    refusal_ = problem;
    return conn_->CloseWithError(problem, Status(StatusCode::kFailedPrecondition, "link: incompatible headquarters"));
  }
  if (welcome->wipe_ordered_at_ms != 0) return Wipe(welcome->wipe_ordered_at_ms);
  auto cursor = sync_.DistributionCursor();
  if (cursor.ok() && *cursor > welcome->head_cursor) {
    // Headquarters' log is shorter than what we applied: it was restored or
    // rebuilt. Apply its whole log again (upserts never go back in version).
    KASSA_LOG(kWarning) << "our distribution cursor " << *cursor << " is past headquarters' log ("
                        << welcome->head_cursor << "): receiving its changes from the start";
    if (Status s = sync_.ResetDistributionCursor(0); !s.ok()) return conn_->Close(s);
  }
  // Consents and outbox entries carry this terminal's clock: say when it is off.
  if (const std::int64_t skew = clock_.NowMs() - welcome->server_time_ms; welcome->server_time_ms != 0 &&
      (skew > 60'000 || skew < -60'000)) {
    KASSA_LOG(kWarning) << "this terminal's clock is " << skew / 1000 << " s off headquarters' clock; "
                        << "check its time synchronization";
  }
  online_ = true;
  attempt_ = 0;
  ++state_.connects;
  state_.online = true;
  state_.online_since_ms = clock_.NowMs();
  KASSA_LOG(kInfo) << "headquarters " << state_.address << " online (changes up to " << welcome->head_cursor << ")";
  if (on_sync_) on_sync_({});
  SendBatch();
  SendAccessEvents();
}

void Uplink::Wipe(std::int64_t ordered_at_ms) {
  KASSA_LOG(kWarning) << "headquarters ordered this terminal WIPED (order of " << ordered_at_ms << ")";
  const Status done = on_wipe_ ? on_wipe_(ordered_at_ms)
                               : Status(StatusCode::kUnimplemented, "wipe: this service cannot carry out a wipe");
  if (!done.ok()) {
    KASSA_LOG(kError) << "the wipe failed: " << done.detail() << "; it is tried again on the next connection";
    return conn_->Close(done);
  }
  wiped_ = true;
  batch_timer_.cancel();
  auto payload = proto_codec::EncodeWipeDone(ordered_at_ms);
  if (!payload.ok()) return conn_->Close(payload.status());
  conn_->Send(FrameType::kWipeDone, *payload);
}

void Uplink::OutboxChanged() {
  if (online_ && in_flight_.empty()) ScheduleBatch(options_.batch_linger);
}

void Uplink::SyncNow() {
  if (stopped_) return;
  if (!conn_ && !connecting_ && !handshaking_ && waiting_to_reconnect_) {
    reconnect_timer_.cancel();
    attempt_ = 0;
    return Connect();
  }
  if (online_ && in_flight_.empty()) SendBatch();
}

void Uplink::ScheduleBatch(std::chrono::milliseconds delay) {
  if (batch_scheduled_) return;
  batch_scheduled_ = true;
  batch_timer_.expires_after(delay);
  batch_timer_.async_wait([this](error_code ec) {
    batch_scheduled_ = false;
    if (ec || stopped_) return;
    SendBatch();
  });
}

void Uplink::SendBatch() {
  if (!online_ || !in_flight_.empty()) return;
  auto entries = outbox_.PeekOutbox(options_.batch_max_ops);
  if (!entries.ok()) {
    KASSA_LOG(kError) << "reading the outbox: " << entries.status().detail();
    return;
  }
  if (entries->empty()) return;
  Bytes payload;
  for (const auto& e : *entries) {
    if (!in_flight_.empty() && payload.size() >= options_.batch_max_bytes) break;
    if (Status s = proto_codec::AppendUploadOperation(e.operation, customers_.terminal_id(), payload); !s.ok()) {
      KASSA_LOG(kError) << "encoding outbox entry " << e.seq << ": " << s.detail();
      break;
    }
    in_flight_.push_back({e.seq, e.operation.op_id});
  }
  if (in_flight_.empty()) return;
  conn_->Send(FrameType::kUploadBatch, payload);
  ack_timer_.expires_after(options_.ack_deadline);
  ack_timer_.async_wait([this](error_code ec) {
    if (ec || stopped_ || in_flight_.empty()) return;
    ProtocolError("no acknowledgement of the upload batch in time");
  });
}

void Uplink::OnAcks(ByteView payload) {
  auto acks = proto_codec::DecodeUploadAcks(payload);
  if (!acks.ok()) return ProtocolError("malformed acknowledgements");
  // Acknowledgements answer the batch in flight, in order. Anything else is
  // a stale duplicate; the store ignores what it already applied anyway.
  bool matches = acks->size() == in_flight_.size();
  for (std::size_t i = 0; matches && i < acks->size(); ++i) matches = (*acks)[i].op_id == in_flight_[i].op_id;
  if (!matches) {
    KASSA_LOG(kWarning) << "acknowledgements that do not answer the batch in flight; ignored";
    return;
  }
  std::vector<std::pair<std::uint64_t, model::OperationAck>> applied;
  for (std::size_t i = 0; i < acks->size(); ++i) applied.emplace_back(in_flight_[i].seq, std::move((*acks)[i]));
  auto result = sync_.ApplyAcks(applied, clock_.NowMs());
  if (!result.ok()) {
    // Nothing was applied: the entries stay and go out again.
    KASSA_LOG(kError) << "applying acknowledgements: " << result.status().detail();
    return conn_->Close(result.status());
  }
  ack_timer_.cancel();
  in_flight_.clear();
  KASSA_LOG(kDebug) << "acknowledged: " << result->applied << " applied, " << result->rejected << " rejected, "
                    << result->ignored << " already applied";
  if (on_sync_) on_sync_(result->accounts_bound);
  SendBatch();  // the next batch at once, if any
}

void Uplink::OnDistribution(ByteView payload) {
  auto changes = proto_codec::DecodeDistribution(payload);
  if (!changes.ok()) return ProtocolError(std::string("malformed distribution: ") + changes.status().detail());
  auto result = sync_.ApplyDistribution(*changes);
  if (!result.ok()) {
    KASSA_LOG(kError) << "applying a distribution: " << result.status().detail();
    return conn_->Close(result.status());
  }
  if (result->store_config) {
    if (Status s = model::ValidateStoreConfig(*result->store_config); !s.ok()) {
      KASSA_LOG(kError) << "headquarters sent an invalid store configuration (" << s.detail() << "); kept the old one";
    } else if (on_store_config_) {
      on_store_config_(*result->store_config);
    }
  }
  auto ack = proto_codec::EncodeDistributionAck(result->cursor);
  if (ack.ok()) conn_->Send(FrameType::kDistributionAck, *ack);
  if (on_sync_) on_sync_({});
}

void Uplink::OnErasuresAhead(ByteView payload) {
  auto changes = proto_codec::DecodeDistribution(payload);
  if (!changes.ok()) return ProtocolError(std::string("malformed erasures: ") + changes.status().detail());
  auto erased = sync_.ApplyErasuresAhead(*changes);
  if (!erased.ok()) {
    if (erased.status().code() == StatusCode::kInvalidArgument) return ProtocolError(erased.status().detail());
    KASSA_LOG(kError) << "applying erasures: " << erased.status().detail();
    return conn_->Close(erased.status());
  }
  if (!erased->empty()) {
    KASSA_LOG(kInfo) << "erased " << erased->size() << " customer(s) ahead of the catch-up, as headquarters said";
  }
  if (on_sync_) on_sync_({});
}

void Uplink::SendAccessEvents() {
  if (!online_ || wiped_ || access_in_flight_ != 0) return;
  auto events = access_.PeekAccessEvents(model::kMaxAccessEvents);
  if (!events.ok()) {
    KASSA_LOG(kError) << "reading the access audit queue: " << events.status().detail();
    return;
  }
  if (events->empty()) return;
  auto payload = proto_codec::EncodeAccessEvents(*events);
  if (!payload.ok()) {
    KASSA_LOG(kError) << "encoding access events: " << payload.status().detail();
    return;
  }
  access_in_flight_ = events->back().seq;
  conn_->Send(FrameType::kAccessEvents, *payload);
}

void Uplink::OnAccessEventsAck(ByteView payload) {
  auto through = proto_codec::DecodeAccessEventsAck(payload);
  if (!through.ok()) return ProtocolError("malformed access events acknowledgement");
  if (access_in_flight_ == 0 || *through != access_in_flight_) {
    KASSA_LOG(kWarning) << "an access events acknowledgement that does not answer the frame in flight; ignored";
    return;
  }
  auto dropped = access_.DropAccessEvents(*through);
  if (!dropped.ok()) {
    // They stay queued and go out again; headquarters stores each once.
    KASSA_LOG(kError) << "dropping acknowledged access events: " << dropped.status().detail();
    return conn_->Close(dropped.status());
  }
  access_in_flight_ = 0;
  SendAccessEvents();
}

void Uplink::ApplyNow(const model::Operation& op, AckCallback done) {
  if (!online_) return done(Status(StatusCode::kUnavailable, "headquarters: offline"));
  const std::uint32_t id = next_request_id_++;
  auto payload = proto_codec::EncodeRealtimeRequest({id, op});
  if (!payload.ok()) return done(payload.status());
  auto deadline = std::make_shared<asio::steady_timer>(executor_, options_.realtime_deadline);
  realtime_.emplace(id, Call<AckCallback>{std::move(done), deadline});
  deadline->async_wait([this, id](error_code ec) {
    if (ec) return;
    auto it = realtime_.find(id);
    if (it == realtime_.end()) return;
    auto call = std::move(it->second);
    realtime_.erase(it);
    call.done(Status(StatusCode::kDeadlineExceeded, "headquarters: no answer in time"));
  });
  conn_->Send(FrameType::kRealtimeRequest, *payload);
}

void Uplink::OnRealtimeReply(ByteView payload) {
  auto reply = proto_codec::DecodeRealtimeReply(payload);
  if (!reply.ok()) return ProtocolError("malformed real-time reply");
  auto it = realtime_.find(reply->request_id);
  if (it == realtime_.end()) return;  // too late: the caller went async with the same operation id
  auto call = std::move(it->second);
  realtime_.erase(it);
  call.deadline->cancel();
  call.done(std::move(reply->ack));
}

void Uplink::SearchChain(const std::string& query, std::size_t limit, SearchCallback done) {
  if (!online_) return done(Status(StatusCode::kUnavailable, "headquarters: offline"));
  const std::uint32_t id = next_request_id_++;
  auto payload = proto_codec::EncodeSearchRequest({id, query, static_cast<std::uint32_t>(limit)});
  if (!payload.ok()) return done(Status(StatusCode::kInvalidArgument, "q: longer than 256 bytes"));
  auto deadline = std::make_shared<asio::steady_timer>(executor_, options_.search_deadline);
  searches_.emplace(id, Call<SearchCallback>{std::move(done), deadline});
  deadline->async_wait([this, id](error_code ec) {
    if (ec) return;
    auto it = searches_.find(id);
    if (it == searches_.end()) return;
    auto call = std::move(it->second);
    searches_.erase(it);
    call.done(Status(StatusCode::kUnavailable, "headquarters: no answer in time"));
  });
  conn_->Send(FrameType::kSearchRequest, *payload);
}

void Uplink::OnSearchReply(ByteView payload) {
  auto reply = proto_codec::DecodeSearchReply(payload);
  if (!reply.ok()) return ProtocolError("malformed search reply");
  auto it = searches_.find(reply->request_id);
  if (it == searches_.end()) return;
  auto call = std::move(it->second);
  searches_.erase(it);
  call.deadline->cancel();
  if (!reply->error.empty()) {
    KASSA_LOG(kInfo) << "headquarters refused a search: " << reply->error;
    return call.done(Status(StatusCode::kInvalidArgument, "q: refused by headquarters (see log)"));
  }
  call.done(std::move(reply->customers));
}

}  // namespace kassa::uplink
