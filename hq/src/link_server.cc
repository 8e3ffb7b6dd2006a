#include "kassa/hq/link_server.h"

#include <openssl/ssl.h>

#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

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
// Operations per group commit at most: bounds how long a real-time request
// waits behind a flood of async uploads (a commit of 2,048 creates takes
// about 190 ms on the benchmark's machine). Larger groups write each index
// page once for more operations (docs/PERFORMANCE.md).
constexpr std::size_t kMaxGroupOperations = 2048;
// Frames a terminal may send after its Hello before the Welcome (held until
// the Hello is answered), and their payload bytes in all.
constexpr std::size_t kMaxFramesHeldForHello = 16;
constexpr std::size_t kMaxBytesHeldForHello = 64 * 1024;
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

// Two threads: the network thread (this object's io_context: accepting,
// TLS, frames, heartbeats, every Session) and the registry's (the executor
// given to Start, which the admin API and the retention sweep share). Every
// use of the registry and its store is posted to the registry's thread and
// its answer posted back (WithRegistry), so a durable commit or a database
// round trip never holds up the terminals' reads, writes and heartbeats.
struct LinkServer::Impl : std::enable_shared_from_this<LinkServer::Impl> {
  Impl(asio::any_io_executor registry_executor, Registry& r, LinkServerOptions o)
      : acceptor(io), registry_ex(std::move(registry_executor)), registry(r), options(std::move(o)),
        pre_auth(std::make_shared<PreAuthCounts>()), cursor_save(registry_ex),
        registry_work(asio::prefer(registry_ex, asio::execution::outstanding_work.tracked)) {}

  struct Pending {
    std::weak_ptr<Session> session;
    bool realtime = false;
    std::uint32_t request_id = 0;
  };

  // Runs `work(registry)` on the registry's thread, then `then(result)` on
  // the network thread; neither once the server is stopping.
  template <class Work, class Then>
  void WithRegistry(Work work, Then then) {
    asio::post(registry_ex, [self = shared_from_this(), work = std::move(work), then = std::move(then)]() mutable {
      if (self->stopped) return;
      auto result = work(self->registry);
      asio::post(self->io, [self, result = std::move(result), then = std::move(then)]() mutable {
        if (!self->stopped) then(std::move(result));
      });
    });
  }

  // Network thread.
  void Accept();
  void Admit(tcp::socket socket);
  std::size_t Terminals() const;
  void Enqueue(const std::shared_ptr<Session>& session, Batch batch, bool realtime, std::uint32_t request_id);
  // Sends the waiting batches to the registry as one group commit, unless
  // one is being applied: what arrives meanwhile goes in the next. Real-time
  // requests go first (each terminal's own order kept).
  void Flush();
  // The log has new changes: every session that is up to date pumps.
  void WakeAll();
  void CloseAll();
  // Who is connected, for ConnectedTerminals() on any thread.
  void Connected(const std::string& terminal_id);
  void Disconnected(const std::string& terminal_id);

  // Registry's thread. Registry::ChangesFor, remembered until the log
  // changes: the sessions of one store at one cursor (every terminal of a
  // store, woken together by a commit) share one read of the store.
  // Forgotten at every group commit and every ChangesAppended(), and after
  // kMemoAge whatever happened.
  Result<std::vector<model::Change>> ChangesFor(const std::string& store_id, std::uint64_t after,
                                                std::uint64_t& scanned_to);
  void ForgetChanges() { memo.clear(); }
  // Saves the acknowledged cursors within a second, all in one transaction.
  void ScheduleCursorSave();

  asio::io_context io;  // the network thread's; first, so that it is destroyed last
  tcp::acceptor acceptor;
  const asio::any_io_executor registry_ex;
  Registry& registry;
  const LinkServerOptions options;
  std::atomic<bool> stopped{false};
  std::uint16_t port = 0;
  std::thread network_thread;

  // Network thread's.
  std::shared_ptr<PreAuthCounts> pre_auth;
  std::list<std::weak_ptr<Session>> sessions;
  std::vector<Batch> batches;     // waiting for a group commit, oldest first
  std::vector<Pending> pending;   // who waits for each batch
  bool flush_posted = false;
  bool applying = false;          // a group commit is with the registry

  // Registry's thread's.
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
  asio::any_io_executor registry_work;  // keeps the registry's loop running until Stop()

