// The link's mutual TLS at headquarters: a real LinkServer over a real LMDB
// chain store in a temp dir, on 127.0.0.1, with certificates this test
// makes (tls/pki.h), and clients that try every way in that must fail.

#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <optional>
#include <thread>
#include <utility>

#include <gtest/gtest.h>

#include "kassa/base/private_file.h"
#include "kassa/base/atomic_file.h"
#include "kassa/hq/link_pki.h"
#include "kassa/hq/link_server.h"
#include "kassa/hq/registry.h"
#include "kassa/link/frame.h"
#include "kassa/model/limits.h"
#include "kassa/proto_codec/link_codec.h"
#include "kassa/hal/sim/sim_clock.h"
#include "kassa/tls/link_tls.h"
#include "kassa/tls/pki.h"
#include "sample_store.h"
#include "temp_dir.h"
#include "test_keys.h"

namespace kassa::hq {
namespace {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::int64_t NowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
const tls::Validity kValid{NowS() - 3600, NowS() + 24 * 3600};

template <typename T>
T Must(Result<T> r) {
  EXPECT_TRUE(r.ok()) << r.status().detail();
  if (!r.ok()) std::abort();
  return std::move(*r);
}

ChainConfig TwoEntityChain() {
  ChainConfig c;
  c.account_numbers = {"LV", 6};
  LegalEntity gb;
  gb.id = "GB01";
  gb.customer_groups = {{"RETAIL", "Retail", {{"Department", "D100"}}}, {"TRADE", "Trade", {{"Department", "D200"}}}};
  gb.stores = {testing::SampleStore()};
  LegalEntity se = gb;
  se.id = "SE01";
  se.stores.front().store_id = "STO-01";
  se.stores.front().legal_entity = "SE01";
  c.legal_entities = {gb, se};
  return c;
}

// A terminal's creation of a customer of a GB store.
model::Operation CreateCustomer(const std::string& first_name, const std::string& last_name) {
  model::Operation op;
  op.op_id = *model::LocalId::Generate();
  op.kind = model::OperationKind::kCreateCustomer;
  op.customer.id = *model::LocalId::Generate();
  op.customer.first_name = first_name;
  op.customer.last_name = last_name;
  op.customer.customer_group = "RETAIL";
  op.customer.currency = "GBP";
  op.customer.language = "en-GB";
  op.customer.version = 1;
  return op;
}

// What a client saw: the handshake refused, the connection closed after its
// Hello (with headquarters' reason when it sent one), or a Welcome.
struct Outcome {
  enum Kind { kHandshakeRefused, kClosed, kWelcome } kind = kClosed;
  std::string reason;
};

class LinkTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ca_ = Must(tls::CreateChainCa("test", kValid));
    const auto hq = Must(tls::IssueHeadquartersCertificate(ca_.certificate_pem, ca_.key_pem, {"127.0.0.1"}, kValid));
    server_files_ = Write("hq", hq, ca_.certificate_pem);
    std::filesystem::create_directories(dir_.path() + "/store");
    store_ = Must(storage::OpenLmdbChainStore(dir_.path() + "/store", std::size_t{64} << 20, keys_));
    registry_ = Must(Registry::Open(*store_, clock_, TwoEntityChain()));
    LinkServerOptions options;
    options.tls = Must(tls::MakeServerContext(server_files_));
    options.hello_timeout = std::chrono::milliseconds(500);
    options.max_unauthenticated_per_source = 4;
    server_ = Must(LinkServer::Start(io_.get_executor(), "127.0.0.1", 0, *registry_, std::move(options)));
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    asio::post(io_, [this] { server_->Stop(); });
    guard_.reset();
    io_.stop();
    thread_.join();
  }

  tls::LinkCredentials Write(const std::string& name, const tls::IssuedCertificate& c, const std::string& ca_pem) {
    const std::string at = dir_.path() + "/" + name;
    std::filesystem::create_directories(at);
    const tls::LinkCredentials files{at + "/ca.crt", at + "/cert.pem", at + "/key.pem"};
    EXPECT_TRUE(WriteFileAtomically(files.ca_file, ca_pem).ok());
    EXPECT_TRUE(WriteFileAtomically(files.certificate_file, c.certificate_pem).ok());
    EXPECT_TRUE(WriteFileAtomically(files.key_file, c.key_pem, 0600).ok());
    return files;
  }
  // A terminal's client context with a certificate from our CA.
  std::shared_ptr<tls::Context> Terminal(const std::string& terminal, const std::string& store,
                                         tls::Validity validity = kValid, std::string* serial = nullptr) {
    const auto cert = Must(tls::IssueTerminalCertificate(ca_.certificate_pem, ca_.key_pem, terminal, store, validity));
    if (serial != nullptr) *serial = cert.serial_hex;
    return Must(tls::MakeClientContext(Write(terminal + cert.serial_hex, cert, ca_.certificate_pem), "127.0.0.1"));
  }

