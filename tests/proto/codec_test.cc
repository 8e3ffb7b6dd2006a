#include "kassa/proto_codec/codec.h"
#include "kassa/proto_codec/link_codec.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "kassa/model/limits.h"
#include "sample_store.h"

namespace kassa::proto_codec {
namespace {

model::Customer Full() {
  model::Customer c;
  c.id = *model::LocalId::Generate();
  c.account = "C-000042";
  c.type = model::CustomerType::kPerson;
  c.first_name = "Jānis";
  c.last_name = "Bērziņš";
  c.email = "janis@example.lv";
  c.phone = "+37126123456";
  c.email_consent = {true, 1700000000789, "anna", "POS-1", "2026-11/lv"};  // the phone's: none
  c.secondary_emails = {{"j@work.lv", {true, 1700000000123, "anna", "POS-1", "kiosk-2026-11"}}};
  c.secondary_phones = {{"+37129112233", {false, 1700000000456, "peter", "POS-2", ""}}};
  c.addresses = {{model::AddressPurpose::kOffice, "Brīvības 1", "Rīga", "LV-1010", "", "LV", "Jānis", "+37126123456"},
                 {model::AddressPurpose::kPostBox, "PK 12", "Rīga", "LV-1001", "Rīgas", "LV", "", ""}};
  c.customer_group = "RETAIL";
  c.receipt_preference = model::ReceiptPreference::kPrintAndEmail;
  c.receipt_email = "r@example.lv";
  c.currency = "EUR";
  c.language = "lv";
  c.affiliations = {"Loyalty club", "Staff"};
  c.attributes = {{"likes", "handbags"}, {"birthday", "1990-05-17"}};
  c.loyalty_cards = {"LC-1001", "LC-1002"};
  c.created_at_ms = 1700000000000;
  c.changed_at_ms = 1700000005000;
  c.version = 3;
  return c;
}

TEST(CodecTest, CustomerRoundTrip) {
  const model::Customer c = Full();
  auto bytes = EncodeCustomer(c);
  ASSERT_TRUE(bytes.ok());
  auto back = DecodeCustomer(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().detail();
  EXPECT_EQ(*back, c);
}

TEST(CodecTest, OperationRoundTrip) {
  model::Operation op;
  op.op_id = *model::LocalId::Generate();
  op.kind = model::OperationKind::kUpdateCustomer;
  op.enqueued_at_ms = 1700000009999;
  op.customer = Full();
  op.base_version = 2;
  op.changed_fields = {7, 19};
  op.terminal_id = "POS-1";
  op.operator_id = "anna";
  auto bytes = EncodeOperation(op);
  ASSERT_TRUE(bytes.ok());
  auto back = DecodeOperation(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().detail();
  EXPECT_EQ(*back, op);
}

// Issue 18: an edit carries the values it started from (Operation::base),
// in an outbox record and in an upload batch; a base of another customer,
// or on a creation, is refused.
TEST(CodecTest, AnEditsStartingValuesTravelWithIt) {
  model::Operation op;
  op.op_id = *model::LocalId::Generate();
  op.kind = model::OperationKind::kUpdateCustomer;
  op.customer = Full();
  op.base_version = 3;
  op.changed_fields = {8, 11};  // phone, addresses
  model::Customer before = op.customer;
  before.phone = "+37120000000";
  before.addresses.clear();  // added by the edit: the base says there were none
  op.base = model::BaseOf(before, op.changed_fields);
  auto bytes = EncodeOperation(op);
  ASSERT_TRUE(bytes.ok());
  auto back = DecodeOperation(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().detail();
  EXPECT_EQ(*back, op);
  ASSERT_TRUE(back->base.has_value());
  EXPECT_EQ(back->base->phone, "+37120000000");
  EXPECT_TRUE(back->base->addresses.empty());
  EXPECT_TRUE(back->base->email.empty());  // a field the edit did not change is not sent

  Bytes batch;
  ASSERT_TRUE(AppendUploadOperation(op, "POS-1", batch).ok());
  auto ops = DecodeUploadBatch(batch, "POS-1");
  ASSERT_TRUE(ops.ok()) << ops.status().detail();
  ASSERT_EQ(ops->size(), 1u);
  EXPECT_EQ(ops->front().base, op.base);

  model::Operation other = op;
  other.base->id = *model::LocalId::Generate();
  auto refused = DecodeOperation(*EncodeOperation(other));
  EXPECT_EQ(refused.status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(std::string(refused.status().detail()), "base: of another customer");
  model::Operation creation = op;
  creation.kind = model::OperationKind::kCreateCustomer;
  refused = DecodeOperation(*EncodeOperation(creation));
  EXPECT_EQ(std::string(refused.status().detail()), "base: only an update has one");

  // Hostile bytes: a base longer than any customer is refused before it is
  // kept, and so is a second one.
  Bytes oversized = *EncodeOperation(op);
  const std::size_t junk = 10000;  // more than kassa_link_v1_Customer_size
  for (const std::uint8_t b : {std::uint8_t{0x6A}, std::uint8_t{0x90}, std::uint8_t{0x4E}}) oversized.push_back(b);
  oversized.insert(oversized.end(), junk, 0x41);
  EXPECT_EQ(DecodeOperation(oversized).status().code(), StatusCode::kDataLoss);
  Bytes twice = *EncodeOperation(op);
  const Bytes base_field = *EncodeOperation(op);  // ends with field 13, the base
  model::Operation without = op;
  without.base.reset();
  const std::size_t head = EncodeOperation(without)->size();
  twice.insert(twice.end(), base_field.begin() + static_cast<std::ptrdiff_t>(head), base_field.end());
  EXPECT_EQ(DecodeOperation(twice).status().code(), StatusCode::kDataLoss);
}

TEST(CodecTest, StoreConfigRoundTrip) {
  model::StoreConfig s = testing::SampleStore();
  s.allow_offline_creation = false;  // a non-default value must survive too
  s.lock_after_offline_days = 14;
  s.default_customer.type = model::CustomerType::kOrganization;
  auto bytes = EncodeStoreConfig(s);
  ASSERT_TRUE(bytes.ok());
  auto back = DecodeStoreConfig(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().detail();
  EXPECT_EQ(*back, s);
}

TEST(CodecTest, OverlongFieldIsRefusedOnEncode) {
  model::Customer c = Full();
  c.last_name = std::string(model::kMaxPersonNameBytes + 1, 'x');
  EXPECT_EQ(EncodeCustomer(c).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(EncodeCustomer(c).status().field(), "last_name");
}

TEST(CodecTest, GarbageAndTruncationAreDataLoss) {
  const Bytes garbage = {0xFF, 0xFF, 0xFF, 0xFF, 0x0F};
  EXPECT_EQ(DecodeCustomer(garbage).status().code(), StatusCode::kDataLoss);
  auto bytes = EncodeCustomer(Full());
  ASSERT_TRUE(bytes.ok());
  const ByteView truncated(bytes->data(), bytes->size() / 2);
  EXPECT_EQ(DecodeCustomer(truncated).status().code(), StatusCode::kDataLoss);
}

TEST(CodecTest, OversizedStringOnTheWireIsRefused) {
  // Field 5 (last_name), length 200: over the 64-byte bound.
  Bytes wire = {0x2A, 200};
  wire.insert(wire.end(), 200, 'a');
  EXPECT_EQ(DecodeCustomer(wire).status().code(), StatusCode::kDataLoss);
}

TEST(CodecTest, UnknownEnumIsDataLoss) {
  model::Customer c = Full();
  auto bytes = EncodeCustomer(c);
  ASSERT_TRUE(bytes.ok());
  // Append field 3 (type) = 9: the last occurrence wins in protobuf.
  bytes->push_back(0x18);
  bytes->push_back(9);
  EXPECT_EQ(DecodeCustomer(*bytes).status().code(), StatusCode::kDataLoss);
}


// The Customer reader on the hot path (DecodeCustomer) walks wire bytes
// itself; DecodeOperation still decodes its embedded customer with nanopb.
// For any bytes B, an operation "kind = create, customer = B" makes nanopb
// judge B, so the two readers must agree: both refuse, or both give the
// same customer.
std::string last_nanopb_error;
std::optional<model::Customer> ThroughNanopb(const Bytes& customer) {
  Bytes op = {0x10, 0x01, 0x22};  // kind = 1; field 4 (customer), length-delimited
  std::size_t n = customer.size();
  do {
    op.push_back(static_cast<std::uint8_t>((n & 0x7F) | (n > 0x7F ? 0x80 : 0)));
    n >>= 7;
  } while (n != 0);
  op.insert(op.end(), customer.begin(), customer.end());
  auto decoded = DecodeOperation(op);
  if (!decoded.ok()) {
    last_nanopb_error = decoded.status().detail();
    return std::nullopt;
  }
  return decoded->customer;
}

void ExpectSameVerdict(const Bytes& bytes, const std::string& what) {
  const auto fast = DecodeCustomer(bytes);
  const auto reference = ThroughNanopb(bytes);
  ASSERT_EQ(fast.ok(), reference.has_value())
      << what << ": " << (fast.ok() ? "nanopb: " + last_nanopb_error : std::string("direct: ") + fast.status().detail());
  if (fast.ok()) {
    EXPECT_EQ(*fast, *reference) << what;
  }
}

TEST(CodecTest, DirectCustomerReaderAgreesWithNanopb) {
  model::Customer full = Full();
  full.financial_dimensions = {{"Department", "D100"}};
  model::Customer minimal;
  minimal.id = *model::LocalId::Generate();
  minimal.last_name = "Ozola";
  minimal.version = 1;
  std::uint64_t seed = 0x1234567;
  const auto next = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<std::uint32_t>(seed >> 33);
  };
  for (const model::Customer& c : {full, minimal}) {
    auto bytes = EncodeCustomer(c);
    ASSERT_TRUE(bytes.ok());
    ExpectSameVerdict(*bytes, "as encoded");
    EXPECT_EQ(*DecodeCustomer(*bytes), c);
    // Every truncation, and many single-byte changes.
    for (std::size_t cut = 0; cut < bytes->size(); ++cut) {
      ExpectSameVerdict(Bytes(bytes->begin(), bytes->begin() + static_cast<long>(cut)), "cut at " + std::to_string(cut));
    }
    for (int i = 0; i < 4000; ++i) {
      Bytes mutated = *bytes;
      mutated[next() % mutated.size()] = static_cast<std::uint8_t>(next());
      if (i % 3 == 0) mutated[next() % mutated.size()] = static_cast<std::uint8_t>(next());
      ExpectSameVerdict(mutated, "mutation " + std::to_string(i));
    }
  }
  // Random bytes, and random bytes after a valid prefix.
  for (int i = 0; i < 4000; ++i) {
    Bytes random(next() % 64);
    for (auto& b : random) b = static_cast<std::uint8_t>(next());
    ExpectSameVerdict(random, "random " + std::to_string(i));
  }
}

TEST(CodecTest, DirectCustomerReaderEdgeCases) {
  auto bytes = *EncodeCustomer(Full());
  // Fields repeated past their bound: a sixth address.
  model::Customer many = Full();
  many.addresses.resize(model::kMaxAddresses, many.addresses[0]);
  auto five = *EncodeCustomer(many);
  const Bytes address = {0x5A, 0x02, 0x08, 0x01};  // field 11: {purpose: home}
  five.insert(five.end(), address.begin(), address.end());
  ExpectSameVerdict(five, "sixth address");
  EXPECT_EQ(DecodeCustomer(five).status().code(), StatusCode::kDataLoss);
  // An id that is not 16 bytes.
  Bytes short_id = {0x0A, 0x03, 1, 2, 3, 0x18, 0x01, 0x68, 0x01};
  ExpectSameVerdict(short_id, "short id");
  EXPECT_EQ(DecodeCustomer(short_id).status().code(), StatusCode::kDataLoss);
  // A zero tag is an error for both.
  Bytes terminated = bytes;
  terminated.push_back(0x00);
  terminated.push_back(0xFF);
  ExpectSameVerdict(terminated, "zero tag");
  EXPECT_EQ(DecodeCustomer(terminated).status().code(), StatusCode::kDataLoss);
  // An unknown field of every wire type is skipped.
  Bytes unknown = bytes;
  const Bytes fields = {0xF8, 0x01, 0x05,  0xF9, 0x01, 1, 2, 3, 4, 5, 6, 7, 8,  0xFA, 0x01, 0x01, 0x41,
                        0xFD, 0x01, 1, 2, 3, 4};
  unknown.insert(unknown.end(), fields.begin(), fields.end());
  ExpectSameVerdict(unknown, "unknown fields");
  EXPECT_EQ(*DecodeCustomer(unknown), *DecodeCustomer(bytes));
}


TEST(CodecTest, AccessEventsRoundTripAndRefuseWhatIsNotAnEvent) {
  std::vector<model::AccessEvent> events;
  for (std::uint64_t i = 1; i <= 3; ++i) {
    events.push_back({*model::LocalId::Generate(), static_cast<model::AccessAction>(i), 1'700'000'000'000 + static_cast<std::int64_t>(i),
                      "", "A" + std::to_string(i), i});
  }
  auto bytes = EncodeAccessEvents(events);
  ASSERT_TRUE(bytes.ok()) << bytes.status().detail();
  auto back = DecodeAccessEvents(*bytes);
  ASSERT_TRUE(back.ok()) << back.status().detail();
  EXPECT_EQ(*back, events);

  auto ack = EncodeAccessEventsAck(42);
  ASSERT_TRUE(ack.ok());
  EXPECT_EQ(*DecodeAccessEventsAck(*ack), 42u);

  // More than a frame holds, an actor over the limit: refused on encoding.
  EXPECT_FALSE(EncodeAccessEvents(std::vector<model::AccessEvent>(model::kMaxAccessEvents + 1, events[0])).ok());
  auto long_actor = events;
  long_actor[0].operator_id = std::string(33, 'x');
  EXPECT_FALSE(EncodeAccessEvents(long_actor).ok());
  // An unknown action or an empty actor on the wire: data loss.
  auto unknown = events;
  unknown[0].action = static_cast<model::AccessAction>(9);
  auto unknown_bytes = EncodeAccessEvents(unknown);
  ASSERT_TRUE(unknown_bytes.ok());
  EXPECT_EQ(DecodeAccessEvents(*unknown_bytes).status().code(), StatusCode::kDataLoss);
  auto nobody = events;
  nobody[1].operator_id.clear();
  EXPECT_EQ(DecodeAccessEvents(*EncodeAccessEvents(nobody)).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace kassa::proto_codec