  // Any thread's.
  mutable std::mutex connected_mutex;
  std::multiset<std::string> connected;
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
    ArmDeadline(options.hello_timeout);
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
    closed_ = true;
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

  // Sends the next distribution frame when none is in flight: the store's
  // changes after the cursor are read on the registry's thread, framed here.
  void Pump() {
    auto server = server_.lock();
    if (!server || !ready() || wipe_ordered_ms_ != 0) return;
    if (distribution_in_flight_ || reading_) {
      woken_while_reading_ = reading_;
      return;
    }
    reading_ = true;
    woken_while_reading_ = false;
    struct Read {
      Result<std::vector<model::Change>> changes = std::vector<model::Change>{};
      std::uint64_t from = 0;  // the cursor the changes follow (past empty stretches of the log)
    };
    server->WithRegistry(
        [server, store_id = store_id_, after = sent_upto_](Registry&) {
          Read read;
          read.from = after;
          for (int scan = 0; scan < kMaxScansPerPump; ++scan) {
            std::uint64_t scanned_to = read.from;
            read.changes = server->ChangesFor(store_id, read.from, scanned_to);
            if (!read.changes.ok() || !read.changes->empty() || scanned_to == read.from) break;
            read.from = scanned_to;  // a stretch of other stores' changes: on
          }
          return read;
        },
        [self = shared_from_this()](Read read) { self->OnChangesRead(std::move(read.changes), read.from); });
  }

