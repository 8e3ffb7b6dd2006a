#include "kassa/customers/customer_service.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "kassa/hal/sim/sim_clock.h"
#include "kassa/storage/customer_store.h"
#include "fake_headquarters.h"
#include "sample_store.h"
#include "temp_dir.h"
#include "test_keys.h"

namespace kassa::customers {
namespace {

constexpr std::int64_t kT0 = 1790000000000;

class CustomerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(testing::SampleStore()); }
  void Start(model::StoreConfig config) {
    service_.reset();
    store_.reset();
    store_ = std::move(*storage::CustomerStore::Open({dir_.path(), std::size_t{64} << 20, keys_, {}}));
    service_ = std::make_unique<CustomerService>(store_->customers(), clock_, "POS-7", std::move(config));
  }
  model::Customer MustCreate(const CustomerPatch& p) {
    auto c = service_->Create(p, "anna");
    EXPECT_TRUE(c.ok()) << c.status().detail();
    return c.ok() ? *c : model::Customer{};
  }
  std::vector<SearchResult> Search(const std::string& q) {
    auto r = service_->Search(q, 20);
    EXPECT_TRUE(r.ok()) << r.status().detail();
    return r.ok() ? *r : std::vector<SearchResult>{};
  }

  testing::TempDir dir_;
  std::shared_ptr<crypto::KeyStore> keys_ = testing::TestKeys();  // the same across reopens
  hal::sim::SimClock clock_{kT0};
  std::unique_ptr<storage::CustomerStore> store_;
  std::unique_ptr<CustomerService> service_;
};

CustomerPatch JohnSmith() {
  CustomerPatch p;
  p.first_name = "John";
  p.last_name = "Smith";
  p.phone = "(020) 7946 0958";
  p.email = "John.Smith@Example.com";
  return p;
}

TEST_F(CustomerServiceTest, NewCustomerInheritsTheDefaultCustomer) {
  CustomerPatch p;
  p.last_name = "Defaults";
  const auto c = MustCreate(p);
  EXPECT_TRUE(c.pending());
  EXPECT_EQ(c.version, 1u);
  EXPECT_EQ(c.type, model::CustomerType::kPerson);
  EXPECT_EQ(c.customer_group, "RETAIL");
  EXPECT_EQ(c.receipt_preference, model::ReceiptPreference::kEmail);
  EXPECT_EQ(c.receipt_email, "receipts@shop.example");  // none given: inherited
  EXPECT_EQ(c.currency, "GBP");
  EXPECT_EQ(c.language, "en-GB");
  EXPECT_EQ(c.affiliations, std::vector<std::string>{"Members"});
  EXPECT_EQ(c.created_at_ms, kT0);
}

TEST_F(CustomerServiceTest, GivenReceiptEmailIsKept) {
  CustomerPatch p = JohnSmith();
  p.receipt_email = "mine@example.com";
  EXPECT_EQ(MustCreate(p).receipt_email, "mine@example.com");
}

TEST_F(CustomerServiceTest, AddressDefaultsFollowTypeAndStoreCountry) {
  CustomerPatch person = JohnSmith();
  person.addresses = std::vector<AddressInput>{{std::nullopt, "1 High St", "London", "N1", "", std::nullopt, "", ""}};
  const auto p = MustCreate(person);
  EXPECT_EQ(p.addresses[0].purpose, model::AddressPurpose::kHome);
  EXPECT_EQ(p.addresses[0].country, "GB");

  CustomerPatch org;
  org.type = model::CustomerType::kOrganization;
  org.organization_name = "Acme Ltd";
  org.addresses = std::vector<AddressInput>{{std::nullopt, "2 Dock Rd", "Leeds", "", "", std::nullopt, "", ""},
                                            {model::AddressPurpose::kPostBox, "PO Box 7", "Leeds", "", "", "IE", "", ""}};
  const auto o = MustCreate(org);
  EXPECT_EQ(o.addresses[0].purpose, model::AddressPurpose::kBusiness);
  EXPECT_EQ(o.addresses[1].purpose, model::AddressPurpose::kPostBox);
  EXPECT_EQ(o.addresses[1].country, "IE");
}

TEST_F(CustomerServiceTest, CreationQueuesExactlyOneOutboxEntry) {
  const auto c = MustCreate(JohnSmith());
  auto entries = store_->outbox().PeekOutbox(10);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].operation.kind, model::OperationKind::kCreateCustomer);
  EXPECT_EQ((*entries)[0].operation.customer, c);
  EXPECT_EQ((*entries)[0].operation.terminal_id, "POS-7");
  EXPECT_EQ((*entries)[0].operation.operator_id, "anna");
}

