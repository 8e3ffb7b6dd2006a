// ChainStore on PostgreSQL: headquarters of a chain on the database server
// its IT people operate. The schema is storage/sql/postgresql/*.sql, applied
// in order by Migrate() and recorded in kassa_schema; what it keeps and how
// it is sealed is said there and in pg_keys.h.
//
// The change log's order is the order of commits: its numbers come from the
// counters row 'change', updated in the transaction that appends the change.
// That row stays locked until the transaction ends, so a second writer
// waits for the first to commit (or roll back) before it takes the next
// number, and a reader can never see change N+1 without change N: a
// terminal's cursor never skips a change that committed late. Numbers come
// without gaps (a rolled-back transaction gives its number back); compaction
// deletes superseded upserts later, which a reader passes over. Headquarters
// groups many terminals' operations in one transaction, so the wait is one
// per batch, not per operation.
//
// Threading: not thread-safe (one connection); headquarters calls it from
// its one thread.

#include <algorithm>
#include <set>

#include "kassa/base/log.h"
#include "kassa/crypto/aead.h"
#include "kassa/crypto/sha256.h"
#include "kassa/proto_codec/codec.h"
#include "kassa/proto_codec/link_codec.h"
#include "kassa/search/index.h"
#include "kassa/storage/chain_store.h"
#include "chain_copy.h"
#include "clienteling_tables.h"
#include "kassa_pg_schema.h"
#include "pg_conn.h"
#include "pg_keys.h"
#include "pg_write_behind.h"

namespace kassa::storage {
namespace {

// Any number that no other application takes an advisory lock on: "kassa" in ASCII.
constexpr std::int64_t kMigrationLock = 0x6b61737361;

ByteView IdBytes(const model::LocalId& id) { return ByteView(id.bytes.data(), id.bytes.size()); }
PgParam IdParam(const model::LocalId& id) { return PgParam::Bytea(IdBytes(id)); }

Result<model::LocalId> IdOf(ByteView b) {
  if (b.size() != model::kLocalIdBytes) return Status(StatusCode::kDataLoss, "storage corrupted: malformed customer id");
  model::LocalId id;
  std::copy_n(b.begin(), model::kLocalIdBytes, id.bytes.begin());
  return id;
}

std::int64_t Signed(std::uint64_t v) { return static_cast<std::int64_t>(v); }

// The smallest byte string greater than every string starting with
// `prefix` (nullopt: none, the prefix is all 0xFF or empty).
std::optional<std::string> PrefixEnd(std::string prefix) {
  while (!prefix.empty() && static_cast<std::uint8_t>(prefix.back()) == 0xFF) prefix.pop_back();
  if (prefix.empty()) return std::nullopt;
  prefix.back() = static_cast<char>(static_cast<std::uint8_t>(prefix.back()) + 1);
  return prefix;
}

// A customer's index entries as search_terms rows: terms keyed, and each
// name token of a name entry's detail too, so that they compare alike.
std::vector<PgTerm> TermsOf(const PgKeys& keys, const std::vector<search::IndexEntry>& entries) {
  std::vector<PgTerm> terms;
  terms.reserve(entries.size());
  for (const auto& e : entries) {
    std::string detail = e.detail;
    if (e.kind == search::IndexKind::kName) {
      detail.clear();
      std::string_view rest = e.detail;
      while (!rest.empty()) {
        const std::size_t space = rest.find(' ');
        if (!detail.empty()) detail += ' ';
        detail += keys.IndexTerm(search::IndexKind::kName, rest.substr(0, space));
        rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
      }
    }
    terms.push_back({static_cast<std::int64_t>(e.kind), keys.IndexTerm(e.kind, e.term),
                     static_cast<std::int64_t>(e.field), std::move(detail)});
  }
  return terms;
}

// Applies the schema files this build knows that the database lacks, each
// in one transaction, under an advisory lock (two headquarters starting at
// once migrate one after the other).
Status Migrate(PgConn& db) {
  KASSA_TRY(db.Exec("SELECT pg_advisory_lock($1)", {PgParam::Int(kMigrationLock)}).status());
  const auto body = [&]() -> Status {
    KASSA_TRY(db.Script("CREATE TABLE IF NOT EXISTS kassa_schema (version integer PRIMARY KEY, name text NOT NULL, "
                        "applied_at timestamptz NOT NULL DEFAULT now())"));
    KASSA_TRY_ASSIGN(const PgRows current, db.Exec("SELECT coalesce(max(version), 0) FROM kassa_schema"));
    const std::int64_t have = current.Int(0, 0);
    const int newest = kPgMigrations[std::size(kPgMigrations) - 1].version;
    if (have > newest) {
      KASSA_LOG(kError) << "the database's schema is version " << have << "; this kassa-hq knows up to " << newest;
      return Status(StatusCode::kFailedPrecondition, "data: the database's schema is newer than this kassa-hq");
    }
    for (const PgMigration& m : kPgMigrations) {
      if (m.version <= have) continue;
      KASSA_LOG(kInfo) << "applying database schema " << m.version << " (" << m.name << ")";
      KASSA_TRY(db.Begin());
      Status s = db.Script(m.sql);
      if (s.ok()) {
        s = db.Exec("INSERT INTO kassa_schema (version, name) VALUES ($1, $2)",
                    {PgParam::Int(m.version), PgParam::Text(m.name)})
                .status();
      }
      if (!s.ok()) {
        db.Rollback();
        return s;
      }
      KASSA_TRY(db.Commit());
    }
    return Status::Ok();
  };
  const Status s = body();
  (void)db.Exec("SELECT pg_advisory_unlock($1)", {PgParam::Int(kMigrationLock)});
  return s;
}

model::Change::Kind KindOf(std::int64_t v) { return static_cast<model::Change::Kind>(v); }

class PgChainStore;

// One transaction. The hot path of headquarters' ingest (outcomes, erasure
// checks, customers, changes, access events, terminals, counters) reads
// through caches filled by Prefetch() and writes behind (PgWriteBehind):
// nothing of it reaches the database before Flush(), which runs before the
// commit and before any statement that must see it. Counters' rows are
// locked on first use and counted on here.
class PgChainTxn final : public ChainTxn {
 public:
  // `careful`: each customer's unique tags are checked against the database
  // as it is put (the second attempt of a transaction whose Flush() met a
  // unique constraint).
  PgChainTxn(PgChainStore& store, bool careful) : store_(store), careful_(careful) {}
  Status Prefetch(const std::vector<model::LocalId>& op_ids, const std::vector<model::LocalId>& customers) override;
  Result<std::optional<model::OperationAck>> FindOutcome(const model::LocalId& op_id) override;
  Status RecordOutcome(const model::OperationAck& ack) override;
  Result<std::optional<model::Customer>> FindCustomer(const model::LocalId& id) override;
  Result<std::optional<std::string>> LegalEntityOf(const model::LocalId& id) override;
  Status PutCustomer(const model::Customer& c, std::string_view legal_entity) override;
  Result<std::uint64_t> NextAccountNumber() override { return Counter("account"); }
  Status AppendStoreConfigChange(std::string_view store_id) override;
  Status PutTerminal(const TerminalRecord& terminal) override;
  Status SaveConfigText(std::string_view text) override;
  Status ApplyClienteling(std::string_view legal_entity, const model::ClientelingRecord& record) override;
  Result<std::optional<model::BookEntry>> FindBook(std::string_view legal_entity, std::string_view owner) override;
  Result<std::uint64_t> NextBookNumber() override { return Counter("book"); }
  Result<std::uint64_t> NextConsentNumber() override { return Counter("consent"); }
  Status PutAdminCredential(const AdminCredential& credential) override;
  Status RemoveAdminCredential(std::string_view token_sha256) override;
  Status RevokeCertificate(std::string_view serial_hex, std::int64_t at_ms) override;
  Status PutWipeOrder(const WipeOrder& order) override;
  Status AppendAudit(std::int64_t at_ms, std::string_view who, std::string_view what) override;
  Status AppendAccessEvent(const model::AccessEvent& event) override;
  Result<ErasureRecord> EraseCustomer(const model::LocalId& id, std::string_view legal_entity, std::int64_t at_ms,
                                      std::string_view who) override;
  Result<std::optional<ErasureRecord>> FindErasure(const model::LocalId& id) override;

  // A customer copied in (chain_copy.h): stored as it is, no change appended.
  Status StoreCustomerForCopy(const model::Customer& c, std::string_view legal_entity) {
    return Stage(c, /*old_in_database=*/false, /*new_owner=*/false, legal_entity);
  }

  // Writes what waits (keys made, then PgWriteBehind). A unique constraint
  // met here sets flush_refused().
  Status Flush();
  bool flush_refused() const { return flush_refused_; }

