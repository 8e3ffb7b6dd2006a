// Clienteling on the terminal: PIN hashing, attribute values, the card, the
// client-book filters over a real LMDB store, sessions (lockout, idle,
// badge), and the clienteling records on the wire.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <set>

#include "kassa/clienteling/clienteling_service.h"
#include "kassa/clienteling/operator_sessions.h"
#include "kassa/crypto/pin_hash.h"
#include "kassa/crypto/sha256.h"
#include "kassa/customers/customer_service.h"
#include "kassa/hal/sim/sim_clock.h"
#include "kassa/model/clienteling.h"
#include "kassa/proto_codec/codec.h"
#include "kassa/storage/customer_store.h"
#include "sample_store.h"
#include "temp_dir.h"
#include "test_keys.h"

namespace kassa {
namespace {

namespace m = model;

std::string Hex(ByteView b) {
  std::string out;
  char buf[3];
  for (auto x : b) {
    std::snprintf(buf, sizeof buf, "%02x", x);
    out += buf;
  }
  return out;
}

TEST(CryptoTest, Sha256HmacAndPbkdf2MatchThePublishedVectors) {
  EXPECT_EQ(Hex(crypto::Sha256Of(AsBytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Hex(crypto::Sha256Of(AsBytes(""))), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // Two blocks, and data fed in pieces.
  crypto::Sha256 h;
  h.Update(AsBytes("abcdbcdecdefdefgefghfghighijhijkijkljklm"));
  h.Update(AsBytes("klmnlmnomnopnopq"));
  EXPECT_EQ(Hex(h.Finish()), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // RFC 4231 test case 2.
  EXPECT_EQ(Hex(crypto::HmacSha256(AsBytes("Jefe"), AsBytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // RFC 7914 section 11 (PBKDF2-HMAC-SHA256 vectors).
  std::array<std::uint8_t, 64> out{};
  ASSERT_TRUE(crypto::Pbkdf2HmacSha256(AsBytes("passwd"), AsBytes("salt"), 1, out).ok());
  EXPECT_EQ(Hex(out), "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
                      "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
  std::array<std::uint8_t, 32> two{};
  ASSERT_TRUE(crypto::Pbkdf2HmacSha256(AsBytes("password"), AsBytes("salt"), 2, two).ok());
  EXPECT_EQ(crypto::Pbkdf2HmacSha256(AsBytes("password"), AsBytes("salt"), 0, two).code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(crypto::ConstantTimeEqual(two, two));
  EXPECT_FALSE(crypto::ConstantTimeEqual(two, out));
  EXPECT_EQ(Hex(two), "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43");
}

TEST(PinHashTest, OnlyTheRightPinMatchesAndTheFormatIsChecked) {
  const auto hash = crypto::HashPin("4711", crypto::kMinPinIterations);
  ASSERT_TRUE(hash.ok());
  EXPECT_TRUE(hash->starts_with("pbkdf2-sha256$10000$"));
  EXPECT_TRUE(crypto::CheckPinHashFormat(*hash).ok());
  EXPECT_TRUE(crypto::VerifyPin("4711", *hash));
  EXPECT_FALSE(crypto::VerifyPin("4712", *hash));
  EXPECT_FALSE(crypto::VerifyPin("", *hash));
  // Salted: the same PIN hashes differently each time.
  EXPECT_NE(*crypto::HashPin("4711", crypto::kMinPinIterations), *hash);
  EXPECT_EQ(crypto::HashPin("12a4").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(crypto::HashPin("123").status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(crypto::CheckPinHashFormat("4711").ok());
  EXPECT_FALSE(crypto::CheckPinHashFormat("pbkdf2-sha256$10$00112233445566778899aabbccddeeff$00").ok());
  EXPECT_FALSE(crypto::VerifyPin("4711", "pbkdf2-sha256$1000$zz$00"));
}

// Hashes stored before OpenSSL replaced the hand-written PBKDF2 (the sample
// chain's operator A100, PIN 1111, and one from Python's hashlib) still verify.
// A cost outside 10,000..1,000,000 rounds is refused without being computed.
TEST(PinHashTest, HashesMadeBeforeOpenSslStillVerify) {
  EXPECT_TRUE(crypto::VerifyPin("1111", "pbkdf2-sha256$100000$15f4fedc967c0d53250c422711e49ec0$"
                                        "33bae2f0d0006f14cde5966faa9c4b8a9ae431c4ee535830078e19ba17fb14c5"));
  const char* kHashlib = "pbkdf2-sha256$10000$00112233445566778899aabbccddeeff$"
                         "e61dcfc3c6a7d9b9f9a941b3bf2dc78b5e45632779b559ffcca927b9e85c993f";
  EXPECT_TRUE(crypto::VerifyPin("4711", kHashlib));
  EXPECT_FALSE(crypto::VerifyPin("4712", kHashlib));
  // The same PIN at 1,000 rounds (the old minimum) and at 30,000,000.
  const char* kCheap = "pbkdf2-sha256$1000$00112233445566778899aabbccddeeff$"
                       "4b0d6c5e9f2c4e45fc391901b8bb146ad2a31b25ecfc2da156c87c03c0ceadfc";
  const char* kCostly = "pbkdf2-sha256$30000000$00112233445566778899aabbccddeeff$"
                        "4b0d6c5e9f2c4e45fc391901b8bb146ad2a31b25ecfc2da156c87c03c0ceadfc";
  EXPECT_FALSE(crypto::VerifyPin("4711", kCheap));
  EXPECT_FALSE(crypto::VerifyPin("4711", kCostly));  // at once: a 30M-round hash would take minutes
  EXPECT_EQ(std::string(crypto::CheckPinHashFormat(kCheap).field()), "pin_hash");
  EXPECT_EQ(std::string(crypto::CheckPinHashFormat(kCostly).message()), "at most 1000000 iterations");
  EXPECT_EQ(crypto::HashPin("4711", 30000000).status().code(), StatusCode::kInvalidArgument);
}

m::ClientelingConfig Config() {
  m::ClientelingConfig c;
  c.legal_entity = "GB01";
  c.roles = {{"associate", "Associate",
              m::Bit(m::Permission::kViewOwnBook) | m::Bit(m::Permission::kAddToBook) |
                  m::Bit(m::Permission::kRemoveFromBook) | m::Bit(m::Permission::kAddActivity) |
                  m::Bit(m::Permission::kAddNote)},
             {"manager", "Manager", (1u << m::kPermissionCount) - 1}};
  c.attributes = {
      {"size", "Size", m::AttributeType::kText, 30, false, {}},
      {"likes", "Likes", m::AttributeType::kChoice, 10, true, {"handbags", "shoes", "scarves"}},
      {"birthday", "Birthday", m::AttributeType::kDate, 20, true, {}},
      {"vip", "VIP", m::AttributeType::kYesNo, 40, true, {}},
      {"visits", "Visits", m::AttributeType::kNumber, 50, true, {}},
      {"spend", "Spend", m::AttributeType::kDecimal, 60, true, {}},
  };
  c.activity_types = {{"visit", "Store visit"}, {"call", "Phone call"}};
  c.consent_texts = {{"marketing-email", "2026-11", "lv", std::string(m::kMaxConsentTextBytes, 'a')},
                     {"marketing-phone", "2026-11", "lv", "Jā, īsziņās."}};
  c.max_pin_attempts = 3;
  c.lockout_s = 300;
  c.idle_timeout_s = 60;
  return c;
}

TEST(AttributeTest, ValuesAreCheckedAgainstTheirDefinitionAndNormalized) {
  const m::ClientelingConfig c = Config();
  const auto norm = [&](const char* name, const char* value) {
    return m::NormalizeAttributeValue(*c.FindAttribute(name), value);
  };
  EXPECT_EQ(*norm("likes", "Handbags"), "handbags");
  EXPECT_EQ(norm("likes", "hats").status().detail(), std::string("attributes: not one of the attribute's choices"));
  EXPECT_EQ(*norm("birthday", "1990-02-28"), "1990-02-28");
  EXPECT_FALSE(norm("birthday", "1990-02-30").ok());
  EXPECT_FALSE(norm("birthday", "28.02.1990").ok());
  EXPECT_EQ(*norm("vip", "TRUE"), "yes");
  EXPECT_FALSE(norm("vip", "maybe").ok());
  EXPECT_EQ(*norm("visits", "+007"), "7");
  EXPECT_FALSE(norm("visits", "7.5").ok());
  EXPECT_EQ(*norm("spend", "12,50"), "12.5");
  EXPECT_EQ(*norm("spend", "-3"), "-3");
  EXPECT_FALSE(norm("spend", "1.23456").ok());
  EXPECT_FALSE(norm("size", "   ").ok());

  m::Customer cust;
  cust.attributes = {{"likes", "SHOES"}, {"loyalty_tier", "anything"}, {"vip", "no"}};
  std::string bad;
  ASSERT_TRUE(m::NormalizeAttributes(c, cust, bad).ok());
  EXPECT_EQ(cust.attributes[0].value, "shoes");
  EXPECT_EQ(cust.attributes[1].value, "anything");  // not defined here: left alone
  cust.attributes.push_back({"birthday", "yesterday"});
  EXPECT_FALSE(m::NormalizeAttributes(c, cust, bad).ok());
  EXPECT_EQ(bad, "birthday");
}

TEST(ConfigTest, ProblemsNameTheMember) {
  m::ClientelingConfig c = Config();
  std::string field;
  EXPECT_TRUE(m::CheckClientelingConfig(c, field).ok());
  c.roles.push_back(c.roles[0]);
  Status s = m::CheckClientelingConfig(c, field);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(field, "roles[2].id");
  EXPECT_EQ(std::string(s.message()), "appears twice");
  c = Config();
  c.attributes[1].choices.clear();
  s = m::CheckClientelingConfig(c, field);
  EXPECT_EQ(field, "attributes[1].choices");
  EXPECT_EQ(std::string(s.message()), "a choice list needs values");
  m::Operator op{"", "Anna", "GB01", {"LON-01"}, "associate", "", "", true, ""};
  s = m::CheckOperator(op, field);
  EXPECT_EQ(field, "worker_id");
  EXPECT_EQ(std::string(s.message()), "required");
}

std::int64_t Ms(int y, unsigned mo, unsigned d) {
  using namespace std::chrono;
  return duration_cast<milliseconds>(sys_days(year_month_day{year(y), month(mo), day(d)}).time_since_epoch()).count();
}

TEST(FilterTest, DateWithinDaysIgnoresTheYearAndWrapsAroundNewYear) {
  const m::ClientelingConfig c = Config();
  m::BookFilter f;
  f.conditions.push_back({"birthday", m::BookFilter::Condition::Op::kWithinDays, {}, std::nullopt, std::nullopt, 14});
  std::string bad;
  ASSERT_TRUE(m::ValidateFilter(c, f, bad).ok());
  const auto born = [](const char* date) {
    m::Customer x;
    x.attributes = {{"birthday", date}};
    return x;
  };
  const std::int64_t dec25 = Ms(2026, 12, 25) + 15 * 3600 * 1000;  // 15:00 UTC
  EXPECT_TRUE(m::Matches(c, f, born("1980-12-25"), dec25));   // today
  EXPECT_TRUE(m::Matches(c, f, born("1975-01-08"), dec25));   // 14 days on, next year
  EXPECT_FALSE(m::Matches(c, f, born("1975-01-09"), dec25));  // 15 days on
  EXPECT_FALSE(m::Matches(c, f, born("1990-12-24"), dec25));  // yesterday: next year's is far
  EXPECT_FALSE(m::Matches(c, f, m::Customer{}, dec25));       // no birthday
  // 29 February counts as 28 February in a common year.
  EXPECT_TRUE(m::Matches(c, f, born("1992-02-29"), Ms(2027, 2, 20)));

  m::BookFilter unknown;
  unknown.conditions.push_back({"size", m::BookFilter::Condition::Op::kEquals, {"M"}, std::nullopt, std::nullopt, 0});
  EXPECT_EQ(m::ValidateFilter(c, unknown, bad).detail(), std::string("filter: the attribute is not refinable"));
  EXPECT_EQ(bad, "size");
  m::BookFilter range;
  range.conditions.push_back({"spend", m::BookFilter::Condition::Op::kRange, {}, "10", "20.5", 0});
  ASSERT_TRUE(m::ValidateFilter(c, range, bad).ok());
  m::Customer s;
  s.attributes = {{"spend", "20.5"}};
  EXPECT_TRUE(m::Matches(c, range, s, dec25));
  s.attributes = {{"spend", "9.99"}};
  EXPECT_FALSE(m::Matches(c, range, s, dec25));
}

TEST(CardTest, MeasuresComeFirstThenAttributesByDisplayOrder) {
  // Acceptance 2: four attributes defined (display orders 10, 20, 30, 40 here).
  const m::ClientelingConfig c = Config();
  m::Customer cust;
  cust.attributes = {{"vip", "yes"}, {"size", "M"}, {"birthday", "1984-05-01"}, {"likes", "handbags"}};
  const std::vector<m::AttributeValue> measures = {{"Churn likelihood", "12%"}, {"Next best action", "Invite to preview"}};
  const auto card = m::ComposeCard(c, cust, measures);
  ASSERT_EQ(card.size(), 3u);
  EXPECT_EQ(card[0], (m::CardFact{"Churn likelihood", "Churn likelihood", "12%", true}));
  EXPECT_EQ(card[1], (m::CardFact{"Next best action", "Next best action", "Invite to preview", true}));
  EXPECT_EQ(card[2], (m::CardFact{"likes", "Likes", "handbags", false}));  // the lowest display order

  const auto plain = m::ComposeCard(c, cust, {});
  ASSERT_EQ(plain.size(), 3u);
  EXPECT_EQ(plain[0].name, "likes");
  EXPECT_EQ(plain[1].name, "birthday");
  EXPECT_EQ(plain[2].name, "size");
  // An attribute without a value is skipped, not shown empty.
  cust.attributes = {{"vip", "yes"}};
  const auto sparse = m::ComposeCard(c, cust, {{"Churn likelihood", "80%"}});
  ASSERT_EQ(sparse.size(), 2u);
  EXPECT_EQ(sparse[1].name, "vip");
}

// Whose books a store keeps although they no longer work there.
TEST(OperatorTest, ABookIsLeftInAStoreByDeactivationOrByMovingAway) {
  m::Operator op{"A1", "Anna", "GB01", {"LON-01"}, "associate", "", "", true, ""};
  EXPECT_FALSE(op.LeftBookIn("LON-01"));  // works there
  EXPECT_FALSE(op.LeftBookIn("LON-02"));  // never did
  op.active = false;
  EXPECT_TRUE(op.LeftBookIn("LON-01"));
  op.active = true;
  op.stores = {"LON-02"};
  op.former_stores = {"LON-01"};
  EXPECT_TRUE(op.LeftBookIn("LON-01"));
  EXPECT_FALSE(op.LeftBookIn("LON-02"));
}

TEST(ClientelingCodecTest, RecordsAndOperationsRoundTrip) {
  m::ClientelingRecord config;
  config.config = Config();
  m::ClientelingRecord op;
  op.op = m::Operator{"A1", "Anna Bērziņa", "GB01", {"LON-01", "LON-02"}, "associate",
                      *crypto::HashPin("1234", crypto::kMinPinIterations), "EMP1", true, ""};
  op.op->former_stores = {"RIGA-01", "TLN-02"};
  m::ClientelingRecord entry;
  entry.book_entry = m::BookEntry{"A1", *m::LocalId::Generate(), true, 5, "M1", *m::LocalId::Generate(), "CB000001", "A2"};
  m::ClientelingRecord note;
  note.timeline_entry = m::TimelineEntry{*m::LocalId::Generate(), *m::LocalId::Generate(), m::TimelineKind::kNote, "", 7,
                                         "A1", std::string(1000, 'x')};
  m::ClientelingRecord measures;
  measures.measures = m::CustomerMeasures{*m::LocalId::Generate(), {{"Churn", "1%"}, {"NBA", "Call"}}};
  m::ClientelingRecord consent;
  consent.consent = m::ConsentEntry{*m::LocalId::Generate(), *m::LocalId::Generate(), m::ConsentChannel::kPhone,
                                    "+37129112244", true, "2026-11/lv", 9, "POS-1", "A1", 42};
  for (const auto& r : {config, op, entry, note, measures, consent}) {
    const auto bytes = proto_codec::EncodeClientelingRecord(r);
    ASSERT_TRUE(bytes.ok()) << bytes.status().detail();
    const auto back = proto_codec::DecodeClientelingRecord(*bytes);
    ASSERT_TRUE(back.ok()) << back.status().detail();
    EXPECT_EQ(*back, r);
  }
  note.timeline_entry->text.push_back('y');  // over the bound: refused, not cut
  EXPECT_EQ(proto_codec::EncodeClientelingRecord(note).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(proto_codec::DecodeClientelingRecord(Bytes{0x08, 0x01}).status().code(), StatusCode::kDataLoss);

  m::Operation o;
  o.op_id = *m::LocalId::Generate();
  o.kind = m::OperationKind::kBookEntry;
  o.customer.id = entry.book_entry->customer_id;
  o.book_entry = entry.book_entry;
  const auto back = proto_codec::DecodeOperation(*proto_codec::EncodeOperation(o));
  ASSERT_TRUE(back.ok()) << back.status().detail();
  EXPECT_EQ(*back, o);
}

// ---- the service over a real store ------------------------------------------

constexpr std::int64_t kToday = 1795341600000;  // 2026-11-22T10:00:00Z

class ClientelingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = storage::CustomerStore::Open({dir_.path(), std::size_t{1} << 30, keys_, {}});
    ASSERT_TRUE(store.ok()) << store.status().detail();
    store_ = std::move(*store);
    customers_ = std::make_unique<customers::CustomerService>(store_->customers(), clock_, "LON-01-T1", testing::SampleStore());
    sessions_ = std::make_unique<clienteling::OperatorSessions>(store_->clienteling(), store_->lockouts(), clock_,
                                                                "LON-01");
    service_ = std::make_unique<clienteling::ClientelingService>(store_->customers(), store_->clienteling(),
                                                                  *customers_, *sessions_, clock_);
    std::vector<storage::ClientelingWrite> writes(1);
    writes[0].record.config = Config();
    for (const auto& [id, role, pin, badge] : {std::tuple{"A1", "associate", "1111", "EMP1"},
                                               std::tuple{"A2", "associate", "2222", "EMP2"},
                                               std::tuple{"M1", "manager", "9999", "EMP9"}}) {
      storage::ClientelingWrite w;
      w.record.op = m::Operator{id, id, "GB01", {"LON-01"}, role,
                                *crypto::HashPin(pin, crypto::kMinPinIterations), badge, true, ""};
      writes.push_back(std::move(w));
    }
    ASSERT_TRUE(store_->clienteling().WriteClienteling(writes).ok());
  }

  clienteling::Caller SignIn(const char* worker, const char* pin) {
    auto c = sessions_->SignInWithPin(worker, pin);
    EXPECT_TRUE(c.ok()) << c.status().detail();
    return c.ok() ? *c : clienteling::Caller{};
  }

  testing::TempDir dir_;
  std::shared_ptr<crypto::KeyStore> keys_ = testing::TestKeys();  // the same across reopens
  hal::sim::SimClock clock_{kToday};
  std::unique_ptr<storage::CustomerStore> store_;
  std::unique_ptr<customers::CustomerService> customers_;
  std::unique_ptr<clienteling::OperatorSessions> sessions_;
  std::unique_ptr<clienteling::ClientelingService> service_;
};

// Issue 20, item 4: the wall clock jumps a day either way; durations are
// measured on the monotonic clock, so nobody is signed out, no lockout is
// lifted or stretched and the PIN throttle keeps refilling.
TEST_F(ClientelingServiceTest, WallClockJumpsNeitherSignOutNorUnlock) {
  constexpr std::int64_t kDay = 24 * 3600 * 1000;
  const clienteling::Caller a2 = SignIn("A2", "2222");
  clock_.Jump(kDay);
  ASSERT_TRUE(sessions_->Authenticate(a2.token).ok()) << "a +24 h jump signs nobody out";
  clock_.Jump(-2 * kDay);
  ASSERT_TRUE(sessions_->Authenticate(a2.token).ok()) << "nor does a -24 h one";
  clock_.Advance(61 * 1000);
  EXPECT_EQ(sessions_->Authenticate(a2.token).status().code(), StatusCode::kUnauthenticated) << "61 s idle still is";

  // A1 locked out (3 wrong PINs; 300 s): a +24 h jump does not lift it.
  EXPECT_FALSE(sessions_->SignInWithPin("A1", "0000").ok());
  EXPECT_FALSE(sessions_->SignInWithPin("A1", "0001").ok());
  clock_.Advance(1001);
  EXPECT_FALSE(sessions_->SignInWithPin("A1", "0002").ok());
  clock_.Jump(kDay);
  EXPECT_EQ(std::string(sessions_->SignInWithPin("A1", "1111").status().field()), "operator");
  clienteling::OperatorSessions restarted(store_->clienteling(), store_->lockouts(), clock_, "LON-01");
  EXPECT_EQ(std::string(restarted.SignInWithPin("A1", "1111").status().field()), "operator")
      << "nor does a restart in the same boot after the jump";
  // A -24 h jump does not stretch it either: 300 s later it is over.
  clock_.Jump(-2 * kDay);
  clock_.Advance(301 * 1000);
  EXPECT_TRUE(sessions_->SignInWithPin("A1", "1111").ok());

  // The terminal-wide throttle refills with time passing, whatever the wall clock says.
  // (Begun and finished as wrong without hashing: an unknown id's decoy hash is slow.)
  const auto wrong_guess = [&] {
    auto attempt = sessions_->BeginPinSignIn("NOBODY", "0000");
    if (!attempt.ok()) return attempt.status().code();
    return sessions_->FinishPinSignIn(*attempt, false).status().code();
  };
  for (int i = 0; i < clienteling::OperatorSessions::kPinBurst; ++i) EXPECT_EQ(wrong_guess(), StatusCode::kUnauthenticated);
  EXPECT_EQ(wrong_guess(), StatusCode::kUnavailable);
  clock_.Jump(-kDay);
  clock_.Advance(clienteling::OperatorSessions::kPinRefillMs);
  EXPECT_EQ(wrong_guess(), StatusCode::kUnauthenticated) << "refilled after a backwards jump";
}

// After a reboot the boot clock of the lockout means nothing: the wall clock decides.
TEST_F(ClientelingServiceTest, ALockoutAcrossARebootEndsByTheWallClock) {
  EXPECT_FALSE(sessions_->SignInWithPin("A1", "0000").ok());
  EXPECT_FALSE(sessions_->SignInWithPin("A1", "0001").ok());
  clock_.Advance(1001);
  EXPECT_FALSE(sessions_->SignInWithPin("A1", "0002").ok());
  clock_.Reboot();
  clienteling::OperatorSessions rebooted(store_->clienteling(), store_->lockouts(), clock_, "LON-01");
  EXPECT_EQ(std::string(rebooted.SignInWithPin("A1", "1111").status().field()), "operator");
  clock_.Advance(301 * 1000);
  EXPECT_TRUE(rebooted.SignInWithPin("A1", "1111").ok());
}

TEST_F(ClientelingServiceTest, WrongPinsLockTheOperatorOutAndIdleSessionsEnd) {
  EXPECT_EQ(sessions_->SignInWithPin("A1", "0000").status().detail(), std::string("pin: wrong worker id or PIN"));
  EXPECT_EQ(sessions_->SignInWithPin("NOBODY", "1111").status().detail(), std::string("pin: wrong worker id or PIN"));
  EXPECT_FALSE(sessions_->SignInWithPin("A1", "0001").ok());
  clock_.Advance(1001);  // the second wrong PIN makes A1 wait 1 s
  // The third wrong PIN in a row locks A1 out; the right PIN is refused for 300 s.
  const auto third = sessions_->SignInWithPin("A1", "0002");
  EXPECT_EQ(third.status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(std::string(third.status().field()), "operator");
  EXPECT_EQ(sessions_->SignInWithPin("A1", "1111").status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE(sessions_->SignInWithPin("A2", "2222").ok());  // others are not affected
  // A restart (new sessions over the same store) does not lift the lockout.
  clienteling::OperatorSessions restarted(store_->clienteling(), store_->lockouts(), clock_, "LON-01");
  EXPECT_EQ(std::string(restarted.SignInWithPin("A1", "1111").status().field()), "operator");
  clock_.Advance(301 * 1000);
  const auto a1 = sessions_->SignInWithPin("A1", "1111");
  ASSERT_TRUE(a1.ok()) << a1.status().detail();

  // Idle for longer than idle_timeout_s (60 s): signed out.
  clock_.Advance(59 * 1000);
  ASSERT_TRUE(sessions_->Authenticate(a1->token).ok());  // used: the idle timer restarts
  clock_.Advance(59 * 1000);
  ASSERT_TRUE(sessions_->Authenticate(a1->token).ok());
  clock_.Advance(61 * 1000);
  EXPECT_EQ(sessions_->Authenticate(a1->token).status().code(), StatusCode::kUnauthenticated);

  // Badges sign in only through a swipe ticket that a sign-in screen opened.
  EXPECT_EQ(sessions_->SignInWithBadge("EMP9").status().code(), StatusCode::kFailedPrecondition);
  const auto ticket = sessions_->OpenSwipeTicket();
  ASSERT_TRUE(ticket.ok());
  EXPECT_EQ(sessions_->RedeemSwipeTicket(*ticket).status().code(), StatusCode::kUnauthenticated);  // no swipe yet
  EXPECT_EQ(sessions_->SignInWithBadge("EMP404").status().code(), StatusCode::kUnauthenticated);
  const auto name = sessions_->SignInWithBadge("EMP9");
  ASSERT_TRUE(name.ok()) << name.status().detail();
  const auto badge = sessions_->RedeemSwipeTicket(*ticket);
  ASSERT_TRUE(badge.ok()) << badge.status().detail();
  EXPECT_EQ(badge->op.worker_id, "M1");
  EXPECT_EQ(badge->op.name, *name);
  // A ticket is redeemed once; it expires unused after two minutes.
  EXPECT_EQ(sessions_->RedeemSwipeTicket(*ticket).status().code(), StatusCode::kUnauthenticated);
  sessions_->SignOut(badge->token);
  EXPECT_EQ(sessions_->Authenticate(badge->token).status().code(), StatusCode::kUnauthenticated);
  const auto stale = sessions_->OpenSwipeTicket();
  clock_.Advance(clienteling::OperatorSessions::kSwipeTicketMs + 1);
  EXPECT_EQ(sessions_->SignInWithBadge("EMP9").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(sessions_->RedeemSwipeTicket(*stale).status().code(), StatusCode::kUnauthenticated);
}

// Lock the doors: badges as headquarters distributes them, keyed hashes
// under the legal entity's key: a swipe is one HMAC, and only the right
// badge matches.
TEST_F(ClientelingServiceTest, AKeyedBadgeHashFromHeadquartersSignsInWithThePlaintextSwipe) {
  std::vector<storage::ClientelingWrite> writes(2);
  m::ClientelingConfig config = Config();
  config.badge_key = std::string(32, '\x5a');
  writes[0].record.config = config;
  writes[1].record.op = m::Operator{"M1", "M1", "GB01", {"LON-01"}, "manager",
                                    *crypto::HashPin("9999", crypto::kMinPinIterations), "", true,
                                    crypto::BadgeHmac(config.badge_key, "EMP-SECRET")};
  ASSERT_TRUE(store_->clienteling().WriteClienteling(writes).ok());
  const auto ticket = sessions_->OpenSwipeTicket();
  ASSERT_TRUE(ticket.ok());
  EXPECT_EQ(sessions_->SignInWithBadge("EMP9").status().code(), StatusCode::kUnauthenticated);  // the old plaintext
  EXPECT_EQ(sessions_->SignInWithBadge(crypto::BadgeHmac(config.badge_key, "EMP-SECRET")).status().code(),
            StatusCode::kUnauthenticated);  // the hash itself is no badge
  ASSERT_TRUE(sessions_->SignInWithBadge("EMP-SECRET").ok());
  const auto caller = sessions_->RedeemSwipeTicket(*ticket);
  ASSERT_TRUE(caller.ok()) << caller.status().detail();
  EXPECT_EQ(caller->op.worker_id, "M1");
}

// Lock the doors: a distributed operator whose PIN hash costs 30,000,000
// rounds is refused and logged, and the operator keeps the hash stored before.
TEST_F(ClientelingServiceTest, ADistributedPinHashOutsideTheAcceptedCostIsRefused) {
  auto before = store_->clienteling().FindOperator("A1");
  ASSERT_TRUE(before.ok() && before->has_value());
  m::Change change;
  change.seq = 1;
  change.kind = m::Change::Kind::kClienteling;
  m::Operator costly = **before;
  costly.name = "Changed";
  costly.pin_hash = "pbkdf2-sha256$30000000$00112233445566778899aabbccddeeff$"
                    "4b0d6c5e9f2c4e45fc391901b8bb146ad2a31b25ecfc2da156c87c03c0ceadfc";
  change.clienteling.op = costly;
  ASSERT_TRUE(store_->sync().ApplyDistribution({change}).ok());
  auto after = store_->clienteling().FindOperator("A1");
  ASSERT_TRUE(after.ok() && after->has_value());
  EXPECT_EQ((*after)->pin_hash, (*before)->pin_hash);
  EXPECT_EQ((*after)->name, (*before)->name);
  EXPECT_TRUE(sessions_->SignInWithPin("A1", "1111").ok());
  // A hash within the accepted cost is taken as usual.
  m::Operator renamed = **before;
  renamed.name = "Renamed";
  change.seq = 2;
  change.clienteling.op = renamed;
  ASSERT_TRUE(store_->sync().ApplyDistribution({change}).ok());
  EXPECT_EQ((*store_->clienteling().FindOperator("A1"))->name, "Renamed");
}

// Lock the doors: wrong PINs slow one operator down (the others are not),
// and a terminal-wide throttle bounds PIN checks without locking anyone out.
TEST_F(ClientelingServiceTest, WrongPinsSlowTheOperatorDownAndAThrottleBoundsGuesses) {
  ASSERT_FALSE(sessions_->SignInWithPin("A2", "0000").ok());  // a typo: no wait
  ASSERT_FALSE(sessions_->SignInWithPin("A2", "0001").ok());  // the second: 1 s
  const auto waiting = sessions_->SignInWithPin("A2", "2222");
  EXPECT_EQ(std::string(waiting.status().field()), "operator");
  EXPECT_EQ(std::string(waiting.status().message()), "wait a moment after a wrong PIN, then try again");
  EXPECT_TRUE(sessions_->SignInWithPin("A1", "1111").ok());  // the others are not slowed down
  clock_.Advance(1001);
  EXPECT_TRUE(sessions_->SignInWithPin("A2", "2222").ok());  // and the right PIN resets the count
  // The throttle: a burst of wrong PINs, whoever they are for, then one every 2 s.
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(sessions_->SignInWithPin("A1", "1111").ok());  // right PINs do not count
  clock_.Advance(60 * 1000);
  for (int i = 0; i < clienteling::OperatorSessions::kPinBurst; ++i) {
    EXPECT_EQ(sessions_->SignInWithPin("NOBODY" + std::to_string(i), "0000").status().code(),
              StatusCode::kUnauthenticated);
  }
  const auto throttled = sessions_->SignInWithPin("A1", "1111");
  EXPECT_EQ(throttled.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(std::string(throttled.status().field()), "pin");
  clock_.Advance(clienteling::OperatorSessions::kPinRefillMs);
  EXPECT_TRUE(sessions_->SignInWithPin("A1", "1111").ok());  // not a lockout
}

TEST_F(ClientelingServiceTest, BooksAcrossAssociatesAndReassignQueueOneOperationEach) {
  const auto a1 = SignIn("A1", "1111");
  const auto m1 = SignIn("M1", "9999");
  customers::CustomerPatch p;
  p.first_name = "Liga";
  p.last_name = "Ozola";
  p.attributes = std::vector<m::AttributeValue>{{"likes", "handbags"}};
  const auto liga = customers_->Create(p, "A1");  // pending: no headquarters here
  ASSERT_TRUE(liga.ok());
  p.last_name = "Kalna";
  const auto anna = customers_->Create(p, "A1");
  ASSERT_TRUE(anna.ok());
  const std::uint64_t outbox_before = store_->diagnostics().Stats()->outbox_length;

  ASSERT_TRUE(service_->AddToBook(a1, "", liga->id.ToHex()).ok());
  ASSERT_TRUE(service_->AddToBook(a1, "", liga->id.ToHex()).ok());  // there already: nothing queued
  ASSERT_TRUE(service_->AddToBook(m1, "A2", anna->id.ToHex()).ok());
  ASSERT_TRUE(service_->AddToBook(m1, "A2", liga->id.ToHex()).ok());  // in two books
  EXPECT_EQ(store_->diagnostics().Stats()->outbox_length, outbox_before + 3);
  // An associate may not add to someone else's book, nor see it.
  EXPECT_EQ(service_->AddToBook(a1, "A2", anna->id.ToHex()).code(), StatusCode::kPermissionDenied);
  std::string bad;
  clienteling::BookQuery other;
  other.owner = "A2";
  EXPECT_EQ(service_->Book(a1, other, bad).status().code(), StatusCode::kPermissionDenied);

  clienteling::BookQuery store_book;
  store_book.store = true;
  const auto all = service_->Book(m1, store_book, bad);
  ASSERT_TRUE(all.ok()) << all.status().detail();
  ASSERT_EQ(all->total, 2u);
  EXPECT_EQ(all->items[0].customer.last_name, "Kalna");  // sorted by name
  EXPECT_EQ(all->items[1].owners, (std::vector<std::string>{"A1", "A2"}));

  const auto moved = service_->Reassign(m1, "A2", "A1", {anna->id.ToHex()});
  ASSERT_TRUE(moved.ok()) << moved.status().detail();
  EXPECT_EQ(*moved, 1u);
  EXPECT_EQ(store_->diagnostics().Stats()->outbox_length, outbox_before + 4);
  const auto mine = service_->Book(a1, {}, bad);
  ASSERT_TRUE(mine.ok());
  EXPECT_EQ(mine->total, 2u);
  EXPECT_EQ(mine->book_number, "");  // pending until headquarters numbers it
  EXPECT_EQ(service_->Reassign(m1, "A2", "A1", {anna->id.ToHex()}).status().detail(),
            std::string("customers: a customer is not in the book it should leave"));
  EXPECT_EQ(service_->Reassign(a1, "A1", "A2", {anna->id.ToHex()}).status().code(), StatusCode::kPermissionDenied);

  // Timeline: newest first, activities need a configured type.
  clock_.Advance(1000);
  ASSERT_TRUE(service_->AddActivity(a1, liga->id.ToHex(), "visit", 0, "Tried the new handbags").ok());
  clock_.Advance(1000);
  ASSERT_TRUE(service_->AddNote(a1, liga->id.ToHex(), "Prefers calls after 17:00").ok());
  EXPECT_EQ(service_->AddActivity(a1, liga->id.ToHex(), "teleport", 0, "").status().detail(),
            std::string("activity_type: not an activity type headquarters configured"));
  EXPECT_EQ(service_->AddNote(a1, liga->id.ToHex(), "   ").status().detail(), std::string("text: a note needs text"));
  const auto timeline = service_->Timeline(a1, liga->id.ToHex(), 10);
  ASSERT_TRUE(timeline.ok());
  ASSERT_EQ(timeline->size(), 2u);
  EXPECT_EQ((*timeline)[0].kind, m::TimelineKind::kNote);
  EXPECT_EQ((*timeline)[1].activity_type, "visit");
  EXPECT_EQ((*timeline)[1].worker_id, "A1");
  const auto check = store_->diagnostics().Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->ok()) << (check->problems.empty() ? "" : check->problems[0]);
}

// Issue 20, item 4: "within N days" is a question about the wall date, so a
// jump of the wall clock changes its answer (and only that).
TEST_F(ClientelingServiceTest, WithinDaysFollowsTheWallDate) {
  m::Customer c;
  c.id = *m::LocalId::Generate();
  c.account = "GB1000001";
  c.first_name = "Birthday";
  c.last_name = "Soon";
  c.customer_group = "RETAIL";
  c.version = 1;
  c.attributes = {{"birthday", "1980-12-08"}};  // today is 22 November: 16 days away
  ASSERT_TRUE(store_->sync().ApplyDistribution({{1, m::Change::Kind::kCustomerUpsert, c, {}, {}, {}}}).ok());
  storage::ClientelingWrite w;
  w.record.book_entry = m::BookEntry{"A1", c.id, true, kToday, "A1", {}, "CB000001", ""};
  ASSERT_TRUE(store_->clienteling().WriteClienteling({w}).ok());
  const auto a1 = SignIn("A1", "1111");
  const auto found = [&] {
    clienteling::BookQuery q;
    q.filter.conditions = {{"birthday", m::BookFilter::Condition::Op::kWithinDays, {}, std::nullopt, std::nullopt, 14}};
    std::string bad;
    const auto page = service_->Book(a1, q, bad);
    EXPECT_TRUE(page.ok()) << page.status().detail();
    return page.ok() ? page->total : 999;
  };
  EXPECT_EQ(found(), 0u);
  clock_.Jump(3 * 24 * 3600 * 1000);  // 25 November: 13 days away
  EXPECT_EQ(found(), 1u);
  clock_.Jump(-3 * 24 * 3600 * 1000);
  EXPECT_EQ(found(), 0u);
}

TEST_F(ClientelingServiceTest, FiltersOverABookOfTenThousandCustomers) {
  // Acceptance 3: "likes handbags" and "birthday within 14 days" over 10,000
  // customers in A1's book return exactly the expected customers.
  constexpr int kCustomers = 10000;
  const char* likes[] = {"handbags", "shoes", "scarves"};
  std::set<std::string> want_handbags, want_birthday, want_both;
  std::vector<m::Change> changes;
  std::vector<storage::ClientelingWrite> entries;
  for (int i = 0; i < kCustomers; ++i) {
    m::Customer c;
    c.id = *m::LocalId::Generate();
    c.account = "GB" + std::to_string(1000000 + i);
    c.first_name = "Client";
    c.last_name = "Number" + std::to_string(i);
    c.customer_group = "RETAIL";
    c.version = 1;
    // Birthdays spread over the year: day i % 365 from 1 January, born 1970 + i % 40.
    using namespace std::chrono;
    const year_month_day bd{sys_days(year_month_day{year(1970 + i % 40), month(1), day(1)}) + days(i % 365)};
    char date[32];
    std::snprintf(date, sizeof date, "%04d-%02u-%02u", static_cast<int>(bd.year()), static_cast<unsigned>(bd.month()),
                  static_cast<unsigned>(bd.day()));
    c.attributes = {{"likes", likes[i % 3]}, {"birthday", date}};
    // Today is 22 November: birthdays from 22 November to 6 December (inclusive) are within 14 days.
    const unsigned mo = static_cast<unsigned>(bd.month()), d = static_cast<unsigned>(bd.day());
    const bool soon = (mo == 11 && d >= 22) || (mo == 12 && d <= 6);
    if (i % 3 == 0) want_handbags.insert(c.account);
    if (soon) want_birthday.insert(c.account);
    if (i % 3 == 0 && soon) want_both.insert(c.account);
    changes.push_back({static_cast<std::uint64_t>(i + 1), m::Change::Kind::kCustomerUpsert, c, {}, {}, {}});
    storage::ClientelingWrite w;
    w.record.book_entry = m::BookEntry{"A1", c.id, true, kToday, "A1", {}, "CB000001", ""};
    entries.push_back(std::move(w));
  }
  for (std::size_t at = 0; at < changes.size(); at += 1000) {
    const std::vector<m::Change> chunk(changes.begin() + static_cast<std::ptrdiff_t>(at),
                                       changes.begin() + static_cast<std::ptrdiff_t>(std::min(at + 1000, changes.size())));
    ASSERT_TRUE(store_->sync().ApplyDistribution(chunk).ok());
  }
  ASSERT_TRUE(store_->clienteling().WriteClienteling(entries).ok());
  const auto a1 = SignIn("A1", "1111");

  const auto run = [&](std::vector<m::BookFilter::Condition> conditions, const char* what) {
    clienteling::BookQuery q;
    q.filter.conditions = std::move(conditions);
    q.limit = 500;
    std::set<std::string> got;
    std::size_t total = 0;
    std::int64_t us = 0;
    for (q.offset = 0;; q.offset += q.limit) {
      std::string bad;
      const auto page = service_->Book(a1, q, bad);
      EXPECT_TRUE(page.ok()) << page.status().detail();
      if (!page.ok()) break;
      total = page->total;
      if (q.offset == 0) us = page->query_us;
      for (const auto& item : page->items) got.insert(item.customer.account);
      if (page->items.size() < q.limit) break;
    }
    std::printf("[ query    ] %s over %d customers: %zu found, first page in %.1f ms\n", what, kCustomers, total,
                static_cast<double>(us) / 1000.0);
    return got;
  };
  using Op = m::BookFilter::Condition::Op;
  const m::BookFilter::Condition handbags{"likes", Op::kEquals, {"Handbags"}, std::nullopt, std::nullopt, 0};
  const m::BookFilter::Condition birthday{"birthday", Op::kWithinDays, {}, std::nullopt, std::nullopt, 14};
  EXPECT_EQ(run({handbags}, "likes = handbags"), want_handbags);
  EXPECT_EQ(run({birthday}, "birthday within 14 days"), want_birthday);
  EXPECT_EQ(run({handbags, birthday}, "both"), want_both);
  EXPECT_EQ(want_handbags.size(), 3334u);
  EXPECT_FALSE(want_birthday.empty());
}

}  // namespace
}  // namespace kassa