// Issue 18: a creation headquarters rejected is fixed and queued again
// under a new operation id, in place of its quarantine entry; a rejected
// edit is not resent (the customer is edited again instead).
TEST_F(CustomerServiceTest, ARejectedCreationIsFixedAndQueuedAgain) {
  CustomerPatch p = JohnSmith();
  p.loyalty_cards = std::vector<std::string>{"CARD-1"};
  const auto c = MustCreate(p);
  const auto queued = store_->outbox().PeekOutbox(1);
  ASSERT_TRUE(queued.ok());
  model::OperationAck rejected{(*queued)[0].operation.op_id, model::OperationAck::Outcome::kRejected, c.id, "", 0,
                               "loyalty_cards: card already belongs to another customer"};
  ASSERT_TRUE(store_->sync().ApplyAcks({{(*queued)[0].seq, rejected}}, kT0).ok());
  auto entries = store_->quarantine().Quarantined(5);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  const storage::QuarantineEntry entry = (*entries)[0];

  CustomerPatch bad;
  bad.email = "not an email";
  EXPECT_EQ(service_->ResendRejected(entry, bad, "anna").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->quarantine().Quarantined(5)->size(), 1u) << "a bad fix changes nothing";

  CustomerPatch fix;
  fix.loyalty_cards = std::vector<std::string>{"CARD-2"};
  const auto fixed = service_->ResendRejected(entry, fix, "peter");
  ASSERT_TRUE(fixed.ok()) << fixed.status().detail();
  EXPECT_TRUE(fixed->pending());
  EXPECT_EQ(fixed->loyalty_cards.size(), 1u);
  EXPECT_TRUE(store_->quarantine().Quarantined(5)->empty());
  const auto outbox = store_->outbox().PeekOutbox(5);
  ASSERT_TRUE(outbox.ok());
  ASSERT_EQ(outbox->size(), 1u);
  const model::Operation& again = (*outbox)[0].operation;
  EXPECT_EQ(again.kind, model::OperationKind::kCreateCustomer);
  EXPECT_NE(again.op_id, entry.operation.op_id) << "headquarters keeps its answer to the rejected id";
  EXPECT_EQ(again.customer, *fixed);
  EXPECT_EQ(again.operator_id, "peter");
  EXPECT_EQ(service_->ResendRejected(entry, fix, "peter").status().code(), StatusCode::kNotFound)
      << "resent already";
  EXPECT_EQ(Search("CARD-1").size(), 0u);
  EXPECT_EQ(Search("CARD-2").size(), 1u);
  const auto check = store_->diagnostics().Check();
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->ok()) << (check->problems.empty() ? "" : check->problems[0]);

  storage::QuarantineEntry book = entry;
  book.operation.kind = model::OperationKind::kBookEntry;
  EXPECT_EQ(service_->ResendRejected(book, fix, "peter").status().code(), StatusCode::kFailedPrecondition)
      << "a book entry is discarded, not resent";
}

// The queued operation of `c` headquarters answers with `outcome`.
void Answer(storage::CustomerStore& store, model::OperationAck::Outcome outcome, const std::string& reason = "") {
  const auto queued = store.outbox().PeekOutbox(1);
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 1u);
  const model::Operation& op = (*queued)[0].operation;
  model::OperationAck ack{op.op_id, outcome, op.customer.id, "LV00000042", op.customer.version, reason};
  ASSERT_TRUE(store.sync().ApplyAcks({{(*queued)[0].seq, ack}}, kT0).ok());
}