  // Connects (from `source`), handshakes with `ctx`, says Hello as
  // `terminal` of `store`, and waits for the answer.
  Outcome Attempt(tls::Context& ctx, const std::string& terminal, const std::string& store,
                  const std::string& source = "127.0.0.1", std::uint16_t port = 0) {
    asio::io_context io;
    asio::ssl::stream<tcp::socket> s(io, ctx);
    s.next_layer().open(tcp::v4());
    s.next_layer().bind(tcp::endpoint(asio::ip::make_address(source), 0));
    s.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port != 0 ? port : server_->port()));
    const timeval timeout{5, 0};
    ::setsockopt(s.next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    boost::system::error_code ec;
    s.handshake(asio::ssl::stream_base::client, ec);
    if (ec) return {Outcome::kHandshakeRefused, ec.message()};
    const Bytes hello = link::EncodeFrame(
        link::FrameType::kHello,
        *proto_codec::EncodeHello({terminal, store, model::kLinkProtocolVersion, 0}));
    asio::write(s, asio::buffer(hello), ec);
    if (ec) return {Outcome::kClosed, ec.message()};
    std::array<std::uint8_t, link::kFrameHeaderBytes> header{};
    asio::read(s, asio::buffer(header), ec);
    // Under TLS 1.3 a refused client certificate shows only now, as an alert.
    if (ec) return {Outcome::kClosed, ec.message()};
    auto parsed = link::ParseFrameHeader(header);
    if (!parsed.ok()) return {Outcome::kClosed, "bad header"};
    Bytes payload(parsed->length);
    asio::read(s, asio::buffer(payload), ec);
    if (parsed->type == link::FrameType::kWelcome) return {Outcome::kWelcome, ""};
    if (parsed->type == link::FrameType::kError) {
      auto reason = proto_codec::DecodeLinkError(payload);
      return {Outcome::kClosed, reason.ok() ? *reason : "unreadable error"};
    }
    return {Outcome::kClosed, std::string("unexpected ") + link::ToString(parsed->type)};
  }

  testing::TempDir dir_;
  std::shared_ptr<crypto::KeyStore> keys_ = testing::TestKeys();  // the same across reopens
  hal::sim::SimClock clock_{1'700'000'000'000};
  tls::IssuedCertificate ca_;
  tls::LinkCredentials server_files_;
  std::unique_ptr<storage::ChainStore> store_;
  std::unique_ptr<Registry> registry_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_ = asio::make_work_guard(io_);
  std::unique_ptr<LinkServer> server_;
  std::vector<std::unique_ptr<LinkServer>> future_servers_;  // more servers a test started
  std::thread thread_;
};

TEST_F(LinkTlsTest, ATerminalWithItsOwnCertificateIsWelcomed) {
  auto ctx = Terminal("T1", "LON-01");
  const Outcome o = Attempt(*ctx, "T1", "LON-01");
  EXPECT_EQ(o.kind, Outcome::kWelcome) << o.reason;
}

TEST_F(LinkTlsTest, NoCertificateIsRefused) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(server_files_.ca_file);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  EXPECT_NE(Attempt(ctx, "T1", "LON-01").kind, Outcome::kWelcome);
}

TEST_F(LinkTlsTest, ACertificateOfAnotherCaIsRefused) {
  const auto other_ca = Must(tls::CreateChainCa("other", kValid));
  const auto cert = Must(tls::IssueTerminalCertificate(other_ca.certificate_pem, other_ca.key_pem, "T1", "LON-01",
                                                       kValid));
  // The client trusts our CA (so the handshake would go on), but shows a
  // certificate of another chain.
  auto ctx = Must(tls::MakeClientContext(Write("foreign", cert, ca_.certificate_pem), "127.0.0.1"));
  EXPECT_NE(Attempt(*ctx, "T1", "LON-01").kind, Outcome::kWelcome);
}