 private:
  // The Hello deadline: what the terminal must have done (finished its
  // handshake, sent its Hello) by then. Paused while headquarters itself
  // works (the revocation check, the answer to the Hello): StopDeadline().
  void ArmDeadline(std::chrono::milliseconds timeout) {
    const std::uint64_t generation = ++deadline_generation_;
    deadline_.expires_after(timeout);
    deadline_.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
      if (ec || generation != self->deadline_generation_ || !self->terminal_id_.empty()) return;
      KASSA_LOG_THROTTLED("link " << self->peer_ << ": no handshake and hello in time; dropped");
      self->Close(Status(StatusCode::kDeadlineExceeded, "link: no hello in time"));
    });
  }
  void StopDeadline() {
    ++deadline_generation_;
    deadline_.cancel();
  }

  void OnChangesRead(Result<std::vector<model::Change>> changes, std::uint64_t from) {
    reading_ = false;
    if (!ready() || wipe_ordered_ms_ != 0) return;
    if (!changes.ok()) {
      KASSA_LOG(kError) << "distribution to " << terminal_id_ << ": " << changes.status().detail();
      return Close(changes.status());
    }
    sent_upto_ = from;
    if (changes->empty()) {
      if (woken_while_reading_) Pump();  // the log grew while it was read
      return;
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
    sent_upto_ = last;
    if (payload.empty()) return Pump();  // nothing this terminal reads: on past them
    conn_->Send(FrameType::kDistribution, payload);
    distribution_in_flight_ = true;
  }

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
    identity_ = std::move(*identity);
    StopDeadline();  // the terminal's part is done; the revocation check is ours
    server->WithRegistry(
        [serial = identity_.serial_hex](Registry& registry) { return registry.store().IsCertificateRevoked(serial); },
        [self = shared_from_this(), options](Result<bool> revoked) {
          if (self->closed_) return;  // meanwhile: headquarters stopping
          if (!revoked.ok() || *revoked) {
            KASSA_LOG_THROTTLED("link " << self->peer_ << ": the certificate of terminal "
                                        << self->identity_.terminal_id << " (serial " << self->identity_.serial_hex
                                        << ") " << (revoked.ok() ? "is revoked" : "cannot be checked for revocation")
                                        << "; dropped");
            return self->Close(Status(StatusCode::kPermissionDenied, "link: certificate revoked"));
          }
          self->ArmDeadline(options.hello_timeout);  // for its Hello
          self->StartFrames(link::LinkSocket(std::move(self->tls_)), options);
        });
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
    if (hello_pending_) {
      // Sent after the Hello without waiting for the Welcome: taken, in
      // order, once the Hello is answered.
      if (held_.size() >= kMaxFramesHeldForHello || held_bytes_ + payload.size() > kMaxBytesHeldForHello) {
        return Violation("too much sent before its hello was answered");
      }
      held_bytes_ += payload.size();
      held_.emplace_back(type, Bytes(payload.begin(), payload.end()));
      return;
    }
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
        asio::post(server->registry_ex, [server, terminal = terminal_id_, cursor = *cursor] {
          if (server->stopped) return;
          if (Status s = server->registry.AckCursor(terminal, cursor); !s.ok()) {
            KASSA_LOG(kError) << "the cursor of " << terminal << ": " << s.detail();
          }
          server->ScheduleCursorSave();
        });
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
    const std::uint64_t through = events->back().seq;
    server.WithRegistry(
        [events = std::move(*events)](Registry& registry) { return registry.RecordAccess(events); },
        [self = shared_from_this(), through](Result<std::size_t> stored) {
          if (!stored.ok()) {
            KASSA_LOG(kError) << "storing access events of " << self->terminal_id_ << ": "
                              << stored.status().detail();
            return self->Close(stored.status());  // not acknowledged: the terminal sends them again
          }
          if (auto ack = proto_codec::EncodeAccessEventsAck(through); ack.ok()) {
            self->conn_->Send(FrameType::kAccessEventsAck, *ack);
          }
        });
  }

  // What the registry answers a Hello, gathered on its thread.
  struct HelloAnswer {
    Status status;                       // Registry::Hello's
    std::optional<std::uint64_t> head;   // the log's head, when known
    std::optional<storage::WipeOrder> wipe;
    Bytes erasures_ahead;                // an ErasuresAhead payload; empty: none
    std::size_t erasures = 0;
  };

  void OnHello(LinkServer::Impl& server, ByteView payload) {
    if (!terminal_id_.empty() || hello_pending_) return Violation("a second hello");
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
    if (!ReplaceOlderConnections(server, hello->terminal_id)) return;
    hello_pending_ = true;
    // The deadline is the terminal's: its handshake and Hello came in time.
    // How long the registry takes to answer (behind a group commit, or the
    // Hellos of a thousand terminals reconnecting at once) is ours, and the
    // terminal's heartbeats meanwhile are welcome.
    StopDeadline();
    conn_->MarkReady();
    server.WithRegistry([hello = *hello](Registry& registry) { return AnswerHello(registry, hello); },
                        [self = shared_from_this(), hello = *hello](HelloAnswer answer) {
                          self->OnHelloAnswered(hello, std::move(answer));
                        });
  }

  // Registry's thread: records the Hello; the log's head, a pending wipe
  // order, and the erasures to send ahead of a catch-up.
  static HelloAnswer AnswerHello(Registry& registry, const model::Hello& hello) {
    HelloAnswer answer;
    if (auto record = registry.Hello(hello); !record.ok()) {
      answer.status = record.status();
      return answer;
    }
    if (auto stats = registry.store().Stats(); stats.ok()) answer.head = stats->head_seq;
    answer.wipe = registry.PendingWipe(hello.terminal_id);
    const std::uint64_t from = answer.head && hello.distribution_cursor > *answer.head ? 0 : hello.distribution_cursor;
    if (!answer.wipe && answer.head && from < *answer.head) ErasuresAhead(registry, hello.store_id, from, answer);
    return answer;
  }

  // One connection per terminal: a newer one replaces an older, half-dead
  // one, but only when it shows the same certificate. False: this one is
  // refused (and closed).
  bool ReplaceOlderConnections(LinkServer::Impl& server, const std::string& terminal_id) {
    for (auto& weak : server.sessions) {
      auto other = weak.lock();
      if (!other || other.get() == this || other->terminal_id() != terminal_id) continue;
      if (other->fingerprint() != fingerprint()) {
        Violation("terminal " + ForLog(terminal_id) + " is connected with another certificate");
        return false;
      }
      other->Close(Status(StatusCode::kAborted, "link: replaced by a newer connection"));
    }
    return true;
  }

  void OnHelloAnswered(const model::Hello& hello, HelloAnswer answer) {
    hello_pending_ = false;
    auto server = server_.lock();
    if (!server || closed_ || !conn_->open()) return;
    if (!answer.status.ok()) return Violation(std::string(answer.status.detail()) + " (" + ForLog(hello.store_id) + ")");
    // Again: another connection of this terminal may have said Hello meanwhile.
    if (!ReplaceOlderConnections(*server, hello.terminal_id)) return;
    slot_.reset();
    terminal_id_ = hello.terminal_id;
    store_id_ = hello.store_id;
    server->Connected(terminal_id_);
    sent_upto_ = hello.distribution_cursor;
    if (answer.head && sent_upto_ > *answer.head) {
      // Our log is shorter than what the terminal applied (headquarters was
      // restored): it resets its cursor on our Welcome; start from the beginning.
      KASSA_LOG(kWarning) << "terminal " << terminal_id_ << " is at change " << sent_upto_ << ", past our log ("
                          << *answer.head << "): distributing from the start";
      sent_upto_ = 0;
    }
    KASSA_LOG(kInfo) << "terminal " << terminal_id_ << " (store " << store_id_ << ") connected from " << peer_
                     << ", cursor " << sent_upto_;
    model::Welcome welcome;
    protocol_ = hello.protocol_version;
    welcome.protocol_version = hello.protocol_version;  // within our window: the terminal's own
    if (answer.wipe) {
      KASSA_LOG(kWarning) << "terminal " << terminal_id_ << " is ordered wiped (by " << answer.wipe->who
                          << "): telling it now";
      wipe_ordered_ms_ = answer.wipe->ordered_ms;
      welcome.wipe_ordered_at_ms = answer.wipe->ordered_ms;
    }
    welcome.head_cursor = answer.head.value_or(0);
    welcome.server_time_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count();
    if (auto p = proto_codec::EncodeWelcome(welcome); p.ok()) conn_->Send(FrameType::kWelcome, *p);
    if (wipe_ordered_ms_ == 0) {
      if (answer.erasures > 0) {
        KASSA_LOG(kInfo) << "terminal " << terminal_id_ << ": " << answer.erasures
                         << " erasure(s) sent ahead of its catch-up";
        conn_->Send(FrameType::kErasuresAhead, answer.erasures_ahead);
      }
      Pump();
    }
    auto held = std::move(held_);
    held_.clear();
    held_bytes_ = 0;
    for (const auto& [type, bytes] : held) {
      if (closed_) break;
      OnFrame(type, bytes);
    }
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
    server.WithRegistry(
        [terminal = terminal_id_, ordered = *ordered, serial = identity_.serial_hex](Registry& registry) {
          return registry.ConfirmWipe(terminal, ordered, serial);
        },
        [self = shared_from_this()](Status s) {
          if (!s.ok()) {
            KASSA_LOG(kError) << "confirming the wipe of " << self->terminal_id_ << ": " << s.detail();
            return self->Close(s);
          }
          self->conn_->CloseWithError("this terminal was wiped; enrol it anew",
                                      Status(StatusCode::kPermissionDenied, "link: terminal wiped"));
        });
  }

  // A terminal behind the log erases first: the newest kMaxErasuresAhead
  // erasures of its legal entity after its cursor go before the catch-up
  // (older ones still come in order with it). Registry's thread.
  static void ErasuresAhead(Registry& registry, const std::string& store_id, std::uint64_t after,
                            HelloAnswer& answer) {
    const model::StoreConfig* store = registry.config().FindStore(store_id);
    auto erasures = registry.store().Erasures(kMaxErasuresAhead);
    if (store == nullptr || !erasures.ok()) return;
    for (const auto& e : *erasures) {
      if (e.seq <= after || e.legal_entity != store->legal_entity) continue;
      model::Change change;
      change.seq = e.seq;
      change.kind = model::Change::Kind::kCustomerErased;
      change.erased = e.customer;
      if (!proto_codec::AppendDistributionChange(change, answer.erasures_ahead).ok()) {
        answer.erasures_ahead.clear();
        answer.erasures = 0;
        return;
      }
      ++answer.erasures;
    }
  }

  void OnSearch(LinkServer::Impl& server, ByteView payload) {
    auto request = proto_codec::DecodeSearchRequest(payload);
    if (!request.ok()) return Violation("malformed search request");
    server.WithRegistry(
        [request = std::move(*request), store_id = store_id_](Registry& registry) {
          return Search(registry, request, store_id);
        },
        [self = shared_from_this()](const model::SearchReply& reply) {
          if (auto p = proto_codec::EncodeSearchReply(reply); p.ok()) self->conn_->Send(FrameType::kSearchReply, *p);
        });
  }

  // A chain search from a terminal of `store_id`. Registry's thread.
  static model::SearchReply Search(Registry& registry, const model::SearchRequest& request,
                                   const std::string& store_id) {
    model::SearchReply reply;
    reply.request_id = request.request_id;
    const model::StoreConfig* store = registry.config().FindStore(store_id);
    const std::size_t limit = std::clamp<std::size_t>(request.limit, 1, search::kMaxSearchLimit);
    const bool whole_chain = registry.config().chain_search_scope == SearchScope::kChain;
    // Scoped to the legal entity: the best kMaxSearchLimit chain-wide, then
    // only the terminal's own legal entity's (never another's customer).
    auto results = search::SearchCustomers(registry.store(), request.query,
                                           whole_chain ? limit : search::kMaxSearchLimit,
                                           store != nullptr ? store->operating_unit_country : "");
    if (!results.ok()) {
      reply.error = results.status().detail();
      return reply;
    }
    for (auto& r : *results) {
      if (reply.customers.size() >= limit) break;
      if (!whole_chain) {
        auto owner = registry.store().LegalEntityOf(r.customer.id);
        if (!owner.ok()) {
          reply.error = owner.status().detail();
          reply.customers.clear();
          break;
        }
        if (store == nullptr || *owner != store->legal_entity) continue;
      }
      reply.customers.push_back(std::move(r.customer));
    }
    return reply;
  }

  void OnClosed(const Status& why) {
    closed_ = true;
    deadline_.cancel();
    if (!terminal_id_.empty()) {
      KASSA_LOG(kInfo) << "terminal " << terminal_id_ << " disconnected: " << why.detail();
      if (auto server = server_.lock()) server->Disconnected(terminal_id_);
    }
  }

  std::weak_ptr<LinkServer::Impl> server_;
  std::optional<tcp::socket> socket_;               // until the handshake starts
  std::unique_ptr<link::LinkSocket::Tls> tls_;      // during the handshake
  std::shared_ptr<link::FrameConnection> conn_;     // once frames flow
  std::unique_ptr<PreAuthSlot> slot_;               // until Hello
  asio::steady_timer deadline_;                     // handshake and Hello
  std::uint64_t deadline_generation_ = 0;           // a wait of an earlier generation does nothing
  std::string peer_;
  tls::PeerIdentity identity_;                      // empty on the plaintext development link
  std::string terminal_id_;  // empty until Hello
  std::string store_id_;
  std::uint64_t sent_upto_ = 0;  // distribution sent up to this change
  std::uint32_t protocol_ = model::kLinkProtocolVersion;  // the version the terminal speaks (its Hello)
  std::int64_t wipe_ordered_ms_ = 0;  // non-zero: told to wipe; nothing but its report is taken
  bool distribution_in_flight_ = false;
  bool reading_ = false;              // the registry reads the next changes for it
  bool woken_while_reading_ = false;  // ... and the log grew meanwhile
  bool hello_pending_ = false;        // its Hello is with the registry
  std::vector<std::pair<FrameType, Bytes>> held_;  // frames that came meanwhile
  std::size_t held_bytes_ = 0;                     // ... their payloads' bytes
  bool closed_ = false;
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
  if (flush_posted || applying) return;
  flush_posted = true;
  // Runs after the handlers already ready: batches that arrived together
  // from many terminals share one durable commit.
  asio::post(io, [self = shared_from_this()] { self->Flush(); });
}