// A rejected edit is fixed and sent again with everything it changed: the
// field the associate fixes and the ones headquarters never took.
TEST_F(CustomerServiceTest, ARejectedEditIsFixedAndResentWithAllItChanged) {
  const auto c = MustCreate(JohnSmith());
  Answer(*store_, model::OperationAck::Outcome::kApplied);
  CustomerPatch edit;
  edit.phone = "+371 2612 9999";
  edit.loyalty_cards = std::vector<std::string>{"CARD-TAKEN"};
  const auto edited = service_->Edit(c.id.ToHex(), edit, service_->Find(c.id.ToHex())->version, "anna");
  ASSERT_TRUE(edited.ok()) << edited.status().detail();
  Answer(*store_, model::OperationAck::Outcome::kRejected, "loyalty_cards: card already belongs to another customer");
  const auto entries = store_->quarantine().Quarantined(5);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].operation.kind, model::OperationKind::kUpdateCustomer);

  CustomerPatch fix;
  fix.loyalty_cards = std::vector<std::string>{"CARD-FREE"};
  const auto fixed = service_->ResendRejected((*entries)[0], fix, "peter");
  ASSERT_TRUE(fixed.ok()) << fixed.status().detail();
  EXPECT_EQ(fixed->phone, "+37126129999");
  EXPECT_EQ(fixed->loyalty_cards, std::vector<std::string>{"CARD-FREE"});
  EXPECT_TRUE(store_->quarantine().Quarantined(5)->empty());
  const auto outbox = store_->outbox().PeekOutbox(5);
  ASSERT_EQ(outbox->size(), 1u);
  const model::Operation& again = (*outbox)[0].operation;
  EXPECT_EQ(again.kind, model::OperationKind::kUpdateCustomer);
  EXPECT_NE(again.op_id, (*entries)[0].operation.op_id);
  EXPECT_EQ(again.customer, *fixed);
  EXPECT_EQ(again.base_version, edited->version);
  const auto has = [&](model::CustomerField f) {
    return std::count(again.changed_fields.begin(), again.changed_fields.end(), static_cast<std::uint32_t>(f)) == 1;
  };
  EXPECT_TRUE(has(model::CustomerField::kPhone)) << "the phone headquarters never took goes again";
  EXPECT_TRUE(has(model::CustomerField::kLoyaltyCards));
  EXPECT_EQ(Search("CARD-TAKEN").size(), 0u);
  EXPECT_EQ(Search("CARD-FREE").size(), 1u);
}

// A rejected creation given up: the customer, never at headquarters, leaves
// the terminal with everything of it.
TEST_F(CustomerServiceTest, ADiscardedRejectedCreationLeavesNothingBehind) {
  CustomerPatch p = JohnSmith();
  p.loyalty_cards = std::vector<std::string>{"CARD-1"};
  const auto c = MustCreate(p);
  Answer(*store_, model::OperationAck::Outcome::kRejected, "loyalty_cards: card already belongs to another customer");
  const auto entries = store_->quarantine().Quarantined(5);
  ASSERT_EQ(entries->size(), 1u);
  std::optional<Status> done;
  service_->DiscardRejected((*entries)[0], "peter", [&](Status s) { done = s; });
  ASSERT_TRUE(done.has_value());
  ASSERT_TRUE(done->ok()) << done->detail();
  EXPECT_EQ(store_->customers().Get(c.id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->quarantine().Quarantined(5)->empty());
  EXPECT_TRUE(Search("CARD-1").empty());
  EXPECT_TRUE(Search("Smith").empty());
  const auto stats = store_->diagnostics().Stats();
  EXPECT_EQ(stats->pending_customers, 0u);
  const auto check = store_->diagnostics().Check();
  EXPECT_TRUE(check->ok()) << (check->problems.empty() ? "" : check->problems[0]);
  done.reset();
  service_->DiscardRejected((*entries)[0], "peter", [&](Status s) { done = s; });
  EXPECT_EQ(done->code(), StatusCode::kNotFound) << "discarded already";
}

// A rejected edit given up: the customer takes headquarters' values again,
// which takes headquarters (offline, it says so and changes nothing).
TEST_F(CustomerServiceTest, ADiscardedRejectedEditTakesHeadquartersValues) {
  testing::FakeHeadquarters hq;
  service_->SetHeadquarters(&hq);
  const auto c = MustCreate(JohnSmith());
  hq.outbox_changes = 0;
  Answer(*store_, model::OperationAck::Outcome::kApplied);
  const model::Customer at_headquarters = *service_->Find(c.id.ToHex());
  CustomerPatch edit;
  edit.phone = "+371 2612 9999";
  ASSERT_TRUE(service_->Edit(c.id.ToHex(), edit, at_headquarters.version, "anna").ok());
  Answer(*store_, model::OperationAck::Outcome::kRejected, "phone: this phone number is already registered");
  const auto entries = store_->quarantine().Quarantined(5);
  ASSERT_EQ(entries->size(), 1u);

  std::optional<Status> done;
  hq.is_online = false;
  service_->DiscardRejected((*entries)[0], "peter", [&](Status s) { done = s; });
  EXPECT_EQ(done->code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_->quarantine().Quarantined(5)->size(), 1u) << "nothing changes offline";

  hq.is_online = true;
  hq.chain = {at_headquarters};
  done.reset();
  service_->DiscardRejected((*entries)[0], "peter", [&](Status s) { done = s; });
  ASSERT_TRUE(done->ok()) << done->detail();
  const auto now = service_->Find(c.id.ToHex());
  EXPECT_EQ(now->phone, at_headquarters.phone);
  EXPECT_EQ(now->version, at_headquarters.version);
  EXPECT_TRUE(store_->quarantine().Quarantined(5)->empty());
  EXPECT_TRUE(Search("26129999").empty());
  service_->SetHeadquarters(nullptr);
}

TEST_F(CustomerServiceTest, ConsentIsStampedWithWhenWhoAndWhere) {
  CustomerPatch p = JohnSmith();
  p.secondary_emails = std::vector<ContactInput>{{"js@work.example", true, ""}};
  const auto c = MustCreate(p);
  ASSERT_EQ(c.secondary_emails.size(), 1u);
  EXPECT_EQ(c.secondary_emails[0].consent, (model::Consent{true, kT0, "anna", "POS-7", ""}));
  // An edit that keeps the contact keeps its consent record; a changed consent is re-stamped.
  clock_.Advance(60000);
  CustomerPatch same;
  same.secondary_emails = std::vector<ContactInput>{{"JS@work.example", true, ""}, {"other@x.example", false, ""}};
  auto e = service_->Edit(c.id.ToHex(), same, 1, "peter");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->secondary_emails[0].consent.captured_at_ms, kT0);
  EXPECT_EQ(e->secondary_emails[1].consent, (model::Consent{false, kT0 + 60000, "peter", "POS-7", ""}));
}