TEST_F(LinkTlsTest, AnExpiredCertificateIsRefused) {
  auto ctx = Terminal("T1", "LON-01", {NowS() - 10 * 24 * 3600, NowS() - 24 * 3600});
  EXPECT_NE(Attempt(*ctx, "T1", "LON-01").kind, Outcome::kWelcome);
}

// Issue 20, item 4: a terminal whose clock runs two days behind still
// connects to headquarters with a certificate issued "today"; one whose
// clock is ahead of the certificate's end does not.
TEST_F(LinkTlsTest, ATerminalWhoseClockIsBehindStillAcceptsHeadquartersButNeverAnExpiredOne) {
  const auto start_with = [&](tls::Validity validity) {
    const auto cert = Must(tls::IssueHeadquartersCertificate(ca_.certificate_pem, ca_.key_pem, {"127.0.0.1"}, validity));
    LinkServerOptions options;
    options.tls = Must(tls::MakeServerContext(Write("hq" + cert.serial_hex, cert, ca_.certificate_pem)));
    return Must(LinkServer::Start(io_.get_executor(), "127.0.0.1", 0, *registry_, std::move(options)));
  };
  auto ctx = Terminal("T1", "LON-01");
  auto future = start_with({NowS() + 2 * 24 * 3600, NowS() + 30 * 24 * 3600});
  const Outcome ahead = Attempt(*ctx, "T1", "LON-01", "127.0.0.1", future->port());
  EXPECT_EQ(ahead.kind, Outcome::kWelcome) << ahead.reason;
  auto expired = start_with({NowS() - 30 * 24 * 3600, NowS() - 24 * 3600});
  EXPECT_EQ(Attempt(*ctx, "T1", "LON-01", "127.0.0.1", expired->port()).kind, Outcome::kHandshakeRefused);
  // Stopped on the loop's thread and waited for; kept until the fixture goes
  // (after TearDown joins the loop), as their cancelled handlers still run.
  std::promise<void> stopped;
  asio::post(io_, [f = future.get(), e = expired.get(), &stopped] {
    f->Stop();
    e->Stop();
    stopped.set_value();
  });
  stopped.get_future().wait();
  future_servers_.push_back(std::move(future));
  future_servers_.push_back(std::move(expired));
}

TEST_F(LinkTlsTest, HeadquartersOwnCertificateCannotActAsATerminal) {
  // A server certificate (serverAuth only) presented by a client.
  const auto hq_as_terminal = Must(tls::IssueHeadquartersCertificate(ca_.certificate_pem, ca_.key_pem, {"T1"}, kValid));
  auto ctx = Must(tls::MakeClientContext(Write("hq-client", hq_as_terminal, ca_.certificate_pem), "127.0.0.1"));
  EXPECT_NE(Attempt(*ctx, "T1", "LON-01").kind, Outcome::kWelcome);
}

TEST_F(LinkTlsTest, Tls11IsRefused) {
  auto ctx = Terminal("T1", "LON-01");
  // Let this client offer TLS 1.1 at all (OpenSSL 3's default security level forbids it).
  SSL_CTX_set_security_level(ctx->native_handle(), 0);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_1_VERSION);
  SSL_CTX_set_max_proto_version(ctx->native_handle(), TLS1_1_VERSION);
  const Outcome o = Attempt(*ctx, "T1", "LON-01");
  EXPECT_EQ(o.kind, Outcome::kHandshakeRefused) << o.reason;
}

TEST_F(LinkTlsTest, ARevokedCertificateIsRefusedFromTheNextConnectionOn) {
  std::string serial;
  auto ctx = Terminal("T1", "LON-01", kValid, &serial);
  ASSERT_EQ(Attempt(*ctx, "T1", "LON-01").kind, Outcome::kWelcome);
  ASSERT_TRUE(RevokeLinkCertificate(*store_, serial, 1).ok());
  EXPECT_NE(Attempt(*ctx, "T1", "LON-01").kind, Outcome::kWelcome);
  // Another terminal's certificate still works.
  auto other = Terminal("T2", "LON-01");
  EXPECT_EQ(Attempt(*other, "T2", "LON-01").kind, Outcome::kWelcome);
}

TEST_F(LinkTlsTest, AHelloThatClaimsAnotherTerminalOrStoreIsRefused) {
  auto ctx = Terminal("T1", "LON-01");
  Outcome o = Attempt(*ctx, "T9", "LON-01");
  EXPECT_EQ(o.kind, Outcome::kClosed);
  EXPECT_NE(o.reason.find("the certificate terminal T1"), std::string::npos) << o.reason;
  o = Attempt(*ctx, "T1", "STO-01");
  EXPECT_EQ(o.kind, Outcome::kClosed);
  EXPECT_NE(o.reason.find("of store LON-01"), std::string::npos) << o.reason;
}

