#include "kassa/hq/link_server.h"

#include <openssl/ssl.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <list>
#include <chrono>
#include <map>
#include <optional>

#include "kassa/base/log.h"
#include "kassa/net/listen.h"
#include "kassa/model/limits.h"
#include "kassa/proto_codec/link_codec.h"
#include "kassa/search/customer_search.h"
#include "kassa/tls/pki.h"

namespace kassa::hq {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using link::FrameType;

namespace {
// A distribution frame stops growing past this many payload bytes.
constexpr std::size_t kDistributionFrameBytes = 256 * 1024;
// Log scans per wake-up when a store's changes are sparse in the log.
constexpr int kMaxScansPerPump = 16;
// Erasures sent ahead of a catch-up, at most (about 40 bytes each: one frame).
constexpr std::size_t kMaxErasuresAhead = 4096;
// Operations per group commit at most: the loop returns between commits to
// read, send heartbeats and distribute, however many terminals upload.
constexpr std::size_t kMaxGroupOperations = 512;
}  // namespace

class Session;

// Connections not yet past Hello, by source address and in total.
struct PreAuthCounts {
  std::map<std::string, std::size_t> by_source;
  std::size_t total = 0;
};

// One unauthenticated connection's place in PreAuthCounts, given back
// when the connection says Hello or ends.
class PreAuthSlot {
 public:
  PreAuthSlot(std::shared_ptr<PreAuthCounts> counts, std::string source)
      : counts_(std::move(counts)), source_(std::move(source)) {
    ++counts_->total;
    ++counts_->by_source[source_];
  }
  PreAuthSlot(const PreAuthSlot&) = delete;
  PreAuthSlot& operator=(const PreAuthSlot&) = delete;
  ~PreAuthSlot() {
    --counts_->total;
    if (auto it = counts_->by_source.find(source_); it != counts_->by_source.end() && --it->second == 0) {
      counts_->by_source.erase(it);
    }
  }

 private:
  std::shared_ptr<PreAuthCounts> counts_;
  std::string source_;
};

struct LinkServer::Impl : std::enable_shared_from_this<LinkServer::Impl> {
  Impl(asio::any_io_executor ex, Registry& r, LinkServerOptions o)
      : acceptor(ex), registry(r), options(std::move(o)), pre_auth(std::make_shared<PreAuthCounts>()),
        cursor_save(ex) {}

  struct Pending {
    std::weak_ptr<Session> session;
    bool realtime = false;
    std::uint32_t request_id = 0;
  };

  void Accept();
  void Admit(tcp::socket socket);
  std::size_t Terminals() const;
  void Enqueue(const std::shared_ptr<Session>& session, Batch batch, bool realtime, std::uint32_t request_id);
  void Flush();
  // The log has new changes: every session that is up to date pumps.
  void WakeAll();

  // Registry::ChangesFor, remembered until the log changes: the sessions of
  // one store at one cursor (every terminal of a store, woken together by a
  // commit) share one read of the store. Forgotten at every commit here and
  // every ChangesAppended(), and after kMemoAge whatever happened.
  Result<std::vector<model::Change>> ChangesFor(const std::string& store_id, std::uint64_t after,
                                                std::uint64_t& scanned_to);
  void ForgetChanges() { memo.clear(); }
  // Saves the acknowledged cursors within a second, all in one transaction.
  void ScheduleCursorSave();

  tcp::acceptor acceptor;
  Registry& registry;
  const LinkServerOptions options;
  std::shared_ptr<PreAuthCounts> pre_auth;
  std::list<std::weak_ptr<Session>> sessions;
  std::vector<Batch> batches;     // waiting for a group commit, oldest first
  std::vector<Pending> pending;   // who waits for each batch
  bool flush_posted = false;
  bool stopped = false;
  asio::steady_timer cursor_save;    // runs while acknowledged cursors wait to be saved
  bool cursor_save_pending = false;
  struct Memo {
    std::vector<model::Change> changes;
    std::uint64_t scanned_to = 0;
  };
  std::map<std::pair<std::string, std::uint64_t>, Memo> memo;
  std::chrono::steady_clock::time_point memo_since;
  static constexpr auto kMemoAge = std::chrono::milliseconds(500);
  static constexpr std::size_t kMemoEntries = 256;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::weak_ptr<LinkServer::Impl> server, tcp::socket socket, std::unique_ptr<PreAuthSlot> slot)
      : server_(std::move(server)), socket_(std::move(socket)), slot_(std::move(slot)),
        deadline_(socket_->get_executor()) {
    boost::system::error_code ec;
    const auto endpoint = socket_->remote_endpoint(ec);
    peer_ = ec ? std::string("unknown peer") : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
  }