TEST_F(CustomerServiceTest, PhoneReenteredInOtherFormatKeepsItsConsent) {
  CustomerPatch p = JohnSmith();
  p.secondary_phones = std::vector<ContactInput>{{"07700 900123", true, ""}};
  const auto c = MustCreate(p);
  clock_.Advance(5000);
  CustomerPatch again;
  again.secondary_phones = std::vector<ContactInput>{{"+44 7700 900123", true, ""}};
  auto e = service_->Edit(c.id.ToHex(), again, 1, "peter");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->version, 1u);  // nothing changed: same number, same consent
  EXPECT_EQ(e->secondary_phones[0].consent, (model::Consent{true, kT0, "anna", "POS-7", ""}));
  CustomerPatch withdrawn;
  withdrawn.secondary_phones = std::vector<ContactInput>{{"07700900123", false, ""}};
  e = service_->Edit(c.id.ToHex(), withdrawn, 1, "peter");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->secondary_phones[0].consent, (model::Consent{false, kT0 + 5000, "peter", "POS-7", ""}));
}

TEST_F(CustomerServiceTest, ThePrimaryContactsConsentIsStampedKeptAndGoesWithItsContact) {
  CustomerPatch p = JohnSmith();
  p.email = "john@primary.example";
  p.email_consent = ConsentInput{true, "2026-11/en"};
  const auto c = MustCreate(p);
  EXPECT_EQ(c.email_consent, (model::Consent{true, kT0, "anna", "POS-7", "2026-11/en"}));
  auto queued = store_->outbox().PeekOutbox(10);
  ASSERT_EQ(queued->back().operation.consents.size(), 1u);
  EXPECT_EQ(queued->back().operation.consents[0].contact, "john@primary.example");
  // An edit of something else keeps the stamp.
  clock_.Advance(1000);
  CustomerPatch rename;
  rename.last_name = "Smyth";
  auto e = service_->Edit(c.id.ToHex(), rename, 1, "peter");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->email_consent, c.email_consent);
  // A new primary email without a consent: the consent was the old address's.
  clock_.Advance(1000);
  CustomerPatch moved;
  moved.email = "john@new.example";
  e = service_->Edit(c.id.ToHex(), moved, 2, "peter");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->email_consent, model::Consent{});
  queued = store_->outbox().PeekOutbox(10);
  ASSERT_EQ(queued->back().operation.consents.size(), 1u);
  EXPECT_FALSE(queued->back().operation.consents[0].granted);
  EXPECT_EQ(queued->back().operation.consents[0].contact, "john@primary.example");
  // A grant for a phone the customer does not have (cleared in the same
  // edit) is refused, nothing stored.
  CustomerPatch orphan;
  orphan.phone = "";
  orphan.phone_consent = ConsentInput{true, ""};
  EXPECT_EQ(service_->Edit(c.id.ToHex(), orphan, 3, "peter").status().field(), "phone_consent");
  EXPECT_EQ(service_->Find(c.id.ToHex())->version, 3u);
}

TEST_F(CustomerServiceTest, BadInputStoresNothing) {
  CustomerPatch p = JohnSmith();
  p.email = "nope";
  EXPECT_EQ(service_->Create(p, "anna").status().field(), "email");
  p = JohnSmith();
  p.customer_group = "VIP";
  EXPECT_EQ(service_->Create(p, "anna").status().field(), "customer_group");
  auto stats = store_->diagnostics().Stats();
  EXPECT_EQ(stats->customers, 0u);
  EXPECT_EQ(stats->outbox_length, 0u);
}

