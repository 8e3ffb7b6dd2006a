// Headquarters' registry on both chain stores: a real LMDB store in a temp
// dir, and a real PostgreSQL database (a schema of the test cluster).

#include "kassa/hq/registry.h"

#include <gtest/gtest.h>

#include <fstream>
#include <lmdb.h>

#include "kassa/crypto/pin_hash.h"
#include "kassa/hal/sim/sim_clock.h"
#include "kassa/search/customer_search.h"
#include "sample_store.h"
#include "temp_dir.h"
#include "test_chain_store.h"
#include "test_keys.h"

namespace kassa::hq {
namespace {

ChainConfig SampleChain() {
  ChainConfig c;
  c.account_numbers = {"LV", 6};
  LegalEntity le;
  le.id = "GB01";
  le.customer_groups = {{"RETAIL", "Retail", {{"Department", "D100"}}}, {"TRADE", "Trade", {{"Department", "D200"}}}};
  le.stores = {testing::SampleStore()};
  c.legal_entities = {le};
  return c;
}

model::Operation Create(const std::string& last) {
  model::Operation op;
  op.op_id = *model::LocalId::Generate();
  op.kind = model::OperationKind::kCreateCustomer;
  op.customer.id = *model::LocalId::Generate();
  op.customer.first_name = "Anna";
  op.customer.last_name = last;
  op.customer.customer_group = "RETAIL";
  op.customer.currency = "GBP";
  op.customer.language = "en-GB";
  op.customer.version = 1;
  op.terminal_id = "T1";
  return op;
}

// Rewrites headquarters' embedded store in `dir` (closed) by hand as an
// earlier layout kept it: stamped `layout`, table `emptied` empty (or, for
// kHeadsVersion, only the index heads' version deleted).
constexpr const char* kHeadsVersion = "index_heads version";
void BackToLayout(const std::string& dir, const std::string& layout, const char* emptied) {
  const bool version_only = std::string_view(emptied) == kHeadsVersion;
  if (version_only) emptied = "index_heads";
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  ASSERT_EQ(mdb_env_set_maxdbs(env, 16), 0);
  ASSERT_EQ(mdb_env_open(env, dir.c_str(), 0, 0600), 0);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi meta = 0, table = 0;
  ASSERT_EQ(mdb_dbi_open(txn, "meta", 0, &meta), 0);
  ASSERT_EQ(mdb_dbi_open(txn, emptied, 0, &table), 0);
  if (version_only) {
    std::string version(1, '\0');  // HeadsCache::kVersionKey, alone
    MDB_val k{version.size(), version.data()};
    ASSERT_EQ(mdb_del(txn, table, &k, nullptr), 0);
  } else {
    ASSERT_EQ(mdb_drop(txn, table, 0), 0);
  }
  std::string key = "schema_version", value = layout;
  MDB_val k{key.size(), key.data()}, v{value.size(), value.data()};
  ASSERT_EQ(mdb_put(txn, meta, &k, &v, 0), 0);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

class RegistryTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    KASSA_SKIP_UNLESS_AVAILABLE(backend_);
    Reopen(SampleChain());
  }
  void Reopen(std::optional<ChainConfig> config) {
    registry_.reset();
    store_.reset();
    auto s = backend_.Open(keys_);
    ASSERT_TRUE(s.ok()) << s.status().detail();
    store_ = std::move(*s);
    auto r = Registry::Open(*store_, clock_, std::move(config));
    ASSERT_TRUE(r.ok()) << r.status().detail();
    registry_ = std::move(*r);
    ASSERT_TRUE(registry_->Hello({"T1", "LON-01", model::kLinkProtocolVersion, 0}).ok());
  }
  std::vector<model::OperationAck> Apply(std::vector<model::Operation> ops) {
    auto acks = registry_->Apply({Batch{"T1", std::move(ops)}});
    EXPECT_TRUE(acks.ok()) << acks.status().detail();
    return acks.ok() ? acks->front() : std::vector<model::OperationAck>{};
  }

  testing::TestChainStore backend_{GetParam()};
  std::shared_ptr<crypto::KeyStore> keys_ = testing::TestKeys();  // the same across reopens
  hal::sim::SimClock clock_{1'700'000'000'000};
  std::unique_ptr<storage::ChainStore> store_;
  std::unique_ptr<Registry> registry_;
};


// Tests that open a store of their own, on each backend.
class ChainStoreBackendTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override { KASSA_SKIP_UNLESS_AVAILABLE(backend_); }
  testing::TestChainStore backend_{GetParam()};
};
class RegistryAuthorizationTest : public ChainStoreBackendTest {};
class RegistryBadgeTest : public ChainStoreBackendTest {};
class RegistryClientelingTest : public ChainStoreBackendTest {};

TEST_P(RegistryTest, CreateAssignsFormattedNumbersAndGroupDimensions) {
  const auto acks = Apply({Create("One"), Create("Two")});
  ASSERT_EQ(acks.size(), 2u);
  EXPECT_TRUE(acks[0].applied());
  EXPECT_EQ(acks[0].account, "LV000001");
  EXPECT_EQ(acks[1].account, "LV000002");
  auto c = store_->FindCustomer(acks[0].customer_id);
  ASSERT_TRUE(c.ok() && c->has_value());
  EXPECT_EQ((*c)->financial_dimensions, (std::vector<model::AttributeValue>{{"Department", "D100"}}));
}

// Issue 3: idempotent forever, across restarts, inside one batch, and mixed
// into later batches.
TEST_P(RegistryTest, AnOperationIdIsAppliedOnceForever) {
  const model::Operation op = Create("Once");
  const auto first = Apply({op, op});
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0], first[1]);
  Reopen(std::nullopt);  // a restart: the configuration comes from the store
  const auto again = Apply({Create("Other"), op});
  EXPECT_EQ(again[1], first[0]);
  EXPECT_EQ(again[0].account, "LV000002");
  EXPECT_EQ(store_->Stats()->customers, 2u);
}

TEST_P(RegistryTest, EditsMergeFieldByField) {
  model::Operation create = Create("Merge");
  create.customer.email = "anna@example.com";
  const auto ack = Apply({create})[0];
  // Two terminals edit version 1: one the last name, the other the email.
  model::Operation edit_a = create;
  edit_a.op_id = *model::LocalId::Generate();
  edit_a.kind = model::OperationKind::kUpdateCustomer;
  edit_a.base_version = 1;
  edit_a.customer.last_name = "Renamed";
  edit_a.changed_fields = {static_cast<std::uint32_t>(model::CustomerField::kLastName)};
  model::Operation edit_b = create;
  edit_b.op_id = *model::LocalId::Generate();
  edit_b.kind = model::OperationKind::kUpdateCustomer;
  edit_b.base_version = 1;
  edit_b.customer.email = "anna@new.example";
  edit_b.changed_fields = {static_cast<std::uint32_t>(model::CustomerField::kEmail)};
  const auto acks = Apply({edit_a, edit_b});
  EXPECT_TRUE(acks[0].applied());
  EXPECT_TRUE(acks[1].applied());
  EXPECT_EQ(acks[1].version, 3u);
  auto c = *store_->FindCustomer(ack.customer_id);
  EXPECT_EQ(c->last_name, "Renamed");
  EXPECT_EQ(c->email, "anna@new.example");
  EXPECT_EQ(c->account, ack.account);
}

