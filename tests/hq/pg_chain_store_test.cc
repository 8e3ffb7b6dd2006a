// Headquarters' PostgreSQL chain store against a real PostgreSQL cluster
// (CTest fixture "postgres"): what the database really holds, its
// constraints, the change log's commit order under concurrent writers,
// search ranked exactly as on the embedded store, a lost connection, and the
// schema's version.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "kassa/search/customer_search.h"
#include "kassa/storage/chain_store.h"
#include "test_chain_store.h"
#include "test_keys.h"

namespace kassa::storage {
namespace {

using testing::Backend;
using testing::TestChainStore;

model::Customer Person(std::string first, std::string last, std::string account) {
  model::Customer c;
  c.id = *model::LocalId::Generate();
  c.first_name = std::move(first);
  c.last_name = std::move(last);
  c.account = std::move(account);
  c.customer_group = "RETAIL";
  c.currency = "EUR";
  c.language = "lv-LV";
  c.version = 1;
  return c;
}

class PostgresChainStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    KASSA_SKIP_UNLESS_AVAILABLE(db_);
    auto s = db_.Open(keys_);
    ASSERT_TRUE(s.ok()) << s.status().detail();
    store_ = std::move(*s);
  }
  Status Put(const model::Customer& c) {
    return store_->Transact([&](ChainTxn& txn) { return txn.PutCustomer(c, "LV01"); });
  }

  TestChainStore db_{Backend::kPostgres};
  std::shared_ptr<crypto::KeyStore> keys_ = testing::TestKeys();
  std::unique_ptr<ChainStore> store_;
};

// Customers' data protected: names, emails, phones and their index terms
// are sealed or keyed before they reach the database.
TEST_F(PostgresChainStoreTest, NoPersonalDataReachesTheDatabaseInClear) {
  model::Customer c = Person("Zintis", "Quokkaberg", "LV000001");
  c.email = "zintis.quokkaberg@example.lv";
  c.phone = "+37120001234";
  c.loyalty_cards = {"CARD-QUOKKA-77"};
  ASSERT_TRUE(Put(c).ok());
  ASSERT_EQ((*store_->FindCustomer(c.id))->last_name, "Quokkaberg");
  for (const std::string table : {"customers", "search_terms", "loyalty_cards", "changes", "customer_keys"}) {
    const std::string dump = db_.Sql("SELECT string_agg(t::text, ' ') FROM " + table + " t");
    ASSERT_EQ(dump.find("ERROR"), std::string::npos) << dump;
    for (const std::string marker : {"Quokka", "quokka", "QUOKKA", "71756f6b6b61" /* "quokka" in hex */,
                                     "Zintis", "5a696e746973", "20001234", "3230303031323334", "CARD-"}) {
      EXPECT_EQ(dump.find(marker), std::string::npos) << table << " holds " << marker;
    }
  }
  // The record, its terms and its key are there all the same.
  // Two name tokens, the email, the phone, the account, the card.
  EXPECT_EQ(db_.Sql("SELECT count(*) FROM search_terms"), "6");
  EXPECT_EQ(db_.Sql("SELECT count(*) FROM customer_keys"), "1");
}