TEST_F(CustomerServiceTest, OfflineCreationCanBeForbidden) {
  auto config = testing::SampleStore();
  config.creation_mode = model::CreationMode::kSync;
  config.allow_offline_creation = false;
  Start(config);
  const auto r = service_->Create(JohnSmith(), "anna");
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().field(), "creation");
  EXPECT_EQ(store_->diagnostics().Stats()->customers, 0u);
}

TEST_F(CustomerServiceTest, EditQueuesBehindCreationAndBumpsVersion) {
  const auto c = MustCreate(JohnSmith());
  CustomerPatch edit;
  edit.email = "john@new.example";
  auto e = service_->Edit(c.id.ToHex(), edit, 1, "anna");
  ASSERT_TRUE(e.ok()) << e.status().detail();
  EXPECT_EQ(e->version, 2u);
  EXPECT_TRUE(e->pending());
  auto entries = store_->outbox().PeekOutbox(10);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[1].operation.kind, model::OperationKind::kUpdateCustomer);
  EXPECT_EQ((*entries)[1].operation.base_version, 1u);
  EXPECT_EQ((*entries)[1].operation.changed_fields, std::vector<std::uint32_t>{7});
  // The value the edit started from travels with it (headquarters tells a
  // conflict by it); fields it did not change do not.
  const auto& base = (*entries)[1].operation.base;
  ASSERT_TRUE(base.has_value());
  EXPECT_EQ(base->id, c.id);
  EXPECT_EQ(base->email, c.email);
  EXPECT_FALSE(c.email.empty());
  EXPECT_TRUE(base->last_name.empty());
  EXPECT_TRUE(Search("john@example.com").empty());
  EXPECT_EQ(Search("JOHN@NEW.example").size(), 1u);
}

TEST_F(CustomerServiceTest, StaleEditIsRefusedNotOverwritten) {
  const auto c = MustCreate(JohnSmith());
  CustomerPatch first;
  first.last_name = "Smyth";
  ASSERT_TRUE(service_->Edit(c.id.ToHex(), first, 1, "anna").ok());
  CustomerPatch second;
  second.first_name = "Jon";
  const auto r = service_->Edit(c.id.ToHex(), second, 1, "peter");
  EXPECT_EQ(r.status().code(), StatusCode::kAborted);
  EXPECT_EQ(r.status().field(), "version");
  const auto now = service_->Find(c.id.ToHex());
  EXPECT_EQ(now->last_name, "Smyth");
  EXPECT_EQ(now->first_name, "John");
}

TEST_F(CustomerServiceTest, EditThatChangesNothingQueuesNothing) {
  const auto c = MustCreate(JohnSmith());
  CustomerPatch same;
  same.phone = "+44 20 7946 0958";  // the same number, other formatting
  auto e = service_->Edit(c.id.ToHex(), same, 1, "anna");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->version, 1u);
  EXPECT_EQ(store_->diagnostics().Stats()->outbox_length, 1u);
}

TEST_F(CustomerServiceTest, SearchByNameTokensAnyOrderPrefixAndAccents) {
  MustCreate(JohnSmith());
  CustomerPatch latvian;
  latvian.first_name = "Jānis";
  latvian.last_name = "Bērziņš";
  MustCreate(latvian);
  auto r = Search("smi jo");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].customer.last_name, "Smith");
  EXPECT_EQ(r[0].matched, search::MatchedField::kLastName);
  r = Search("BERZINS janis");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].customer.first_name, "Jānis");
  EXPECT_TRUE(Search("smith zzz").empty());
}

TEST_F(CustomerServiceTest, SearchByPhoneInAnyFormatAndNationalPrefix) {
  const auto c = MustCreate(JohnSmith());
  for (const char* q : {"+44 20 7946 0958", "020 7946 0958", "0207946", "+44207"}) {
    auto r = Search(q);
    ASSERT_EQ(r.size(), 1u) << q;
    EXPECT_EQ(r[0].customer.id, c.id) << q;
    EXPECT_EQ(r[0].matched, search::MatchedField::kPhone) << q;
  }
}

TEST_F(CustomerServiceTest, InternationalSearchKeepsTheCountryNationalSearchDoesNot) {
  // The same national number in Latvia and in Finland.
  CustomerPatch riga = JohnSmith();
  riga.phone = "+371 2612 3456";
  const auto lv = MustCreate(riga);
  CustomerPatch helsinki;
  helsinki.last_name = "Virtanen";
  helsinki.phone = "+358 2612 3456";
  const auto fi = MustCreate(helsinki);
  for (const char* q : {"+37126123456", "00371 2612 3456", "+371261"}) {
    auto r = Search(q);
    ASSERT_EQ(r.size(), 1u) << q;
    EXPECT_EQ(r[0].customer.id, lv.id) << q;
  }
  auto r = Search("+35826123456");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].customer.id, fi.id);
  EXPECT_EQ(Search("26123456").size(), 2u);  // national digits: both countries
}

