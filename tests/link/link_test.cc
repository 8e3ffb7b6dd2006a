// Frames and link messages: round trips, and every malformed input refused.

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <random>

#include "kassa/link/frame.h"
#include "kassa/link/frame_connection.h"
#include "kassa/model/limits.h"
#include "kassa/proto_codec/link_codec.h"

namespace kassa::link {
namespace {

model::Operation SampleOp(int i) {
  model::Operation op;
  op.op_id = *model::LocalId::Generate();
  op.kind = model::OperationKind::kCreateCustomer;
  op.customer.id = *model::LocalId::Generate();
  op.customer.first_name = "Līga";
  op.customer.last_name = "Ozoliņa " + std::to_string(i);
  op.customer.phone = "+37129112233";
  op.customer.customer_group = "RETAIL";
  op.customer.version = 1;
  op.terminal_id = "POS-1";
  return op;
}

TEST(FrameTest, RoundTripAndHeaderChecks) {
  const Bytes payload = {1, 2, 3, 4, 5};
  const Bytes frame = EncodeFrame(FrameType::kUploadBatch, payload);
  ASSERT_EQ(frame.size(), kFrameHeaderBytes + payload.size());
  const ByteView header(frame.data(), kFrameHeaderBytes);
  auto parsed = ParseFrameHeader(header);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->type, FrameType::kUploadBatch);
  EXPECT_EQ(parsed->length, payload.size());
  EXPECT_TRUE(CheckFramePayload(header, ByteView(frame).subspan(kFrameHeaderBytes), *parsed).ok());
}

TEST(FrameTest, MalformedHeadersAreRefusedBeforeThePayload) {
  Bytes frame = EncodeFrame(FrameType::kHeartbeat, Bytes{});
  Bytes bad_magic = frame;
  bad_magic[0] = 'X';
  EXPECT_STREQ(ParseFrameHeader(ByteView(bad_magic).first(kFrameHeaderBytes)).status().detail(), "frame: bad magic");
  Bytes unknown_type = frame;
  unknown_type[2] = 200;
  EXPECT_STREQ(ParseFrameHeader(ByteView(unknown_type).first(kFrameHeaderBytes)).status().detail(),
               "frame: unknown type");
  Bytes oversized = frame;
  oversized[4] = 0x7F;  // ~2 GiB claimed
  EXPECT_STREQ(ParseFrameHeader(ByteView(oversized).first(kFrameHeaderBytes)).status().detail(),
               "frame: length over the 1 MiB limit");
  Bytes flags = frame;
  flags[3] = 1;
  EXPECT_FALSE(ParseFrameHeader(ByteView(flags).first(kFrameHeaderBytes)).ok());
  EXPECT_FALSE(ParseFrameHeader(ByteView(frame).first(5)).ok());
}

TEST(FrameTest, EveryFlippedBitFailsTheChecksum) {
  const Bytes payload = {10, 20, 30};
  const Bytes frame = EncodeFrame(FrameType::kDistributionAck, payload);
  for (std::size_t byte = kFrameHeaderBytes; byte < frame.size(); ++byte) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes f = frame;
      f[byte] = static_cast<std::uint8_t>(f[byte] ^ (1u << bit));
      const ByteView header(f.data(), kFrameHeaderBytes);
      auto parsed = ParseFrameHeader(header);
      ASSERT_TRUE(parsed.ok());
      EXPECT_FALSE(CheckFramePayload(header, ByteView(f).subspan(kFrameHeaderBytes), *parsed).ok());
    }
  }
}

TEST(FrameTest, Crc32cMatchesTheKnownVector) {
  const std::string text = "123456789";
  EXPECT_EQ(Crc32c(AsBytes(text)), 0xE3069283u);  // RFC 3720 check value
}

TEST(LinkCodecTest, UploadBatchRoundTripsElementByElement) {
  std::vector<model::Operation> ops;
  Bytes batch;
  for (int i = 0; i < 10; ++i) {
    ops.push_back(SampleOp(i));
    ASSERT_TRUE(proto_codec::AppendUploadOperation(ops.back(), "POS-1", batch).ok());
  }
  auto decoded = proto_codec::DecodeUploadBatch(batch, "POS-1");
  ASSERT_TRUE(decoded.ok()) << decoded.status().detail();
  EXPECT_EQ(*decoded, ops);
}

