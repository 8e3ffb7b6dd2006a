#include "sqlite_baseline.h"

#include <filesystem>

#include "customer_json.h"
#include "kassa/base/log.h"
#include "kassa/model/email.h"
#include "kassa/model/phone.h"

namespace kassa::bench {
namespace {

constexpr const char* kSchema = R"sql(
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE customers (
  id BLOB NOT NULL UNIQUE, account TEXT UNIQUE, type INTEGER NOT NULL,
  first_name TEXT, last_name TEXT, organization_name TEXT, email TEXT, phone TEXT, details TEXT);
CREATE TABLE phones (number TEXT NOT NULL, customer INTEGER NOT NULL);
CREATE INDEX phones_number ON phones (number);
CREATE TABLE emails (address TEXT NOT NULL, customer INTEGER NOT NULL);
CREATE INDEX emails_address ON emails (address);
CREATE TABLE cards (number TEXT PRIMARY KEY, customer INTEGER NOT NULL) WITHOUT ROWID;
CREATE VIRTUAL TABLE names USING fts5 (first_name, last_name, organization_name, content = '',
  tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3');
CREATE TABLE outbox (seq INTEGER PRIMARY KEY, operation TEXT NOT NULL);
)sql";

constexpr const char* kColumns =
    "SELECT c.id, c.account, c.first_name, c.last_name, c.organization_name, c.email, c.phone, c.details ";

Status SqliteError(sqlite3* db, const std::string& what) {
  KASSA_LOG(kError) << "sqlite " << what << ": " << sqlite3_errmsg(db);
  return Status(StatusCode::kInternal, "sqlite: failed (see the log)");
}

std::string Column(sqlite3_stmt* s, int i) {
  const auto* text = sqlite3_column_text(s, i);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(sqlite3_column_bytes(s, i)))
              : std::string();
}

// "anna ber" -> "anna"* "ber"* (every token, by prefix).
std::string FtsQuery(std::string_view query) {
  std::string out;
  std::size_t i = 0;
  while (i < query.size()) {
    while (i < query.size() && query[i] == ' ') ++i;
    std::size_t j = i;
    while (j < query.size() && query[j] != ' ') ++j;
    if (j > i) {
      if (!out.empty()) out += ' ';
      out += '"';
      for (char c : query.substr(i, j - i)) out += c == '"' ? std::string("\"\"") : std::string(1, c);
      out += "\"*";
    }
    i = j;
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<SqliteBaseline>> SqliteBaseline::Create(const std::string& path, std::uint64_t mmap_bytes) {
  if (std::filesystem::exists(path)) return Status(StatusCode::kAlreadyExists, "sqlite: the database file exists");
  return Connect(path, true, kSchema, mmap_bytes);
}

Result<std::unique_ptr<SqliteBaseline>> SqliteBaseline::Open(const std::string& path, std::uint64_t mmap_bytes) {
  // synchronous is a setting of the connection; WAL is kept in the file.
  return Connect(path, false, "PRAGMA synchronous = FULL;", mmap_bytes);
}

Result<std::unique_ptr<SqliteBaseline>> SqliteBaseline::Connect(const std::string& path, bool create,
                                                               const char* setup, std::uint64_t mmap_bytes) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    Status error = SqliteError(db, "open " + path);
    sqlite3_close(db);
    return error;
  }
  std::unique_ptr<SqliteBaseline> baseline(new SqliteBaseline(db));
  KASSA_TRY(baseline->Exec(setup));
  if (mmap_bytes > 0) {
    const std::string pragma = "PRAGMA mmap_size = " + std::to_string(mmap_bytes);
    KASSA_TRY(baseline->Exec(pragma.c_str()));
  }
  return baseline;
}

SqliteBaseline::~SqliteBaseline() {
  for (auto& [sql, s] : statements_) sqlite3_finalize(s);
  sqlite3_close(db_);
}

Result<sqlite3_stmt*> SqliteBaseline::Prepare(const char* sql) {
  for (auto& [text, s] : statements_) {
    if (text == sql) return s;
  }
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
    return SqliteError(db_, std::string("prepare ") + sql);
  }
  statements_.emplace_back(sql, s);
  return s;
}