  // The TLS handshake (or, plaintext, the frames at once) under the Hello deadline.
  void Start(const LinkServerOptions& options) {
    deadline_.expires_after(options.hello_timeout);
    deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || !self->terminal_id_.empty()) return;
      KASSA_LOG_THROTTLED("link " << self->peer_ << ": no handshake and hello in time; dropped");
      self->Close(Status(StatusCode::kDeadlineExceeded, "link: no hello in time"));
    });
    if (!options.tls) {
      KASSA_LOG(kWarning) << "link " << peer_ << ": PLAINTEXT connection (--insecure-plaintext-link): "
                          << "nothing authenticates this terminal";
      return StartFrames(link::LinkSocket(std::move(*socket_)), options);
    }
    tls_ = std::make_unique<link::LinkSocket::Tls>(std::move(*socket_), *options.tls);
    socket_.reset();
    tls_->async_handshake(asio::ssl::stream_base::server,
                          [self = shared_from_this(), options](boost::system::error_code ec) {
                            self->OnHandshake(ec, options);
                          });
  }

  void Close(const Status& why) {
    if (conn_) return conn_->Close(why);
    boost::system::error_code ignored;
    if (tls_) tls_->lowest_layer().close(ignored);
    if (socket_) socket_->close(ignored);
    deadline_.cancel();
  }
  bool ready() const { return conn_ && conn_->open() && !terminal_id_.empty(); }
  const std::string& terminal_id() const { return terminal_id_; }
  const std::string& fingerprint() const { return identity_.sha256_hex; }

  void SendAcks(const std::vector<model::OperationAck>& acks) {
    if (!conn_) return;
    if (auto payload = proto_codec::EncodeUploadAcks(acks); payload.ok()) conn_->Send(FrameType::kUploadAcks, *payload);
  }
  void SendReply(std::uint32_t request_id, const model::OperationAck& ack) {
    if (!conn_) return;
    if (auto payload = proto_codec::EncodeRealtimeReply({request_id, ack}); payload.ok()) {
      conn_->Send(FrameType::kRealtimeReply, *payload);
    }
  }

  // Sends the next distribution frame when none is in flight.
  void Pump() {
    auto server = server_.lock();
    if (!server || !ready() || distribution_in_flight_ || wipe_ordered_ms_ != 0) return;
    for (int scan = 0; scan < kMaxScansPerPump; ++scan) {
      std::uint64_t scanned_to = sent_upto_;
      auto changes = server->ChangesFor(store_id_, sent_upto_, scanned_to);
      if (!changes.ok()) {
        KASSA_LOG(kError) << "distribution to " << terminal_id_ << ": " << changes.status().detail();
        return Close(changes.status());
      }
      if (changes->empty()) {
        if (scanned_to == sent_upto_) return;  // up to date
        sent_upto_ = scanned_to;
        continue;
      }
      Bytes payload;
      std::uint64_t last = sent_upto_;
      for (const auto& change : *changes) {
        if (!model::Speaks(protocol_, change)) {
          last = change.seq;  // passed over: what the terminal cannot read
          continue;
        }
        if (Status s = proto_codec::AppendDistributionChange(change, payload); !s.ok()) {
          KASSA_LOG(kError) << "distribution to " << terminal_id_ << ": " << s.detail();
          return Close(s);
        }
        last = change.seq;
        if (payload.size() >= kDistributionFrameBytes) break;
      }
      if (payload.empty()) {
        sent_upto_ = last;
        continue;
      }
      conn_->Send(FrameType::kDistribution, payload);
      sent_upto_ = last;
      distribution_in_flight_ = true;
      return;
    }
  }

 private:
  void OnHandshake(boost::system::error_code ec, const LinkServerOptions& options) {
    auto server = server_.lock();
    if (!server || server->stopped) return Close(Status(StatusCode::kCancelled, "link: headquarters is stopping"));
    if (ec) {
      const long verify = tls_ ? SSL_get_verify_result(tls_->native_handle()) : X509_V_OK;
      KASSA_LOG_THROTTLED("link " << peer_ << ": " << tls::DescribeHandshakeError(ec, verify)
                                              << "; dropped");
      return Close(Status(StatusCode::kPermissionDenied, "link: TLS handshake failed"));
    }
    auto identity = tls::TerminalIdentityOf(SSL_get0_peer_certificate(tls_->native_handle()));
    if (!identity.ok()) {
      KASSA_LOG_THROTTLED("link " << peer_ << ": " << identity.status().detail() << "; dropped");
      return Close(identity.status());
    }
    auto revoked = server->registry.store().IsCertificateRevoked(identity->serial_hex);
    if (!revoked.ok() || *revoked) {
      KASSA_LOG_THROTTLED("link " << peer_ << ": the certificate of terminal " << identity->terminal_id
                                                << " (serial " << identity->serial_hex << ") "
                                                << (revoked.ok() ? "is revoked" : "cannot be checked for revocation")
                                                << "; dropped");
      return Close(Status(StatusCode::kPermissionDenied, "link: certificate revoked"));
    }
    identity_ = std::move(*identity);
    StartFrames(link::LinkSocket(std::move(tls_)), options);
  }

  void StartFrames(link::LinkSocket socket, const LinkServerOptions& options) {
    auto conn_options = options.connection;
    conn_options.quiet_until_ready = true;
    conn_ = std::make_shared<link::FrameConnection>(std::move(socket), conn_options, proto_codec::LinkControlPayloads());
    conn_->Start([self = shared_from_this()](FrameType t, ByteView p) { self->OnFrame(t, p); },
                 [self = shared_from_this()](const Status& why) { self->OnClosed(why); });
  }

  void Violation(const std::string& reason) {
    if (terminal_id_.empty()) {
      KASSA_LOG_THROTTLED("link " << peer_ << ": " << reason << "; dropping the connection");
    } else {
      KASSA_LOG(kWarning) << "link " << peer_ << " (" << terminal_id_ << "): " << reason << "; dropping the connection";
    }
    conn_->CloseWithError(reason, Status(StatusCode::kInvalidArgument, "link: protocol violation"));
  }

  void OnFrame(FrameType type, ByteView payload) {
    auto server = server_.lock();
    if (!server) return;
    if (terminal_id_.empty() && type != FrameType::kHello) return Violation("the first frame must be a hello");
    if (wipe_ordered_ms_ != 0) return OnFrameWhileWiping(*server, type, payload);
    switch (type) {
      case FrameType::kHello: return OnHello(*server, payload);
      case FrameType::kUploadBatch: {
        auto ops = proto_codec::DecodeUploadBatch(payload, terminal_id_);
        if (!ops.ok()) return Violation(std::string("malformed upload batch: ") + ops.status().detail());
        if (ops->empty()) return;
        return server->Enqueue(shared_from_this(), Batch{terminal_id_, std::move(*ops)}, false, 0);
      }
      case FrameType::kRealtimeRequest: {
        auto request = proto_codec::DecodeRealtimeRequest(payload);
        if (!request.ok()) return Violation(std::string("malformed real-time request: ") + request.status().detail());
        return server->Enqueue(shared_from_this(), Batch{terminal_id_, {std::move(request->operation)}}, true,
                               request->request_id);
      }
      case FrameType::kDistributionAck: {
        auto cursor = proto_codec::DecodeDistributionAck(payload);
        if (!cursor.ok()) return Violation("malformed distribution acknowledgement");
        if (Status s = server->registry.AckCursor(terminal_id_, *cursor); !s.ok()) {
          KASSA_LOG(kError) << "the cursor of " << terminal_id_ << ": " << s.detail();
        }
        server->ScheduleCursorSave();
        distribution_in_flight_ = false;
        return Pump();
      }
      case FrameType::kSearchRequest: return OnSearch(*server, payload);
      case FrameType::kAccessEvents: return OnAccessEvents(*server, payload);
      case FrameType::kError: {
        auto reason = proto_codec::DecodeLinkError(payload);
        KASSA_LOG(kWarning) << "terminal " << terminal_id_ << " reports: " << (reason.ok() ? *reason : "(unreadable)");
        return Close(Status(StatusCode::kAborted, "link: the terminal closed with an error"));
      }
      default:
        return Violation(std::string("unexpected ") + link::ToString(type) + " frame from a terminal");
    }
  }

  // The terminal's access audit events: stored (each once), then
  // acknowledged through the last one.
  void OnAccessEvents(LinkServer::Impl& server, ByteView payload) {
    auto events = proto_codec::DecodeAccessEvents(payload);
    if (!events.ok()) return Violation(std::string("malformed access events: ") + events.status().detail());
    if (events->empty()) return;
    for (auto& e : *events) {
      if (e.seq == 0) return Violation("an access event without its queue sequence");
      e.terminal_id = terminal_id_;  // the connection's, whatever else it says
    }
    if (auto stored = server.registry.RecordAccess(*events); !stored.ok()) {
      KASSA_LOG(kError) << "storing access events of " << terminal_id_ << ": " << stored.status().detail();
      return Close(stored.status());  // not acknowledged: the terminal sends them again
    }
    if (auto ack = proto_codec::EncodeAccessEventsAck(events->back().seq); ack.ok()) {
      conn_->Send(FrameType::kAccessEventsAck, *ack);
    }
  }

  void OnHello(LinkServer::Impl& server, ByteView payload) {
    if (!terminal_id_.empty()) return Violation("a second hello");
    auto hello = proto_codec::DecodeHello(payload);
    if (!hello.ok()) return Violation("malformed hello");
    if (const std::string problem = model::LinkVersionProblem(hello->protocol_version, "this terminal", "headquarters");
        !problem.empty()) {
      return Violation(problem);
    }
    if (conn_->encrypted() && (hello->terminal_id != identity_.terminal_id || hello->store_id != identity_.store_id)) {
      return Violation("the hello names terminal \"" + ForLog(hello->terminal_id) + "\" of store \"" +
                       ForLog(hello->store_id) + "\", the certificate terminal " + identity_.terminal_id +
                       " of store " + identity_.store_id);
    }
    if (server.Terminals() >= server.options.max_terminals) {
      KASSA_LOG_THROTTLED("link: " << server.options.max_terminals << " terminals connected; refusing "
                                         << ForLog(hello->terminal_id));
      return conn_->CloseWithError("headquarters serves its maximum of terminals; retry later",
                                   Status(StatusCode::kResourceExhausted, "link: too many terminals"));
    }
    // One connection per terminal: a newer one replaces an older, half-dead
    // one, but only when it shows the same certificate.
    for (auto& weak : server.sessions) {
      auto other = weak.lock();
      if (!other || other.get() == this || other->terminal_id() != hello->terminal_id) continue;
      if (other->fingerprint() != fingerprint()) {
        return Violation("terminal " + ForLog(hello->terminal_id) + " is connected with another certificate");
      }
      other->Close(Status(StatusCode::kAborted, "link: replaced by a newer connection"));
    }
    auto record = server.registry.Hello(*hello);
    if (!record.ok()) return Violation(std::string(record.status().detail()) + " (" + ForLog(hello->store_id) + ")");
    slot_.reset();
    deadline_.cancel();
    conn_->MarkReady();
    terminal_id_ = hello->terminal_id;
    store_id_ = hello->store_id;
    sent_upto_ = hello->distribution_cursor;
    auto stats = server.registry.store().Stats();
    if (stats.ok() && sent_upto_ > stats->head_seq) {
      // Our log is shorter than what the terminal applied (headquarters was
      // restored): it resets its cursor on our Welcome; start from the beginning.
      KASSA_LOG(kWarning) << "terminal " << hello->terminal_id << " is at change " << sent_upto_ << ", past our log ("
                          << stats->head_seq << "): distributing from the start";
      sent_upto_ = 0;
    }
    KASSA_LOG(kInfo) << "terminal " << terminal_id_ << " (store " << store_id_ << ") connected from " << peer_
                     << ", cursor " << sent_upto_;
    model::Welcome welcome;
    protocol_ = hello->protocol_version;
    welcome.protocol_version = hello->protocol_version;  // within our window: the terminal's own
    if (const auto wipe = server.registry.PendingWipe(terminal_id_)) {
      KASSA_LOG(kWarning) << "terminal " << terminal_id_ << " is ordered wiped (by " << wipe->who
                          << "): telling it now";
      wipe_ordered_ms_ = wipe->ordered_ms;
      welcome.wipe_ordered_at_ms = wipe->ordered_ms;
    }
    welcome.head_cursor = stats.ok() ? stats->head_seq : 0;
    welcome.server_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count();
    if (auto p = proto_codec::EncodeWelcome(welcome); p.ok()) conn_->Send(FrameType::kWelcome, *p);
    if (wipe_ordered_ms_ != 0) return;
    SendErasuresAhead(server, stats.ok() ? stats->head_seq : 0);
    Pump();
  }

  // A terminal told to wipe: only its report counts (a lost or stolen
  // device's uploads and requests are not applied).
  void OnFrameWhileWiping(LinkServer::Impl& server, FrameType type, ByteView payload) {
    if (type == FrameType::kError) return Close(Status(StatusCode::kAborted, "link: the terminal closed with an error"));
    if (type != FrameType::kWipeDone) {
      KASSA_LOG(kDebug) << "terminal " << terminal_id_ << " is being wiped; its " << link::ToString(type)
                        << " frame is ignored";
      return;
    }
    auto ordered = proto_codec::DecodeWipeDone(payload);
    if (!ordered.ok()) return Violation("malformed wipe report");
    if (*ordered != wipe_ordered_ms_) return Violation("the wipe report names another order");
    if (Status s = server.registry.ConfirmWipe(terminal_id_, *ordered, identity_.serial_hex); !s.ok()) {
      KASSA_LOG(kError) << "confirming the wipe of " << terminal_id_ << ": " << s.detail();
      return Close(s);
    }
    conn_->CloseWithError("this terminal was wiped; enrol it anew",
                          Status(StatusCode::kPermissionDenied, "link: terminal wiped"));
  }

  // A terminal behind the log erases first: the newest kMaxErasuresAhead
  // erasures of its legal entity after its cursor go before the catch-up
  // (older ones still come in order with it).
  void SendErasuresAhead(LinkServer::Impl& server, std::uint64_t head) {
    if (sent_upto_ >= head) return;
    const model::StoreConfig* store = server.registry.config().FindStore(store_id_);
    auto erasures = server.registry.store().Erasures(kMaxErasuresAhead);
    if (store == nullptr || !erasures.ok()) return;
    Bytes payload;
    std::size_t n = 0;
    for (const auto& e : *erasures) {
      if (e.seq <= sent_upto_ || e.legal_entity != store->legal_entity) continue;
      model::Change change;
      change.seq = e.seq;
      change.kind = model::Change::Kind::kCustomerErased;
      change.erased = e.customer;
      if (!proto_codec::AppendDistributionChange(change, payload).ok()) return;
      ++n;
    }
    if (n == 0) return;
    KASSA_LOG(kInfo) << "terminal " << terminal_id_ << ": " << n << " erasure(s) sent ahead of its catch-up";
    conn_->Send(FrameType::kErasuresAhead, payload);
  }

  void OnSearch(LinkServer::Impl& server, ByteView payload) {
    auto request = proto_codec::DecodeSearchRequest(payload);
    if (!request.ok()) return Violation("malformed search request");
    model::SearchReply reply;
    reply.request_id = request->request_id;
    const model::StoreConfig* store = server.registry.config().FindStore(store_id_);
    const std::size_t limit = std::clamp<std::size_t>(request->limit, 1, search::kMaxSearchLimit);
    const bool whole_chain = server.registry.config().chain_search_scope == SearchScope::kChain;
    // Scoped to the legal entity: the best kMaxSearchLimit chain-wide, then
    // only the terminal's own legal entity's (never another's customer).
    auto results = search::SearchCustomers(server.registry.store(), request->query,
                                           whole_chain ? limit : search::kMaxSearchLimit,
                                           store != nullptr ? store->operating_unit_country : "");
    if (!results.ok()) {
      reply.error = results.status().detail();
    } else {
      for (auto& r : *results) {
        if (reply.customers.size() >= limit) break;
        if (!whole_chain) {
          auto owner = server.registry.store().LegalEntityOf(r.customer.id);
          if (!owner.ok()) {
            reply.error = owner.status().detail();
            reply.customers.clear();
            break;
          }
          if (store == nullptr || *owner != store->legal_entity) continue;
        }
        reply.customers.push_back(std::move(r.customer));
      }
    }
    if (auto p = proto_codec::EncodeSearchReply(reply); p.ok()) conn_->Send(FrameType::kSearchReply, *p);
  }

  void OnClosed(const Status& why) {
    deadline_.cancel();
    if (!terminal_id_.empty()) {
      KASSA_LOG(kInfo) << "terminal " << terminal_id_ << " disconnected: " << why.detail();
    }
  }

  std::weak_ptr<LinkServer::Impl> server_;
  std::optional<tcp::socket> socket_;               // until the handshake starts
  std::unique_ptr<link::LinkSocket::Tls> tls_;      // during the handshake
  std::shared_ptr<link::FrameConnection> conn_;     // once frames flow
  std::unique_ptr<PreAuthSlot> slot_;               // until Hello
  asio::steady_timer deadline_;                     // handshake and Hello
  std::string peer_;
  tls::PeerIdentity identity_;                      // empty on the plaintext development link
  std::string terminal_id_;  // empty until Hello
  std::string store_id_;
  std::uint64_t sent_upto_ = 0;  // distribution sent up to this change
  std::uint32_t protocol_ = model::kLinkProtocolVersion;  // the version the terminal speaks (its Hello)
  std::int64_t wipe_ordered_ms_ = 0;  // non-zero: told to wipe; nothing but its report is taken
  bool distribution_in_flight_ = false;
};