TEST(LinkCodecTest, WhatTheLinkCarriesIsLeftOutAndFilledInExactly) {
  // Every combination of the five implied fields, each either implied (equal
  // to what the receiver knows) or not: the decoded operation is the one
  // sent, and leaving fields out makes the element smaller.
  for (unsigned mask = 0; mask < 32; ++mask) {
    model::Operation op = SampleOp(static_cast<int>(mask));
    op.customer.created_at_ms = 1'700'000'000'000;
    op.customer.changed_at_ms = (mask & 8) ? op.customer.created_at_ms : op.customer.created_at_ms + 5;
    op.enqueued_at_ms = (mask & 4) ? op.customer.changed_at_ms : op.customer.changed_at_ms + 7;
    if (mask & 1) op.op_id = op.customer.id;
    op.terminal_id = (mask & 2) ? "POS-1" : (mask & 16) ? "" : "POS-9";
    op.customer.secondary_emails = {{"a@b.lv", {true, 1, "W1", (mask & 16) ? "POS-1" : "POS-2", ""}},
                                    {"c@d.lv", {false, 0, "", (mask & 16) ? "POS-1" : "", ""}}};
    // The primary phone's consent takes part; the primary email has none.
    op.customer.phone = "+37126123456";
    op.customer.phone_consent = {true, 2, "W1", (mask & 16) ? "POS-1" : "POS-3", "2026-11/lv"};
    Bytes implied, explicit_fields;
    ASSERT_TRUE(proto_codec::AppendUploadOperation(op, "POS-1", implied).ok());
    ASSERT_TRUE(proto_codec::AppendUploadOperation(op, "", explicit_fields).ok());
    auto decoded = proto_codec::DecodeUploadBatch(implied, "POS-1");
    ASSERT_TRUE(decoded.ok()) << mask << ": " << decoded.status().detail();
    ASSERT_EQ(decoded->size(), 1u);
    EXPECT_EQ(decoded->front(), op) << "mask " << mask;
    if (mask & (2 | 16)) {
      EXPECT_LT(implied.size(), explicit_fields.size()) << "mask " << mask;
    }
  }
  // A receiver that does not know the sender cannot fill in its id.
  Bytes batch;
  ASSERT_TRUE(proto_codec::AppendUploadOperation(SampleOp(1), "POS-1", batch).ok());
  EXPECT_EQ(proto_codec::DecodeUploadBatch(batch, "").status().code(), StatusCode::kDataLoss);
}

TEST(LinkCodecTest, BatchOverTheLimitIsRefused) {
  Bytes batch;
  for (std::size_t i = 0; i <= model::kMaxBatchOperations; ++i) {
    ASSERT_TRUE(proto_codec::AppendUploadOperation(SampleOp(static_cast<int>(i)), "POS-1", batch).ok());
  }
  auto decoded = proto_codec::DecodeUploadBatch(batch, "POS-1");
  EXPECT_EQ(decoded.status().code(), StatusCode::kDataLoss);
  EXPECT_STREQ(decoded.status().detail(), "operations: more than 64 in one batch");
}

TEST(LinkCodecTest, TruncatedAndRandomBatchesAreRefusedNotCrashed) {
  Bytes batch;
  ASSERT_TRUE(proto_codec::AppendUploadOperation(SampleOp(1), "POS-1", batch).ok());
  for (std::size_t n = 1; n < batch.size(); ++n) {
    EXPECT_FALSE(proto_codec::DecodeUploadBatch(ByteView(batch).first(n), "POS-1").ok()) << "prefix " << n;
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    Bytes junk(rng() % 300);
    for (auto& b : junk) b = static_cast<std::uint8_t>(rng());
    (void)proto_codec::DecodeUploadBatch(junk, "POS-1");  // must not crash or over-read (ASan run)
    (void)proto_codec::DecodeDistribution(junk);
    (void)proto_codec::DecodeUploadAcks(junk);
    (void)proto_codec::DecodeHello(junk);
  }
}

