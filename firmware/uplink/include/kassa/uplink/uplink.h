#pragma once

// Uplink: the terminal's end of the link to headquarters.
//
//   - Connects (and reconnects) with capped exponential backoff and jitter;
//     heartbeats and stall timeouts come from link::FrameConnection, so a
//     dead link is noticed within a few seconds.
//   - Streams the outbox continuously: whenever operations are queued it
//     waits `batch_linger` for more, then sends up to `batch_max_ops`
//     operations (and `batch_max_bytes`) in one frame, one batch in flight.
//     Each acknowledgement is applied in the store (entry deleted, account
//     number bound, or quarantined) before the next batch goes out.
//   - Ships the access audit trail (storage::AccessEventQueue) beside the
//     outbox: up to model::kMaxAccessEvents events a frame, one frame in
//     flight; headquarters' acknowledgement drops them from the queue.
//   - Applies distribution frames (customers, account numbers, store
//     configuration) in one transaction each and acknowledges the cursor.
//   - Real-time create and chain search for sync mode, with deadlines.
//   - Mutual TLS (tls/link_tls.h) with the terminal's bundle: its context is
//     loaded anew for every connection, and a renewed bundle (its
//     certificate file replaced) is noticed within `bundle_check` and used
//     by reconnecting, without a restart. Plain TCP only when no bundle is
//     given (kassad's development flag).
//
// Threading: the executor's one thread, like the rest of kassad.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kassa/customers/customer_service.h"
#include "kassa/customers/headquarters.h"
#include "kassa/base/clock.h"
#include "kassa/link/frame_connection.h"
#include "kassa/storage/terminal_tables.h"
#include "kassa/tls/link_tls.h"

namespace kassa::uplink {

struct UplinkOptions {
  std::string host;
  std::uint16_t port = 7400;
  // Further headquarters (standbys on the same database): when a
  // connection fails or ends, the next address is tried, in turn.
  std::vector<std::pair<std::string, std::uint16_t>> standby;
  std::string tls_bundle;    // directory of the terminal's bundle; empty: plain TCP (development)
  std::string server_name;   // what headquarters' certificate must name; empty: `host`
  std::chrono::milliseconds bundle_check{5000};
  link::ConnectionOptions connection;
  std::chrono::milliseconds backoff_initial{200};
  std::chrono::milliseconds backoff_max{2000};
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds realtime_deadline{2000};  // a sync-mode create waits this long, then goes async
  std::chrono::milliseconds search_deadline{3000};
  std::chrono::milliseconds ack_deadline{30000};      // a batch unanswered this long: reconnect and resend
  std::chrono::milliseconds batch_linger{10};
  std::size_t batch_max_ops = 64;
  std::size_t batch_max_bytes = 256 * 1024;
};

// The TLS context of the bundle in `options.tls_bundle`, checked to name
// `terminal_id` of `store_id`. Returns: kOk; tls::MakeClientContext's
// errors; kInvalidArgument "link_bundle: ..." when the certificate names
// another terminal or store (logged with both).
// `host`: the headquarters dialled (its certificate must name it, or
// options.server_name); empty: options.host.
Result<std::shared_ptr<tls::Context>> LoadLinkTls(const UplinkOptions& options, const std::string& terminal_id,
                                                  const std::string& store_id, const std::string& host = "");

class Uplink final : public customers::Headquarters {
 public:
  // Called after a distributed store configuration is stored.
  using StoreConfigHandler = std::function<void(const model::StoreConfig&)>;

  // REQUIRES: the references outlive the Uplink.
  Uplink(boost::asio::any_io_executor executor, customers::CustomerService& customers,
         storage::OutboxView& outbox, storage::SyncState& sync, storage::AccessEventQueue& access, Clock& clock,
         UplinkOptions options, StoreConfigHandler on_store_config);
  ~Uplink() override;

  // Called when the link goes up or down, after acknowledgements and after a
  // distribution, with the customers that took their account number just now
  // (for live screens; often empty).
  using SyncObserver = std::function<void(const std::vector<model::LocalId>& accounts_bound)>;
  void SetSyncObserver(SyncObserver observer) { on_sync_ = std::move(observer); }