void LinkServer::Impl::Flush() {
  flush_posted = false;
  if (stopped || applying || batches.empty()) return;
  // Real-time requests first (someone waits at a counter for each), ahead of
  // other terminals' uploads but never of an earlier upload of their own
  // terminal; then the rest in arrival order, up to the group's size.
  std::vector<bool> taken(batches.size(), false);
  std::vector<std::size_t> order;
  std::set<std::string_view> upload_waiting;  // terminals with an upload not taken yet
  for (std::size_t i = 0; i < batches.size(); ++i) {
    if (!pending[i].realtime) {
      upload_waiting.insert(batches[i].terminal_id);
    } else if (!upload_waiting.contains(batches[i].terminal_id)) {
      taken[i] = true;
      order.push_back(i);
    }
  }
  std::size_t ops = order.size();
  for (std::size_t i = 0; i < batches.size() && (ops == 0 || ops < kMaxGroupOperations); ++i) {
    if (taken[i]) continue;
    taken[i] = true;
    order.push_back(i);
    ops += batches[i].operations.size();
  }
  std::vector<Batch> group;
  std::vector<Pending> waiting;
  for (const std::size_t i : order) {
    group.push_back(std::move(batches[i]));
    waiting.push_back(std::move(pending[i]));
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < batches.size(); ++i) {
    if (taken[i]) continue;
    batches[kept] = std::move(batches[i]);
    pending[kept] = std::move(pending[i]);
    ++kept;
  }
  batches.resize(kept);
  pending.resize(kept);
  applying = true;
  const std::size_t size = group.size();
  WithRegistry(
      [self = shared_from_this(), group = std::move(group)](Registry& r) {
        auto acks = r.Apply(group);
        self->ForgetChanges();  // the log may have grown (even when the commit failed: nothing is kept)
        return acks;
      },
      [self = shared_from_this(), waiting = std::move(waiting), size](
          Result<std::vector<std::vector<model::OperationAck>>> acks) {
        self->applying = false;
        if (!self->batches.empty()) self->Flush();  // what came during the commit: the next group, now
        if (!acks.ok()) {
          // Nothing was applied: drop the connections so their terminals resend.
          KASSA_LOG(kError) << "applying " << size << " batch(es) failed: " << acks.status().detail();
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
        self->WakeAll();
      });
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
    if (ec || self->stopped) return;
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

void LinkServer::Impl::CloseAll() {
  boost::system::error_code ec;
  acceptor.close(ec);
  for (auto& weak : sessions) {
    if (auto s = weak.lock()) s->Close(Status(StatusCode::kCancelled, "link: headquarters is stopping"));
  }
  sessions.clear();
}

void LinkServer::Impl::Connected(const std::string& terminal_id) {
  std::lock_guard lock(connected_mutex);
  connected.insert(terminal_id);
}

void LinkServer::Impl::Disconnected(const std::string& terminal_id) {
  std::lock_guard lock(connected_mutex);
  if (auto it = connected.find(terminal_id); it != connected.end()) connected.erase(it);
}

LinkServer::LinkServer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
LinkServer::~LinkServer() { Stop(); }

Result<std::unique_ptr<LinkServer>> LinkServer::Start(asio::any_io_executor registry_executor,
                                                      const std::string& address, std::uint16_t port,
                                                      Registry& registry, LinkServerOptions options) {
  auto impl = std::make_shared<Impl>(std::move(registry_executor), registry, std::move(options));
  KASSA_TRY(net::Listen(impl->acceptor, address, port, /*loopback_only=*/false));
  impl->port = impl->acceptor.local_endpoint().port();
  impl->Accept();
  Impl* network = impl.get();
  impl->network_thread = std::thread([network] {
    auto work = asio::make_work_guard(network->io);  // until Stop()
    network->io.run();
  });
  return std::unique_ptr<LinkServer>(new LinkServer(std::move(impl)));
}

std::uint16_t LinkServer::port() const { return impl_->port; }

std::vector<std::string> LinkServer::ConnectedTerminals() const {
  std::lock_guard lock(impl_->connected_mutex);
  std::vector<std::string> out(impl_->connected.begin(), impl_->connected.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void LinkServer::ChangesAppended() {
  impl_->ForgetChanges();
  asio::post(impl_->io, [impl = impl_] { impl->WakeAll(); });
}

void LinkServer::Reconnect(std::string_view terminal_id) {
  asio::post(impl_->io, [impl = impl_, terminal = std::string(terminal_id)] {
    for (auto& weak : impl->sessions) {
      if (auto s = weak.lock(); s && s->ready() && s->terminal_id() == terminal) {
        s->Close(Status(StatusCode::kAborted, "link: headquarters has news for this terminal on its next connection"));
      }
    }
  });
}

void LinkServer::Stop() {
  if (!impl_ || impl_->stopped.exchange(true)) return;
  impl_->cursor_save.cancel();
  // The network thread closes the listener and every connection, then its
  // loop stops; the handlers the closing made ready run once more here (they
  // see the server stopped), so that none keeps the server alive.
  std::promise<void> closed;
  auto done = closed.get_future();
  asio::post(impl_->io, [impl = impl_, &closed] {
    impl->CloseAll();
    closed.set_value();
  });
  if (done.wait_for(std::chrono::seconds(2)) != std::future_status::ready) {
    KASSA_LOG(kWarning) << "link: the network thread did not close its connections within 2 s; stopping it";
  }
  impl_->io.stop();
  impl_->network_thread.join();
  // Its handlers that never ran hold the server: run them (they see it
  // stopped) so that it can go.
  impl_->io.restart();
  impl_->io.poll();
  if (Status s = impl_->registry.SaveCursors(); !s.ok()) {
    KASSA_LOG(kError) << "saving the terminals' cursors on the way out: " << s.detail();
  }
  impl_->registry_work = asio::any_io_executor();  // the registry's loop may end
}

}  // namespace kassa::hq