TEST_F(LinkTlsTest, SilentConnectionsAreDroppedAtTheHelloDeadline) {
  asio::io_context io;
  tcp::socket silent(io);
  silent.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  const auto start = std::chrono::steady_clock::now();
  std::array<std::uint8_t, 1> byte{};
  boost::system::error_code ec;
  asio::read(silent, asio::buffer(byte), ec);  // returns when headquarters drops it
  EXPECT_TRUE(ec);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_LT(waited, std::chrono::seconds(30)) << "the hello deadline (500 ms here) never fired";
}

TEST_F(LinkTlsTest, UnauthenticatedConnectionsAreCappedPerSourceAndRealTerminalsStillGetIn) {
  asio::io_context io;
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 4; ++i) {
    idle.emplace_back(io);
    idle.back().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  }
  // A fifth from the same address is closed at once (before the 500 ms deadline).
  tcp::socket fifth(io);
  fifth.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  const timeval timeout{0, 300'000};
  ::setsockopt(fifth.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::array<std::uint8_t, 1> byte{};
  boost::system::error_code ec;
  asio::read(fifth, asio::buffer(byte), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  // A terminal from another address is served meanwhile.
  auto ctx = Terminal("T1", "LON-01");
  EXPECT_EQ(Attempt(*ctx, "T1", "LON-01", "127.0.0.2").kind, Outcome::kWelcome);
}

TEST_F(LinkTlsTest, ASecondConnectionReplacesTheFirstOnlyWithTheSameCertificate) {
  auto first = Terminal("T1", "LON-01");
  auto other_cert = Terminal("T1", "LON-01");  // a second certificate for the same terminal id
  asio::io_context io;
  // Keep the first connection open: Attempt closes its own, so hold one here.
  asio::ssl::stream<tcp::socket> held(io, *first);
  held.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  held.handshake(asio::ssl::stream_base::client);
  asio::write(held, asio::buffer(link::EncodeFrame(link::FrameType::kHello,
                                                   *proto_codec::EncodeHello({"T1", "LON-01",
                                                                              model::kLinkProtocolVersion, 0}))));
  std::array<std::uint8_t, link::kFrameHeaderBytes> header{};
  asio::read(held, asio::buffer(header));
  ASSERT_EQ(link::ParseFrameHeader(header)->type, link::FrameType::kWelcome);
  const Outcome o = Attempt(*other_cert, "T1", "LON-01");
  EXPECT_EQ(o.kind, Outcome::kClosed);
  EXPECT_NE(o.reason.find("another certificate"), std::string::npos) << o.reason;
  EXPECT_EQ(Attempt(*first, "T1", "LON-01").kind, Outcome::kWelcome);
}

// Chain search from a terminal finds only its own legal entity's customers
// (chain_search_scope "legal_entity", the default).
TEST_F(LinkTlsTest, ChainSearchIsScopedToTheTerminalsLegalEntity) {
  ASSERT_TRUE(registry_->Hello({"SEED", "LON-01", model::kLinkProtocolVersion, 0}).ok());
  const model::Operation op = CreateCustomer("Zebedee", "Quayle");
  std::promise<bool> applied;
  asio::post(io_, [&] {
    auto acks = registry_->Apply({Batch{"SEED", {op}}});
    applied.set_value(acks.ok() && acks->front().front().applied());
  });
  ASSERT_TRUE(applied.get_future().get());
  const auto found_by = [&](const std::string& terminal, const std::string& store) {
    auto ctx = Terminal(terminal, store);
    asio::io_context io;
    asio::ssl::stream<tcp::socket> s(io, *ctx);
    s.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    s.handshake(asio::ssl::stream_base::client);
    asio::write(s, asio::buffer(link::EncodeFrame(
                       link::FrameType::kHello,
                       *proto_codec::EncodeHello({terminal, store, model::kLinkProtocolVersion, 0}))));
    asio::write(s, asio::buffer(link::EncodeFrame(link::FrameType::kSearchRequest,
                                                  *proto_codec::EncodeSearchRequest({7, "zebedee quayle", 20}))));
    for (;;) {
      std::array<std::uint8_t, link::kFrameHeaderBytes> header{};
      asio::read(s, asio::buffer(header));
      const auto parsed = *link::ParseFrameHeader(header);
      Bytes payload(parsed.length);
      asio::read(s, asio::buffer(payload));
      if (parsed.type != link::FrameType::kSearchReply) continue;  // welcome, distribution
      return proto_codec::DecodeSearchReply(payload)->customers.size();
    }
  };
  EXPECT_EQ(found_by("T1", "LON-01"), 1u);
  EXPECT_EQ(found_by("T2", "STO-01"), 0u);
}

// A terminal on the link for the tests below: TLS with its certificate,
// Hello said and Welcome read by Connect().
class TlsTerminal {
 public:
  // `plaintext`: the development link (no handshake; `ctx` unused).
  explicit TlsTerminal(tls::Context& ctx, bool plaintext = false) : stream_(io_, ctx), plaintext_(plaintext) {}

  // False when no Welcome came.
  bool Connect(std::uint16_t port, const std::string& terminal, const std::string& store) {
    SayHello(port, terminal, store);
    Bytes payload;
    for (auto type = Next(payload); type; type = Next(payload)) {
      if (*type == link::FrameType::kWelcome) return true;
    }
    return false;
  }
  // The handshake and the Hello, no waiting for the answer.
  void SayHello(std::uint16_t port, const std::string& terminal, const std::string& store) {
    stream_.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    if (!plaintext_) stream_.handshake(asio::ssl::stream_base::client);
    Send(link::FrameType::kHello, *proto_codec::EncodeHello({terminal, store, model::kLinkProtocolVersion, 0}));
  }
  void Send(link::FrameType type, const Bytes& payload) {
    const Bytes frame = link::EncodeFrame(type, payload);
    if (plaintext_) {
      asio::write(stream_.next_layer(), asio::buffer(frame));
    } else {
      asio::write(stream_, asio::buffer(frame));
    }
  }
  // The next frame, or nothing when none came within 3 s (headquarters sends
  // a heartbeat every second) or the connection ended.
  std::optional<link::FrameType> Next(Bytes& payload) {
    std::array<std::uint8_t, link::kFrameHeaderBytes> header{};
    if (!Read(asio::buffer(header))) return std::nullopt;
    const auto parsed = link::ParseFrameHeader(header);
    if (!parsed.ok()) return std::nullopt;
    payload.assign(parsed->length, 0);
    if (!Read(asio::buffer(payload))) return std::nullopt;
    return parsed->type;
  }
  // The next frame of `type` within 30 s; others are passed over, a
  // heartbeat answered with one (as a terminal does, so that headquarters
  // keeps the connection).
  std::optional<Bytes> NextOf(link::FrameType type) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    Bytes payload;
    for (auto t = Next(payload); t && std::chrono::steady_clock::now() < until; t = Next(payload)) {
      if (*t == type) return payload;
      if (*t == link::FrameType::kHeartbeat) Send(link::FrameType::kHeartbeat, *proto_codec::EncodeHeartbeat(0));
    }
    return std::nullopt;
  }

 private:
  bool Read(asio::mutable_buffer into) {
    bool done = false;
    boost::system::error_code ec;
    const auto on_read = [&](boost::system::error_code e, std::size_t) {
      ec = e;
      done = true;
    };
    if (plaintext_) {
      asio::async_read(stream_.next_layer(), into, on_read);
    } else {
      asio::async_read(stream_, into, on_read);
    }
    io_.restart();
    io_.run_for(std::chrono::seconds(3));
    return done && !ec;
  }

  asio::io_context io_;
  asio::ssl::stream<tcp::socket> stream_;
  const bool plaintext_;
};

// Holds a thread's io_context (the registry's) from construction until
// Release() or destruction: work posted there waits.
class RegistryHold {
 public:
  explicit RegistryHold(asio::io_context& io) {
    std::promise<void> held;
    asio::post(io, [&held, free = release_.get_future()] {
      held.set_value();
      free.wait();
    });
    held.get_future().wait();
  }
  RegistryHold(const RegistryHold&) = delete;
  RegistryHold& operator=(const RegistryHold&) = delete;
  ~RegistryHold() { Release(); }
  void Release() {
    if (!std::exchange(released_, true)) release_.set_value();
  }

 private:
  std::promise<void> release_;
  bool released_ = false;
};

// The number in an account ("LON00000123" -> 123).
std::uint64_t AccountNumber(const std::string& account) {
  const auto digits = account.find_first_of("0123456789");
  return digits == std::string::npos ? 0 : std::stoull(account.substr(digits));
}

// Issue 17: the registry works off the link's network thread. While the
// registry's thread is held for seconds (a slow commit, a database round
// trip), a connected terminal still gets its heartbeats and stays connected
// past the idle timeout; its request is answered once the registry is free.
TEST_F(LinkTlsTest, ARegistryBusyForSecondsDoesNotStallTheLink) {
  auto ctx = Terminal("T1", "LON-01");
  TlsTerminal t1(*ctx);
  ASSERT_TRUE(t1.Connect(server_->port(), "T1", "LON-01"));
  RegistryHold hold(io_);
  t1.Send(link::FrameType::kRealtimeRequest, *proto_codec::EncodeRealtimeRequest({42, CreateCustomer("", "Halt")}));
  // Five seconds, past the server's idle timeout (3.5 s) and the client's.
  int heartbeats = 0;
  bool replied_while_held = false;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < until) {
    Bytes payload;
    const auto type = t1.Next(payload);
    ASSERT_TRUE(type.has_value()) << "the link was silent for 3 s (or closed) while the registry was held; "
                                  << heartbeats << " heartbeat(s) before";
    if (type == link::FrameType::kHeartbeat) {
      ++heartbeats;
      t1.Send(link::FrameType::kHeartbeat, *proto_codec::EncodeHeartbeat(0));
    }
    if (type == link::FrameType::kRealtimeReply) replied_while_held = true;
  }
  EXPECT_GE(heartbeats, 3);
  EXPECT_FALSE(replied_while_held) << "nothing is applied while the registry's thread is held";

  hold.Release();
  const auto payload = t1.NextOf(link::FrameType::kRealtimeReply);
  ASSERT_TRUE(payload.has_value()) << "no reply once the registry was free";
  const auto reply = Must(proto_codec::DecodeRealtimeReply(*payload));
  EXPECT_EQ(reply.request_id, 42u);
  EXPECT_TRUE(reply.ack.applied()) << reply.ack.reason;
  EXPECT_FALSE(reply.ack.account.empty());
}