  // Carries out headquarters' order to wipe this terminal (its Welcome named
  // one, made at `ordered_at_ms`): destroys the keys and data, durably.
  // Returns kOk once done; the uplink then reports it, uploads and applies
  // nothing more and stops when headquarters closes the link. On an error
  // the link is closed and the order arrives again on the next connection.
  using WipeHandler = std::function<Status(std::int64_t ordered_at_ms)>;
  void SetWipeHandler(WipeHandler handler) { on_wipe_ = std::move(handler); }

  // Starts connecting.
  void Start();
  // Closes the link and cancels every timer; pending calls fail with kUnavailable.
  void Stop();

  // customers::Headquarters
  bool online() const override { return online_; }
  void ApplyNow(const model::Operation& op, AckCallback done) override;
  void OutboxChanged() override;
  void SyncNow() override;
  void SearchChain(const std::string& query, std::size_t limit, SearchCallback done) override;
  customers::LinkState state() const override { return state_; }

  // Access events were queued: sends them when online and none are in flight.
  void AccessEventsQueued() { SendAccessEvents(); }

 private:
  struct InFlight {
    std::uint64_t seq;
    model::LocalId op_id;
  };
  template <typename Callback>
  struct Call {
    Callback done;
    std::shared_ptr<boost::asio::steady_timer> deadline;
  };

  void Connect();
  void OnConnected(link::LinkSocket socket);
  void Handshake(boost::asio::ip::tcp::socket socket, std::shared_ptr<tls::Context> context);
  void WatchBundle();
  std::string BundleStamp() const;
  void ScheduleReconnect(const std::string& why);
  void OnFrame(link::FrameType type, ByteView payload);
  void OnClosed(const Status& why);
  void OnWelcome(ByteView payload);
  void Wipe(std::int64_t ordered_at_ms);
  void OnAcks(ByteView payload);
  void OnDistribution(ByteView payload);
  void OnErasuresAhead(ByteView payload);
  void OnRealtimeReply(ByteView payload);
  void OnSearchReply(ByteView payload);
  void SendAccessEvents();
  void OnAccessEventsAck(ByteView payload);
  void ScheduleBatch(std::chrono::milliseconds delay);
  void SendBatch();
  void FailCalls(const Status& why);
  void ProtocolError(const std::string& reason);

  boost::asio::any_io_executor executor_;
  customers::CustomerService& customers_;
  storage::OutboxView& outbox_;
  storage::SyncState& sync_;
  storage::AccessEventQueue& access_;
  Clock& clock_;
  const UplinkOptions options_;
  StoreConfigHandler on_store_config_;
  SyncObserver on_sync_;
  WipeHandler on_wipe_;
  bool wiped_ = false;  // reported its wipe: nothing more is sent or applied
  // Why headquarters refused the connection being closed (its error frame,
  // or a protocol version outside ours): the status's last_failure.
  std::string refusal_;

  // The address tried now: 0 the first, i the standby i - 1.
  std::size_t target_ = 0;
  const std::string& target_host() const { return target_ == 0 ? options_.host : options_.standby[target_ - 1].first; }
  std::uint16_t target_port() const { return target_ == 0 ? options_.port : options_.standby[target_ - 1].second; }
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer batch_timer_;
  boost::asio::steady_timer ack_timer_;
  boost::asio::steady_timer bundle_timer_;
  std::string bundle_stamp_;  // the certificate file's identity and time when last loaded
  std::shared_ptr<boost::asio::ip::tcp::socket> connecting_;
  std::shared_ptr<link::LinkSocket::Tls> handshaking_;
  std::shared_ptr<link::FrameConnection> conn_;
  std::minstd_rand jitter_;
  int attempt_ = 0;
  bool stopped_ = true;
  bool online_ = false;
  bool waiting_to_reconnect_ = false;
  bool batch_scheduled_ = false;
  std::vector<InFlight> in_flight_;  // the batch awaiting acknowledgement
  std::uint64_t access_in_flight_ = 0;  // the last access event sent and not acknowledged (0: none)
  std::uint32_t next_request_id_ = 1;
  std::map<std::uint32_t, Call<AckCallback>> realtime_;
  std::map<std::uint32_t, Call<SearchCallback>> searches_;
  customers::LinkState state_;
};

}  // namespace kassa::uplink