// Real constraints: unique account numbers and loyalty cards (on keyed tags),
// operation ids unique, foreign keys from a customer's rows to it.
TEST_F(PostgresChainStoreTest, TheDatabaseItselfRefusesDuplicatesAndOrphans) {
  model::Customer a = Person("Anna", "Liepa", "LV000001");
  a.loyalty_cards = {"CARD-1"};
  ASSERT_TRUE(Put(a).ok());
  model::Customer b = Person("Berta", "Ozola", "LV000001");
  const Status same_account = Put(b);
  EXPECT_EQ(same_account.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(same_account.field(), "account");
  b.account = "LV000002";
  b.loyalty_cards = {"CARD-1"};
  const Status same_card = Put(b);
  EXPECT_EQ(same_card.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(same_card.field(), "loyalty_cards");
  EXPECT_FALSE(store_->FindCustomer(b.id)->has_value());  // refused whole
  // Behind kassa-hq's back, the database says the same.
  ASSERT_TRUE(Put(b).code() == StatusCode::kAlreadyExists);
  b.loyalty_cards.clear();
  ASSERT_TRUE(Put(b).ok());
  EXPECT_NE(db_.Sql("UPDATE customers SET account_tag = (SELECT account_tag FROM customers c JOIN loyalty_cards l "
                    "ON l.customer_id = c.id)")
                .find("duplicate key"),
            std::string::npos);
  EXPECT_NE(db_.Sql("INSERT INTO loyalty_cards SELECT card_tag, customer_id FROM loyalty_cards").find("duplicate key"),
            std::string::npos);
  EXPECT_NE(db_.Sql("INSERT INTO operations VALUES ('\\x0102030405060708090a0b0c0d0e0f10', 'x'), "
                    "('\\x0102030405060708090a0b0c0d0e0f10', 'y')")
                .find("duplicate key"),
            std::string::npos);
  EXPECT_NE(db_.Sql("INSERT INTO search_terms VALUES (1, 'x', '\\x0102030405060708090a0b0c0d0e0f10', 1, '')")
                .find("foreign key"),
            std::string::npos);
  EXPECT_NE(db_.Sql("INSERT INTO customers VALUES ('\\x0102030405060708090a0b0c0d0e0f10', 'x', NULL)")
                .find("foreign key"),
            std::string::npos);
}

// The change log is in commit order: a change appended by a transaction that
// commits late never gets a number below one a reader has already passed.
TEST_F(PostgresChainStoreTest, ALateCommitNeverLetsAReaderSkipItsChange) {
  auto second = db_.Open(keys_);  // another connection: another headquarters process
  ASSERT_TRUE(second.ok()) << second.status().detail();
  std::atomic<bool> slow_appended{false};
  std::thread slow([&] {
    ASSERT_TRUE(store_->Transact([&](ChainTxn& txn) -> Status {
      KASSA_TRY(txn.AppendStoreConfigChange("SLOW"));
      slow_appended = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(400));  // commits late
      return Status::Ok();
    }).ok());
  });
  while (!slow_appended) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::atomic<bool> fast_done{false};
  std::thread fast([&] {
    ASSERT_TRUE((*second)->Transact([&](ChainTxn& txn) { return txn.AppendStoreConfigChange("FAST"); }).ok());
    fast_done = true;
  });
  // While the slow writer holds the log, the fast one waits, and a reader sees neither.
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_FALSE(fast_done.load());
  auto third = db_.Open(keys_);
  ASSERT_TRUE(third.ok());
  auto during = (*third)->ReadChanges(0, "LV01", "FAST", 10, 100);
  ASSERT_TRUE(during.ok());
  EXPECT_TRUE(during->changes.empty());
  EXPECT_EQ(during->scanned_to, 0u);
  slow.join();
  fast.join();
  auto slow_page = (*third)->ReadChanges(0, "LV01", "SLOW", 10, 100);
  auto fast_page = (*third)->ReadChanges(0, "LV01", "FAST", 10, 100);
  ASSERT_TRUE(slow_page.ok() && fast_page.ok());
  ASSERT_EQ(slow_page->changes.size(), 1u);
  ASSERT_EQ(fast_page->changes.size(), 1u);
  EXPECT_EQ(slow_page->changes[0].seq, 1u);  // first to commit, first in the log
  EXPECT_EQ(fast_page->changes[0].seq, 2u);
}

// Many writers at once: the log stays dense, and a reader polling meanwhile
// never sees a number without every number below it.
TEST_F(PostgresChainStoreTest, ConcurrentWritersKeepTheLogDenseForEveryReader) {
  constexpr int kWriters = 4, kEach = 40;
  std::vector<std::unique_ptr<ChainStore>> writers;
  for (int i = 0; i < kWriters; ++i) writers.push_back(std::move(*db_.Open(keys_)));
  std::atomic<int> running{kWriters};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < kEach; ++n) {
        EXPECT_TRUE(writers[static_cast<std::size_t>(i)]
                        ->Transact([&](ChainTxn& txn) -> Status {
                          KASSA_TRY(txn.AppendStoreConfigChange("S" + std::to_string(i)));
                          return txn.AppendStoreConfigChange("S" + std::to_string(i));
                        })
                        .ok());
      }
      --running;
    });
  }
  int polls = 0;
  std::uint64_t seen = 0;
  while (running > 0 || seen < 2u * kWriters * kEach) {
    // What a terminal of store S0 would be sent: its own changes, scanned up to a point.
    auto page = store_->ReadChanges(0, "LV01", "S0", 100000, 100000);
    ASSERT_TRUE(page.ok());
    auto head = store_->Stats();
    ASSERT_TRUE(head.ok());
    // Every change up to where the reader scanned is there: count them all.
    const std::string counted = db_.Sql("SELECT count(*) FROM changes WHERE seq <= " +
                                        std::to_string(page->scanned_to));
    EXPECT_EQ(counted, std::to_string(page->scanned_to));
    seen = page->scanned_to;
    ++polls;
    if (running == 0 && seen == head->head_seq) break;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(store_->Stats()->head_seq, 2u * kWriters * kEach);
  EXPECT_EQ(db_.Sql("SELECT max(seq) - min(seq) + 1 = count(*) FROM changes"), "t");
  std::printf("[log order] %d writers x %d transactions, %d reader polls, no gap seen\n", kWriters, kEach, polls);
}