 private:
  // What the transaction knows of a customer id.
  struct Known {
    std::optional<model::Customer> customer;
    std::optional<std::string> owner;  // its legal entity (kept after an erasure)
    bool in_database = false;          // a row of it is in the database (not only waiting)
    std::optional<std::uint64_t> latest;  // its newest upsert in the change log
  };
  // Loads what the database holds of `ids` (owner, record, key) into known_.
  Status LoadCustomers(const std::vector<model::LocalId>& ids);
  Result<const Known*> Look(const model::LocalId& id);
  Result<std::uint64_t> Counter(std::string_view name);
  // Appends a change; returns its number.
  Result<std::uint64_t> AppendChange(model::Change::Kind kind, std::string_view scope, const model::LocalId* customer,
                                     const Bytes* body);
  // Seals `c` and derives its rows; hands them to pending_.
  // `new_owner`: the customer's legal entity is recorded with it.
  Status Stage(const model::Customer& c, bool old_in_database, bool new_owner, std::string_view legal_entity);

  PgChainStore& store_;
  const bool careful_;
  bool flush_refused_ = false;
  std::map<model::LocalId, std::optional<model::OperationAck>> outcomes_;
  std::map<model::LocalId, std::optional<ErasureRecord>> erasures_;
  std::map<model::LocalId, Known> known_;
  std::map<std::string, std::uint64_t, std::less<>> counters_;  // rows locked by this transaction
  PgWriteBehind pending_;
};

class PgChainStore final : public ChainStore {
 public:
  PgChainStore(std::unique_ptr<PgConn> db, std::shared_ptr<crypto::KeyStore> keys)
      : db_(std::move(db)), keys_(keys ? PgKeys(std::move(keys)) : PgKeys()) {}

  Status Init() {
    KASSA_TRY(Migrate(*db_));
    KASSA_TRY(Transact([&](ChainTxn&) { return keys_.Init(*db_); }));
    return RederiveSearchTerms();
  }

  // When a schema file marked the search terms stale (a change in what
  // search::IndexEntriesOf derives: 002_search_folding.sql), derives every
  // customer's terms again, kRederiveBatch customers a transaction, under
  // the migration lock (two headquarters starting at once do it once);
  // the last transaction removes the mark. A crash in between starts over
  // on the next open, each batch being whole.
  Status RederiveSearchTerms() {
    KASSA_TRY(db_->Exec("SELECT pg_advisory_lock($1)", {PgParam::Int(kMigrationLock)}).status());
    const Status s = RederiveLocked();
    (void)db_->Exec("SELECT pg_advisory_unlock($1)", {PgParam::Int(kMigrationLock)});
    return s;
  }

  Status Transact(const std::function<Status(ChainTxn&)>& body) override {
    KASSA_CHECK(!db_->in_transaction());  // not from inside a transaction's body
    for (const bool careful : {false, true}) {
      KASSA_TRY(db_->Begin());
      PgChainTxn txn(*this, careful);
      Status s = body(txn);
      if (s.ok()) s = txn.Flush();
      if (s.ok()) s = db_->Commit();
      if (s.ok()) {
        keys_.Committed();
        return s;
      }
      keys_.RolledBack();
      if (db_->in_transaction()) db_->Rollback();
      if (careful || !txn.flush_refused()) return s;
      // A customer's tag (account number, loyalty card) is held by another
      // customer in the database: once more, checking each as it is put, so
      // that only its own operation is refused.
      KASSA_LOG(kInfo) << "a unique tag is taken: the transaction runs again, checking customer by customer";
    }
    return Status(StatusCode::kInternal, "unreachable");
  }

  // Runs `read` in one read-only snapshot (inside a transaction's body:
  // in that transaction).
  template <typename F>
  Status Snapshot(F&& read) {
    if (db_->in_transaction()) return read();
    KASSA_TRY(db_->Begin("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"));
    const Status s = read();
    if (!s.ok()) {
      db_->Rollback();
      return s;
    }
    return db_->Commit();
  }

  Result<ChangePage> ReadChanges(std::uint64_t after, std::string_view legal_entity, std::string_view store_id,
                                 std::size_t max_changes, std::size_t max_scan) override {
    ChangePage page;
    page.scanned_to = after;
    KASSA_TRY(Snapshot([&]() -> Status {
      const std::uint64_t last = after + max_scan;
      KASSA_TRY_ASSIGN(
          const PgRows rows,
          db_->Exec("SELECT ch.seq, ch.kind, ch.customer_id, ch.body, c.record, e.customer_id IS NOT NULL "
                    "FROM changes ch "
                    "LEFT JOIN customers c ON ch.kind = 1 AND c.id = ch.customer_id "
                    "LEFT JOIN erasures e ON ch.kind = 1 AND e.customer_id = ch.customer_id "
                    "WHERE ch.seq > $1 AND ch.seq <= $2 "
                    "AND ((ch.scope = $3 AND ch.kind IN (1, 3, 4)) OR (ch.scope = $4 AND ch.kind = 2)) "
                    "ORDER BY ch.seq LIMIT $5",
                    {PgParam::Int(Signed(after)), PgParam::Int(Signed(last)), PgParam::Text(legal_entity),
                     PgParam::Text(store_id), PgParam::Int(Signed(max_changes))}));
      for (int r = 0; r < rows.size(); ++r) {
        const auto seq = static_cast<std::uint64_t>(rows.Int(r, 0));
        const model::Change::Kind kind = KindOf(rows.Int(r, 1));
        StoredChange change{seq, kind, std::nullopt, std::nullopt, {}};
        if (kind == model::Change::Kind::kCustomerUpsert) {
          KASSA_TRY_ASSIGN(const model::LocalId id, IdOf(rows.Bytes(r, 2)));
          if (rows.IsNull(r, 4)) {
            // Erased since (its erasure comes later in the log): nothing of it travels.
            if (rows.Int(r, 5) == 0) return Status(StatusCode::kDataLoss, "storage corrupted: change of a missing customer");
            continue;
          }
          KASSA_TRY_ASSIGN(auto customer, UnsealCustomer(id, rows.Bytes(r, 4)));
          if (!customer) continue;
          change.customer = std::move(*customer);
        } else if (kind == model::Change::Kind::kClienteling) {
          std::optional<model::LocalId> owner;
          if (!rows.IsNull(r, 2)) {
            KASSA_TRY_ASSIGN(owner, IdOf(rows.Bytes(r, 2)));
          }
          auto record = UnsealClienteling(SealedTable::kChange, owner ? &*owner : nullptr, rows.Bytes(r, 3));
          if (!record.ok()) {
            if (record.status().code() == StatusCode::kNotFound) continue;  // its customer erased since
            return record.status();
          }
          change.clienteling = std::move(*record);
        } else if (kind == model::Change::Kind::kCustomerErased) {
          KASSA_TRY_ASSIGN(change.erased, IdOf(rows.Bytes(r, 2)));
        }
        page.changes.push_back(std::move(change));
      }
      if (rows.size() > 0 && static_cast<std::size_t>(rows.size()) >= max_changes) {
        // The limit cut the read (some rows may have been passed over:
        // about customers erased since): read on from the last row next time.
        page.scanned_to = static_cast<std::uint64_t>(rows.Int(rows.size() - 1, 0));
      } else {
        KASSA_TRY_ASSIGN(const PgRows head, db_->Exec("SELECT value FROM counters WHERE name = 'change'"));
        page.scanned_to = std::max(after, std::min(last, static_cast<std::uint64_t>(head.Int(0, 0))));
      }
      return Status::Ok();
    }));
    return page;
  }

  Result<std::optional<model::Customer>> FindCustomer(const model::LocalId& id) override {
    KASSA_TRY_ASSIGN(const PgRows rows, db_->Exec("SELECT record FROM customers WHERE id = $1", {IdParam(id)}));
    if (rows.size() == 0) return std::optional<model::Customer>();
    return UnsealCustomer(id, rows.Bytes(0, 0));
  }

  Result<std::optional<std::string>> LegalEntityOf(const model::LocalId& id) override {
    KASSA_TRY_ASSIGN(const PgRows rows,
                     db_->Exec("SELECT legal_entity FROM owners WHERE customer_id = $1", {IdParam(id)}));
    if (rows.size() == 0) return std::optional<std::string>();
    return std::optional<std::string>(std::string(rows.Text(0, 0)));
  }

  Result<std::vector<model::BookEntry>> BookEntries(std::string_view legal_entity, std::string_view owner) override {
    std::vector<model::BookEntry> out;
    KASSA_TRY_ASSIGN(const PgRows rows,
                     owner.empty()
                         ? db_->Exec("SELECT customer_id, record FROM book_entries WHERE legal_entity = $1 "
                                     "ORDER BY owner, customer_id",
                                     {PgParam::Text(legal_entity)})
                         : db_->Exec("SELECT customer_id, record FROM book_entries WHERE legal_entity = $1 "
                                     "AND owner = $2 ORDER BY customer_id",
                                     {PgParam::Text(legal_entity), PgParam::Text(owner)}));
    for (int r = 0; r < rows.size(); ++r) {
      KASSA_TRY_ASSIGN(const model::LocalId id, IdOf(rows.Bytes(r, 0)));
      KASSA_TRY_ASSIGN(auto record, UnsealClienteling(SealedTable::kClienteling, &id, rows.Bytes(r, 1)));
      if (record.book_entry) out.push_back(std::move(*record.book_entry));
    }
    return out;
  }