void LinkServer::Impl::Accept() {
  acceptor.async_accept([self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
    if (ec) {
      KASSA_LOG_THROTTLED("link accept: " << ec.message());
      // Out of descriptors or memory: wait instead of spinning on the error.
      auto pause = std::make_shared<asio::steady_timer>(self->acceptor.get_executor(), std::chrono::milliseconds(100));
      return pause->async_wait([self, pause](boost::system::error_code) { self->Accept(); });
    }
    self->Admit(std::move(socket));
    self->Accept();
  });
}

void LinkServer::Impl::Admit(tcp::socket socket) {
  sessions.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
  boost::system::error_code ec;
  const auto endpoint = socket.remote_endpoint(ec);
  if (ec) return;
  std::string source = endpoint.address().to_string();
  const auto from_source = pre_auth->by_source.find(source);
  if (pre_auth->total >= options.max_unauthenticated ||
      (from_source != pre_auth->by_source.end() && from_source->second >= options.max_unauthenticated_per_source)) {
    KASSA_LOG_THROTTLED("link: too many connections without hello (" << pre_auth->total << " in all, "
                                       << (from_source != pre_auth->by_source.end() ? from_source->second : 0)
                                       << " from " << source << "); refusing one");
    socket.close(ec);
    return;
  }
  auto slot = std::make_unique<PreAuthSlot>(pre_auth, std::move(source));
  auto session = std::make_shared<Session>(shared_from_this(), std::move(socket), std::move(slot));
  sessions.push_back(session);
  session->Start(options);
}