TEST_F(CustomerServiceTest, AStoreInAnyCountryFindsItsNumbersAsDialledThere) {
  // Italy: not one of the countries the index keeps nationally; its numbers
  // keep their leading zero and are found by it, and in international form.
  model::StoreConfig rome = testing::SampleStore();
  rome.operating_unit_country = "IT";
  Start(rome);
  CustomerPatch p;
  p.last_name = "Rossi";
  p.phone = "06 1234 5678";
  const auto rossi = MustCreate(p);
  EXPECT_EQ(rossi.phone, "+390612345678");
  for (const char* q : {"06 1234 5678", "0612345678", "06 1234", "+39 06 1234 5678", "0039 0612"}) {
    auto r = Search(q);
    ASSERT_EQ(r.size(), 1u) << q;
    EXPECT_EQ(r[0].customer.id, rossi.id) << q;
  }
  EXPECT_TRUE(Search("07 1234").empty());
}

TEST_F(CustomerServiceTest, SearchReportsSecondaryMatches) {
  CustomerPatch p = JohnSmith();
  p.secondary_phones = std::vector<ContactInput>{{"07700 900123", false, ""}};
  p.secondary_emails = std::vector<ContactInput>{{"js@work.example", true, ""}};
  MustCreate(p);
  auto r = Search("07700900123");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].matched, search::MatchedField::kSecondaryPhone);
  r = Search("JS@WORK.EXAMPLE");
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].matched, search::MatchedField::kSecondaryEmail);
}

TEST_F(CustomerServiceTest, SearchByLoyaltyCardRanksExactFirst) {
  CustomerPatch a = JohnSmith();
  a.loyalty_cards = std::vector<std::string>{"LC 1001 2002"};
  MustCreate(a);
  CustomerPatch b;
  b.last_name = "Other";
  b.loyalty_cards = std::vector<std::string>{"LC10012002999"};
  MustCreate(b);
  auto r = Search("lc10012002");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].customer.last_name, "Smith");
  EXPECT_EQ(r[0].matched, search::MatchedField::kLoyaltyCard);
  EXPECT_GT(r[0].score, r[1].score);
}

TEST_F(CustomerServiceTest, TwoTokensFindTheRareCombinationAmongManyOfTheSameName) {
  // 120 Anna Bērziņa and one Līga Bērziņa: the longest token ("berzina")
  // drives, and the other is checked on each index entry, so Līga is found
  // wherever she falls among the 121 entries.
  for (int i = 0; i < 120; ++i) {
    CustomerPatch p;
    p.first_name = "Anna";
    p.last_name = "Bērziņa";
    MustCreate(p);
  }
  CustomerPatch liga;
  liga.first_name = "Līga";
  liga.last_name = "Bērziņa";
  const auto wanted = MustCreate(liga);
  for (const char* q : {"berzina liga", "Līga Bērziņa", "lig berzina"}) {
    auto r = Search(q);
    ASSERT_EQ(r.size(), 1u) << q;
    EXPECT_EQ(r[0].customer.id, wanted.id) << q;
  }
  // A common name gives `limit` results, all of them matches.
  auto many = service_->Search("berzina anna", 20);
  ASSERT_TRUE(many.ok());
  ASSERT_EQ(many->size(), 20u);
  for (const auto& m : *many) EXPECT_EQ(m.customer.first_name, "Anna");
}

TEST_F(CustomerServiceTest, SearchLimitAndEmptyQuery) {
  for (int i = 0; i < 5; ++i) {
    CustomerPatch p;
    p.last_name = "Taylor" + std::to_string(i);
    MustCreate(p);
  }
  auto r = service_->Search("taylor", 3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size(), 3u);
  EXPECT_EQ(service_->Search("   ", 3).status().field(), "q");
  EXPECT_EQ(service_->Search("taylor", 0).status().field(), "limit");
}

TEST_F(CustomerServiceTest, FindByIdOrUnknownRef) {
  const auto c = MustCreate(JohnSmith());
  EXPECT_EQ(service_->Find(c.id.ToHex())->id, c.id);
  EXPECT_EQ(service_->Find("C-404").status().code(), StatusCode::kNotFound);
}

TEST_F(CustomerServiceTest, CjkNamesAreFoundByGivenName) {
  CustomerPatch p;
  p.last_name = "王小明";
  MustCreate(p);
  EXPECT_EQ(Search("小明").size(), 1u);
  EXPECT_EQ(Search("王").size(), 1u);
}