// Issue 18: two terminals edit the phone from the same starting value. The
// later arrival wins, as ever, and the phone it replaced is reported on the
// customer's timeline (kind conflict), which goes to every terminal of the
// legal entity but one speaking link protocol 1. An edit of another field,
// an edit to the value already there, and an edit without its starting
// values (a terminal older than them) report nothing; a terminal cannot
// send a conflict of its own.
TEST_P(RegistryTest, AnEditThatReplacesAValueItNeverSawIsReportedOnTheTimeline) {
  model::Operation create = Create("Conflict");
  create.customer.phone = "+442079460000";
  const auto created = Apply({create})[0];
  ASSERT_TRUE(created.applied());
  model::Customer at_start = create.customer;
  at_start.account = created.account;
  at_start.version = 1;
  const auto edit = [&](std::string phone, std::string email, std::string by) {
    model::Operation op = create;
    op.op_id = *model::LocalId::Generate();
    op.kind = model::OperationKind::kUpdateCustomer;
    op.operator_id = std::move(by);
    op.base_version = 1;
    op.customer = at_start;
    op.customer.version = 2;
    if (!phone.empty()) {
      op.customer.phone = std::move(phone);
      op.changed_fields.push_back(static_cast<std::uint32_t>(model::CustomerField::kPhone));
    }
    if (!email.empty()) {
      op.customer.email = std::move(email);
      op.changed_fields.push_back(static_cast<std::uint32_t>(model::CustomerField::kEmail));
    }
    op.base = model::BaseOf(at_start, op.changed_fields);
    return op;
  };
  const auto conflicts = [&] {
    std::vector<model::TimelineEntry> out;
    auto timeline = store_->Timeline("GB01", create.customer.id, 20);
    EXPECT_TRUE(timeline.ok());
    if (!timeline.ok()) return out;
    for (const auto& e : *timeline) {
      if (e.kind == model::TimelineKind::kConflict) out.push_back(e);
    }
    return out;
  };
  const model::Operation first = edit("+442079461111", "", "");
  const model::Operation email_only = edit("", "c@example.com", "");
  const model::Operation same_phone = edit("+442079461111", "", "");
  const auto acks = Apply({first, email_only, same_phone});
  for (const auto& a : acks) EXPECT_TRUE(a.applied()) << a.reason;
  EXPECT_TRUE(conflicts().empty());

  const model::Operation second = edit("+442079462222", "", "");
  ASSERT_TRUE(Apply({second})[0].applied());
  auto c = *store_->FindCustomer(create.customer.id);
  EXPECT_EQ(c->phone, "+442079462222");  // the later arrival
  EXPECT_EQ(c->email, "c@example.com");  // the other field kept
  auto found = conflicts();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].activity_type, "phone");
  EXPECT_EQ(found[0].text, "+442079461111");  // the value that lost

  model::Operation unknowing = edit("+442079463333", "", "");  // from a terminal that sends no starting values
  unknowing.base.reset();
  ASSERT_TRUE(Apply({unknowing})[0].applied());
  EXPECT_EQ(conflicts().size(), 1u);

  // In the change log, for terminals of protocol 2 only.
  std::uint64_t scanned = 0;
  const auto changes = registry_->ChangesFor("LON-01", 0, 100, scanned);
  ASSERT_TRUE(changes.ok());
  int reported = 0;
  for (const auto& change : *changes) {
    if (change.kind != model::Change::Kind::kClienteling || !change.clienteling.timeline_entry) continue;
    ASSERT_EQ(change.clienteling.timeline_entry->kind, model::TimelineKind::kConflict);
    EXPECT_TRUE(model::Speaks(2, change));
    EXPECT_FALSE(model::Speaks(1, change));
    ++reported;
  }
  EXPECT_EQ(reported, 1);

  model::Operation forged = create;
  forged.op_id = *model::LocalId::Generate();
  forged.kind = model::OperationKind::kTimelineEntry;
  forged.timeline_entry = found[0];
  forged.timeline_entry->id = *model::LocalId::Generate();
  const auto refused = Apply({forged})[0];
  EXPECT_FALSE(refused.applied());
  EXPECT_EQ(refused.reason, "timeline_entry.kind: conflicts are headquarters' own");
}

// Issue 18: a store indexed by an earlier folding (hq-6 on the embedded
// store, schema 1 on PostgreSQL) derives every search term again on open:
// the test drops the name terms and steps the version back, and the
// reopened store finds the customer by its CJK name written without a space.
TEST_P(RegistryTest, AnIndexOfAnEarlierFoldingIsDerivedAgainOnOpen) {
  model::Operation op = Create("王");
  op.customer.first_name = "小明";
  ASSERT_TRUE(Apply({op}).front().applied());
  const auto finds = [&](const std::string& q) {
    auto hits = search::SearchCustomers(*store_, q, 10, "GB");
    EXPECT_TRUE(hits.ok()) << q;
    return hits.ok() && hits->size() == 1 && hits->front().customer.id == op.customer.id;
  };
  EXPECT_TRUE(finds("王小明"));
  registry_.reset();
  store_.reset();
  if (GetParam() == testing::Backend::kLmdb) {
    BackToLayout(backend_.path(), "hq-6", "index");
  } else {
    ASSERT_EQ(backend_.Sql("DELETE FROM search_terms"), "");
    ASSERT_EQ(backend_.Sql("DELETE FROM kassa_schema WHERE version = 2"), "");
  }
  Reopen(SampleChain());
  EXPECT_TRUE(finds("王小明"));
  EXPECT_TRUE(finds("小明"));
  EXPECT_TRUE(finds("王 小明"));
  if (GetParam() == testing::Backend::kPostgres) {
    EXPECT_EQ(backend_.Sql("SELECT count(*) FROM settings WHERE name = 'search_terms_stale'"), "0");
    EXPECT_EQ(backend_.Sql("SELECT max(version) FROM kassa_schema"), "2");
  }
}

// hq-7 had no index heads (customer_tables.h): opening it counts them from
// the index. Without them every scan of four bytes or more would skip the
// index: the customer is found by name and account again.
TEST_P(RegistryTest, AnEmbeddedStoreWithoutIndexHeadsCountsThemOnOpen) {
  if (GetParam() != testing::Backend::kLmdb) GTEST_SKIP() << "index heads are the embedded store's";
  const model::Operation op = Create("Headless");
  const auto acks = Apply({op});
  ASSERT_TRUE(acks.front().applied());
  const std::string account = acks.front().account;
  registry_.reset();
  store_.reset();
  BackToLayout(backend_.path(), "hq-7", "index_heads");
  Reopen(SampleChain());
  for (const std::string& q : {std::string("Headless"), account}) {
    auto hits = search::SearchCustomers(*store_, q, 10, "GB");
    ASSERT_TRUE(hits.ok()) << q << ": " << hits.status().detail();
    EXPECT_EQ(hits->size(), 1u) << q;
  }
}

// hq-8 kept no version of its heads (heads_cache.h): opening it starts one,
// and a search after a commit that adds a head finds its customer.
TEST_P(RegistryTest, AnEmbeddedStoreWithoutAHeadsVersionStartsOneOnOpen) {
  if (GetParam() != testing::Backend::kLmdb) GTEST_SKIP() << "index heads are the embedded store's";
  const auto acks = Apply({Create("Versionless")});
  ASSERT_TRUE(acks.front().applied());
  registry_.reset();
  store_.reset();
  BackToLayout(backend_.path(), "hq-8", kHeadsVersion);
  Reopen(SampleChain());
  auto hits = search::SearchCustomers(*store_, "Versionless", 10, "GB");
  ASSERT_TRUE(hits.ok()) << hits.status().detail();
  EXPECT_EQ(hits->size(), 1u);
  const auto later = Apply({Create("Quagganew")});
  ASSERT_TRUE(later.front().applied());
  for (const std::string& q : {std::string("Quagganew"), later.front().account}) {
    hits = search::SearchCustomers(*store_, q, 10, "GB");
    ASSERT_TRUE(hits.ok()) << q << ": " << hits.status().detail();
    EXPECT_EQ(hits->size(), 1u) << q;
  }
}

TEST_P(RegistryTest, InvalidOrOrphanOperationsAreRejectedWithAReason) {
  model::Operation bad_group = Create("Bad");
  bad_group.customer.customer_group = "NOPE";
  model::Operation orphan = Create("Orphan");
  orphan.kind = model::OperationKind::kUpdateCustomer;
  orphan.changed_fields = {static_cast<std::uint32_t>(model::CustomerField::kLastName)};
  const model::Operation good = Create("Good");
  const auto acks = Apply({bad_group, orphan, good});
  EXPECT_FALSE(acks[0].applied());
  EXPECT_EQ(acks[0].reason.substr(0, 15), "customer_group:");
  EXPECT_FALSE(acks[1].applied());
  EXPECT_EQ(acks[1].reason.substr(0, 9), "customer:");
  EXPECT_TRUE(acks[2].applied());
  EXPECT_EQ(acks[2].account, "LV000001");  // a rejection consumes no number
  auto report = registry_->Report();
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->rejections, 2u);
  EXPECT_EQ(report->operations_applied, 1u);
}

TEST_P(RegistryTest, ATakenLoyaltyCardRejectsOnlyThatOperation) {
  model::Operation a = Create("CardA");
  a.customer.loyalty_cards = {"CARD-1"};
  model::Operation b = Create("CardB");
  b.customer.loyalty_cards = {"CARD-1"};
  const auto acks = Apply({a, b, Create("After")});
  EXPECT_TRUE(acks[0].applied());
  EXPECT_FALSE(acks[1].applied());
  EXPECT_TRUE(acks[2].applied());
  EXPECT_FALSE(store_->FindCustomer(b.customer.id)->has_value());  // no half-written customer
  EXPECT_EQ(store_->Stats()->customers, 2u);
  const auto found = [&](const std::string& q) {
    std::vector<std::string> names;
    const auto hits = search::SearchCustomers(*store_, q, 10, "GB");
    EXPECT_TRUE(hits.ok()) << q;
    if (hits.ok()) {
      for (const auto& h : *hits) names.push_back(h.customer.last_name);
    }
    return names;
  };
  // Nor a trace of it in the index.
  EXPECT_TRUE(found("CardB").empty());
  EXPECT_EQ(found("CARD-1"), std::vector<std::string>{"CardA"});

  // An edit that would take the card is refused, and the customer it edits
  // stays as it was: its record, its name and its own card in the index.
  model::Operation c = Create("CardC");
  c.customer.loyalty_cards = {"CARD-2"};
  ASSERT_TRUE(Apply({c})[0].applied());
  model::Operation take = c;
  take.op_id = *model::LocalId::Generate();
  take.kind = model::OperationKind::kUpdateCustomer;
  take.base_version = 1;
  take.customer.last_name = "CardTaker";
  take.customer.loyalty_cards = {"CARD-1"};
  take.changed_fields = {static_cast<std::uint32_t>(model::CustomerField::kLastName),
                         static_cast<std::uint32_t>(model::CustomerField::kLoyaltyCards)};
  const auto refused = Apply({take, Create("AfterEdit")});
  EXPECT_FALSE(refused[0].applied());
  EXPECT_TRUE(refused[1].applied());
  const auto kept = *store_->FindCustomer(c.customer.id);
  ASSERT_TRUE(kept.has_value());
  EXPECT_EQ(kept->last_name, "CardC");
  EXPECT_EQ(kept->version, 1u);
  EXPECT_EQ(found("CardC"), std::vector<std::string>{"CardC"});
  EXPECT_EQ(found("CARD-2"), std::vector<std::string>{"CardC"});
  EXPECT_TRUE(found("CardTaker").empty());
  EXPECT_EQ(found("CARD-1"), std::vector<std::string>{"CardA"});
}