// A page of the log cut by its limit ends where it was cut, even when every
// row on it is passed over (clienteling of a customer erased since): the
// changes after it are read next time, never skipped.
TEST_F(PostgresChainStoreTest, APageOfPassedOverChangesDoesNotSkipWhatFollows) {
  const model::Customer gone = Person("Anna", "Gone", "LV000001");
  ASSERT_TRUE(Put(gone).ok());
  const std::uint64_t before_notes = store_->Stats()->head_seq;
  for (int i = 0; i < 3; ++i) {
    model::ClientelingRecord note;
    note.timeline_entry = model::TimelineEntry{*model::LocalId::Generate(), gone.id, model::TimelineKind::kNote, "",
                                               100 + i, "A1", "Note"};
    ASSERT_TRUE(store_->Transact([&](ChainTxn& txn) { return txn.ApplyClienteling("LV01", note); }).ok());
  }
  ASSERT_TRUE(store_->Transact([&](ChainTxn& txn) { return txn.EraseCustomer(gone.id, "LV01", 5, "it").status(); }).ok());
  const model::Customer after = Person("Berta", "After", "LV000002");
  ASSERT_TRUE(Put(after).ok());
  std::vector<StoredChange> read;
  std::uint64_t cursor = before_notes;
  for (int pages = 0; pages < 10 && cursor < store_->Stats()->head_seq; ++pages) {
    auto page = store_->ReadChanges(cursor, "LV01", "LON-01", 2, 1000);  // two a page
    ASSERT_TRUE(page.ok());
    ASSERT_GT(page->scanned_to, cursor);
    for (auto& c : page->changes) read.push_back(std::move(c));
    cursor = page->scanned_to;
  }
  ASSERT_EQ(read.size(), 2u);  // the notes are passed over: their customer's key is gone
  EXPECT_EQ(read[0].kind, model::Change::Kind::kCustomerErased);
  EXPECT_EQ(read[0].erased, gone.id);
  EXPECT_EQ(read[1].kind, model::Change::Kind::kCustomerUpsert);
  EXPECT_EQ(read[1].customer->id, after.id);
}

// Chain search ranks exactly as the embedded store (and so the terminals)
// do: kassa's own folding and index, never the database's collation.
TEST_F(PostgresChainStoreTest, SearchRanksExactlyAsTheEmbeddedStore) {
  TestChainStore lmdb_dir(Backend::kLmdb);
  auto lmdb = lmdb_dir.Open(testing::TestKeys());
  ASSERT_TRUE(lmdb.ok());
  std::vector<model::Customer> people = {
      Person("Anna", "Bērziņa", "LV000001"),  Person("Ānna", "Berzina", "LV000002"),
      Person("Annija", "Bērziņš", "LV000003"), Person("Jānis", "Ozoliņš", "LV000004"),
      Person("Ansis", "Zariņš", "LV000005"),  Person("Ēriks", "Anson", "LV000006"),
      Person("小明", "王", "LV000007"),        Person("Ozolin\u0327a", "S\u0326erban", "LV000008"),
  };
  people[0].email = "anna.berzina@example.lv";
  people[1].email = "anna.b@example.lv";
  people[3].phone = "+37129123456";
  people[4].phone = "+37129123999";
  people[5].loyalty_cards = {"7700123"};
  for (const auto& c : people) {
    ASSERT_TRUE(Put(c).ok());
    ASSERT_TRUE((*lmdb)->Transact([&](ChainTxn& txn) { return txn.PutCustomer(c, "LV01"); }).ok());
  }
  for (const std::string q : {"anna", "berz", "bērziņa anna", "ANN", "an", "ozolins janis", "anna.b", "29123",
                              "+371 29 123 456", "lv000004", "7700123", "zz", "王小明", "小明",
                              "王 小明", "OZOLIŅA", "ozolina serban", "ș"}) {
    auto on_pg = search::SearchCustomers(*store_, q, 10, "LV");
    auto on_lmdb = search::SearchCustomers(**lmdb, q, 10, "LV");
    ASSERT_TRUE(on_pg.ok() && on_lmdb.ok()) << q;
    ASSERT_EQ(on_pg->size(), on_lmdb->size()) << q;
    for (std::size_t i = 0; i < on_pg->size(); ++i) {
      EXPECT_EQ((*on_pg)[i].customer.id, (*on_lmdb)[i].customer.id) << q << " #" << i;
      EXPECT_EQ((*on_pg)[i].score, (*on_lmdb)[i].score) << q << " #" << i;
      EXPECT_EQ((*on_pg)[i].matched, (*on_lmdb)[i].matched) << q << " #" << i;
    }
  }
  EXPECT_EQ(search::SearchCustomers(*store_, "bērz", 10, "LV")->size(), 3u);
}