// Issue 18, acceptance 5: a Chinese name kept as family 王 and given 小明 is
// found typed as written (王小明, no space), by the given name, and with a
// space; so are Japanese and Korean names; an unrelated name is not.
TEST_F(CustomerServiceTest, CjkNamesAreFoundTypedWithOrWithoutSpaces) {
  CustomerPatch wang;
  wang.last_name = "王";
  wang.first_name = "小明";
  const model::Customer w = MustCreate(wang);
  CustomerPatch yamada;
  yamada.last_name = "山田";
  yamada.first_name = "たろう";
  const model::Customer y = MustCreate(yamada);
  CustomerPatch kim;
  kim.last_name = "김";
  kim.first_name = "민준";
  const model::Customer k = MustCreate(kim);
  const auto only = [&](const std::string& query, const model::Customer& want) {
    const auto hits = Search(query);
    ASSERT_EQ(hits.size(), 1u) << query;
    EXPECT_EQ(hits[0].customer.id, want.id) << query;
  };
  for (const char* q : {"王小明", "小明", "王 小明", "王小", "明"}) only(q, w);
  for (const char* q : {"山田たろう", "たろう", "山田 たろう", "田たろう"}) only(q, y);
  for (const char* q : {"김민준", "민준", "김 민준"}) only(q, k);
  EXPECT_TRUE(Search("王大明").empty());
  EXPECT_TRUE(Search("小明王").empty());
}

// Issue 18, acceptance 5: the same name typed precomposed (NFC), decomposed
// (NFD: n + combining cedilla, as some keyboards and pasted text give it)
// and in capitals is one name: each form of the query finds each form.
TEST_F(CustomerServiceTest, ANameIsFoundWhicheverUnicodeFormEitherSideUses) {
  const std::string nfc = "Ozoli\u0146a", nfd = "Ozolin\u0327a", upper = "OZOLI\u0145A";
  const std::string romanian_nfc = "\u0218erban", romanian_nfd = "S\u0326erban";
  std::vector<model::LocalId> ids;
  for (const std::string& last : {nfc, nfd, upper}) {
    CustomerPatch p;
    p.first_name = last == nfd ? romanian_nfd : romanian_nfc;
    p.last_name = last;
    ids.push_back(MustCreate(p).id);
  }
  for (const std::string& query : {nfc, nfd, upper, std::string("ozolina"), std::string("OZOLINA serban"),
                                   romanian_nfd + " " + nfc, std::string("\u0219erban")}) {
    const auto hits = Search(query);
    std::vector<model::LocalId> found;
    for (const auto& h : hits) found.push_back(h.customer.id);
    std::sort(found.begin(), found.end());
    std::vector<model::LocalId> want = ids;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(found, want) << query;
  }
  // Letters that do not decompose fold too: ł, ø, æ, đ.
  CustomerPatch p;
  p.first_name = "Łucja";
  p.last_name = "Sørensen-Đặng Æbeløe";
  const model::Customer c = MustCreate(p);
  for (const char* q : {"lucja", "sorensen", "dang", "aebeloe", "ŁUCJA SØRENSEN"}) {
    const auto hits = Search(q);
    ASSERT_EQ(hits.size(), 1u) << q;
    EXPECT_EQ(hits[0].customer.id, c.id) << q;
  }
}

class SyncCreateTest : public CustomerServiceTest {
 protected:
  void StartSync(bool allow_offline) {
    model::StoreConfig config = testing::SampleStore();
    config.creation_mode = model::CreationMode::kSync;
    config.allow_offline_creation = allow_offline;
    Start(config);
    service_->SetHeadquarters(&hq_);
  }
  Result<model::Customer> CreateNow() {
    std::optional<Result<model::Customer>> out;
    service_->CreateAsync(JohnSmith(), "anna", [&](Result<model::Customer> r) { out = std::move(r); });
    EXPECT_TRUE(out.has_value());
    return out ? std::move(*out) : Result<model::Customer>(Status(StatusCode::kInternal, "no answer"));
  }
  testing::FakeHeadquarters hq_;
};

TEST_F(SyncCreateTest, OnlineCreateIsRealTimeWithTheAccountNumberAndNothingQueued) {
  StartSync(true);
  auto c = CreateNow();
  ASSERT_TRUE(c.ok()) << c.status().detail();
  EXPECT_EQ(c->account, "LV00000077");
  EXPECT_EQ(store_->diagnostics().Stats()->outbox_length, 0u);
  EXPECT_EQ(service_->Find("lv00000077")->id, c->id);
}