std::size_t LinkServer::Impl::Terminals() const {
  std::size_t n = 0;
  for (const auto& weak : sessions) {
    if (auto s = weak.lock(); s && s->ready()) ++n;
  }
  return n;
}

void LinkServer::Impl::Enqueue(const std::shared_ptr<Session>& session, Batch batch, bool realtime,
                               std::uint32_t request_id) {
  batches.push_back(std::move(batch));
  pending.push_back({session, realtime, request_id});
  if (flush_posted) return;
  flush_posted = true;
  // Runs after the handlers already ready: batches that arrived together
  // from many terminals share one durable commit.
  asio::post(acceptor.get_executor(), [self = shared_from_this()] { self->Flush(); });
}

void LinkServer::Impl::Flush() {
  flush_posted = false;
  if (stopped) return;
  std::size_t take = 0;
  for (std::size_t ops = 0; take < batches.size() && (take == 0 || ops < kMaxGroupOperations); ++take) {
    ops += batches[take].operations.size();
  }
  std::vector<Batch> group(std::make_move_iterator(batches.begin()),
                           std::make_move_iterator(batches.begin() + static_cast<std::ptrdiff_t>(take)));
  std::vector<Pending> waiting(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(take));
  batches.erase(batches.begin(), batches.begin() + static_cast<std::ptrdiff_t>(take));
  pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(take));
  if (!batches.empty()) {
    flush_posted = true;
    asio::post(acceptor.get_executor(), [self = shared_from_this()] { self->Flush(); });
  }
  auto acks = registry.Apply(group);
  ForgetChanges();  // the log may have grown (even when the commit failed: nothing is kept)
  if (!acks.ok()) {
    // Nothing was applied: drop the connections so their terminals resend.
    KASSA_LOG(kError) << "applying " << group.size() << " batch(es) failed: " << acks.status().detail();
    for (auto& p : waiting) {
      if (auto s = p.session.lock()) s->Close(acks.status());
    }
    return;
  }
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    auto s = waiting[i].session.lock();
    if (!s) continue;  // gone: its terminal resends and gets the same answers
    if (waiting[i].realtime) {
      if (!(*acks)[i].empty()) s->SendReply(waiting[i].request_id, (*acks)[i].front());
    } else {
      s->SendAcks((*acks)[i]);
    }
  }
  WakeAll();
}