TEST(LinkCodecTest, AcksDistributionAndControlMessagesRoundTrip) {
  model::OperationAck applied;
  applied.op_id = *model::LocalId::Generate();
  applied.customer_id = *model::LocalId::Generate();
  applied.account = "LV00000001";
  applied.version = 1;
  model::OperationAck rejected = applied;
  rejected.outcome = model::OperationAck::Outcome::kRejected;
  rejected.account.clear();
  rejected.reason = "customer_group: unknown customer group";
  const std::vector<model::OperationAck> acks = {applied, rejected};
  auto bytes = proto_codec::EncodeUploadAcks(acks);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*proto_codec::DecodeUploadAcks(*bytes), acks);

  model::Change upsert;
  upsert.seq = 41;
  upsert.customer = SampleOp(3).customer;
  upsert.customer.account = "LV00000003";
  upsert.customer.financial_dimensions = {{"Department", "D100"}};
  model::Change config;
  config.seq = 42;
  config.kind = model::Change::Kind::kStoreConfig;
  config.store_config.store_id = "RIGA-01";
  config.store_config.legal_entity = "LV";
  config.store_config.operating_unit_country = "LV";
  config.store_config.default_customer.customer_group = "RETAIL";
  Bytes dist;
  ASSERT_TRUE(proto_codec::AppendDistributionChange(upsert, dist).ok());
  ASSERT_TRUE(proto_codec::AppendDistributionChange(config, dist).ok());
  auto changes = proto_codec::DecodeDistribution(dist);
  ASSERT_TRUE(changes.ok()) << changes.status().detail();
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0], upsert);
  EXPECT_EQ((*changes)[1], config);

  model::Hello hello{"POS-1", "RIGA-01", model::kLinkProtocolVersion, 99};
  auto h = proto_codec::DecodeHello(*proto_codec::EncodeHello(hello));
  EXPECT_EQ(h->terminal_id, "POS-1");
  EXPECT_EQ(h->distribution_cursor, 99u);
  model::SearchReply reply{7, "", {upsert.customer}};
  auto r = proto_codec::DecodeSearchReply(*proto_codec::EncodeSearchReply(reply));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->request_id, 7u);
  EXPECT_EQ(r->customers, reply.customers);
  EXPECT_EQ(*proto_codec::DecodeDistributionAck(*proto_codec::EncodeDistributionAck(12345)), 12345u);
  // A wipe order rides on the Welcome; the terminal's report names it.
  const model::Welcome welcome{model::kLinkProtocolVersion, 40, 1'700'000'000'000, 1'700'000'000'123};
  auto w = proto_codec::DecodeWelcome(*proto_codec::EncodeWelcome(welcome));
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->wipe_ordered_at_ms, 1'700'000'000'123);
  EXPECT_EQ(proto_codec::DecodeWelcome(*proto_codec::EncodeWelcome({model::kLinkProtocolVersion, 40, 1, 0}))
                ->wipe_ordered_at_ms,
            0);
  EXPECT_EQ(*proto_codec::DecodeWipeDone(*proto_codec::EncodeWipeDone(1'700'000'000'123)), 1'700'000'000'123);
  EXPECT_STREQ(link::ToString(link::FrameType::kWipeDone), "wipe_done");
  EXPECT_TRUE(link::ParseFrameHeader(link::EncodeFrame(link::FrameType::kWipeDone, Bytes{})).ok());
}


// Headquarters' side (quiet_until_ready): a heartbeat before the peer is
// known closes the connection; none is sent to it either.
TEST(FrameConnectionTest, NothingIsAcceptedBeforeTheHelloNotEvenAHeartbeat) {
  namespace asio = boost::asio;
  using tcp = asio::ip::tcp;
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  ConnectionOptions options;
  options.quiet_until_ready = true;
  options.heartbeat_interval = std::chrono::milliseconds(10);
  auto conn = std::make_shared<FrameConnection>(LinkSocket(acceptor.accept()), options,
                                                proto_codec::LinkControlPayloads());
  Status closed_with;
  bool frame_seen = false;
  conn->Start([&](FrameType, ByteView) { frame_seen = true; }, [&](const Status& why) { closed_with = why; });
  // Nothing arrives from the quiet side for a while (no heartbeats).
  io.run_for(std::chrono::milliseconds(200));
  EXPECT_EQ(client.available(), 0u);
  asio::write(client, asio::buffer(EncodeFrame(FrameType::kHeartbeat, *proto_codec::LinkControlPayloads()
                                                                            .encode_heartbeat(1))));
  io.run_for(std::chrono::milliseconds(500));
  EXPECT_FALSE(conn->open());
  EXPECT_FALSE(frame_seen);
  EXPECT_EQ(closed_with.code(), StatusCode::kPermissionDenied);
  EXPECT_STREQ(closed_with.detail(), "link: a heartbeat before hello");
}

}  // namespace
}  // namespace kassa::link