  Result<std::vector<model::TimelineEntry>> Timeline(std::string_view legal_entity, const model::LocalId& customer,
                                                     std::size_t max) override {
    std::vector<model::TimelineEntry> out;
    KASSA_TRY_ASSIGN(const PgRows rows,
                     db_->Exec("SELECT record FROM timeline WHERE legal_entity = $1 AND customer_id = $2 "
                               "ORDER BY at_ms DESC, entry_id LIMIT $3",
                               {PgParam::Text(legal_entity), IdParam(customer), PgParam::Int(Signed(max))}));
    for (int r = 0; r < rows.size(); ++r) {
      KASSA_TRY_ASSIGN(auto record, UnsealClienteling(SealedTable::kClienteling, &customer, rows.Bytes(r, 0)));
      if (record.timeline_entry) out.push_back(std::move(*record.timeline_entry));
    }
    return out;
  }

  Result<std::vector<model::AttributeValue>> Measures(std::string_view legal_entity,
                                                      const model::LocalId& customer) override {
    KASSA_TRY_ASSIGN(const PgRows rows,
                     db_->Exec("SELECT record FROM measures WHERE legal_entity = $1 AND customer_id = $2",
                               {PgParam::Text(legal_entity), IdParam(customer)}));
    if (rows.size() == 0) return std::vector<model::AttributeValue>();
    KASSA_TRY_ASSIGN(auto record, UnsealClienteling(SealedTable::kClienteling, &customer, rows.Bytes(0, 0)));
    if (!record.measures) return std::vector<model::AttributeValue>();
    return std::move(record.measures->measures);
  }

  Result<std::vector<model::ConsentEntry>> Consents(std::string_view legal_entity,
                                                    const model::LocalId& customer) override {
    std::vector<model::ConsentEntry> out;
    KASSA_TRY_ASSIGN(const PgRows rows,
                     db_->Exec("SELECT record FROM consents WHERE legal_entity = $1 AND customer_id = $2 ORDER BY seq",
                               {PgParam::Text(legal_entity), IdParam(customer)}));
    for (int r = 0; r < rows.size(); ++r) {
      KASSA_TRY_ASSIGN(auto record, UnsealClienteling(SealedTable::kClienteling, &customer, rows.Bytes(r, 0)));
      if (record.consent) out.push_back(std::move(*record.consent));
    }
    return out;
  }

  Result<std::vector<TerminalRecord>> Terminals() override {
    std::vector<TerminalRecord> out;
    KASSA_TRY_ASSIGN(const PgRows rows,
                     db_->Exec("SELECT terminal_id, store_id, cursor, last_seen_ms, operations_applied, rejections "
                               "FROM terminals ORDER BY terminal_id"));
    for (int r = 0; r < rows.size(); ++r) {
      out.push_back({std::string(rows.Text(r, 0)), std::string(rows.Text(r, 1)),
                     static_cast<std::uint64_t>(rows.Int(r, 2)), rows.Int(r, 3),
                     static_cast<std::uint64_t>(rows.Int(r, 4)), static_cast<std::uint64_t>(rows.Int(r, 5))});
    }
    return out;
  }

  Result<ChainStats> Stats() override {
    KASSA_TRY_ASSIGN(const PgRows rows,
                     db_->Exec("SELECT name, value FROM counters WHERE name IN ('customers', 'change', 'operations')"));
    ChainStats stats;
    for (int r = 0; r < rows.size(); ++r) {
      const auto v = static_cast<std::uint64_t>(rows.Int(r, 1));
      const std::string_view name = rows.Text(r, 0);
      if (name == "customers") stats.customers = v;
      if (name == "change") stats.head_seq = v;
      if (name == "operations") stats.operations = v;
    }
    return stats;
  }

  Result<std::optional<std::string>> LoadConfigText() override {
    KASSA_TRY_ASSIGN(const auto text, Secret("config"));
    if (!text) return std::optional<std::string>();
    return std::optional<std::string>(std::string(AsChars(*text)));
  }

  Status Read(const Reader& read) override;

  Result<std::optional<AdminCredential>> FindAdminCredential(std::string_view token_sha256) override {
    KASSA_TRY_ASSIGN(const PgRows rows,
                     db_->Exec("SELECT token_sha256, name, role, created_ms FROM admin_credentials "
                               "WHERE token_sha256 = $1",
                               {PgParam::Text(token_sha256)}));
    if (rows.size() == 0) return std::optional<AdminCredential>();
    return std::optional<AdminCredential>(CredentialAt(rows, 0));
  }

  Result<std::vector<AdminCredential>> AdminCredentials() override {
    std::vector<AdminCredential> out;
    KASSA_TRY_ASSIGN(const PgRows rows, db_->Exec("SELECT token_sha256, name, role, created_ms FROM admin_credentials "
                                                  "ORDER BY token_sha256"));
    for (int r = 0; r < rows.size(); ++r) out.push_back(CredentialAt(rows, r));
    return out;
  }