TEST_F(SyncCreateTest, UnansweredCreateFallsBackToTheOutboxWithTheSameOperationId) {
  StartSync(true);
  hq_.answer = Result<model::OperationAck>(Status(StatusCode::kDeadlineExceeded, "headquarters: no answer in time"));
  auto c = CreateNow();
  ASSERT_TRUE(c.ok()) << c.status().detail();
  EXPECT_TRUE(c->pending());
  auto outbox = store_->outbox().PeekOutbox(5);
  ASSERT_EQ(outbox->size(), 1u);
  ASSERT_EQ(hq_.received.size(), 1u);
  EXPECT_EQ((*outbox)[0].operation.op_id, hq_.received[0].op_id);  // headquarters applies it once
  EXPECT_EQ(hq_.outbox_changes, 1);
}

TEST_F(SyncCreateTest, UnansweredCreateWhereOfflineIsForbiddenSaysToSearchFirst) {
  StartSync(false);
  hq_.answer = Result<model::OperationAck>(Status(StatusCode::kDeadlineExceeded, "headquarters: no answer in time"));
  auto c = CreateNow();
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(c.status().field(), "creation");
  EXPECT_NE(std::string(c.status().message()).find("search the chain"), std::string::npos);
  EXPECT_EQ(store_->diagnostics().Stats()->customers, 0u);
}

TEST_F(SyncCreateTest, OfflineWithOfflineForbiddenIsRefusedWithoutAsking) {
  StartSync(false);
  hq_.is_online = false;
  auto c = CreateNow();
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(hq_.received.empty());
  EXPECT_EQ(store_->diagnostics().Stats()->customers, 0u);
}

TEST_F(SyncCreateTest, RefusalByHeadquartersStoresNothing) {
  StartSync(true);
  model::OperationAck refused;
  refused.outcome = model::OperationAck::Outcome::kRejected;
  refused.reason = "customer_group: unknown customer group";
  hq_.answer = Result<model::OperationAck>(refused);
  auto c = CreateNow();
  EXPECT_EQ(c.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(c.status().field(), "headquarters");
  EXPECT_EQ(store_->diagnostics().Stats()->customers, 0u);
  EXPECT_EQ(store_->diagnostics().Stats()->outbox_length, 0u);
}

// Issue 16, lock and wipe: while the terminal's access is not open nothing
// of a customer is read, searched, created or changed, here or at
// headquarters, and nothing is queued.
TEST_F(SyncCreateTest, ALockedOrWipedTerminalServesNoCustomerDataAndQueuesNothing) {
  StartSync(/*allow_offline=*/true);
  const model::Customer c = MustCreate(JohnSmith());
  hq_.received.clear();
  const std::uint64_t queued = store_->diagnostics().Stats()->outbox_length;
  for (const AccessState state : {AccessState::kLocked, AccessState::kWiped}) {
    service_->SetAccess(Access{state, kT0});
    const auto expect_refused = [&](const Status& s, const char* what) {
      EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << what << ": " << s.detail();
      EXPECT_EQ(s.field(), "terminal") << what;
    };
    expect_refused(service_->Find(c.id.ToHex()).status(), "find");
    expect_refused(service_->Search("Smith", 10).status(), "search");
    expect_refused(service_->Create(JohnSmith(), "anna").status(), "create");
    expect_refused(CreateNow().status(), "create async");
    CustomerPatch p;
    p.first_name = "Jim";
    expect_refused(service_->Edit(c.id.ToHex(), p, c.version, "anna").status(), "edit");
    std::optional<Status> chain;
    service_->SearchChain("Smith", 10, [&](Result<std::vector<model::Customer>> r) { chain = r.status(); });
    ASSERT_TRUE(chain.has_value());
    expect_refused(*chain, "chain search");
  }
  EXPECT_TRUE(hq_.received.empty());
  EXPECT_EQ(store_->diagnostics().Stats()->outbox_length, queued);
  service_->SetAccess(Access{});
  EXPECT_TRUE(service_->Find(c.id.ToHex()).ok());
}

TEST(OfflineLimitTest, CountsWholeDaysFromTheLastContactAndNeverLocksWhenOffOrTheClockWentBack) {
  constexpr std::int64_t kContact = kT0;
  EXPECT_FALSE(OfflineLimitPassed(0, kContact, kContact + 1000 * kMsPerDay));  // off
  EXPECT_FALSE(OfflineLimitPassed(3, kContact, kContact + 3 * kMsPerDay - 1));
  EXPECT_TRUE(OfflineLimitPassed(3, kContact, kContact + 3 * kMsPerDay));
  EXPECT_FALSE(OfflineLimitPassed(3, kContact, kContact - 30 * kMsPerDay));  // clock set back
  EXPECT_TRUE(OfflineLimitPassed(1, 0, kContact));  // never recorded: a caller records one first
}

}  // namespace
}  // namespace kassa::customers