TEST_P(RegistryTest, DistributionFollowsTheCursorAndCarriesConfiguration) {
  std::uint64_t scanned = 0;
  auto initial = registry_->ChangesFor("LON-01", 0, 64, scanned);
  ASSERT_TRUE(initial.ok());
  ASSERT_EQ(initial->size(), 1u);  // the store's configuration
  EXPECT_EQ((*initial)[0].kind, model::Change::Kind::kStoreConfig);
  const std::uint64_t cursor = (*initial)[0].seq;
  Apply({Create("Dist")});
  auto next = registry_->ChangesFor("LON-01", cursor, 64, scanned);
  ASSERT_EQ(next->size(), 1u);
  EXPECT_EQ((*next)[0].customer.last_name, "Dist");
  EXPECT_EQ((*next)[0].customer.account, "LV000001");
  EXPECT_TRUE(registry_->ChangesFor("OTHER", 0, 64, scanned)->empty());

  ChainConfig changed = SampleChain();
  changed.legal_entities[0].stores[0].allow_offline_creation = false;
  ASSERT_TRUE(registry_->ReplaceConfig(changed, "test").ok());
  auto after = registry_->ChangesFor("LON-01", (*next)[0].seq, 64, scanned);
  ASSERT_EQ(after->size(), 1u);
  EXPECT_FALSE((*after)[0].store_config.allow_offline_creation);
  ASSERT_TRUE(registry_->AckCursor("T1", (*after)[0].seq).ok());
  EXPECT_EQ(registry_->Report()->terminals[0].lag, 0u);
}

TEST_P(RegistryTest, AnErasureReachesTheLogAndWinsOverEveryLaterOperation) {
  const model::Operation create = Create("Erased");
  const auto ack = Apply({create})[0];
  ASSERT_TRUE(ack.applied());
  std::uint64_t scanned = 0;
  const std::uint64_t before = registry_->ChangesFor("LON-01", 0, 64, scanned)->back().seq;
  ASSERT_TRUE(registry_->Hello({"T2", "LON-01", model::kLinkProtocolVersion, 0}).ok());

  auto erased = registry_->Erase(ack.customer_id, std::nullopt, "dpo");
  ASSERT_TRUE(erased.ok()) << erased.status().detail();
  EXPECT_EQ(erased->erasure.legal_entity, "GB01");
  EXPECT_EQ(erased->pending, (std::vector<std::string>{"T1", "T2"}));
  EXPECT_TRUE(erased->confirmed.empty());
  EXPECT_FALSE(store_->FindCustomer(ack.customer_id)->has_value());

  // The log: the upsert before it no longer travels (nothing of the
  // customer is left to send); the erasure does, with only the id.
  auto changes = registry_->ChangesFor("LON-01", 0, 64, scanned);
  ASSERT_TRUE(changes.ok()) << changes.status().detail();
  ASSERT_EQ(changes->back().kind, model::Change::Kind::kCustomerErased);
  EXPECT_EQ(changes->back().erased, ack.customer_id);
  EXPECT_EQ(changes->back().seq, erased->erasure.seq);
  for (const auto& c : *changes) EXPECT_NE(c.kind, model::Change::Kind::kCustomerUpsert);

  // A terminal that applied it has confirmed; the other has not.
  ASSERT_TRUE(registry_->AckCursor("T1", erased->erasure.seq).ok());
  ASSERT_TRUE(registry_->AckCursor("T2", before).ok());
  auto listed = registry_->Erasures(10);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].confirmed, (std::vector<std::string>{"T1"}));
  EXPECT_EQ((*listed)[0].pending, (std::vector<std::string>{"T2"}));

  // An edit queued offline, and the creation sent again, are rejected.
  model::Operation edit = create;
  edit.op_id = *model::LocalId::Generate();
  edit.kind = model::OperationKind::kUpdateCustomer;
  edit.changed_fields = {static_cast<std::uint32_t>(model::CustomerField::kLastName)};
  model::Operation again = create;
  again.op_id = *model::LocalId::Generate();
  const auto late = Apply({edit, again});
  for (const auto& a : late) {
    EXPECT_FALSE(a.applied());
    EXPECT_EQ(a.reason, "customer: erased at headquarters");
  }
  EXPECT_FALSE(store_->FindCustomer(ack.customer_id)->has_value());
  // Erasing again answers the first erasure.
  EXPECT_EQ(registry_->Erase(ack.customer_id, std::nullopt, "dpo")->erasure.seq, erased->erasure.seq);
  EXPECT_EQ(store_->Audit(10)->front().who, "dpo");

  // The marker stays in the log while a terminal has not applied it, and
  // goes once every terminal has; the erasure record stays for ever.
  const auto markers = [&] {
    std::size_t n = 0;
    const auto log = registry_->ChangesFor("LON-01", 0, 64, scanned);
    EXPECT_TRUE(log.ok());
    if (!log.ok()) return n;
    for (const auto& c : *log) n += c.kind == model::Change::Kind::kCustomerErased ? 1 : 0;
    return n;
  };
  EXPECT_EQ(*registry_->PruneErasureMarkers(), 0u);
  EXPECT_EQ(markers(), 1u);
  ASSERT_TRUE(registry_->AckCursor("T2", erased->erasure.seq).ok());
  EXPECT_EQ(*registry_->PruneErasureMarkers(), 1u);
  EXPECT_EQ(markers(), 0u);
  EXPECT_EQ(*registry_->PruneErasureMarkers(), 0u);
  ASSERT_EQ(registry_->Erasures(10)->size(), 1u);  // the record
  EXPECT_EQ(registry_->Erasures(10)->front().erasure.customer, ack.customer_id);
  EXPECT_EQ(registry_->Erasures(10)->front().confirmed, (std::vector<std::string>{"T1", "T2"}));
  model::Operation later = edit;
  later.op_id = *model::LocalId::Generate();
  EXPECT_EQ(Apply({later})[0].reason, "customer: erased at headquarters");
  // The retention sweep's last step does it too.
  const auto second = Apply({Create("Erased too")})[0];
  auto erased_too = registry_->Erase(second.customer_id, std::nullopt, "dpo");
  ASSERT_TRUE(erased_too.ok());
  for (const char* t : {"T1", "T2"}) ASSERT_TRUE(registry_->AckCursor(t, erased_too->erasure.seq).ok());
  EXPECT_EQ(markers(), 1u);
  auto sweep = registry_->SweepRetention(std::nullopt, 256);
  ASSERT_TRUE(sweep.ok()) << sweep.status().detail();
  EXPECT_TRUE(sweep->done);
  EXPECT_EQ(sweep->markers_pruned, 1u);
  EXPECT_EQ(markers(), 0u);
}

TEST_P(RegistryTest, ACustomerHeadquartersNeverHeldIsErasedByIdAndItsCreationRefused) {
  const model::Operation create = Create("Offline");
  EXPECT_EQ(registry_->Erase(create.customer.id, std::nullopt, "dpo").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->Erase(create.customer.id, "NOPE", "dpo").status().code(), StatusCode::kNotFound);
  auto erased = registry_->Erase(create.customer.id, "GB01", "dpo");
  ASSERT_TRUE(erased.ok()) << erased.status().detail();
  const auto ack = Apply({create})[0];
  EXPECT_FALSE(ack.applied());
  EXPECT_EQ(ack.reason, "customer: erased at headquarters");
  EXPECT_EQ(store_->Stats()->customers, 0u);
  // A known customer named with another legal entity is refused.
  const auto known = Apply({Create("Known")})[0];
  EXPECT_EQ(registry_->Erase(known.customer_id, "GB02", "dpo").status().code(), StatusCode::kNotFound);
}

TEST_P(RegistryTest, RetentionErasesTheInactiveAndAgesTheAuditOut) {
  ChainConfig config = SampleChain();
  config.retention = {6, 24};
  Reopen(config);
  constexpr std::int64_t kYearMs = 36525LL * 24 * 3600 * 1000 / 100;
  const std::int64_t t0 = clock_.NowMs();
  model::Operation idle = Create("Idle");
  idle.customer.created_at_ms = idle.customer.changed_at_ms = t0;
  model::Operation busy = Create("Busy");
  busy.customer.created_at_ms = busy.customer.changed_at_ms = t0;
  model::Operation unstamped = Create("Unstamped");
  const auto acks = Apply({idle, busy, unstamped});
  for (const auto& a : acks) ASSERT_TRUE(a.applied());
  // Five years on, an associate notes something about "busy".
  clock_.Advance(5 * kYearMs);
  model::ClientelingRecord note;
  note.timeline_entry = model::TimelineEntry{*model::LocalId::Generate(), busy.customer.id, model::TimelineKind::kNote,
                                             "", clock_.NowMs(), "A1", "Asked about the sale"};
  ASSERT_TRUE(store_->Transact([&](storage::ChainTxn& txn) { return txn.ApplyClienteling("GB01", note); }).ok());
  // Seven years on from the start: "idle" has had nothing for seven.
  clock_.Advance(2 * kYearMs);
  std::optional<model::LocalId> cursor;
  Registry::RetentionStep step;
  std::size_t erased = 0;
  for (int i = 0; i < 10 && !step.done; ++i) {
    auto next = registry_->SweepRetention(cursor, 2);
    ASSERT_TRUE(next.ok()) << next.status().detail();
    step = *next;
    cursor = step.next;
    erased += step.erased;
  }
  ASSERT_TRUE(step.done);
  EXPECT_EQ(erased, 1u);
  EXPECT_FALSE(store_->FindCustomer(idle.customer.id)->has_value());
  EXPECT_EQ(store_->Erasures(10)->front().who, "retention");
  EXPECT_TRUE(store_->FindCustomer(busy.customer.id)->has_value());
  EXPECT_TRUE(store_->FindCustomer(unstamped.customer.id)->has_value());
  // The audit entries from the start (the configuration's) are older than 24 months.
  EXPECT_GT(step.audit_pruned, 0u);
  const auto audit = store_->Audit(100);
  ASSERT_TRUE(audit.ok());
  ASSERT_FALSE(audit->empty());  // the erasure's entry stays
  for (const auto& e : *audit) EXPECT_GE(e.at_ms, clock_.NowMs() - 3 * kYearMs);
}