  Result<std::string> ChainSecret(std::string_view name) override {
    const std::string key = "secret:" + std::string(name);
    const auto checked = [](const Bytes& v) -> Result<std::string> {
      if (v.size() != 32) return Status(StatusCode::kDataLoss, "storage corrupted: a chain secret is not 32 bytes");
      return std::string(AsChars(v));
    };
    KASSA_TRY_ASSIGN(const auto stored, Secret(key));
    if (stored) return checked(*stored);
    std::array<std::uint8_t, 32> fresh{};
    KASSA_TRY(crypto::RandomBytes(fresh));
    KASSA_TRY(Transact([&](ChainTxn&) -> Status {
      KASSA_TRY_ASSIGN(const Bytes sealed, keys_.Seal(*db_, SealedTable::kSecret, nullptr, fresh));
      // Another headquarters process may have made it meanwhile: the first one stays.
      return db_->Exec("INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                       {PgParam::Text(key), PgParam::Bytea(sealed)})
          .status();
    }));
    crypto::Wipe(fresh.data(), fresh.size());
    KASSA_TRY_ASSIGN(const auto kept, Secret(key));
    if (!kept) return Status(StatusCode::kInternal, "storage: a chain secret was not kept");
    return checked(*kept);
  }

  Result<std::vector<WipeOrder>> WipeOrders() override {
    std::vector<WipeOrder> out;
    KASSA_TRY_ASSIGN(const PgRows rows,
                     db_->Exec("SELECT terminal_id, ordered_ms, who, confirmed_ms, certificate_serial FROM wipe_orders "
                               "ORDER BY terminal_id"));
    for (int r = 0; r < rows.size(); ++r) {
      out.push_back({std::string(rows.Text(r, 0)), rows.Int(r, 1), std::string(rows.Text(r, 2)), rows.Int(r, 3),
                     std::string(rows.Text(r, 4))});
    }
    return out;
  }

  Result<bool> IsCertificateRevoked(std::string_view serial_hex) override {
    KASSA_TRY_ASSIGN(const PgRows rows,
                     db_->Exec("SELECT 1 FROM revoked_certificates WHERE serial = $1", {PgParam::Text(serial_hex)}));
    return rows.size() > 0;
  }

  Result<std::vector<AuditEntry>> Audit(std::size_t max) override {
    std::vector<AuditEntry> out;
    KASSA_TRY_ASSIGN(const PgRows rows, db_->Exec("SELECT seq, at_ms, who, what FROM admin_audit ORDER BY seq DESC LIMIT $1",
                                                  {PgParam::Int(Signed(max))}));
    for (int r = 0; r < rows.size(); ++r) {
      out.push_back({static_cast<std::uint64_t>(rows.Int(r, 0)), rows.Int(r, 1), std::string(rows.Text(r, 2)),
                     std::string(rows.Text(r, 3))});
    }
    return out;
  }

  Result<std::vector<model::Customer>> CustomersAfter(const std::optional<model::LocalId>& after,
                                                     std::size_t max) override {
    std::vector<model::Customer> out;
    const model::LocalId from = after.value_or(model::LocalId{});
    KASSA_TRY_ASSIGN(const PgRows rows,
                     after ? db_->Exec("SELECT id, record FROM customers WHERE id > $1 ORDER BY id LIMIT $2",
                                       {IdParam(from), PgParam::Int(Signed(max))})
                           : db_->Exec("SELECT id, record FROM customers ORDER BY id LIMIT $1",
                                       {PgParam::Int(Signed(max))}));
    for (int r = 0; r < rows.size(); ++r) {
      KASSA_TRY_ASSIGN(const model::LocalId id, IdOf(rows.Bytes(r, 0)));
      KASSA_TRY_ASSIGN(auto customer, UnsealCustomer(id, rows.Bytes(r, 1)));
      if (customer) out.push_back(std::move(*customer));
    }
    return out;
  }

  Result<std::size_t> PruneErasureMarkers(std::string_view legal_entity, std::uint64_t confirmed_upto) override {
    std::size_t pruned = 0;
    KASSA_TRY(Transact([&](ChainTxn&) -> Status {
      KASSA_TRY_ASSIGN(const PgRows rows,
                       db_->Exec("DELETE FROM changes WHERE kind = $1 AND scope = $2 AND seq <= $3",
                                 {PgParam::Int(static_cast<std::int64_t>(model::Change::Kind::kCustomerErased)),
                                  PgParam::Text(legal_entity), PgParam::Int(Signed(confirmed_upto))}));
      pruned = rows.affected();
      return Status::Ok();
    }));
    return pruned;
  }

  Result<std::size_t> PruneAudit(std::int64_t before_ms) override {
    std::size_t pruned = 0;
    KASSA_TRY(Transact([&](ChainTxn&) -> Status {
      KASSA_TRY_ASSIGN(const PgRows audit,
                       db_->Exec("DELETE FROM admin_audit WHERE at_ms < $1", {PgParam::Int(before_ms)}));
      KASSA_TRY_ASSIGN(const PgRows access,
                       db_->Exec("DELETE FROM access_events WHERE at_ms < $1", {PgParam::Int(before_ms)}));
      pruned = audit.affected() + access.affected();
      return Status::Ok();
    }));
    return pruned;
  }

  Result<std::vector<model::AccessEvent>> AccessEvents(const model::LocalId& id, std::size_t max) override {
    std::vector<model::AccessEvent> out;
    KASSA_TRY_ASSIGN(const PgRows rows,
                     db_->Exec("SELECT at_ms, terminal_id, seq, action, actor FROM access_events WHERE customer_id = $1 "
                               "ORDER BY at_ms DESC, terminal_id DESC, origin DESC, seq DESC LIMIT $2",
                               {IdParam(id), PgParam::Int(Signed(max))}));
    for (int r = 0; r < rows.size(); ++r) {
      const auto action = model::AccessActionFromWire(static_cast<std::uint32_t>(rows.Int(r, 3)));
      if (!action) return Status(StatusCode::kDataLoss, "storage corrupted: malformed access event");
      out.push_back({id, *action, rows.Int(r, 0), std::string(rows.Text(r, 1)), std::string(rows.Text(r, 4)),
                     static_cast<std::uint64_t>(rows.Int(r, 2))});
    }
    return out;
  }

  Result<RewrapBatch> RewrapKeys(std::uint32_t from, std::uint32_t max) override {
    if (!keys_.encrypted()) return Status(StatusCode::kFailedPrecondition, "data: the store is not sealed");
    RewrapBatch batch;
    KASSA_TRY(Transact([&](ChainTxn&) -> Status {
      KASSA_TRY_ASSIGN(batch, keys_.Rewrap(*db_, from, max));
      return Status::Ok();
    }));
    return batch;
  }

  Result<std::vector<ErasureRecord>> Erasures(std::size_t max) override {
    std::vector<ErasureRecord> out;
    KASSA_TRY_ASSIGN(const PgRows rows,
                     db_->Exec("SELECT customer_id, legal_entity, seq, at_ms, who FROM erasures ORDER BY seq DESC "
                               "LIMIT $1",
                               {PgParam::Int(Signed(max))}));
    for (int r = 0; r < rows.size(); ++r) out.push_back(ErasureAt(rows, r));
    return out;
  }

  Status RederiveLocked() {
    static constexpr int kRederiveBatch = 500;
    KASSA_TRY_ASSIGN(const PgRows stale, db_->Exec("SELECT value FROM settings WHERE name = 'search_terms_stale'"));
    if (stale.size() == 0) return Status::Ok();
    KASSA_LOG(kInfo) << "deriving every customer's search terms again (" << stale.Text(0, 0) << ")";
    std::uint64_t customers = 0;
    Bytes after;  // the last id done; none yet
    for (bool done = false; !done;) {
      KASSA_TRY(db_->Begin());
      const Status s = [&]() -> Status {
        // Locked: a writer of one of them waits for this batch.
        KASSA_TRY_ASSIGN(const PgRows rows,
                         db_->Exec("SELECT id, record FROM customers WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE",
                                   {PgParam::Bytea(after), PgParam::Int(kRederiveBatch)}));
        std::vector<model::LocalId> ids;
        PgCopyRows terms;
        for (int r = 0; r < rows.size(); ++r) {
          KASSA_TRY_ASSIGN(const model::LocalId id, IdOf(rows.Bytes(r, 0)));
          ids.push_back(id);
          KASSA_TRY_ASSIGN(const std::optional<model::Customer> c, UnsealCustomer(id, rows.Bytes(r, 1)));
          if (!c) continue;  // erased: its terms went with it
          std::set<std::pair<std::int64_t, std::string>> seen;  // a customer's term once (a card twice)
          for (const PgTerm& t : TermsOf(keys_, search::IndexEntriesOf(*c))) {
            if (!seen.emplace(t.kind, t.term).second) continue;
            terms.Row(5).Int16(t.kind).Text(t.term).Bytes(IdBytes(id)).Int16(t.field).Text(t.detail);
          }
        }
        if (ids.empty()) {
          done = true;
          return db_->Exec("DELETE FROM settings WHERE name = 'search_terms_stale'").status();
        }
        KASSA_TRY(db_->Exec("DELETE FROM search_terms WHERE customer_id IN " KASSA_PG_ID_LIST, {PgParam::IdList(ids)})
                      .status());
        KASSA_TRY(db_->Copy("search_terms (kind, term, customer_id, field, detail)", terms));
        after.assign(ids.back().bytes.begin(), ids.back().bytes.end());
        customers += ids.size();
        return Status::Ok();
      }();
      if (!s.ok()) {
        db_->Rollback();
        return s;
      }
      KASSA_TRY(db_->Commit());
    }
    KASSA_LOG(kInfo) << "search terms derived again for " << customers << " customers";
    return Status::Ok();
  }

  // A customer's record opened (nullopt: its key is gone: erased).
  Result<std::optional<model::Customer>> UnsealCustomer(const model::LocalId& id, ByteView sealed) {
    auto plain = keys_.Unseal(*db_, SealedTable::kCustomer, &id, sealed);
    if (!plain.ok()) {
      if (plain.status().code() == StatusCode::kNotFound) return std::optional<model::Customer>();
      return plain.status();
    }
    auto c = proto_codec::DecodeCustomer(*plain);
    crypto::Wipe(plain->data(), plain->size());
    KASSA_TRY(c.status());
    return std::optional<model::Customer>(std::move(*c));
  }

  Result<model::ClientelingRecord> UnsealClienteling(SealedTable table, const model::LocalId* owner, ByteView sealed) {
    KASSA_TRY_ASSIGN(Bytes plain, keys_.Unseal(*db_, table, owner, sealed));
    auto record = proto_codec::DecodeClientelingRecord(plain);
    crypto::Wipe(plain.data(), plain.size());
    return record;
  }

  Result<Bytes> SealClienteling(SealedTable table, const model::ClientelingRecord& record) {
    KASSA_TRY_ASSIGN(Bytes plain, proto_codec::EncodeClientelingRecord(record));
    const model::LocalId* owner = CustomerOfRecord(record);
    auto sealed = keys_.Seal(*db_, table, owner, plain);
    crypto::Wipe(plain.data(), plain.size());
    return sealed;
  }

  // The customer a clienteling record is about, whose key seals it (null:
  // the legal entity's own records).
  static const model::LocalId* CustomerOfRecord(const model::ClientelingRecord& r) {
    return ClientelingTables::CustomerOf(r);
  }

  static ErasureRecord ErasureAt(const PgRows& rows, int r) {
    model::LocalId id;
    const ByteView b = rows.Bytes(r, 0);
    std::copy_n(b.begin(), std::min(b.size(), id.bytes.size()), id.bytes.begin());
    return {id, std::string(rows.Text(r, 1)), static_cast<std::uint64_t>(rows.Int(r, 2)), rows.Int(r, 3),
            std::string(rows.Text(r, 4))};
  }

  static AdminCredential CredentialAt(const PgRows& rows, int r) {
    return {std::string(rows.Text(r, 0)), std::string(rows.Text(r, 1)), std::string(rows.Text(r, 2)), rows.Int(r, 3)};
  }

  // A value of `secrets` opened (nullopt: none).
  Result<std::optional<Bytes>> Secret(std::string_view name) {
    KASSA_TRY_ASSIGN(const PgRows rows, db_->Exec("SELECT value FROM secrets WHERE name = $1", {PgParam::Text(name)}));
    if (rows.size() == 0) return std::optional<Bytes>();
    KASSA_TRY_ASSIGN(Bytes plain, keys_.Unseal(*db_, SealedTable::kSecret, nullptr, rows.Bytes(0, 0)));
    return std::optional<Bytes>(std::move(plain));
  }

  PgConn& db() { return *db_; }
  PgKeys& keys() { return keys_; }

 private:
  std::unique_ptr<PgConn> db_;
  PgKeys keys_;
};

// The search index, as one REPEATABLE READ snapshot sees it.
class PgSnapshot final : public search::IndexSnapshot {
 public:
  explicit PgSnapshot(PgChainStore& store) : store_(store) {}