// A Hello the registry is slow to answer: the terminal, waiting for its
// Welcome, sends heartbeats after a second of silence, as kassad does; they
// are taken (not a heartbeat before Hello), and the Welcome comes once the
// registry answers, past the Hello deadline.
TEST_F(LinkTlsTest, HeartbeatsWhileTheHelloWaitsForTheRegistryAreTaken) {
  auto ctx = Terminal("T1", "LON-01");
  TlsTerminal t1(*ctx);
  RegistryHold hold(io_);
  t1.SayHello(server_->port(), "T1", "LON-01");
  for (int i = 0; i < 3; ++i) {  // 1.5 s: past the fixture's Hello deadline (500 ms)
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    t1.Send(link::FrameType::kHeartbeat, *proto_codec::EncodeHeartbeat(0));
  }
  hold.Release();
  EXPECT_TRUE(t1.NextOf(link::FrameType::kWelcome).has_value()) << "closed instead of welcomed";
}

// Frames sent after a Hello, before its answer, are held, but only so many:
// a terminal that sends more than 16, or more than 64 KiB of them, is
// dropped and none of them is applied; a few are taken once it is welcomed.
// On a plaintext server of its own: with TLS the revocation check would wait
// for the held registry before any frame is read.
TEST_F(LinkTlsTest, FramesPipelinedAfterAHelloAreBounded) {
  std::unique_ptr<LinkServer> plain;
  {
    std::promise<void> started;
    asio::post(io_, [&] {
      plain = Must(LinkServer::Start(io_.get_executor(), "127.0.0.1", 0, *registry_, LinkServerOptions{}));
      started.set_value();
    });
    started.get_future().wait();
  }
  auto ctx = Terminal("T1", "LON-01");
  const auto search = *proto_codec::EncodeSearchRequest({1, "anyone", 5});
  // Read until the connection ends: true when it did (an Error frame first
  // may be lost to the reset of a connection closed with data unread).
  const auto dropped = [](TlsTerminal& t) {
    Bytes payload;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (auto type = t.Next(payload); type; type = t.Next(payload)) {
      if (*type == link::FrameType::kWelcome || std::chrono::steady_clock::now() > until) return false;
      if (*type == link::FrameType::kError) {
        EXPECT_EQ(Must(proto_codec::DecodeLinkError(payload)), "too much sent before its hello was answered");
      }
    }
    return true;
  };
  {
    TlsTerminal flood(*ctx, /*plaintext=*/true);
    RegistryHold hold(io_);
    flood.SayHello(plain->port(), "T1", "LON-01");
    for (int i = 0; i < 17; ++i) flood.Send(link::FrameType::kSearchRequest, search);
    std::this_thread::sleep_for(std::chrono::seconds(1));  // all read while the Hello waits
    hold.Release();
    EXPECT_TRUE(dropped(flood)) << "17 frames before the Welcome were taken";
  }
  {
    TlsTerminal big(*ctx, /*plaintext=*/true);
    RegistryHold hold(io_);
    big.SayHello(plain->port(), "T1", "LON-01");
    const Bytes large(40 * 1024, 0x20);  // held undecoded: its size is what counts
    big.Send(link::FrameType::kSearchRequest, large);
    big.Send(link::FrameType::kSearchRequest, large);  // 80 KiB held: over the bound
    std::this_thread::sleep_for(std::chrono::seconds(1));
    hold.Release();
    EXPECT_TRUE(dropped(big)) << "80 KiB before the Welcome were taken";
  }
  {
    TlsTerminal polite(*ctx, /*plaintext=*/true);
    RegistryHold hold(io_);
    polite.SayHello(plain->port(), "T1", "LON-01");
    for (int i = 0; i < 3; ++i) polite.Send(link::FrameType::kSearchRequest, search);
    hold.Release();
    for (int i = 0; i < 3; ++i) {
      EXPECT_TRUE(polite.NextOf(link::FrameType::kSearchReply).has_value()) << "search " << i << " not answered";
    }
  }
  std::promise<void> stopped;
  asio::post(io_, [&] {
    plain->Stop();
    stopped.set_value();
  });
  stopped.get_future().wait();
  future_servers_.push_back(std::move(plain));
}

