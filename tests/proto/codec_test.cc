#include "kassa/proto_codec/codec.h"

#include <gtest/gtest.h>

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
  c.secondary_emails = {{"j@work.lv", {true, 1700000000123, "anna", "POS-1"}}};
  c.secondary_phones = {{"+37129112233", {false, 1700000000456, "peter", "POS-2"}}};
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

TEST(CodecTest, StoreConfigRoundTrip) {
  model::StoreConfig s = testing::SampleStore();
  s.allow_offline_creation = false;  // a non-default value must survive too
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

}  // namespace
}  // namespace kassa::proto_codec