  Status VisitPrefix(search::IndexKind kind, std::string_view prefix, const Visitor& visit) const override {
    const std::string low = store_.keys().IndexTerm(kind, prefix);
    const std::optional<std::string> high = PrefixEnd(low);
    // Pages of kPage entries, each after the last one seen.
    std::optional<std::pair<std::string, model::LocalId>> last;
    for (;;) {
      std::vector<PgParam> params{PgParam::Int(static_cast<std::int64_t>(kind)), PgParam::Bytea(AsBytes(low)),
                                  PgParam::Int(kPage)};
      std::string sql = "SELECT term, customer_id, field, detail FROM search_terms WHERE kind = $1 AND term >= $2";
      if (high) {
        params.push_back(PgParam::Bytea(AsBytes(*high)));
        sql += " AND term < $" + std::to_string(params.size());
      }
      if (last) {
        params.push_back(PgParam::Bytea(AsBytes(last->first)));
        params.push_back(IdParam(last->second));
        sql += " AND (term, customer_id) > ($" + std::to_string(params.size() - 1) + ", $" +
               std::to_string(params.size()) + ")";
      }
      sql += " ORDER BY term, customer_id LIMIT $3";
      KASSA_TRY_ASSIGN(const PgRows rows, store_.db().Exec(sql, params));
      for (int r = 0; r < rows.size(); ++r) {
        KASSA_TRY_ASSIGN(const model::LocalId id, IdOf(rows.Bytes(r, 1)));
        const std::string_view term = rows.Text(r, 0);
        const search::IndexEntryView view{id, term, static_cast<search::MatchedField>(rows.Int(r, 2)),
                                          rows.Text(r, 3), term.size() == low.size()};
        if (!visit(view)) return Status::Ok();
        last.emplace(std::string(term), id);
      }
      if (rows.size() < kPage) return Status::Ok();
    }
  }

  Result<std::vector<model::Customer>> GetMany(const std::vector<model::LocalId>& ids) const override {
    std::vector<model::Customer> out;
    if (ids.empty()) return out;
    std::vector<PgParam> params;
    std::string sql = "SELECT id, record FROM customers WHERE id IN (";
    for (const auto& id : ids) {
      params.push_back(IdParam(id));
      sql += (params.size() > 1 ? ", $" : "$") + std::to_string(params.size());
    }
    sql += ")";
    KASSA_TRY_ASSIGN(const PgRows rows, store_.db().Exec(sql, params));
    std::vector<std::pair<model::LocalId, int>> found;
    for (int r = 0; r < rows.size(); ++r) {
      KASSA_TRY_ASSIGN(const model::LocalId id, IdOf(rows.Bytes(r, 0)));
      found.emplace_back(id, r);
    }
    for (const auto& id : ids) {
      const auto it = std::find_if(found.begin(), found.end(), [&](const auto& f) { return f.first == id; });
      if (it == found.end()) return Status(StatusCode::kNotFound, "customer: not found");
      KASSA_TRY_ASSIGN(auto customer, store_.UnsealCustomer(id, rows.Bytes(it->second, 1)));
      if (!customer) return Status(StatusCode::kNotFound, "customer: not found");
      out.push_back(std::move(*customer));
    }
    return out;
  }

  std::string StoredTerm(search::IndexKind kind, std::string_view term) const override {
    return store_.keys().IndexTerm(kind, term);
  }
  bool exact_terms() const override { return !store_.keys().encrypted(); }