// Issue 16, audit trail: headquarters answers "who looked at this customer"
// over the chain: what terminals sent (each event once, however often it
// arrives), the changes it applied and the erasure, newest first; the
// retention sweep ages them out with the admin audit.
TEST_P(RegistryTest, AccessEventsAnswerWhoLookedAtACustomerOnceEachAndAgeOut) {
  model::Operation create = Create("Looked");
  create.enqueued_at_ms = clock_.NowMs() - 5000;
  create.operator_id = "";
  const auto ack = Apply({create})[0];
  ASSERT_TRUE(ack.applied());
  const model::LocalId id = ack.customer_id;
  const model::LocalId other = *model::LocalId::Generate();
  const std::vector<model::AccessEvent> sent = {
      {id, model::AccessAction::kListed, clock_.NowMs() - 2000, "T1", "A1", 7},
      {id, model::AccessAction::kOpened, clock_.NowMs() - 1000, "T1", "A1", 8},
      {other, model::AccessAction::kOpened, clock_.NowMs() - 1000, "T1", "A1", 9}};
  for (int round = 0; round < 2; ++round) {  // the second: sent again after a lost acknowledgement
    const auto refused = registry_->RecordAccess(sent);
    ASSERT_TRUE(refused.ok()) << refused.status().detail();
    EXPECT_EQ(*refused, 0u);
  }
  model::Operation edit = create;
  edit.op_id = *model::LocalId::Generate();
  edit.kind = model::OperationKind::kUpdateCustomer;
  edit.base_version = 1;
  edit.enqueued_at_ms = clock_.NowMs() - 500;
  edit.customer.last_name = "Changed";
  edit.changed_fields = {static_cast<std::uint32_t>(model::CustomerField::kLastName)};
  ASSERT_TRUE(Apply({edit})[0].applied());
  ASSERT_TRUE(Apply({edit})[0].applied());  // applied once: one event
  clock_.Advance(1000);
  ASSERT_TRUE(registry_->Erase(id, std::nullopt, "dpo-riga").ok());

  auto events = registry_->AccessEvents(id, 100);
  ASSERT_TRUE(events.ok()) << events.status().detail();
  ASSERT_EQ(events->size(), 5u);
  using A = model::AccessAction;
  const std::vector<A> actions = {A::kErased, A::kChanged, A::kOpened, A::kListed, A::kCreated};
  for (std::size_t i = 0; i < actions.size(); ++i) EXPECT_EQ((*events)[i].action, actions[i]) << i;
  EXPECT_EQ((*events)[0].operator_id, "dpo-riga");
  EXPECT_EQ((*events)[0].terminal_id, "");
  EXPECT_EQ((*events)[1].terminal_id, "T1");
  EXPECT_EQ((*events)[2].operator_id, "A1");
  EXPECT_EQ((*events)[2].seq, 8u);
  EXPECT_EQ((*events)[4].operator_id, "unknown");  // a creation without an operator
  EXPECT_EQ((*events)[4].at_ms, create.enqueued_at_ms);
  EXPECT_EQ(registry_->AccessEvents(id, 2)->size(), 2u);
  EXPECT_EQ(registry_->AccessEvents(other, 100)->size(), 1u);
  EXPECT_TRUE(registry_->AccessEvents(*model::LocalId::Generate(), 100)->empty());

  // Three years on, with audit entries kept 24 months: all gone.
  clock_.Advance(3LL * 366 * 24 * 3600 * 1000);
  auto pruned = store_->PruneAudit(clock_.NowMs() - 24LL * 31 * 24 * 3600 * 1000);
  ASSERT_TRUE(pruned.ok());
  EXPECT_GE(*pruned, 6u);
  EXPECT_TRUE(registry_->AccessEvents(id, 100)->empty());
  EXPECT_TRUE(registry_->AccessEvents(other, 100)->empty());
}

// Issue 16, lock and wipe: an order for a known terminal, kept across a
// restart, confirmed once with its time, which revokes the certificate the
// terminal reported from; a new order replaces a confirmed one.
TEST_P(RegistryTest, AWipeOrderIsKeptConfirmedOnceAndRevokesTheCertificate) {
  EXPECT_EQ(registry_->OrderWipe("T9", "it").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(registry_->PendingWipe("T1").has_value());
  auto order = registry_->OrderWipe("T1", "it");
  ASSERT_TRUE(order.ok()) << order.status().detail();
  EXPECT_EQ(order->ordered_ms, clock_.NowMs());
  EXPECT_EQ(order->confirmed_ms, 0);

  Reopen(std::nullopt);  // kept in the store
  auto pending = registry_->PendingWipe("T1");
  ASSERT_TRUE(pending.has_value());
  EXPECT_EQ(pending->ordered_ms, order->ordered_ms);
  EXPECT_EQ(pending->who, "it");

  // Only the order's own time confirms it.
  EXPECT_EQ(registry_->ConfirmWipe("T1", order->ordered_ms + 1, "0A1B").code(), StatusCode::kNotFound);
  EXPECT_FALSE(*store_->IsCertificateRevoked("0A1B"));
  clock_.Advance(5000);
  ASSERT_TRUE(registry_->ConfirmWipe("T1", order->ordered_ms, "0A1B").ok());
  EXPECT_TRUE(*store_->IsCertificateRevoked("0A1B"));
  EXPECT_FALSE(registry_->PendingWipe("T1").has_value());
  ASSERT_TRUE(registry_->ConfirmWipe("T1", order->ordered_ms, "FFFF").ok());  // again: nothing changes
  EXPECT_FALSE(*store_->IsCertificateRevoked("FFFF"));

  Reopen(std::nullopt);
  const auto wipes = registry_->WipeOrders();
  ASSERT_EQ(wipes.size(), 1u);
  EXPECT_EQ(wipes[0].confirmed_ms, order->ordered_ms + 5000);
  EXPECT_EQ(wipes[0].certificate_serial, "0A1B");
  auto audit = store_->Audit(10);
  ASSERT_TRUE(audit.ok());
  ASSERT_GE(audit->size(), 2u);
  EXPECT_EQ((*audit)[0].what, "wipe confirmed; certificate 0A1B revoked");
  EXPECT_EQ((*audit)[1].what, "terminal T1 ordered wiped");

  // Lost again after its re-enrolment: a new order is pending.
  ASSERT_TRUE(registry_->OrderWipe("T1", "it").ok());
  EXPECT_TRUE(registry_->PendingWipe("T1").has_value());
}

// Issue 16, consent ledger: entries travel with the edit that made them and
// take headquarters' order; a grant and a withdrawal for one contact from two
// terminals in one round end withdrawn, in the ledger and on the record;
// one terminal's own grant-withdraw-grant keeps its order.
TEST_P(RegistryTest, ConsentEntriesTakeHeadquartersOrderAndAWithdrawalWinsItsRound) {
  ASSERT_TRUE(registry_->Hello({"T2", "LON-01", model::kLinkProtocolVersion, 0}).ok());
  const std::string email = "anna@example.com";
  const auto entry = [&](const model::LocalId& customer, bool granted, const std::string& terminal) {
    model::ConsentEntry e;
    e.id = *model::LocalId::Generate();
    e.customer_id = customer;
    e.contact = email;
    e.granted = granted;
    e.text_version = granted ? "2026-11/en" : "";
    e.terminal_id = terminal;  // headquarters takes the sender's, whatever this says
    return e;
  };
  model::Operation create = Create("Consenting");
  create.customer.secondary_emails = {{email, model::Consent{true, 1, "", "T1", "2026-11/en"}}};
  create.consents = {entry(create.customer.id, true, "T1")};
  ASSERT_TRUE(Apply({create})[0].applied());
  const model::LocalId id = create.customer.id;

  // One round: T1 grants again (a new text), T2 withdraws, T1's edit listed later.
  const auto edit = [&](const std::string& terminal, bool granted, std::uint32_t base) {
    model::Operation op;
    op.op_id = *model::LocalId::Generate();
    op.kind = model::OperationKind::kUpdateCustomer;
    op.customer = create.customer;
    op.customer.secondary_emails[0].consent.granted = granted;
    op.customer.secondary_emails[0].consent.text_version = granted ? "2026-12/en" : "";
    op.base_version = base;
    op.changed_fields = {static_cast<std::uint32_t>(model::CustomerField::kSecondaryEmails)};
    op.terminal_id = terminal;
    op.consents = {entry(id, granted, "forged")};
    op.consents[0].text_version = granted ? "2026-12/en" : "";
    return op;
  };
  // A grant for a contact the customer does not have is refused, with its edit.
  model::Operation forged = edit("T1", true, 1);
  forged.consents[0].contact = "someone.else@example.com";
  const auto refused = Apply({forged});
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_FALSE(refused[0].applied());
  EXPECT_EQ(refused[0].reason, "consents: a grant for a contact the customer does not have");
  auto acks = registry_->Apply({Batch{"T2", {edit("T2", false, 1)}}, Batch{"T1", {edit("T1", true, 1)}}});
  ASSERT_TRUE(acks.ok()) << acks.status().detail();
  auto ledger = store_->Consents("GB01", id);
  ASSERT_TRUE(ledger.ok()) << ledger.status().detail();
  ASSERT_EQ(ledger->size(), 3u);
  EXPECT_TRUE((*ledger)[0].granted);
  EXPECT_TRUE((*ledger)[1].granted);
  EXPECT_EQ((*ledger)[1].terminal_id, "T1");
  EXPECT_EQ((*ledger)[1].text_version, "2026-12/en");
  EXPECT_FALSE((*ledger)[2].granted);
  EXPECT_EQ((*ledger)[2].terminal_id, "T2");
  EXPECT_LT((*ledger)[0].seq, (*ledger)[1].seq);
  EXPECT_LT((*ledger)[1].seq, (*ledger)[2].seq);
  // The record says what the ledger's last entry says, though T1's edit was applied last.
  auto record = store_->FindCustomer(id);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_FALSE((*record)->secondary_emails[0].consent.granted);
  EXPECT_EQ((*record)->secondary_emails[0].consent.terminal_id, "T2");

  // One terminal's own grant, withdrawal and grant keep their order.
  const std::uint32_t v = (*record)->version;
  ASSERT_TRUE(registry_->Apply({Batch{"T1", {edit("T1", true, v), edit("T1", false, v + 1), edit("T1", true, v + 2)}}})
                  .ok());
  ledger = store_->Consents("GB01", id);
  ASSERT_EQ(ledger->size(), 6u);
  EXPECT_TRUE((*ledger)[3].granted);
  EXPECT_FALSE((*ledger)[4].granted);
  EXPECT_TRUE((*ledger)[5].granted);
  EXPECT_TRUE((*store_->FindCustomer(id))->secondary_emails[0].consent.granted);

  // Distributed to the legal entity's terminals as clienteling changes, in order.
  std::uint64_t scanned = 0;
  auto changes = registry_->ChangesFor("LON-01", 0, 256, scanned);
  ASSERT_TRUE(changes.ok());
  std::vector<std::uint64_t> seqs;
  for (const auto& c : *changes) {
    if (c.kind == model::Change::Kind::kClienteling && c.clienteling.consent) seqs.push_back(c.clienteling.consent->seq);
  }
  ASSERT_EQ(seqs.size(), 6u);
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));

  // Erased with the customer.
  ASSERT_TRUE(registry_->Erase(id, std::nullopt, "dpo").ok());
  EXPECT_TRUE(store_->Consents("GB01", id)->empty());
}