Result<std::vector<model::Change>> LinkServer::Impl::ChangesFor(const std::string& store_id, std::uint64_t after,
                                                                std::uint64_t& scanned_to) {
  const auto now = std::chrono::steady_clock::now();
  if (memo.empty() || now - memo_since > kMemoAge || memo.size() >= kMemoEntries) {
    memo.clear();
    memo_since = now;
  }
  const auto key = std::make_pair(store_id, after);
  if (const auto it = memo.find(key); it != memo.end()) {
    scanned_to = it->second.scanned_to;
    return it->second.changes;
  }
  KASSA_TRY_ASSIGN(auto changes, registry.ChangesFor(store_id, after, model::kMaxDistributionChanges, scanned_to));
  memo[key] = Memo{changes, scanned_to};
  return changes;
}

void LinkServer::Impl::ScheduleCursorSave() {
  if (cursor_save_pending || stopped) return;
  cursor_save_pending = true;
  cursor_save.expires_after(std::chrono::seconds(1));
  cursor_save.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    self->cursor_save_pending = false;
    if (ec) return;
    if (Status s = self->registry.SaveCursors(); !s.ok()) {
      KASSA_LOG(kError) << "saving the terminals' cursors: " << s.detail() << "; retried in a second";
      self->ScheduleCursorSave();
    }
  });
}