 private:
  static constexpr int kPage = 256;
  PgChainStore& store_;
};

Status PgChainStore::Read(const Reader& read) {
  return Snapshot([&]() -> Status {
    const PgSnapshot snapshot(*this);
    return read(snapshot);
  });
}

Status PgChainTxn::LoadCustomers(const std::vector<model::LocalId>& ids) {
  if (ids.empty()) return Status::Ok();
  for (const auto& id : ids) known_.try_emplace(id);  // absent unless found below
  KASSA_TRY_ASSIGN(const PgRows rows,
                   store_.db().Exec("SELECT o.customer_id, o.legal_entity, c.record, k.wrapped, c.change_seq FROM owners o "
                                    "LEFT JOIN customers c ON c.id = o.customer_id "
                                    "LEFT JOIN customer_keys k ON k.customer_id = o.customer_id "
                                    "WHERE o.customer_id IN " KASSA_PG_ID_LIST,
                                    {PgParam::IdList(ids)}));
  std::set<model::LocalId> found;
  for (int r = 0; r < rows.size(); ++r) {
    KASSA_TRY_ASSIGN(const model::LocalId id, IdOf(rows.Bytes(r, 0)));
    Known& known = known_[id];
    known.owner = std::string(rows.Text(r, 1));
    found.insert(id);
    if (!rows.IsNull(r, 3)) {
      KASSA_TRY(store_.keys().Remember(id, rows.Bytes(r, 3)));
    } else {
      store_.keys().RememberAbsent(id);
    }
    if (rows.IsNull(r, 2)) continue;
    KASSA_TRY_ASSIGN(known.customer, store_.UnsealCustomer(id, rows.Bytes(r, 2)));
    known.in_database = known.customer.has_value();
    if (!rows.IsNull(r, 4)) known.latest = static_cast<std::uint64_t>(rows.Int(r, 4));
  }
  // Never heard of: no key either (keys are made with records).
  for (const auto& id : ids) {
    if (!found.contains(id)) store_.keys().RememberAbsent(id);
  }
  return Status::Ok();
}

Status PgChainTxn::Prefetch(const std::vector<model::LocalId>& op_ids, const std::vector<model::LocalId>& customers) {
  PgConn& db = store_.db();
  if (!op_ids.empty()) {
    for (const auto& id : op_ids) outcomes_.try_emplace(id);
    KASSA_TRY_ASSIGN(const PgRows rows,
                     db.Exec("SELECT op_id, outcome FROM operations "
                             "WHERE op_id IN " KASSA_PG_ID_LIST,
                             {PgParam::IdList(op_ids)}));
    for (int r = 0; r < rows.size(); ++r) {
      KASSA_TRY_ASSIGN(const model::LocalId id, IdOf(rows.Bytes(r, 0)));
      KASSA_TRY_ASSIGN(const Bytes plain, store_.keys().Unseal(db, SealedTable::kOutcome, nullptr, rows.Bytes(r, 1)));
      KASSA_TRY_ASSIGN(auto acks, proto_codec::DecodeUploadAcks(plain));
      if (acks.size() != 1) return Status(StatusCode::kDataLoss, "storage corrupted: bad operation outcome");
      outcomes_[id] = std::move(acks.front());
    }
  }
  if (!customers.empty()) {
    for (const auto& id : customers) erasures_.try_emplace(id);
    KASSA_TRY_ASSIGN(const PgRows rows,
                     db.Exec("SELECT customer_id, legal_entity, seq, at_ms, who FROM erasures "
                             "WHERE customer_id IN " KASSA_PG_ID_LIST,
                             {PgParam::IdList(customers)}));
    for (int r = 0; r < rows.size(); ++r) {
      const ErasureRecord e = PgChainStore::ErasureAt(rows, r);
      erasures_[e.customer] = e;
    }
    std::vector<model::LocalId> unknown;
    for (const auto& id : customers) {
      if (!known_.contains(id)) unknown.push_back(id);
    }
    KASSA_TRY(LoadCustomers(unknown));
  }
  return Status::Ok();
}

Result<const PgChainTxn::Known*> PgChainTxn::Look(const model::LocalId& id) {
  auto it = known_.find(id);
  if (it == known_.end()) {
    KASSA_TRY(LoadCustomers({id}));
    it = known_.find(id);
  }
  return &it->second;
}

Result<std::uint64_t> PgChainTxn::Counter(std::string_view name) {
  auto it = counters_.find(name);
  if (it == counters_.end()) {
    // Locked until this transaction ends: another writer's next number waits
    // for this one's commit (the change log's commit order).
    KASSA_TRY_ASSIGN(const PgRows rows, store_.db().Exec("SELECT value FROM counters WHERE name = $1 FOR UPDATE",
                                                         {PgParam::Text(name)}));
    if (rows.size() != 1) return Status(StatusCode::kDataLoss, "storage corrupted: a counter is missing");
    it = counters_.emplace(std::string(name), static_cast<std::uint64_t>(rows.Int(0, 0))).first;
  }
  ++it->second;
  pending_.Counter(name, it->second);
  return it->second;
}

Result<std::uint64_t> PgChainTxn::AppendChange(model::Change::Kind kind, std::string_view scope,
                                               const model::LocalId* customer, const Bytes* body) {
  KASSA_TRY_ASSIGN(const std::uint64_t seq, Counter("change"));
  pending_.Change(seq, kind, scope, customer, body);
  return seq;
}

Status PgChainTxn::Flush() {
  Status s = store_.keys().WriteMade(store_.db());
  if (s.ok()) s = pending_.Flush(store_.db());
  if (s.code() == StatusCode::kAlreadyExists) flush_refused_ = true;
  return s;
}

Result<std::optional<model::OperationAck>> PgChainTxn::FindOutcome(const model::LocalId& op_id) {
  auto it = outcomes_.find(op_id);
  if (it == outcomes_.end()) {
    KASSA_TRY(Prefetch({op_id}, {}));
    it = outcomes_.find(op_id);
  }
  return it->second;
}

Status PgChainTxn::RecordOutcome(const model::OperationAck& ack) {
  KASSA_TRY_ASSIGN(const Bytes v, proto_codec::EncodeUploadAcks(std::span<const model::OperationAck>(&ack, 1)));
  KASSA_TRY_ASSIGN(Bytes sealed, store_.keys().Seal(store_.db(), SealedTable::kOutcome, nullptr, v));
  // Headquarters looks an operation up before it records its outcome: the
  // cache knows whether the database holds one.
  const auto it = outcomes_.find(ack.op_id);
  const bool replaces = it != outcomes_.end() && it->second.has_value();
  if (!replaces) pending_.Count(0, 1);
  pending_.Outcome(ack.op_id, std::move(sealed), replaces || it == outcomes_.end());
  outcomes_[ack.op_id] = ack;
  return Status::Ok();
}

Result<std::optional<model::Customer>> PgChainTxn::FindCustomer(const model::LocalId& id) {
  KASSA_TRY_ASSIGN(const Known* known, Look(id));
  return known->customer;
}

Result<std::optional<std::string>> PgChainTxn::LegalEntityOf(const model::LocalId& id) {
  KASSA_TRY_ASSIGN(const Known* known, Look(id));
  return known->owner;
}

Status PgChainTxn::Stage(const model::Customer& c, bool old_in_database, bool new_owner,
                         std::string_view legal_entity) {
  PgKeys& keys = store_.keys();
  PgCustomerRow row;
  row.id = c.id;
  row.replaces = old_in_database;
  const std::vector<search::IndexEntry> entries = search::IndexEntriesOf(c);
  std::set<Bytes> cards;
  for (const auto& e : entries) {
    if (e.kind == search::IndexKind::kAccount) row.account_tag = keys.UniqueTag(e.kind, e.term);
    if (e.kind == search::IndexKind::kLoyaltyCard) cards.insert(keys.UniqueTag(e.kind, e.term));
  }
  row.terms = TermsOf(keys, entries);
  row.card_tags.assign(cards.begin(), cards.end());
  if (careful_) {
    // What the database holds now, everything before this customer written.
    KASSA_TRY(Flush());
    std::vector<PgParam> params{IdParam(c.id), row.account_tag ? PgParam::Bytea(*row.account_tag) : PgParam::Null()};
    std::string cards_sql = "false";
    for (const Bytes& tag : row.card_tags) {
      params.push_back(PgParam::Bytea(tag));
      cards_sql += " OR card_tag = $" + std::to_string(params.size());
    }
    KASSA_TRY_ASSIGN(const PgRows taken,
                     store_.db().Exec("SELECT EXISTS (SELECT 1 FROM customers WHERE account_tag = $2 AND id <> $1), "
                                      "EXISTS (SELECT 1 FROM loyalty_cards WHERE (" + cards_sql +
                                          ") AND customer_id <> $1)",
                                      params));
    if (taken.Int(0, 0) != 0) return Status(StatusCode::kAlreadyExists, "account: already belongs to another customer");
    if (taken.Int(0, 1) != 0) {
      return Status(StatusCode::kAlreadyExists, "loyalty_cards: card already belongs to another customer");
    }
  }
  KASSA_TRY_ASSIGN(Bytes plain, proto_codec::EncodeCustomer(c));
  auto sealed = keys.Seal(store_.db(), SealedTable::kCustomer, &c.id, plain);
  crypto::Wipe(plain.data(), plain.size());
  KASSA_TRY_ASSIGN(row.sealed, std::move(sealed));
  KASSA_TRY(pending_.Customer(std::move(row)));  // refused: nothing of it kept
  if (new_owner) pending_.Owner(c.id, legal_entity);
  return Status::Ok();
}

Status PgChainTxn::PutCustomer(const model::Customer& c, std::string_view legal_entity) {
  KASSA_TRY_ASSIGN(const Known* known, Look(c.id));
  const Known before = *known;
  KASSA_TRY(Stage(c, before.in_database, !before.owner.has_value(), legal_entity));
  if (!before.customer) pending_.Count(1, 0);
  KASSA_TRY_ASSIGN(const std::uint64_t seq, AppendChange(model::Change::Kind::kCustomerUpsert, legal_entity, &c.id, nullptr));
  // The log is compacted: the customer's previous upsert goes (the new one
  // sends it as it is now to every terminal behind it).
  if (before.latest) pending_.DropChange(*before.latest);
  pending_.SetChangeSeq(c.id, seq);
  known_[c.id] = Known{c, before.owner ? before.owner : std::optional<std::string>(std::string(legal_entity)),
                       before.in_database, seq};
  return Status::Ok();
}

Status PgChainTxn::AppendStoreConfigChange(std::string_view store_id) {
  return AppendChange(model::Change::Kind::kStoreConfig, store_id, nullptr, nullptr).status();
}

Status PgChainTxn::PutTerminal(const TerminalRecord& t) {
  pending_.Terminal(t);
  return Status::Ok();
}

Status PgChainTxn::SaveConfigText(std::string_view text) {
  KASSA_TRY_ASSIGN(const Bytes sealed, store_.keys().Seal(store_.db(), SealedTable::kSecret, nullptr, AsBytes(text)));
  return store_.db()
      .Exec("INSERT INTO secrets (name, value) VALUES ('config', $1) ON CONFLICT (name) DO UPDATE SET value = $1",
            {PgParam::Bytea(sealed)})
      .status();
}

// Stores clienteling record `r` of `legal_entity` in the table its kind
// names (`tag`: ClientelingTables' key letter), replacing the row it replaces.
Status StoreClienteling(PgChainStore& store, char tag, std::string_view legal_entity, const model::ClientelingRecord& r) {
  PgConn& db = store.db();
  const PgParam le = PgParam::Text(legal_entity);
  KASSA_TRY_ASSIGN(const Bytes sealed, store.SealClienteling(SealedTable::kClienteling, r));
  const PgParam value = PgParam::Bytea(sealed);
  switch (tag) {
    case 'C':
      return db.Exec("INSERT INTO clienteling_settings (legal_entity, record) VALUES ($1, $2) "
                     "ON CONFLICT (legal_entity) DO UPDATE SET record = EXCLUDED.record",
                     {le, value})
          .status();
    case 'O':
      if (!r.op) break;
      return db.Exec("INSERT INTO operators (legal_entity, worker_id, record) VALUES ($1, $2, $3) "
                     "ON CONFLICT (legal_entity, worker_id) DO UPDATE SET record = EXCLUDED.record",
                     {le, PgParam::Text(r.op->worker_id), value})
          .status();
    case 'M':
      if (!r.measures) break;
      return db.Exec("INSERT INTO measures (legal_entity, customer_id, record) VALUES ($1, $2, $3) "
                     "ON CONFLICT (legal_entity, customer_id) DO UPDATE SET record = EXCLUDED.record",
                     {le, IdParam(r.measures->customer_id), value})
          .status();
    case 'T':
      if (!r.timeline_entry) break;
      return db.Exec("INSERT INTO timeline (legal_entity, customer_id, at_ms, entry_id, record) "
                     "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (legal_entity, customer_id, at_ms, entry_id) "
                     "DO UPDATE SET record = EXCLUDED.record",
                     {le, IdParam(r.timeline_entry->customer_id), PgParam::Int(r.timeline_entry->at_ms),
                      IdParam(r.timeline_entry->id), value})
          .status();
    case 'G':
      if (!r.consent) break;
      if (r.consent->seq == 0) return Status(StatusCode::kInvalidArgument, "consent: not ordered by headquarters");
      return db.Exec("INSERT INTO consents (legal_entity, customer_id, seq, record) VALUES ($1, $2, $3, $4) "
                     "ON CONFLICT (legal_entity, customer_id, seq) DO UPDATE SET record = EXCLUDED.record",
                     {le, IdParam(r.consent->customer_id), PgParam::Int(Signed(r.consent->seq)), value})
          .status();
    case 'H':
      if (!r.book_entry) break;
      return db.Exec("INSERT INTO books (legal_entity, owner, record) VALUES ($1, $2, $3) "
                     "ON CONFLICT (legal_entity, owner) DO UPDATE SET record = EXCLUDED.record",
                     {le, PgParam::Text(r.book_entry->owner), value})
          .status();
    case 'E':
      if (!r.book_entry) break;
      return db.Exec("INSERT INTO book_entries (legal_entity, owner, customer_id, record) VALUES ($1, $2, $3, $4) "
                     "ON CONFLICT (legal_entity, owner, customer_id) DO UPDATE SET record = EXCLUDED.record",
                     {le, PgParam::Text(r.book_entry->owner), IdParam(r.book_entry->customer_id), value})
          .status();
    default:
      break;
  }
  return Status(StatusCode::kDataLoss, "storage corrupted: a clienteling record of an unknown kind");
}

Status PgChainTxn::ApplyClienteling(std::string_view legal_entity, const model::ClientelingRecord& r) {
  PgConn& db = store_.db();
  if (r.config) {
    KASSA_TRY(StoreClienteling(store_, 'C', legal_entity, r));
  } else if (r.op) {
    if (!ClientelingTables::AcceptsOperator(*r.op)) return Status::Ok();
    KASSA_TRY(StoreClienteling(store_, 'O', legal_entity, r));
  } else if (r.measures) {
    KASSA_TRY(StoreClienteling(store_, 'M', legal_entity, r));
  } else if (r.timeline_entry) {
    KASSA_TRY(StoreClienteling(store_, 'T', legal_entity, r));
  } else if (r.consent) {
    KASSA_TRY(StoreClienteling(store_, 'G', legal_entity, r));
  } else if (r.book_entry) {
    const model::BookEntry& e = *r.book_entry;
    const PgParam le = PgParam::Text(legal_entity);
    if (!e.from_owner.empty() && e.from_owner != e.owner) {
      KASSA_TRY(db.Exec("DELETE FROM book_entries WHERE legal_entity = $1 AND owner = $2 AND customer_id = $3",
                        {le, PgParam::Text(e.from_owner), IdParam(e.customer_id)})
                    .status());
    }
    if (e.present) {
      KASSA_TRY(StoreClienteling(store_, 'E', legal_entity, r));
    } else {
      KASSA_TRY(db.Exec("DELETE FROM book_entries WHERE legal_entity = $1 AND owner = $2 AND customer_id = $3",
                        {le, PgParam::Text(e.owner), IdParam(e.customer_id)})
                    .status());
    }
    KASSA_TRY_ASSIGN(const auto header, FindBook(legal_entity, e.owner));
    if (const auto next = ClientelingTables::BookHeaderAfter(header, e)) {
      KASSA_TRY(StoreClienteling(store_, 'H', legal_entity, *next));
    }
  } else {
    return Status(StatusCode::kInvalidArgument, "clienteling: an empty record");
  }
  KASSA_TRY_ASSIGN(const Bytes body, store_.SealClienteling(SealedTable::kChange, r));
  return AppendChange(model::Change::Kind::kClienteling, legal_entity, PgChainStore::CustomerOfRecord(r), &body)
      .status();
}

Result<std::optional<model::BookEntry>> PgChainTxn::FindBook(std::string_view legal_entity, std::string_view owner) {
  KASSA_TRY_ASSIGN(const PgRows rows, store_.db().Exec("SELECT record FROM books WHERE legal_entity = $1 AND owner = $2",
                                                       {PgParam::Text(legal_entity), PgParam::Text(owner)}));
  if (rows.size() == 0) return std::optional<model::BookEntry>();
  KASSA_TRY_ASSIGN(auto record, store_.UnsealClienteling(SealedTable::kClienteling, nullptr, rows.Bytes(0, 0)));
  if (!record.book_entry) return std::optional<model::BookEntry>();
  return std::optional<model::BookEntry>(std::move(*record.book_entry));
}

Status PgChainTxn::PutAdminCredential(const AdminCredential& c) {
  return store_.db()
      .Exec("INSERT INTO admin_credentials (token_sha256, name, role, created_ms) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (token_sha256) DO UPDATE SET name = EXCLUDED.name, role = EXCLUDED.role, "
            "created_ms = EXCLUDED.created_ms",
            {PgParam::Text(c.token_sha256), PgParam::Text(c.name), PgParam::Text(c.role), PgParam::Int(c.created_ms)})
      .status();
}

Status PgChainTxn::RemoveAdminCredential(std::string_view token_sha256) {
  return store_.db()
      .Exec("DELETE FROM admin_credentials WHERE token_sha256 = $1", {PgParam::Text(token_sha256)})
      .status();
}

Status PgChainTxn::RevokeCertificate(std::string_view serial_hex, std::int64_t at_ms) {
  return store_.db()
      .Exec("INSERT INTO revoked_certificates (serial, revoked_ms) VALUES ($1, $2) "
            "ON CONFLICT (serial) DO UPDATE SET revoked_ms = EXCLUDED.revoked_ms",
            {PgParam::Text(serial_hex), PgParam::Int(at_ms)})
      .status();
}

Status PgChainTxn::PutWipeOrder(const WipeOrder& o) {
  return store_.db()
      .Exec("INSERT INTO wipe_orders (terminal_id, ordered_ms, who, confirmed_ms, certificate_serial) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (terminal_id) DO UPDATE SET ordered_ms = EXCLUDED.ordered_ms, "
            "who = EXCLUDED.who, confirmed_ms = EXCLUDED.confirmed_ms, certificate_serial = EXCLUDED.certificate_serial",
            {PgParam::Text(o.terminal_id), PgParam::Int(o.ordered_ms), PgParam::Text(o.who),
             PgParam::Int(o.confirmed_ms), PgParam::Text(o.certificate_serial)})
      .status();
}

Status PgChainTxn::AppendAudit(std::int64_t at_ms, std::string_view who, std::string_view what) {
  return store_.db()
      .Exec("INSERT INTO admin_audit (at_ms, who, what) VALUES ($1, $2, $3)",
            {PgParam::Int(at_ms), PgParam::Text(who), PgParam::Text(what)})
      .status();
}

Status PgChainTxn::AppendAccessEvent(const model::AccessEvent& e) {
  pending_.Access(e);
  return Status::Ok();
}

Result<std::optional<ErasureRecord>> PgChainTxn::FindErasure(const model::LocalId& id) {
  auto it = erasures_.find(id);
  if (it == erasures_.end()) {
    KASSA_TRY(Prefetch({}, {id}));
    it = erasures_.find(id);
  }
  return it->second;
}

Result<ErasureRecord> PgChainTxn::EraseCustomer(const model::LocalId& id, std::string_view legal_entity,
                                                std::int64_t at_ms, std::string_view who) {
  KASSA_TRY_ASSIGN(const auto before, FindErasure(id));
  if (before) return *before;
  // Everything waiting first: the customer may have been put in this transaction.
  KASSA_TRY(Flush());
  PgConn& db = store_.db();
  const PgParam le = PgParam::Text(legal_entity);
  // The key first: nothing sealed under it opens from this commit on.
  KASSA_TRY(store_.keys().Shred(db, id));
  // Its upsert leaves the log: only the erasure travels.
  KASSA_TRY(db.Exec("DELETE FROM changes WHERE seq = (SELECT change_seq FROM customers WHERE id = $1)", {IdParam(id)})
                .status());
  KASSA_TRY_ASSIGN(const PgRows gone, db.Exec("DELETE FROM customers WHERE id = $1", {IdParam(id)}));
  pending_.Count(-static_cast<std::int64_t>(gone.affected()), 0);
  for (const char* table : {"book_entries", "timeline", "measures", "consents"}) {
    KASSA_TRY(db.Exec(std::string("DELETE FROM ") + table + " WHERE legal_entity = $1 AND customer_id = $2",
                      {le, IdParam(id)})
                  .status());
  }
  // Never held here: the legal entity it would have had.
  KASSA_TRY(db.Exec("INSERT INTO owners (customer_id, legal_entity) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    {IdParam(id), le})
                .status());
  KASSA_TRY_ASSIGN(const std::uint64_t seq, AppendChange(model::Change::Kind::kCustomerErased, legal_entity, &id, nullptr));
  const ErasureRecord record{id, std::string(legal_entity), seq, at_ms, std::string(who)};
  KASSA_TRY(db.Exec("INSERT INTO erasures (customer_id, legal_entity, seq, at_ms, who) VALUES ($1, $2, $3, $4, $5)",
                    {IdParam(id), le, PgParam::Int(Signed(seq)), PgParam::Int(at_ms), PgParam::Text(who)})
                .status());
  Known& known = known_[id];
  known.customer.reset();
  known.in_database = false;
  known.latest.reset();
  if (!known.owner) known.owner = std::string(legal_entity);
  erasures_[id] = record;
  return record;
}

// A copy into an empty PostgreSQL store, in one transaction (chain_copy.h).
class PgCopySink final : public ChainCopySink {
 public:
  explicit PgCopySink(PgChainStore& store) : store_(store), txn_(store, /*careful=*/false) {}

  // Opens the transaction. Returns: kOk; kFailedPrecondition when the
  // database holds a chain already.
  Status Begin() {
    KASSA_TRY(db().Begin());
    KASSA_TRY_ASSIGN(const PgRows used,
                     db().Exec("SELECT (SELECT value FROM counters WHERE name = 'change') > 0 "
                               "OR EXISTS (SELECT 1 FROM owners) OR EXISTS (SELECT 1 FROM terminals) "
                               "OR EXISTS (SELECT 1 FROM secrets) OR EXISTS (SELECT 1 FROM operations)"));
    if (used.Text(0, 0) != std::string_view("\0", 1)) {
      db().Rollback();
      return Status(StatusCode::kFailedPrecondition, "database: it holds a chain already (copy into a new database)");
    }
    return Status::Ok();
  }

  Status Counters(const ChainCounters& c) override {
    return db().Exec("UPDATE counters SET value = CASE name WHEN 'account' THEN $1::bigint WHEN 'change' THEN $2::bigint "
                     "WHEN 'book' THEN $3::bigint ELSE $4::bigint END WHERE name IN ('account', 'change', 'book', 'consent')",
                     {PgParam::Int(Signed(c.account)), PgParam::Int(Signed(c.change)), PgParam::Int(Signed(c.book)),
                      PgParam::Int(Signed(c.consent))})
        .status();
  }
  Status Owner(const model::LocalId& customer, std::string_view legal_entity) override {
    return db().Exec("INSERT INTO owners (customer_id, legal_entity) VALUES ($1, $2)",
                     {IdParam(customer), PgParam::Text(legal_entity)})
        .status();
  }
  Status Customer(const model::Customer& c) override {
    KASSA_TRY_ASSIGN(const auto owner, store_.LegalEntityOf(c.id));
    if (!owner) return Status(StatusCode::kDataLoss, "storage corrupted: a customer without a legal entity");
    KASSA_TRY(txn_.StoreCustomerForCopy(c, *owner));
    // Written a thousand at a time: a million customers never wait in memory at once.
    return ++staged_ % 1000 == 0 ? txn_.Flush() : Status::Ok();
  }
  Status Outcome(const model::OperationAck& ack) override { return txn_.RecordOutcome(ack); }
  Status Change(const CopiedChange& c) override {
    std::optional<Bytes> body;
    if (c.clienteling) {
      KASSA_TRY_ASSIGN(body, store_.SealClienteling(SealedTable::kChange, *c.clienteling));
    }
    return db().Exec("INSERT INTO changes (seq, kind, scope, customer_id, body) VALUES ($1, $2, $3, $4, $5)",
                     {PgParam::Int(Signed(c.seq)), PgParam::Int(static_cast<std::int64_t>(c.kind)),
                      PgParam::Text(c.scope), c.customer ? IdParam(*c.customer) : PgParam::Null(),
                      body ? PgParam::Bytea(*body) : PgParam::Null()})
        .status();
  }
  Status Clienteling(char tag, std::string_view legal_entity, const model::ClientelingRecord& r) override {
    return StoreClienteling(store_, tag, legal_entity, r);
  }
  Status Terminal(const TerminalRecord& t) override { return txn_.PutTerminal(t); }
  Status Secret(std::string_view name, ByteView plain) override {
    KASSA_TRY_ASSIGN(const Bytes sealed, store_.keys().Seal(db(), SealedTable::kSecret, nullptr, plain));
    return db().Exec("INSERT INTO secrets (name, value) VALUES ($1, $2)", {PgParam::Text(name), PgParam::Bytea(sealed)})
        .status();
  }
  Status Credential(const AdminCredential& c) override { return txn_.PutAdminCredential(c); }
  Status Revoked(std::string_view serial_hex, std::int64_t at_ms) override {
    return txn_.RevokeCertificate(serial_hex, at_ms);
  }
  Status Wipe(const WipeOrder& order) override { return txn_.PutWipeOrder(order); }
  Status Audit(const AuditEntry& e) override {
    return db().Exec("INSERT INTO admin_audit (seq, at_ms, who, what) OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4)",
                     {PgParam::Int(Signed(e.seq)), PgParam::Int(e.at_ms), PgParam::Text(e.who), PgParam::Text(e.what)})
        .status();
  }
  Status Erasure(const ErasureRecord& e) override {
    return db().Exec("INSERT INTO erasures (customer_id, legal_entity, seq, at_ms, who) VALUES ($1, $2, $3, $4, $5)",
                     {IdParam(e.customer), PgParam::Text(e.legal_entity), PgParam::Int(Signed(e.seq)),
                      PgParam::Int(e.at_ms), PgParam::Text(e.who)})
        .status();
  }
  Status Access(const model::AccessEvent& e, char origin) override {
    return db().Exec("INSERT INTO access_events (customer_id, at_ms, terminal_id, origin, seq, action, actor) "
                     "VALUES ($1, $2, $3, $4, $5, $6, $7)",
                     {IdParam(e.customer), PgParam::Int(e.at_ms), PgParam::Text(e.terminal_id),
                      PgParam::Text(std::string(1, origin)), PgParam::Int(Signed(e.seq)),
                      PgParam::Int(static_cast<std::int64_t>(e.action)), PgParam::Text(e.operator_id)})
        .status();
  }
  Status Finish() override {
    const Status s = [&]() -> Status {
      KASSA_TRY(txn_.Flush());
      KASSA_TRY(db().Script(
          "UPDATE counters SET value = (SELECT count(*) FROM customers) WHERE name = 'customers';"
          "UPDATE customers c SET change_seq = m.seq FROM (SELECT customer_id, max(seq) AS seq FROM changes "
          "WHERE kind = 1 GROUP BY customer_id) m WHERE c.id = m.customer_id;"
          "UPDATE counters SET value = (SELECT count(*) FROM operations) WHERE name = 'operations';"
          "SELECT setval('access_seq', coalesce((SELECT max(seq) FROM access_events WHERE origin = 'H'), 0) + 1, false);"
          "SELECT setval(pg_get_serial_sequence('admin_audit', 'seq'), "
          "coalesce((SELECT max(seq) FROM admin_audit), 0) + 1, false);"));
      return db().Commit();
    }();
    if (!s.ok()) {
      Abandon();
      return s;
    }
    store_.keys().Committed();
    return Status::Ok();
  }
  void Abandon() {
    if (db().in_transaction()) db().Rollback();
    store_.keys().RolledBack();
  }

 private:
  PgConn& db() { return store_.db(); }
  PgChainStore& store_;
  PgChainTxn txn_;
  std::uint64_t staged_ = 0;  // customers handed to txn_
};

}  // namespace

bool PostgresSupported() { return true; }

Result<std::unique_ptr<ChainStore>> OpenPostgresChainStore(const PostgresStoreOptions& options) {
  KASSA_TRY_ASSIGN(auto db, PgConn::Connect(options.conninfo));
  if (db->server_version() < 13) {
    KASSA_LOG(kError) << "PostgreSQL " << db->server_version() << " is too old: kassa-hq needs 13 or newer";
    return Status(StatusCode::kFailedPrecondition, "database: PostgreSQL 13 or newer is needed");
  }
  auto store = std::make_unique<PgChainStore>(std::move(db), options.key_store);
  KASSA_TRY(store->Init());
  return std::unique_ptr<ChainStore>(std::move(store));
}

Result<ChainCopyReport> CopyLmdbToPostgres(const ChainStoreOptions& from, const PostgresStoreOptions& to) {
  KASSA_TRY_ASSIGN(std::unique_ptr<ChainStore> target, OpenPostgresChainStore(to));
  PgCopySink sink(static_cast<PgChainStore&>(*target));
  KASSA_TRY(sink.Begin());
  ChainCopyReport report;
  Status s = CopyLmdbChainStore(from, sink, report);
  if (!s.ok()) {
    sink.Abandon();
    return s;
  }
  KASSA_TRY(sink.Finish());
  return report;
}

}  // namespace kassa::storage