// Consent texts are records: once published, kept word for word.
// The primary email's consent: granted with the customer, withdrawn in a
// round against a grant from another terminal (the withdrawal wins, on the
// record too), and a grant for a primary email the customer lacks refused.
TEST_P(RegistryTest, ThePrimaryEmailsConsentIsInTheLedgerAndTheRecordFollowsIt) {
  ASSERT_TRUE(registry_->Hello({"T2", "LON-01", model::kLinkProtocolVersion, 0}).ok());
  const auto entry = [](const model::LocalId& customer, const std::string& contact, bool granted) {
    model::ConsentEntry e;
    e.id = *model::LocalId::Generate();
    e.customer_id = customer;
    e.contact = contact;
    e.granted = granted;
    return e;
  };
  model::Operation create = Create("Primary");
  create.customer.email = "primary@example.com";
  create.customer.email_consent = model::Consent{true, 1, "", "T1", "2026-11/en"};
  create.consents = {entry(create.customer.id, "primary@example.com", true)};
  ASSERT_TRUE(Apply({create})[0].applied());
  const auto edit = [&](bool granted) {
    model::Operation op;
    op.op_id = *model::LocalId::Generate();
    op.kind = model::OperationKind::kUpdateCustomer;
    op.customer = create.customer;
    op.customer.email_consent.granted = granted;
    op.base_version = 1;
    op.changed_fields = {static_cast<std::uint32_t>(model::CustomerField::kEmail)};
    op.consents = {entry(create.customer.id, "primary@example.com", granted)};
    return op;
  };
  auto acks = registry_->Apply({Batch{"T2", {edit(false)}}, Batch{"T1", {edit(true)}}});
  ASSERT_TRUE(acks.ok()) << acks.status().detail();
  const auto ledger = *store_->Consents("GB01", create.customer.id);
  ASSERT_EQ(ledger.size(), 3u);
  EXPECT_FALSE(ledger.back().granted);
  EXPECT_EQ(ledger.back().terminal_id, "T2");
  EXPECT_FALSE((*store_->FindCustomer(create.customer.id))->email_consent.granted);
  model::Operation other = edit(true);
  other.consents[0].contact = "another@example.com";
  const auto refused = Apply({other});
  EXPECT_EQ(refused[0].reason, "consents: a grant for a contact the customer does not have");
}

TEST_P(RegistryTest, APublishedConsentTextIsKeptWordForWord) {
  ChainConfig config = SampleChain();
  config.legal_entities[0].clienteling.consent_texts = {{"marketing-email", "2026-11", "en", "Yes, email me offers."}};
  ASSERT_TRUE(registry_->ReplaceConfig(config, "it").ok());
  ChainConfig reworded = config;
  reworded.legal_entities[0].clienteling.consent_texts[0].text = "Yes, email me offers and news.";
  EXPECT_EQ(registry_->ReplaceConfig(reworded, "it").field(), "consent_texts");
  ChainConfig dropped = config;
  dropped.legal_entities[0].clienteling.consent_texts.clear();
  EXPECT_EQ(registry_->ReplaceConfig(dropped, "it").field(), "consent_texts");
  ChainConfig next = config;
  next.legal_entities[0].clienteling.consent_texts.push_back({"marketing-email", "2026-12", "en", "Yes, email me offers and news."});
  ASSERT_TRUE(registry_->ReplaceConfig(next, "it").ok());
  EXPECT_NE(registry_->config().FindLegalEntity("GB01")->clienteling.FindConsentText("marketing-email", "2026-12/en"),
            nullptr);
}

// Issue 17: the change log is compacted. A customer changed a hundred times
// is distributed once (as it is now) to a terminal that catches up, from the
// start or from anywhere in between; an erased one only as its erasure.
TEST_P(RegistryTest, TheLogKeepsACustomersNewestUpsertOnly) {
  model::Operation create = Create("Hundred");
  const auto created = Apply({create})[0];
  ASSERT_TRUE(created.applied());
  std::uint64_t scanned = 0;
  const auto before_edits = registry_->ChangesFor("LON-01", 0, 1000, scanned);
  ASSERT_TRUE(before_edits.ok());
  const std::uint64_t midway_cursor = before_edits->back().seq;
  std::uint32_t version = 1;
  for (int i = 0; i < 100; ++i) {
    model::Operation edit = create;
    edit.op_id = *model::LocalId::Generate();
    edit.kind = model::OperationKind::kUpdateCustomer;
    edit.base_version = version;
    edit.customer.last_name = "Hundred" + std::string(1, static_cast<char>('a' + i % 26));
    edit.changed_fields = {static_cast<std::uint32_t>(model::CustomerField::kLastName)};
    std::vector<model::Operation> batch{edit};
    if (i % 10 == 0) batch.push_back(Create("Other" + std::string(1, static_cast<char>('a' + i / 10))));
    const auto acks = Apply(batch);
    ASSERT_TRUE(acks[0].applied()) << acks[0].reason;
    version = acks[0].version;
  }
  ASSERT_EQ(version, 101u);
  const auto upserts_of = [&](std::uint64_t after) {
    std::vector<model::Change> of_it;
    std::uint64_t to = 0;
    auto changes = registry_->ChangesFor("LON-01", after, 1000, to);
    EXPECT_TRUE(changes.ok());
    for (const auto& c : *changes) {
      if (c.kind == model::Change::Kind::kCustomerUpsert && c.customer.id == create.customer.id) of_it.push_back(c);
    }
    return of_it;
  };
  const auto fresh = upserts_of(0);  // a new terminal
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_EQ(fresh[0].customer.version, 101u);
  EXPECT_EQ(upserts_of(midway_cursor).size(), 1u);  // a terminal that saw the creation, then went offline
  // 1 creation + 10 others + 1 store configuration: the hundred edits left one entry.
  std::uint64_t to = 0;
  EXPECT_LE(registry_->ChangesFor("LON-01", 0, 1000, to)->size(), 13u);
  Reopen(std::nullopt);  // kept compacted across a restart
  EXPECT_EQ(upserts_of(0).size(), 1u);
  ASSERT_TRUE(registry_->Erase(create.customer.id, std::nullopt, "it-riga").ok());
  EXPECT_TRUE(upserts_of(0).empty());
  auto after_erasure = registry_->ChangesFor("LON-01", 0, 1000, to);
  EXPECT_EQ(std::count_if(after_erasure->begin(), after_erasure->end(),
                          [&](const model::Change& c) {
                            return c.kind == model::Change::Kind::kCustomerErased && c.erased == create.customer.id;
                          }),
            1);
}