Status SqliteBaseline::Exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    KASSA_LOG(kError) << "sqlite: " << (error ? error : "?");
    sqlite3_free(error);
    return Status(StatusCode::kInternal, "sqlite: failed (see the log)");
  }
  return Status::Ok();
}

namespace {

// A prepared statement kept for the life of the connection, by call site.
class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s) {}
  ~Statement() { sqlite3_reset(s_); }
  Statement& Text(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Blob(int i, const void* data, int n) {
    sqlite3_bind_blob(s_, i, data, n, SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Int(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Statement& NullableText(int i, const std::string& v) {
    if (v.empty()) sqlite3_bind_null(s_, i);
    else Text(i, v);
    return *this;
  }
  Status Run(const char* what) {
    const int rc = sqlite3_step(s_);
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    return rc == SQLITE_DONE ? Status::Ok() : SqliteError(db_, what);
  }
  sqlite3_stmt* get() { return s_; }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
};

}  // namespace

Status SqliteBaseline::Insert(const model::Customer& c) {
  const auto statement = [&](const char* sql) -> Result<Statement> {
    KASSA_TRY_ASSIGN(sqlite3_stmt* s, Prepare(sql));
    return Statement(db_, s);
  };
  static constexpr const char* kCustomer =
      "INSERT INTO customers (id, account, type, first_name, last_name, organization_name, email, phone, details) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
  static constexpr const char* kPhone = "INSERT INTO phones (number, customer) VALUES (?1, ?2)";
  static constexpr const char* kEmail = "INSERT INTO emails (address, customer) VALUES (?1, ?2)";
  static constexpr const char* kCard = "INSERT INTO cards (number, customer) VALUES (?1, ?2)";
  static constexpr const char* kName =
      "INSERT INTO names (rowid, first_name, last_name, organization_name) VALUES (?1, ?2, ?3, ?4)";
  {
    KASSA_TRY_ASSIGN(Statement s, statement(kCustomer));
    s.Blob(1, c.id.bytes.data(), static_cast<int>(c.id.bytes.size()))
        .NullableText(2, c.account)
        .Int(3, static_cast<int>(c.type))
        .NullableText(4, c.first_name)
        .NullableText(5, c.last_name)
        .NullableText(6, c.organization_name)
        .NullableText(7, c.email)
        .NullableText(8, c.phone)
        .Text(9, CompactJson(c));
    KASSA_TRY(s.Run("insert customer"));
  }
  const std::int64_t row = sqlite3_last_insert_rowid(db_);
  // One row of a lookup table (phones, emails, cards) pointing at the customer.
  const auto lookup = [&](const char* sql, const std::string& key, const char* what) -> Status {
    if (key.empty()) return Status::Ok();
    KASSA_TRY_ASSIGN(Statement s, statement(sql));
    return s.Text(1, key).Int(2, row).Run(what);
  };
  if (!c.phone.empty()) KASSA_TRY(lookup(kPhone, model::NationalNumberOf(c.phone), "insert phone"));
  for (const auto& p : c.secondary_phones) KASSA_TRY(lookup(kPhone, model::NationalNumberOf(p.value), "insert phone"));
  if (!c.email.empty()) KASSA_TRY(lookup(kEmail, model::FoldEmail(c.email), "insert email"));
  for (const auto& e : c.secondary_emails) KASSA_TRY(lookup(kEmail, model::FoldEmail(e.value), "insert email"));
  for (const auto& card : c.loyalty_cards) KASSA_TRY(lookup(kCard, card, "insert card"));
  KASSA_TRY_ASSIGN(Statement s, statement(kName));
  return s.Int(1, row)
      .NullableText(2, c.first_name)
      .NullableText(3, c.last_name)
      .NullableText(4, c.organization_name)
      .Run("insert names");
}

Status SqliteBaseline::Load(const std::vector<model::Customer>& customers) {
  KASSA_TRY(Exec("BEGIN"));
  for (const auto& c : customers) {
    Status inserted = Insert(c);
    if (!inserted.ok()) {
      (void)Exec("ROLLBACK");
      return inserted;
    }
  }
  return Exec("COMMIT");
}

Status SqliteBaseline::CreateDurable(const model::Customer& customer) {
  KASSA_TRY(Exec("BEGIN IMMEDIATE"));
  Status inserted = Insert(customer);
  if (inserted.ok()) {
    model::Operation op;
    op.op_id = customer.id;
    op.customer = customer;
    auto s = Prepare("INSERT INTO outbox (operation) VALUES (?1)");
    inserted = s.ok() ? Statement(db_, *s).Text(1, CompactJson(op)).Run("insert outbox") : s.status();
  }
  if (!inserted.ok()) {
    (void)Exec("ROLLBACK");
    return inserted;
  }
  return Exec("COMMIT");
}

Result<std::vector<SqliteRow>> SqliteBaseline::Rows(const char* sql, std::string_view arg, int limit) {
  KASSA_TRY_ASSIGN(sqlite3_stmt* s, Prepare(sql));
  Statement statement(db_, s);
  statement.Text(1, arg).Int(2, limit);
  std::vector<SqliteRow> rows;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    SqliteRow r;
    const auto* id = static_cast<const unsigned char*>(sqlite3_column_blob(s, 0));
    static constexpr char kHex[] = "0123456789abcdef";
    for (int i = 0; id != nullptr && i < sqlite3_column_bytes(s, 0); ++i) {
      r.id_hex += kHex[id[i] >> 4];
      r.id_hex += kHex[id[i] & 15];
    }
    r.account = Column(s, 1);
    r.first_name = Column(s, 2);
    r.last_name = Column(s, 3);
    r.organization_name = Column(s, 4);
    r.email = Column(s, 5);
    r.phone = Column(s, 6);
    r.details = Column(s, 7);
    rows.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return SqliteError(db_, std::string("query ") + sql);
  return rows;
}

Result<std::vector<SqliteRow>> SqliteBaseline::SearchNames(std::string_view query, int limit) {
  static const std::string sql = std::string(kColumns) +
      "FROM names JOIN customers c ON c.rowid = names.rowid WHERE names MATCH ?1 LIMIT ?2";
  return Rows(sql.c_str(), FtsQuery(query), limit);
}

Result<std::vector<SqliteRow>> SqliteBaseline::SearchPhonePrefix(std::string_view digits, int limit) {
  // [digits, digits with its last digit + 1): a range scan of the index.
  static const std::string sql = std::string(kColumns) +
      "FROM phones p JOIN customers c ON c.rowid = p.customer "
      "WHERE p.number >= ?1 AND p.number < substr(?1, 1, length(?1) - 1) || char(unicode(substr(?1, -1)) + 1) "
      "LIMIT ?2";
  return Rows(sql.c_str(), digits, limit);
}

Result<std::vector<SqliteRow>> SqliteBaseline::FindEmail(std::string_view email, int limit) {
  static const std::string sql = std::string(kColumns) +
      "FROM emails e JOIN customers c ON c.rowid = e.customer WHERE e.address = ?1 LIMIT ?2";
  return Rows(sql.c_str(), model::FoldEmail(email), limit);
}

Result<std::vector<SqliteRow>> SqliteBaseline::FindAccount(std::string_view account, int limit) {
  static const std::string sql = std::string(kColumns) + "FROM customers c WHERE c.account = ?1 LIMIT ?2";
  return Rows(sql.c_str(), account, limit);
}

Result<std::vector<SqliteRow>> SqliteBaseline::FindCard(std::string_view card, int limit) {
  static const std::string sql = std::string(kColumns) +
      "FROM cards k JOIN customers c ON c.rowid = k.customer WHERE k.number = ?1 LIMIT ?2";
  return Rows(sql.c_str(), card, limit);
}

}  // namespace kassa::bench