void LinkServer::Impl::WakeAll() {
  for (auto& weak : sessions) {
    if (auto s = weak.lock()) s->Pump();
  }
}

LinkServer::LinkServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
LinkServer::~LinkServer() { Stop(); }

Result<std::unique_ptr<LinkServer>> LinkServer::Start(asio::any_io_executor executor, const std::string& address,
                                                      std::uint16_t port, Registry& registry,
                                                      LinkServerOptions options) {
  auto impl = std::make_shared<Impl>(executor, registry, std::move(options));
  KASSA_TRY(net::Listen(impl->acceptor, address, port, /*loopback_only=*/false));
  impl->Accept();
  return std::unique_ptr<LinkServer>(new LinkServer(std::move(impl)));
}

std::uint16_t LinkServer::port() const { return impl_->acceptor.local_endpoint().port(); }

std::vector<std::string> LinkServer::ConnectedTerminals() const {
  std::vector<std::string> out;
  for (const auto& weak : impl_->sessions) {
    if (auto s = weak.lock(); s && s->ready()) out.push_back(s->terminal_id());
  }
  return out;
}

void LinkServer::ChangesAppended() {
  impl_->ForgetChanges();
  impl_->WakeAll();
}

void LinkServer::Reconnect(std::string_view terminal_id) {
  for (auto& weak : impl_->sessions) {
    if (auto s = weak.lock(); s && s->ready() && s->terminal_id() == terminal_id) {
      s->Close(Status(StatusCode::kAborted, "link: headquarters has news for this terminal on its next connection"));
    }
  }
}

void LinkServer::Stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  impl_->cursor_save.cancel();
  if (Status s = impl_->registry.SaveCursors(); !s.ok()) {
    KASSA_LOG(kError) << "saving the terminals' cursors on the way out: " << s.detail();
  }
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  for (auto& weak : impl_->sessions) {
    if (auto s = weak.lock()) s->Close(Status(StatusCode::kCancelled, "link: headquarters is stopping"));
  }
  impl_->sessions.clear();
}

}  // namespace kassa::hq