TEST_P(RegistryTest, UnknownStoreCannotSayHello) {
  auto r = registry_->Hello({"T9", "NOWHERE", model::kLinkProtocolVersion, 0});
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().field(), "store");
}

// Issue 15: a terminal acts only within its legal entity and store,
// whatever its operations say.
TEST_P(RegistryAuthorizationTest, ATerminalCannotTouchAnotherLegalEntityOrForgeAnotherStoresOperator) {
  hal::sim::SimClock clock{1'700'000'000'000};
  auto store = backend_.Open(testing::TestKeys());
  ASSERT_TRUE(store.ok());
  ChainConfig config = SampleChain();
  LegalEntity se = config.legal_entities[0];
  se.id = "SE01";
  se.stores.front().store_id = "STO-01";
  se.stores.front().legal_entity = "SE01";
  for (auto* le : {&config.legal_entities[0], &se}) {
    le->clienteling.legal_entity = le->id;
    le->clienteling.roles = {{"associate", "", model::Bit(model::Permission::kAddNote)}};
  }
  config.legal_entities[0].operators = {{"A1", "Anna", "GB01", {"LON-01"}, "associate", "", "", true, ""}};
  se.operators = {{"S1", "Sven", "SE01", {"STO-01"}, "associate", "", "", true, ""}};
  config.legal_entities.push_back(se);
  auto registry = Registry::Open(**store, clock, config);
  ASSERT_TRUE(registry.ok()) << registry.status().detail();
  ASSERT_TRUE((*registry)->Hello({"T1", "LON-01", model::kLinkProtocolVersion, 0}).ok());
  ASSERT_TRUE((*registry)->Hello({"T2", "STO-01", model::kLinkProtocolVersion, 0}).ok());

  const model::Operation gb_customer = Create("British");
  auto acks = (*registry)->Apply({Batch{"T1", {gb_customer}}});
  ASSERT_TRUE(acks.ok() && acks->front().front().applied());

  // T2 (Sweden) edits the British customer, notes on it, and signs an
  // operation as London's operator.
  model::Operation edit = gb_customer;
  edit.op_id = *model::LocalId::Generate();
  edit.kind = model::OperationKind::kUpdateCustomer;
  edit.base_version = 1;
  edit.customer.email = "stolen@attacker.example";
  edit.changed_fields = {static_cast<std::uint32_t>(model::CustomerField::kEmail)};
  model::Operation note;
  note.op_id = *model::LocalId::Generate();
  note.kind = model::OperationKind::kTimelineEntry;
  note.customer.id = gb_customer.customer.id;
  note.operator_id = "S1";
  note.timeline_entry = model::TimelineEntry{note.op_id, gb_customer.customer.id, model::TimelineKind::kNote, "", 5,
                                             "S1", "Hi"};
  model::Operation forged = Create("Forged");
  forged.operator_id = "A1";  // London's associate, on a Stockholm terminal
  acks = (*registry)->Apply({Batch{"T2", {edit, note, forged}}});
  ASSERT_TRUE(acks.ok()) << acks.status().detail();
  const auto& a = acks->front();
  EXPECT_EQ(a[0].reason, "customer: belongs to another legal entity");
  EXPECT_EQ(a[1].reason, "customer: belongs to another legal entity");
  EXPECT_EQ(a[2].reason, "operator_id: not an operator of the terminal's store");
  EXPECT_EQ((*(*store)->FindCustomer(gb_customer.customer.id))->email, "");
  EXPECT_EQ(*(*store)->LegalEntityOf(gb_customer.customer.id), std::optional<std::string>("GB01"));

  // Stockholm's distribution never carries the British customer.
  std::uint64_t scanned = 0;
  const auto changes = (*registry)->ChangesFor("STO-01", 0, 64, scanned);
  ASSERT_TRUE(changes.ok());
  for (const auto& c : *changes) EXPECT_NE(c.kind, model::Change::Kind::kCustomerUpsert);

  // Nor can it write the British customer's audit trail: its events about
  // it are not stored (one of a customer headquarters does not know yet is),
  // and a terminal that never said Hello stores none.
  const model::LocalId unknown = *model::LocalId::Generate();
  const auto stored = (*registry)->RecordAccess({{gb_customer.customer.id, model::AccessAction::kOpened, 5, "T2", "S1", 1},
                                                 {gb_customer.customer.id, model::AccessAction::kListed, 5, "T2", "S1", 2},
                                                 {unknown, model::AccessAction::kOpened, 5, "T2", "S1", 3},
                                                 {unknown, model::AccessAction::kOpened, 5, "T9", "X", 1}});
  ASSERT_TRUE(stored.ok()) << stored.status().detail();
  EXPECT_EQ(*stored, 3u);
  for (const auto& e : *(*registry)->AccessEvents(gb_customer.customer.id, 100)) EXPECT_NE(e.terminal_id, "T2");
  const auto about_unknown = *(*registry)->AccessEvents(unknown, 100);
  ASSERT_EQ(about_unknown.size(), 1u);
  EXPECT_EQ(about_unknown[0].terminal_id, "T2");
}

// Issue 15: badges are kept and distributed only as keyed hashes, with the
// legal entity's key in its clienteling configuration.
TEST_P(RegistryBadgeTest, BadgesAreSealedUnderTheLegalEntitysKeyBeforeTheyAreSavedOrDistributed) {
  hal::sim::SimClock clock{1'700'000'000'000};
  auto store = backend_.Open(testing::TestKeys());
  ASSERT_TRUE(store.ok());
  ChainConfig config = SampleChain();
  LegalEntity& le = config.legal_entities[0];
  le.clienteling.legal_entity = "GB01";
  le.clienteling.roles = {{"associate", "", model::Bit(model::Permission::kAddNote)}};
  le.operators = {{"A1", "Anna", "GB01", {"LON-01"}, "associate", "", "EMP0042", true, ""}};
  auto registry = Registry::Open(**store, clock, config);
  ASSERT_TRUE(registry.ok()) << registry.status().detail();
  const LegalEntity sealed = (*registry)->config().legal_entities[0];  // a copy: the registry is reopened below
  ASSERT_EQ(sealed.clienteling.badge_key.size(), 32u);
  EXPECT_EQ(sealed.operators[0].badge, "");
  EXPECT_EQ(sealed.operators[0].badge_hmac, crypto::BadgeHmac(sealed.clienteling.badge_key, "EMP0042"));
  const auto text = (*store)->LoadConfigText();
  ASSERT_TRUE(text.ok() && text->has_value());
  EXPECT_EQ((*text)->find("EMP0042"), std::string::npos) << **text;
  std::uint64_t scanned = 0;
  const auto changes = (*registry)->ChangesFor("LON-01", 0, 64, scanned);
  ASSERT_TRUE(changes.ok());
  bool key_sent = false, operator_sent = false;
  for (const auto& c : *changes) {
    if (c.kind != model::Change::Kind::kClienteling) continue;
    if (c.clienteling.config) key_sent = c.clienteling.config->badge_key == sealed.clienteling.badge_key;
    if (c.clienteling.op) {
      operator_sent = c.clienteling.op->badge.empty() && c.clienteling.op->badge_hmac == sealed.operators[0].badge_hmac;
    }
  }
  EXPECT_TRUE(key_sent);
  EXPECT_TRUE(operator_sent);
  // The same key after a restart (the chain's secret is kept), so the
  // saved hashes still match; the same configuration again changes nothing.
  registry->reset();
  auto reopened = Registry::Open(**store, clock, config);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->config().legal_entities[0].clienteling.badge_key, sealed.clienteling.badge_key);
  EXPECT_EQ((*reopened)->config().legal_entities[0].operators[0].badge_hmac, sealed.operators[0].badge_hmac);
}