// A connection the server drops: a statement outside a transaction
// reconnects; a transaction cut in the middle fails whole and writes nothing.
TEST_F(PostgresChainStoreTest, ALostConnectionFailsTheTransactionWholeAndTheNextOneReconnects) {
  ASSERT_TRUE(Put(Person("Anna", "One", "LV000001")).ok());
  const auto kill_others = [&] {
    return db_.Sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                   "WHERE application_name = '" + db_.schema() + "' AND pid <> pg_backend_pid()");
  };
  ASSERT_EQ(kill_others(), "1");
  auto stats = store_->Stats();  // reconnects
  ASSERT_TRUE(stats.ok()) << stats.status().detail();
  EXPECT_EQ(stats->customers, 1u);
  const model::Customer cut = Person("Berta", "Two", "LV000002");
  const Status s = store_->Transact([&](ChainTxn& txn) -> Status {
    KASSA_TRY(txn.PutCustomer(cut, "LV01"));
    kill_others();
    return txn.AppendStoreConfigChange("LON-01");
  });
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_FALSE(store_->FindCustomer(cut.id)->has_value());
  EXPECT_EQ(store_->Stats()->customers, 1u);
  EXPECT_EQ(store_->Stats()->head_seq, 1u);
  ASSERT_TRUE(Put(cut).ok());
  EXPECT_EQ(store_->Stats()->customers, 2u);
}

// The schema is kassa-hq's: created and recorded on first open, refused when
// newer than this build knows; a sealed database never opens without its key.
TEST_F(PostgresChainStoreTest, TheSchemaIsVersionedAndTheKeyChecked) {
  EXPECT_EQ(db_.Sql("SELECT version FROM kassa_schema ORDER BY version"), "1\n2");
  EXPECT_EQ(db_.Open(nullptr).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(db_.Open(testing::TestKeys()).status().code(), StatusCode::kDataLoss);
  store_.reset();
  ASSERT_EQ(db_.Sql("INSERT INTO kassa_schema (version, name) VALUES (999, 'from the future')"), "");
  auto newer = db_.Open(keys_);
  EXPECT_EQ(newer.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(newer.status().field(), "data");
}

}  // namespace
}  // namespace kassa::storage

namespace kassa::storage {
namespace {

// One active headquarters per database: a second waits for the lock, and
// takes it once the first's session is gone; a lock whose session the
// server cut is no longer held.
TEST(PostgresLeadershipTest, OneLeaderAtATimeAndALostSessionLeadsNoMore) {
  TestChainStore db(Backend::kPostgres);
  KASSA_SKIP_UNLESS_AVAILABLE(db);
  auto first = AcquirePostgresLeadership(db.conninfo(), std::chrono::milliseconds(20), [] { return true; });
  ASSERT_TRUE(first.ok()) << first.status().detail();
  EXPECT_TRUE((*first)->Held());
  int tries = 0;
  auto second = AcquirePostgresLeadership(db.conninfo(), std::chrono::milliseconds(20), [&] { return ++tries < 10; });
  EXPECT_EQ(second.status().code(), StatusCode::kCancelled);  // stood by, then told to stop
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    first->reset();  // the active one is gone
  });
  const auto waited = std::chrono::steady_clock::now();
  auto third = AcquirePostgresLeadership(db.conninfo(), std::chrono::milliseconds(20), [] { return true; });
  release.join();
  ASSERT_TRUE(third.ok());
  EXPECT_GE(std::chrono::steady_clock::now() - waited, std::chrono::milliseconds(150));
  EXPECT_TRUE((*third)->Held());
  // The server cuts the leader's session (a network partition, a restart).
  ASSERT_EQ(db.Sql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '" +
                   db.schema() + "' AND pid <> pg_backend_pid()"),
            "1");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_FALSE((*third)->Held());
}

}  // namespace
}  // namespace kassa::storage