// A real-time create (a customer waiting at the counter) waiting behind
// another terminal's backlog of uploads goes in the next group commit, ahead
// of the uploads: its account number is lower than theirs.
TEST_F(LinkTlsTest, ARealtimeRequestGoesAheadOfOtherTerminalsUploads) {
  auto ctx1 = Terminal("T1", "LON-01");
  auto ctx2 = Terminal("T2", "LON-01");
  TlsTerminal t1(*ctx1);
  TlsTerminal t2(*ctx2);
  ASSERT_TRUE(t1.Connect(server_->port(), "T1", "LON-01"));
  ASSERT_TRUE(t2.Connect(server_->port(), "T2", "LON-01"));
  // 80 uploads of 64 creates (the most a batch holds): with the registry
  // held they queue; a group commit takes at most 2,048 operations, so they
  // need three.
  RegistryHold hold(io_);
  constexpr int kUploads = 80;
  for (int u = 0; u < kUploads; ++u) {
    Bytes batch;
    for (std::size_t i = 0; i < model::kMaxBatchOperations; ++i) {
      ASSERT_TRUE(proto_codec::AppendUploadOperation(CreateCustomer("", "Queued"), "T1", batch).ok());
    }
    t1.Send(link::FrameType::kUploadBatch, batch);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // all of them in the server's queue
  t2.Send(link::FrameType::kRealtimeRequest, *proto_codec::EncodeRealtimeRequest({7, CreateCustomer("", "Waiting")}));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  hold.Release();

  // Both terminals read at once (each answering heartbeats), as the commits
  // may take seconds under an emulator.
  std::vector<std::uint64_t> last_upload;
  std::string uploads_problem;
  std::thread uploads([&] {
    for (int u = 0; u < kUploads; ++u) {
      const auto acks_payload = t1.NextOf(link::FrameType::kUploadAcks);
      auto acks = acks_payload ? proto_codec::DecodeUploadAcks(*acks_payload)
                               : Result<std::vector<model::OperationAck>>(Status(StatusCode::kUnavailable, "none"));
      if (!acks.ok() || acks->size() != model::kMaxBatchOperations) {
        uploads_problem = "upload " + std::to_string(u) + " not acknowledged in full";
        return;
      }
      if (u == kUploads - 1) {
        for (const auto& ack : *acks) last_upload.push_back(AccountNumber(ack.account));
      }
    }
  });
  const auto reply_payload = t2.NextOf(link::FrameType::kRealtimeReply);
  uploads.join();
  ASSERT_TRUE(uploads_problem.empty()) << uploads_problem;
  ASSERT_TRUE(reply_payload.has_value());
  const auto reply = Must(proto_codec::DecodeRealtimeReply(*reply_payload));
  ASSERT_TRUE(reply.ack.applied()) << reply.ack.reason;
  EXPECT_LT(AccountNumber(reply.ack.account), *std::min_element(last_upload.begin(), last_upload.end()))
      << "the real-time create " << reply.ack.account << " was numbered after the last upload";
}

TEST(PkiTest, CertificatesNameWhatTheySayAndSerialsNormalize) {
  const auto ca = Must(tls::CreateChainCa("chain", kValid));
  const auto t = Must(tls::IssueTerminalCertificate(ca.certificate_pem, ca.key_pem, "POS-1", "RIGA-01", kValid));
  const auto id = Must(tls::TerminalIdentityOfPem(t.certificate_pem));
  EXPECT_EQ(id.terminal_id, "POS-1");
  EXPECT_EQ(id.store_id, "RIGA-01");
  EXPECT_EQ(id.serial_hex, t.serial_hex);
  EXPECT_EQ(id.sha256_hex.size(), 64u);
  EXPECT_EQ(Must(tls::NormalizeSerial("00:0a:Bc")), "ABC");
  EXPECT_FALSE(tls::NormalizeSerial("xyz").ok());
  EXPECT_FALSE(tls::IssueTerminalCertificate(ca.certificate_pem, ca.key_pem, "bad name", "RIGA-01", kValid).ok());
  EXPECT_FALSE(tls::IssueTerminalCertificate(ca.certificate_pem, ca.key_pem, "T", "RIGA/01", kValid).ok());
  // A CA key that is not the CA certificate's.
  const auto other = Must(tls::CreateChainCa("other", kValid));
  EXPECT_EQ(tls::IssueTerminalCertificate(ca.certificate_pem, other.key_pem, "T", "S", kValid).status().code(),
            StatusCode::kInvalidArgument);
  // Headquarters' certificate is not a terminal's.
  const auto hq = Must(tls::IssueHeadquartersCertificate(ca.certificate_pem, ca.key_pem, {"hq.example"}, kValid));
  EXPECT_FALSE(tls::TerminalIdentityOfPem(hq.certificate_pem).ok());
}

TEST(PkiTest, KeysReadableByOthersAreRefused) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/key.pem";
  ASSERT_TRUE(WriteFileAtomically(path, "secret", 0644).ok());
  EXPECT_EQ(ReadPrivateFile(path, 1024).status().code(), StatusCode::kPermissionDenied);
  ASSERT_TRUE(WriteFileAtomically(path, "secret", 0600).ok());
  EXPECT_EQ(Must(ReadPrivateFile(path, 1024)), "secret");
  EXPECT_EQ(ReadPrivateFile(path, 3).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ReadPrivateFile(dir.path() + "/none", 1024).status().code(), StatusCode::kNotFound);
}