// Schema hq-4: a store of the layout before (no customer owners) learns
// each customer's legal entity from its change log when opened.
// Schema hq-5: the plaintext store of an earlier release is sealed when
// opened with a key, and its file compacted: no page keeps the plaintext.
TEST(ChainStoreMigrationTest, OwnersAreFilledFromTheChangeLogOfAnHq3StoreAndItIsSealed) {
  testing::TempDir dir;
  hal::sim::SimClock clock{1'700'000'000'000};
  model::LocalId id;
  {
    // Releases before hq-5 wrote plaintext.
    auto store = storage::OpenLmdbChainStore(dir.path(), std::size_t{64} << 20, nullptr);
    ASSERT_TRUE(store.ok());
    auto registry = Registry::Open(**store, clock, SampleChain());
    ASSERT_TRUE(registry.ok());
    ASSERT_TRUE((*registry)->Hello({"T1", "LON-01", model::kLinkProtocolVersion, 0}).ok());
    const model::Operation op = Create("Migrated");
    id = op.customer.id;
    auto acks = (*registry)->Apply({Batch{"T1", {op}}});
    ASSERT_TRUE(acks.ok() && acks->front().front().applied());
  }
  {
    // Back to hq-3 by hand: the schema stamp, and no owners.
    BackToLayout(dir.path(), "hq-3", "owners");
  }
  const auto file_holds = [&](std::string_view text) {
    std::ifstream in(dir.path() + "/data.mdb", std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return bytes.find(text) != std::string::npos;
  };
  ASSERT_TRUE(file_holds("Migrated"));
  const auto keys = testing::TestKeys();
  auto store = storage::OpenLmdbChainStore(dir.path(), std::size_t{64} << 20, keys);
  ASSERT_TRUE(store.ok()) << store.status().detail();
  const auto owner = (*store)->LegalEntityOf(id);
  ASSERT_TRUE(owner.ok());
  EXPECT_EQ(*owner, std::optional<std::string>("GB01"));
  const auto customer = (*store)->FindCustomer(id);
  ASSERT_TRUE(customer.ok() && customer->has_value()) << customer.status().detail();
  EXPECT_EQ((*customer)->last_name, "Migrated");
  EXPECT_FALSE(file_holds("Migrated"));
  // Sealed now: without its key the store does not open, with another key neither.
  store->reset();
  EXPECT_EQ(storage::OpenLmdbChainStore(dir.path(), std::size_t{64} << 20, nullptr).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(storage::OpenLmdbChainStore(dir.path(), std::size_t{64} << 20, testing::TestKeys()).status().code(),
            StatusCode::kDataLoss);
  EXPECT_TRUE(storage::OpenLmdbChainStore(dir.path(), std::size_t{64} << 20, keys).ok());
}

TEST(AccountFormatTest, PadsAndRefusesOverflow) {
  const AccountFormat f{"C-", 4};
  EXPECT_EQ(*f.Format(7), "C-0007");
  EXPECT_EQ(*f.Format(9999), "C-9999");
  EXPECT_FALSE(f.Format(10000).has_value());
}

}  // namespace
}  // namespace kassa::hq

namespace kassa::hq {
namespace {

// `by` puts `customer` in `owner`'s book (taking it from `from`'s when given).
model::Operation BookOp(const model::LocalId& customer, const char* by, const char* owner, const char* from) {
  model::Operation op;
  op.op_id = *model::LocalId::Generate();
  op.kind = model::OperationKind::kBookEntry;
  op.customer.id = customer;
  op.operator_id = by;
  op.book_entry = model::BookEntry{owner, customer, true, 1, by, *model::LocalId::Generate(), "", from};
  return op;
}

// Clienteling at headquarters: book numbers, the operator's permission
// checked again, applied once, distributed to the legal entity.
TEST_P(RegistryClientelingTest, BookEntriesAreNumberedCheckedAppliedOnceAndDistributed) {
  hal::sim::SimClock clock{1'700'000'000'000};
  auto store = backend_.Open(testing::TestKeys());
  ASSERT_TRUE(store.ok());
  ChainConfig config = SampleChain();
  LegalEntity& le = config.legal_entities[0];
  le.clienteling.legal_entity = "GB01";
  le.clienteling.roles = {{"associate", "", model::Bit(model::Permission::kAddToBook) | model::Bit(model::Permission::kAddNote)},
                          {"viewer", "", model::Bit(model::Permission::kViewOwnBook)}};
  le.clienteling.activity_types = {{"visit", "Store visit"}};
  le.operators = {{"A1", "Anna", "GB01", {"LON-01"}, "associate", "", "", true, ""},
                  {"V1", "Vera", "GB01", {"LON-01"}, "viewer", "", "", true, ""}};
  auto registry = Registry::Open(**store, clock, config);
  ASSERT_TRUE(registry.ok()) << registry.status().detail();
  ASSERT_TRUE((*registry)->Hello({"T1", "LON-01", model::kLinkProtocolVersion, 0}).ok());

  model::Operation create = Create("Booked");
  create.operator_id = "A1";
  const auto book_op = [&](const char* by, const char* owner) { return BookOp(create.customer.id, by, owner, ""); };
  model::Operation add = book_op("A1", "A1");
  model::Operation by_viewer = book_op("V1", "V1");     // viewer: no add_to_book
  model::Operation for_other = book_op("A1", "V1");     // someone else's book needs reassign
  model::Operation by_stranger = book_op("X9", "A1");   // not an operator
  model::Operation note;
  note.op_id = *model::LocalId::Generate();
  note.kind = model::OperationKind::kTimelineEntry;
  note.customer.id = create.customer.id;
  note.operator_id = "A1";
  note.timeline_entry = model::TimelineEntry{note.op_id, create.customer.id, model::TimelineKind::kNote, "", 5, "A1", "Hi"};
  auto acks = (*registry)->Apply({Batch{"T1", {create, add, by_viewer, for_other, by_stranger, note, add}}});
  ASSERT_TRUE(acks.ok()) << acks.status().detail();
  const auto& a = acks->front();
  ASSERT_EQ(a.size(), 7u);
  EXPECT_TRUE(a[1].applied());
  EXPECT_EQ(a[1].account, a[0].account);
  EXPECT_EQ(a[2].reason, "permission: the operator's role does not allow add_to_book");
  EXPECT_EQ(a[3].reason, "permission: the operator's role does not allow reassign");
  EXPECT_EQ(a[4].reason, "operator_id: not an operator of the terminal's store");
  EXPECT_TRUE(a[5].applied());
  EXPECT_EQ(a[6], a[1]);  // the same operation again: the same answer, nothing twice

  const auto entries = (*store)->BookEntries("GB01", "A1");
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].book_number, "CB000001");
  const auto timeline = (*store)->Timeline("GB01", create.customer.id, 10);
  ASSERT_TRUE(timeline.ok());
  EXPECT_EQ(timeline->size(), 1u);

  std::uint64_t scanned = 0;
  const auto changes = (*registry)->ChangesFor("LON-01", 0, 64, scanned);
  ASSERT_TRUE(changes.ok());
  std::size_t book_changes = 0, notes = 0, configs = 0, operators = 0;
  for (const auto& c : *changes) {
    if (c.kind != model::Change::Kind::kClienteling) continue;
    book_changes += c.clienteling.book_entry.has_value();
    notes += c.clienteling.timeline_entry.has_value();
    configs += c.clienteling.config.has_value();
    operators += c.clienteling.op.has_value();
  }
  EXPECT_EQ(book_changes, 1u);  // applied once, though sent twice
  EXPECT_EQ(notes, 1u);
  EXPECT_EQ(configs, 1u);
  EXPECT_EQ(operators, 2u);
}

// Issue 18: a book outlives its associate's time in the store. Moving an
// associate away records the store they left (distributed with them), and a
// book whose associate left the configuration can still be reassigned from.
TEST_P(RegistryClientelingTest, ABookOutlivesItsAssociate) {
  hal::sim::SimClock clock{1'700'000'000'000};
  auto store = backend_.Open(testing::TestKeys());
  ASSERT_TRUE(store.ok());
  ChainConfig config = SampleChain();
  LegalEntity& le = config.legal_entities[0];
  le.clienteling.legal_entity = "GB01";
  le.clienteling.roles = {{"associate", "", model::Bit(model::Permission::kAddToBook)},
                          {"manager", "", model::Bit(model::Permission::kReassign)}};
  le.operators = {{"A1", "Anna", "GB01", {"LON-01"}, "associate", "", "", true, ""},
                  {"M1", "Mark", "GB01", {"LON-01"}, "manager", "", "", true, ""}};
  auto registry = Registry::Open(**store, clock, config);
  ASSERT_TRUE(registry.ok()) << registry.status().detail();
  ASSERT_TRUE((*registry)->Hello({"T1", "LON-01", model::kLinkProtocolVersion, 0}).ok());
  model::Operation create = Create("Kept");
  create.operator_id = "A1";
  const auto book_op = [&](const char* by, const char* owner, const char* from) {
    return BookOp(create.customer.id, by, owner, from);
  };
  auto acks = (*registry)->Apply({Batch{"T1", {create, book_op("A1", "A1", "")}}});
  ASSERT_TRUE(acks.ok());
  ASSERT_TRUE(acks->front()[1].applied()) << acks->front()[1].reason;

  const auto former = [&] { return (*registry)->config().legal_entities[0].FindOperator("A1")->former_stores; };
  ChainConfig moved = (*registry)->config();
  moved.legal_entities[0].operators[0].stores = {"LON-02"};
  ASSERT_TRUE((*registry)->ReplaceConfig(moved, "test").ok());
  EXPECT_EQ(former(), std::vector<std::string>{"LON-01"});
  ChainConfig back = (*registry)->config();
  back.legal_entities[0].operators[0].stores = {"LON-01", "LON-02"};
  ASSERT_TRUE((*registry)->ReplaceConfig(back, "test").ok());
  EXPECT_TRUE(former().empty()) << "given back: no longer a former store";

  ChainConfig gone = (*registry)->config();
  gone.legal_entities[0].operators.erase(gone.legal_entities[0].operators.begin());
  ASSERT_TRUE((*registry)->ReplaceConfig(gone, "test").ok());
  acks = (*registry)->Apply({Batch{"T1", {book_op("M1", "M1", "A1"), book_op("M1", "M1", "Z9")}}});
  ASSERT_TRUE(acks.ok());
  EXPECT_TRUE(acks->front()[0].applied()) << acks->front()[0].reason;
  EXPECT_EQ(acks->front()[1].reason, "book_entry.from_owner: neither an operator of the legal entity nor a book's owner");
  const auto entries = (*store)->BookEntries("GB01", "M1");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 1u);
}

