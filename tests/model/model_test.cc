#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "kassa/model/clienteling.h"
#include "kassa/model/email.h"
#include "kassa/model/ids.h"
#include "kassa/model/limits.h"
#include "kassa/model/operation.h"
#include "kassa/model/phone.h"
#include "kassa/model/text.h"
#include "kassa/model/validation.h"
#include "sample_store.h"

namespace kassa::model {
namespace {

TEST(PhoneTest, NationalAndInternationalFormsAreOneNumber) {
  auto national = NormalizePhone("(020) 7946 0958", "GB");
  auto international = NormalizePhone("+44 20 7946 0958", "GB");
  auto dialled = NormalizePhone("0044 20 7946 0958", "LV");
  ASSERT_TRUE(national.ok());
  ASSERT_TRUE(international.ok());
  ASSERT_TRUE(dialled.ok());
  EXPECT_EQ(national->e164, "+442079460958");
  EXPECT_EQ(international->e164, "+442079460958");
  EXPECT_EQ(dialled->e164, "+442079460958");
  EXPECT_EQ(national->national, "2079460958");
}

TEST(PhoneTest, CountriesWithoutTrunkPrefix) {
  auto lv = NormalizePhone("2612 3456", "LV");
  ASSERT_TRUE(lv.ok());
  EXPECT_EQ(lv->e164, "+37126123456");
  auto fi = NormalizePhone("040 123 4567", "FI");
  ASSERT_TRUE(fi.ok());
  EXPECT_EQ(fi->e164, "+358401234567");
  auto us = NormalizePhone("1 (415) 555-2671", "US");
  ASSERT_TRUE(us.ok());
  EXPECT_EQ(us->e164, "+14155552671");
}

TEST(PhoneTest, RejectsWhatIsNotAPhoneNumber) {
  EXPECT_EQ(NormalizePhone("12ab34", "GB").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizePhone("123", "GB").status().code(), StatusCode::kInvalidArgument);          // too short
  EXPECT_EQ(NormalizePhone("+1234567890123456", "GB").status().code(), StatusCode::kInvalidArgument);  // 16 digits
  EXPECT_EQ(NormalizePhone("2612 3456 7", "LV").status().code(), StatusCode::kInvalidArgument);  // 9 digits in LV
  EXPECT_EQ(NormalizePhone("44+20", "GB").status().code(), StatusCode::kInvalidArgument);       // misplaced +
  EXPECT_EQ(NormalizePhone("", "GB").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizePhone("0207946", "XX").status().code(), StatusCode::kInvalidArgument);     // unknown country
}

TEST(PhoneTest, SearchDigitsDropTheTrunkPrefix) {
  EXPECT_EQ(PhoneSearchDigits("020 7946", "GB"), "207946");
  EXPECT_EQ(PhoneSearchDigits("+44 20", "GB"), "4420");
  EXPECT_EQ(PhoneSearchDigits("smith", "GB"), "");
  EXPECT_EQ(PhoneSearchDigits("12", "GB"), "");
  EXPECT_EQ(NationalNumberOf("+442079460958"), "2079460958");
}

TEST(PhoneTest, SplitNationalAgreesWithItsTwoHalves) {
  for (const char* e164 : {"+442079460958", "+37126123456", "+12025550143", "+80012345678", "+999123", "", "+", "4420"}) {
    std::string code = "stale", national = "stale";
    const bool split = SplitNational(e164, code, national);
    EXPECT_EQ(code, CountryCodeOf(e164)) << e164;
    EXPECT_EQ(national, NationalNumberOf(e164)) << e164;
    EXPECT_EQ(split, !code.empty()) << e164;
  }
  std::string code, national;
  ASSERT_TRUE(SplitNational("+37126123456", code, national));
  EXPECT_EQ(code, "371");
  EXPECT_EQ(national, "26123456");
}

TEST(PhoneTest, EveryRegionLibphonenumberKnows) {
  // Italy: the leading zero is part of the number; no national prefix is dropped.
  EXPECT_EQ(NormalizePhone("06 1234 5678", "IT")->e164, "+390612345678");
  // International toll-free (+800), accepted wherever the store is.
  EXPECT_EQ(NormalizePhone("+800 1234 5678", "LV")->e164, "+80012345678");
  // Numbering plans, not just lengths: no Latvian number begins with 1.
  EXPECT_EQ(NormalizePhone("+371 1234 5678", "LV").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NormalizePhone("+999 1234 5678", "LV").status().code(), StatusCode::kInvalidArgument);  // no such code
  EXPECT_TRUE(IsKnownPhoneCountry("IT"));
  EXPECT_TRUE(IsKnownPhoneCountry("br"));
  EXPECT_FALSE(IsKnownPhoneCountry("XX"));
  EXPECT_EQ(PhonePatternsThatDoNotCompile(), "");
  EXPECT_TRUE(LooksInternational("+39 06"));
  EXPECT_TRUE(LooksInternational("0039 06"));
  EXPECT_FALSE(LooksInternational("06 1234"));
}

TEST(PhoneTest, NationalQueriesWhereTheIndexKeepsE164Digits) {
  // Italy's numbers are indexed by their E.164 digits: a national query looks there.
  EXPECT_EQ(NationalQueryAsE164("06 1234", "IT"), "39061234");
  // Latvia's are kept nationally: nothing more to look up.
  EXPECT_EQ(NationalQueryAsE164("2911", "LV"), "");
  EXPECT_EQ(NationalQueryAsE164("+39 06", "IT"), "");
}

TEST(EmailTest, ValidAndInvalid) {
  EXPECT_TRUE(IsValidEmail("anna.berzina@example.lv"));
  EXPECT_TRUE(IsValidEmail("o'brien+pos@mail.co.uk"));
  EXPECT_FALSE(IsValidEmail("no-at-sign"));
  EXPECT_FALSE(IsValidEmail("a@b"));            // no dotted domain
  EXPECT_FALSE(IsValidEmail("a..b@example.com"));
  EXPECT_FALSE(IsValidEmail("a@-example.com"));
  EXPECT_FALSE(IsValidEmail("a b@example.com"));
  EXPECT_FALSE(IsValidEmail("@example.com"));
  EXPECT_EQ(FoldEmail("  Anna@Example.LV "), "anna@example.lv");
}

TEST(TextTest, FoldsAccentsAndCase) {
  EXPECT_EQ(FoldText("Bērziņš"), "berzins");
  EXPECT_EQ(FoldText("ÅSTRÖM"), "astrom");
  EXPECT_EQ(FoldText("Straße"), "strasse");
  EXPECT_EQ(FoldText("Łukasz Żółć"), "lukasz zolc");
  EXPECT_EQ(FoldText("王小明"), "王小明");
}

// Issue 18: the letters the old table missed, and the same name typed as
// precomposed (NFC), decomposed (NFD), in capitals or full-width folds to
// the same text.
TEST(TextTest, FoldsEveryFormOfANameAlike) {
  EXPECT_EQ(FoldText("Ștefănescu Țară"), "stefanescu tara");          // comma below (Romanian)
  EXPECT_EQ(FoldText("Łøæđ Þór Œuvre Ħ"), "loaed thor oeuvre h");     // letters that do not decompose
  EXPECT_EQ(FoldText("Nguyễn Đức"), "nguyen duc");                     // two marks on one letter
  EXPECT_EQ(FoldText("Ёлкин ΆΝΝΑ Σοφίας"), "елкин αννα σοφιασ");       // Cyrillic and Greek, final sigma
  EXPECT_EQ(FoldText("ＡＮＮＡ ﬁona"), "anna fiona");                   // full-width, ligature
  const std::string nfc = "Ozoli\u0146a \u0218erban";        // ņ, Ș precomposed
  const std::string nfd = "Ozolin\u0327a S\u0326erban";      // n + cedilla, S + comma below
  EXPECT_NE(nfc, nfd);
  EXPECT_EQ(FoldText(nfc), "ozolina serban");
  EXPECT_EQ(FoldText(nfd), FoldText(nfc));
  EXPECT_EQ(FoldText("OZOLIN\u0327A"), "ozolina");
  EXPECT_EQ(NameTokens(nfd), NameTokens(nfc));
  // Kana with voicing marks and Hangul compare as the syllables they make,
  // however typed (half-width katakana, conjoining jamo).
  EXPECT_EQ(FoldText("\uFF76\uFF9E\uFF78"), "ガク");                // ｶﾞｸ
  EXPECT_EQ(FoldText("\u30AB\u3099"), "ガ");                          // カ + combining voicing mark
  EXPECT_EQ(FoldText("\u1100\u1175\u11B7"), "김");                   // ᄀ ᅵ ᆷ
  // Marks that tell names apart elsewhere are kept.
  EXPECT_NE(FoldText("कमल"), FoldText("कमला"));
}

TEST(TextTest, TokensSplitOnPunctuationAndIndexCjkSuffixes) {
  EXPECT_EQ(NameTokens("Anna-Liisa O'Brien"), (std::vector<std::string>{"anna", "liisa", "o", "brien"}));
  EXPECT_EQ(NameTokens("王小明"), (std::vector<std::string>{"王小明", "小明", "明"}));
  EXPECT_EQ(NameTokens("やまだ"), (std::vector<std::string>{"やまだ", "まだ", "だ"}));
  EXPECT_EQ(NameTokens("김민준"), (std::vector<std::string>{"김민준", "민준", "준"}));
  EXPECT_EQ(NameTokens("Anna ♥ ★ Liisa"), (std::vector<std::string>{"anna", "liisa"}));  // symbols separate
  EXPECT_TRUE(NameTokens(" ,.- ").empty());
}

TEST(TextTest, ACjkNameWithoutASpaceAddsItsJoinedTokens) {
  EXPECT_EQ(JoinedNameTokens("王", "小明"), (std::vector<std::string>{"王小明"}));
  EXPECT_EQ(JoinedNameTokens("山田", "太郎"), (std::vector<std::string>{"山田太郎", "田太郎"}));
  EXPECT_EQ(JoinedNameTokens("김", "민준"), (std::vector<std::string>{"김민준"}));
  EXPECT_EQ(JoinedNameTokens("\u1100\u1175\u11B7", "민준"), (std::vector<std::string>{"김민준"}));  // 김 as jamo
  EXPECT_TRUE(JoinedNameTokens("Ozoliņa", "Līga").empty());  // not CJK: nothing joined
  EXPECT_TRUE(JoinedNameTokens("王", "Anna").empty());
  EXPECT_TRUE(JoinedNameTokens("", "小明").empty());
}

TEST(TextTest, CleanUtf8) {
  EXPECT_TRUE(IsCleanUtf8("Jānis 王"));
  EXPECT_FALSE(IsCleanUtf8("bad\x01"));
  EXPECT_FALSE(IsCleanUtf8("\xC3"));        // truncated sequence
  EXPECT_FALSE(IsCleanUtf8("\xC0\xAF"));    // overlong
}

TEST(IdTest, HexRoundTripAndUniqueness) {
  auto a = LocalId::Generate();
  auto b = LocalId::Generate();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(LocalId::FromHex(a->ToHex()), *a);
  EXPECT_FALSE(LocalId::FromHex("xyz").has_value());
  EXPECT_FALSE(LocalId::FromHex(std::string(32, 'g')).has_value());
}

TEST(IdTest, Version7IsTheRfcLayout) {
  // RFC 9562 appendix A.6: 2022-02-22 19:22:22 UTC, rand_a 0xCC3, rand_b 0x18C4DC0C0C07398F.
  const std::array<std::uint8_t, 10> random{0x0C, 0xC3, 0x18, 0xC4, 0xDC, 0x0C, 0x0C, 0x07, 0x39, 0x8F};
  EXPECT_EQ(LocalId::Version7(1'645'557'742'000, random).ToHex(), "017f22e279b07cc398c4dc0c0c07398f");
  // The version and variant bits are set whatever the random bytes hold.
  const std::array<std::uint8_t, 10> ones{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  EXPECT_EQ(LocalId::Version7(0, ones).ToHex(), "0000000000007fffbfffffffffffffff");
  // A clock before 1970 gives time 0, not a wrapped one that sorts last.
  EXPECT_EQ(LocalId::Version7(-5, ones), LocalId::Version7(0, ones));
}

// The milliseconds a version 7 id carries.
std::int64_t UnixMsOf(const LocalId& id) {
  std::int64_t ms = 0;
  for (std::size_t i = 0; i < 6; ++i) ms = (ms << 8) | id.bytes[i];
  return ms;
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(IdTest, GeneratedIdsCarryTheirMillisecondAndSortByIt) {
  std::set<LocalId> seen;
  std::vector<LocalId> made;
  for (int i = 0; i < 20'000; ++i) {
    const std::int64_t before = NowMs();
    const auto id = LocalId::Generate();
    const std::int64_t after = NowMs();
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(id->bytes[6] >> 4, 7);
    EXPECT_EQ(id->bytes[8] >> 6, 2);
    ASSERT_GE(UnixMsOf(*id), before);
    ASSERT_LE(UnixMsOf(*id), after);
    EXPECT_TRUE(seen.insert(*id).second) << "a repeated id: " << id->ToHex();
    made.push_back(*id);
  }
  // Ids of different milliseconds sort in the order they were made; within a
  // millisecond they are in no particular order (the random part decides).
  std::size_t crossings = 0;
  for (std::size_t i = 1; i < made.size(); ++i) {
    if (UnixMsOf(made[i - 1]) < UnixMsOf(made[i])) {
      ++crossings;
      EXPECT_LT(made[i - 1], made[i]);
    }
  }
  EXPECT_GT(crossings, 0u) << "20,000 ids made within one millisecond: nothing compared";
}

TEST(IdTest, IdsOfOneMillisecondHashApart) {
  // Caches keyed by Hash() (the data keys' cache, for one) would hold one id
  // of a millisecond if it read the millisecond.
  std::set<std::uint64_t> slots;
  for (std::uint8_t i = 0; i < 64; ++i) {
    std::array<std::uint8_t, 10> random{};
    random[9] = i;
    slots.insert(LocalId::Version7(1'767'225'600'000, random).Hash() % 4096);
  }
  EXPECT_GT(slots.size(), 55u);
}

TEST(IdTest, RandomIdsCarryNothingButChance) {
  const auto a = LocalId::Random();
  const auto b = LocalId::Random();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(a->bytes[6] >> 4, 4);
  EXPECT_EQ(a->bytes[8] >> 6, 2);
  // Not a clock: two ids' first 48 bits are not both within a second of now.
  EXPECT_FALSE(std::abs(UnixMsOf(*a) - NowMs()) < 1000 && std::abs(UnixMsOf(*b) - NowMs()) < 1000);
}

Customer Valid() {
  Customer c;
  c.first_name = "John";
  c.last_name = "Smith";
  c.customer_group = "RETAIL";
  c.email = "john@example.com";
  return c;
}

TEST(ValidationTest, NormalizesPhonesAndCodes) {
  Customer c = Valid();
  c.phone = "(020) 7946 0958";
  c.currency = "gbp";
  c.addresses.push_back({AddressPurpose::kHome, "1 High St", "London", "N1 9GU", "", "gb", "", "07700 900123"});
  ASSERT_TRUE(NormalizeCustomer(c, testing::SampleStore()).ok());
  EXPECT_EQ(c.phone, "+442079460958");
  EXPECT_EQ(c.currency, "GBP");
  EXPECT_EQ(c.addresses[0].country, "GB");
  EXPECT_EQ(c.addresses[0].contact_phone, "+447700900123");
}

// Each bad input is refused with the field named.
struct BadCase {
  const char* name;
  void (*mutate)(Customer&);
  const char* field;
};

TEST(ValidationTest, EveryBadInputNamesItsField) {
  const BadCase cases[] = {
      {"bad email", [](Customer& c) { c.email = "not-an-email"; }, "email"},
      {"bad phone", [](Customer& c) { c.phone = "call me"; }, "phone"},
      {"no name", [](Customer& c) { c.first_name.clear(); c.last_name.clear(); }, "name"},
      {"unknown group", [](Customer& c) { c.customer_group = "VIP"; }, "customer_group"},
      {"10 KB name", [](Customer& c) { c.last_name = std::string(10240, 'a'); }, "last_name"},
      {"org without name", [](Customer& c) { c.type = CustomerType::kOrganization; c.first_name.clear(); c.last_name.clear(); }, "organization_name"},
      {"bad secondary email", [](Customer& c) { c.secondary_emails.push_back({"x@", {}}); }, "secondary_emails"},
      {"bad currency", [](Customer& c) { c.currency = "EURO"; }, "currency"},
      {"bad country", [](Customer& c) { c.addresses.push_back({AddressPurpose::kHome, "x", "", "", "", "GBR", "", ""}); }, "addresses.country"},
      {"empty address", [](Customer& c) { c.addresses.push_back({AddressPurpose::kHome, "", "", "", "", "GB", "", ""}); }, "addresses"},
      {"duplicate card", [](Customer& c) { c.loyalty_cards = {"C1", "c1"}; }, "loyalty_cards"},
      {"too many addresses", [](Customer& c) { c.addresses.assign(6, {AddressPurpose::kHome, "x", "", "", "", "GB", "", ""}); }, "addresses"},
      {"control char", [](Customer& c) { c.first_name = "Jo\x07hn"; }, "first_name"},
  };
  for (const auto& bad : cases) {
    Customer c = Valid();
    bad.mutate(c);
    const Status s = NormalizeCustomer(c, testing::SampleStore());
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << bad.name;
    EXPECT_EQ(s.field(), bad.field) << bad.name << ": " << s.detail();
  }
}

TEST(ValidationTest, LimitMessagesStateTheRealLimit) {
  Customer c = Valid();
  c.last_name = std::string(kMaxPersonNameBytes, 'a');
  EXPECT_TRUE(NormalizeCustomer(c, testing::SampleStore()).ok());
  c.last_name += 'a';
  const Status s = NormalizeCustomer(c, testing::SampleStore());
  EXPECT_NE(std::string(s.detail()).find(std::to_string(kMaxPersonNameBytes)), std::string::npos);
}

TEST(ValidationTest, EmailedReceiptNeedsAnAddress) {
  Customer c = Valid();
  c.email.clear();
  c.receipt_preference = ReceiptPreference::kEmail;
  EXPECT_EQ(NormalizeCustomer(c, testing::SampleStore()).field(), "receipt_email");
}

TEST(StoreConfigTest, ValidatesEveryRequiredPart) {
  EXPECT_TRUE(ValidateStoreConfig(testing::SampleStore()).ok());
  auto s = testing::SampleStore();
  s.default_customer.customer_group = "NOPE";
  EXPECT_EQ(ValidateStoreConfig(s).field(), "default_customer.customer_group");
  s = testing::SampleStore();
  s.operating_unit_country = "gb";
  EXPECT_EQ(ValidateStoreConfig(s).field(), "operating_unit_country");
  s = testing::SampleStore();
  s.lock_after_offline_days = kMaxLockAfterOfflineDays;
  EXPECT_TRUE(ValidateStoreConfig(s).ok());
  s.lock_after_offline_days = kMaxLockAfterOfflineDays + 1;
  EXPECT_EQ(ValidateStoreConfig(s).field(), "lock_after_offline_days");
}

TEST(StoreConfigTest, WarnsOfADefaultCustomersReceiptEmailOnly) {
  auto s = testing::SampleStore();
  ASSERT_FALSE(s.default_customer.receipt_email.empty());
  const auto warnings = StoreConfigWarnings(s);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("default_customer.receipt_email is " + s.default_customer.receipt_email), std::string::npos);
  EXPECT_NE(warnings[0].find("store " + s.store_id), std::string::npos);
  s.default_customer.receipt_email.clear();
  EXPECT_TRUE(StoreConfigWarnings(s).empty());
}

TEST(ConsentTest, ChangesAreGrantsAndWithdrawalsOfContactsNeverRepeats) {
  Customer before = Valid();
  before.secondary_emails = {{"kept@example.com", Consent{true, 1, "op", "T1", "2026-11"}},
                             {"dropped@example.com", Consent{true, 1, "op", "T1", "2026-11"}},
                             {"never@example.com", Consent{}}};
  before.secondary_phones = {{"+37129112244", Consent{}}};
  EXPECT_TRUE(ConsentChanges(&before, before).empty());
  // A new customer: each contact given consent is a grant.
  const auto created = ConsentChanges(nullptr, before);
  ASSERT_EQ(created.size(), 2u);
  EXPECT_TRUE(created[0].granted);
  EXPECT_EQ(created[0].contact, "kept@example.com");
  EXPECT_EQ(created[0].text_version, "2026-11");

  Customer after = before;
  after.secondary_emails.erase(after.secondary_emails.begin() + 1);  // removed: its consent goes with it
  after.secondary_emails[0].consent.text_version = "2026-12";        // granted again on a new text
  after.secondary_phones[0].consent.granted = true;                  // granted
  after.secondary_emails.push_back({"new@example.com", Consent{}});  // new, no consent: nothing
  const auto changes = ConsentChanges(&before, after);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].contact, "kept@example.com");
  EXPECT_TRUE(changes[0].granted);
  EXPECT_EQ(changes[0].text_version, "2026-12");
  EXPECT_EQ(changes[1].contact, "dropped@example.com");  // emails first, then phones
  EXPECT_FALSE(changes[1].granted);
  EXPECT_EQ(changes[2].channel, ConsentChannel::kPhone);
  EXPECT_TRUE(changes[2].granted);
  for (const auto& e : changes) EXPECT_EQ(e.customer_id, after.id);
}

TEST(ConsentTest, ThePrimaryEmailAndPhoneHaveTheirConsentInTheLedgerToo) {
  Customer before = Valid();
  before.email = "primary@example.com";
  before.email_consent = Consent{true, 1, "op", "T1", "2026-11"};
  before.phone = "+37129112244";
  const auto created = ConsentChanges(nullptr, before);
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0].contact, "primary@example.com");
  EXPECT_EQ(created[0].channel, ConsentChannel::kEmail);
  EXPECT_TRUE(created[0].granted);
  // The primary email changes (its consent went with it); the phone is granted.
  Customer after = before;
  after.email = "next@example.com";
  after.email_consent = Consent{};
  after.phone_consent = Consent{true, 2, "op", "T1", "2026-11"};
  const auto changes = ConsentChanges(&before, after);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].contact, "primary@example.com");
  EXPECT_FALSE(changes[0].granted);
  EXPECT_EQ(changes[1].contact, "+37129112244");
  EXPECT_TRUE(changes[1].granted);
  // The primary email moved to the secondary list with its consent: nothing to record.
  Customer moved = before;
  moved.email.clear();
  moved.email_consent = Consent{};
  moved.secondary_emails = {{"primary@example.com", before.email_consent}};
  EXPECT_TRUE(ConsentChanges(&before, moved).empty());
  // The consent is part of its contact's field, for the merge at headquarters.
  EXPECT_EQ(ChangedFields(before, after), (std::vector<std::uint32_t>{7, 8}));
  Customer merged = before;
  ASSERT_TRUE(CopyField(8, after, merged));
  EXPECT_EQ(merged.phone_consent, after.phone_consent);
  // A grant needs its contact, and a contact is listed once.
  Customer orphan = before;
  orphan.email.clear();
  EXPECT_EQ(ValidateCustomer(orphan, testing::SampleStore()).field(), "email_consent");
  Customer twice = before;
  twice.secondary_emails = {{"PRIMARY@example.com", Consent{}}};
  EXPECT_EQ(ValidateCustomer(twice, testing::SampleStore()).field(), "secondary_emails");
}

TEST(OperationTest, ChangedFieldsListsWireNumbers) {
  Customer a = Valid();
  Customer b = a;
  b.email = "other@example.com";
  b.loyalty_cards = {"X1"};
  b.version = 7;  // not a field change
  EXPECT_EQ(ChangedFields(a, b), (std::vector<std::uint32_t>{7, 19}));
  EXPECT_TRUE(ChangedFields(a, a).empty());
}

}  // namespace
}  // namespace kassa::model