TEST(PkiTest, EnrolmentWritesABundleKassadCanUseAndIsAudited) {
  testing::TempDir dir;
  const std::int64_t now_ms = NowS() * 1000;
  ASSERT_TRUE(InitLinkPki(dir.path(), "chain", {"127.0.0.1", "hq.example"}, 3650, 730, now_ms).ok());
  EXPECT_EQ(InitLinkPki(dir.path(), "chain", {"127.0.0.1"}, 3650, 730, now_ms).code(), StatusCode::kAlreadyExists);
  auto store = Must(storage::OpenLmdbChainStore(dir.path(), std::size_t{64} << 20, testing::TestKeys()));
  const auto issued = Must(IssueTerminalBundle(dir.path(), *store, "POS-1", "RIGA-01", 30, dir.path() + "/b", now_ms));
  EXPECT_TRUE(tls::MakeClientContext(tls::BundleCredentials(dir.path() + "/b"), "hq.example").ok());
  EXPECT_TRUE(tls::MakeServerContext(HeadquartersCredentials(dir.path())).ok());
  struct stat st {};
  ASSERT_EQ(::stat((dir.path() + "/b/terminal.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir.path() + "/pki/ca.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(Must(RevokeLinkCertificate(*store, issued.serial_hex, now_ms)), issued.serial_hex);
  EXPECT_TRUE(Must(store->IsCertificateRevoked(issued.serial_hex)));
  const auto audit = Must(store->Audit(10));
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_NE(audit[0].what.find("revoked link certificate " + issued.serial_hex), std::string::npos);
  EXPECT_NE(audit[1].what.find("to terminal POS-1 of store RIGA-01"), std::string::npos);
}

}  // namespace
}  // namespace kassa::hq