// Issue 17: a shop's headquarters moved from its embedded store to
// PostgreSQL (kassa-hq migrate) keeps everything, numbers included: the
// same log, the same answers to operations seen before, the next account
// number after the last one.
class MigrationTest : public ChainStoreBackendTest {};

TEST_P(MigrationTest, ACopyIntoPostgresKeepsEveryIdentityAndNumber) {
  hal::sim::SimClock clock{1'700'000'000'000};
  testing::TestChainStore source(testing::Backend::kLmdb);
  const auto keys = testing::TestKeys();
  ChainConfig config = SampleChain();
  LegalEntity& le = config.legal_entities[0];
  le.clienteling.legal_entity = "GB01";
  le.clienteling.roles = {{"associate", "", model::Bit(model::Permission::kAddToBook) | model::Bit(model::Permission::kAddNote)}};
  le.operators = {{"A1", "Anna", "GB01", {"LON-01"}, "associate", "", "EMP0042", true, ""}};
  model::Operation create = Create("Moved");
  create.operator_id = "A1";
  create.customer.loyalty_cards = {"CARD-MOVED"};
  model::Operation erased = Create("Erased");
  model::Operation add;
  add.op_id = *model::LocalId::Generate();
  add.kind = model::OperationKind::kBookEntry;
  add.customer.id = create.customer.id;
  add.operator_id = "A1";
  add.book_entry = model::BookEntry{"A1", create.customer.id, true, 1, "A1", *model::LocalId::Generate(), "", ""};
  model::Operation note;
  note.op_id = *model::LocalId::Generate();
  note.kind = model::OperationKind::kTimelineEntry;
  note.customer.id = create.customer.id;
  note.operator_id = "A1";
  note.timeline_entry = model::TimelineEntry{note.op_id, create.customer.id, model::TimelineKind::kNote, "", 5, "A1", "Hi"};
  std::vector<model::OperationAck> before;
  {
    auto lmdb = source.Open(keys);
    ASSERT_TRUE(lmdb.ok());
    auto registry = Registry::Open(**lmdb, clock, config);
    ASSERT_TRUE(registry.ok()) << registry.status().detail();
    ASSERT_TRUE((*registry)->Hello({"T1", "LON-01", model::kLinkProtocolVersion, 0}).ok());
    auto acks = (*registry)->Apply({Batch{"T1", {create, erased, add, note, Create("Third")}}});
    ASSERT_TRUE(acks.ok());
    before = acks->front();
    ASSERT_TRUE((*registry)->Erase(before[1].customer_id, std::nullopt, "it-riga").ok());
    ASSERT_TRUE((*registry)->RecordAccess({{before[0].customer_id, model::AccessAction::kOpened, 1'700'000'000'500,
                                            "T1", "A1", 7}}).ok());
    ASSERT_TRUE((*registry)->Audit("it-riga", "GET /v1/customers/LV000001/export").ok());
    ASSERT_TRUE((*registry)->OrderWipe("T1", "it-riga").ok());
    ASSERT_TRUE((*lmdb)->Transact([&](storage::ChainTxn& txn) -> Status {
      KASSA_TRY(txn.PutAdminCredential({std::string(64, 'a'), "it-riga", "admin", 5}));
      return txn.RevokeCertificate("0A1B", 6);
    }).ok());
    ASSERT_TRUE((*registry)->AckCursor("T1", 3).ok());
    ASSERT_TRUE((*registry)->SaveCursors().ok());
  }
  auto report = storage::CopyLmdbToPostgres({source.path(), std::size_t{64} << 20, keys, {}},
                                            {backend_.conninfo(), keys});
  ASSERT_TRUE(report.ok()) << report.status().detail();
  EXPECT_EQ(report->customers, 2u);  // the erased one's id is kept, not its data
  EXPECT_EQ(report->owners, 3u);
  EXPECT_EQ(report->erasures, 1u);

  auto lmdb = source.Open(keys);
  auto pg = backend_.Open(keys);
  ASSERT_TRUE(lmdb.ok() && pg.ok()) << pg.status().detail();
  const auto a = (*lmdb)->Stats(), b = (*pg)->Stats();
  EXPECT_EQ(a->customers, b->customers);
  EXPECT_EQ(a->head_seq, b->head_seq);
  EXPECT_EQ(a->operations, b->operations);
  // The same log, entry for entry, as each terminal of the legal entity is sent it.
  const auto log_a = (*lmdb)->ReadChanges(0, "GB01", "LON-01", 1000, 1000);
  const auto log_b = (*pg)->ReadChanges(0, "GB01", "LON-01", 1000, 1000);
  ASSERT_TRUE(log_a.ok() && log_b.ok());
  ASSERT_EQ(log_a->changes.size(), log_b->changes.size());
  EXPECT_GE(log_a->changes.size(), 8u);  // configuration, operator, creates, book entry, note, erasure
  EXPECT_EQ(log_a->scanned_to, log_b->scanned_to);
  for (std::size_t i = 0; i < log_a->changes.size(); ++i) {
    const auto& x = log_a->changes[i];
    const auto& y = log_b->changes[i];
    EXPECT_EQ(x.seq, y.seq);
    EXPECT_EQ(x.kind, y.kind) << x.seq;
    EXPECT_EQ(x.customer, y.customer) << x.seq;
    EXPECT_EQ(x.clienteling, y.clienteling) << x.seq;
    EXPECT_EQ(x.erased, y.erased) << x.seq;
  }
  EXPECT_EQ(*(*lmdb)->FindCustomer(before[0].customer_id), *(*pg)->FindCustomer(before[0].customer_id));
  EXPECT_FALSE((*pg)->FindCustomer(before[1].customer_id)->has_value());
  EXPECT_EQ(*(*lmdb)->LegalEntityOf(before[1].customer_id), *(*pg)->LegalEntityOf(before[1].customer_id));
  EXPECT_EQ(*(*lmdb)->BookEntries("GB01", "A1"), *(*pg)->BookEntries("GB01", "A1"));
  EXPECT_EQ(*(*lmdb)->Timeline("GB01", before[0].customer_id, 10), *(*pg)->Timeline("GB01", before[0].customer_id, 10));
  EXPECT_EQ(*(*lmdb)->AccessEvents(before[0].customer_id, 10), *(*pg)->AccessEvents(before[0].customer_id, 10));
  EXPECT_EQ((*lmdb)->Terminals()->front().cursor, (*pg)->Terminals()->front().cursor);
  EXPECT_EQ((*pg)->Terminals()->front().cursor, 3u);
  EXPECT_EQ((*lmdb)->Audit(10)->size(), (*pg)->Audit(10)->size());
  EXPECT_EQ((*lmdb)->Audit(10)->front().seq, (*pg)->Audit(10)->front().seq);
  EXPECT_EQ((*lmdb)->Erasures(10)->front().seq, (*pg)->Erasures(10)->front().seq);
  EXPECT_EQ((*pg)->WipeOrders()->size(), 1u);
  EXPECT_EQ((*pg)->AdminCredentials()->size(), 1u);
  EXPECT_TRUE(*(*pg)->IsCertificateRevoked("0A1B"));
  EXPECT_EQ(*(*lmdb)->ChainSecret("badge"), *(*pg)->ChainSecret("badge"));
  EXPECT_EQ(*(*lmdb)->LoadConfigText(), *(*pg)->LoadConfigText());
  // On PostgreSQL, headquarters answers what it answered before, and numbers on.
  auto registry = Registry::Open(**pg, clock, std::nullopt);
  ASSERT_TRUE(registry.ok()) << registry.status().detail();
  ASSERT_TRUE((*registry)->Hello({"T1", "LON-01", model::kLinkProtocolVersion, 3}).ok());
  auto again = (*registry)->Apply({Batch{"T1", {create, Create("After")}}});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->front()[0], before[0]);
  EXPECT_EQ(again->front()[1].account, "LV000004");
  EXPECT_TRUE(search::FindByAccount(**pg, before[0].account)->has_value());
  // A database that holds a chain is never copied into.
  pg->reset();
  EXPECT_EQ(storage::CopyLmdbToPostgres({source.path(), std::size_t{64} << 20, keys, {}}, {backend_.conninfo(), keys})
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryTest, ::testing::ValuesIn(testing::Backends()), testing::BackendNamer());
INSTANTIATE_TEST_SUITE_P(Backends, RegistryAuthorizationTest, ::testing::ValuesIn(testing::Backends()),
                         testing::BackendNamer());
INSTANTIATE_TEST_SUITE_P(Backends, RegistryBadgeTest, ::testing::ValuesIn(testing::Backends()), testing::BackendNamer());
INSTANTIATE_TEST_SUITE_P(Backends, RegistryClientelingTest, ::testing::ValuesIn(testing::Backends()),
                         testing::BackendNamer());
// Only into PostgreSQL, where the build has it.
std::vector<testing::Backend> MigrationTargets() {
  return storage::PostgresSupported() ? std::vector<testing::Backend>{testing::Backend::kPostgres}
                                      : std::vector<testing::Backend>{};
}
INSTANTIATE_TEST_SUITE_P(Backends, MigrationTest, ::testing::ValuesIn(MigrationTargets()), testing::BackendNamer());
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(MigrationTest);

}  // namespace
}  // namespace kassa::hq
