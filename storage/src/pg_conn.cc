#include "pg_conn.h"

#include <arpa/inet.h>

#include <cstring>
#include <functional>

#include "kassa/base/log.h"

namespace kassa::storage {
namespace {

// A statement that hangs (a lock held elsewhere, a server in trouble) fails
// after 60 s: its transaction fails whole and its terminals send again.
constexpr const char* kSessionSettings = "SET statement_timeout = '60s'";

// The first words of a statement, for the log (never its parameters).
std::string_view Head(std::string_view sql) {
  const std::size_t end = std::min<std::size_t>(sql.size(), 60);
  return sql.substr(0, end);
}

}  // namespace

std::string_view PgRows::Text(int row, int col) const {
  return std::string_view(PQgetvalue(result_.get(), row, col),
                          static_cast<std::size_t>(PQgetlength(result_.get(), row, col)));
}

std::int64_t PgRows::Int(int row, int col) const {
  if (IsNull(row, col)) return 0;
  const std::string_view v = Text(row, col);
  std::uint64_t x = 0;
  for (const char c : v) x = (x << 8) | static_cast<std::uint8_t>(c);
  switch (v.size()) {  // sign-extended from the column's width
    case 2:
      return static_cast<std::int16_t>(x);
    case 4:
      return static_cast<std::int32_t>(x);
    default:
      return static_cast<std::int64_t>(x);
  }
}

std::size_t PgRows::affected() const {
  const char* n = PQcmdTuples(result_.get());
  return n == nullptr || *n == '\0' ? 0 : static_cast<std::size_t>(std::strtoull(n, nullptr, 10));
}

Result<std::unique_ptr<PgConn>> PgConn::Connect(const std::string& conninfo) {
  // Defaults the connection string may override (it is expanded after
  // them): a server that does not answer fails the connection in 10 s, and
  // a peer that vanished is noticed in about 11 s (TCP keepalives). Seen by
  // the database administrator as "kassa-hq" (pg_stat_activity).
  const char* keys[] = {"connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
                        "dbname",          "fallback_application_name", nullptr};
  const char* values[] = {"10", "5", "2", "3", conninfo.c_str(), "kassa-hq", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Status(StatusCode::kResourceExhausted, "database: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    KASSA_LOG(kError) << "cannot connect to the database: " << PQerrorMessage(conn);
    PQfinish(conn);
    return Status(StatusCode::kUnavailable, "database: cannot connect (see log)");
  }
  auto out = std::unique_ptr<PgConn>(new PgConn(conn));
  // Every statement's notices (e.g. "relation exists, skipping") stay out of stderr.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  KASSA_TRY(out->Script(kSessionSettings));
  return out;
}

PgConn::~PgConn() { PQfinish(conn_); }

bool PgConn::Healthy() {
  if (PQstatus(conn_) == CONNECTION_OK) return true;
  if (in_transaction_) return false;  // its statements are gone with the connection
  PQreset(conn_);
  if (PQstatus(conn_) == CONNECTION_OK) {
    KASSA_LOG(kWarning) << "reconnected to the database";
    PQclear(PQexec(conn_, kSessionSettings));  // a new session: its settings again
    return true;
  }
  return false;
}

Status PgConn::Failed(PGresult* result, std::string_view sql) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string code = state != nullptr ? state : "";
  const char* message = result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn_);
  if (code == "23505") {
    const char* name = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
    constraint_ = name != nullptr ? name : "";
    PQclear(result);
    return Status(StatusCode::kAlreadyExists, "database: a unique constraint refused the row");
  }
  if (PQstatus(conn_) != CONNECTION_OK || code.starts_with("08") || code == "57P01") {
    KASSA_LOG_THROTTLED("lost the database connection: " << message);
    if (result != nullptr) PQclear(result);
    return Status(StatusCode::kUnavailable, "database: the connection is lost");
  }
  KASSA_LOG(kError) << "database statement failed (" << code << "): " << message << " in: " << Head(sql);
  if (result != nullptr) PQclear(result);
  if (code == "40001" || code == "40P01") return Status(StatusCode::kAborted, "database: a conflicting transaction won");
  if (code == "53100") return Status(StatusCode::kResourceExhausted, "database: the server's disk is full");
  if (code.starts_with("23")) return Status(StatusCode::kFailedPrecondition, "database: a constraint refused the row");
  return Status(StatusCode::kInternal, "database: a statement failed (see log)");
}

Result<PgRows> PgConn::Exec(std::string_view sql, const std::vector<PgParam>& params) {
  std::vector<const char*> values(params.size());
  std::vector<int> lengths(params.size()), formats(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    values[i] = params[i].null ? nullptr : params[i].value.data();
    lengths[i] = static_cast<int>(params[i].value.size());
    formats[i] = params[i].binary ? 1 : 0;
  }
  const std::string text(sql);
  const auto run = [&] {
    return PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr, values.data(),
                        lengths.data(), formats.data(), /*resultFormat=*/1);
  };
  KASSA_TRY_ASSIGN(PGresult* result, Run(sql, run));
  return PgRows(result);
}

void PgCopyRows::Be(std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) data_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

PgCopyRows& PgCopyRows::Row(std::int16_t columns) {
  ++rows_;
  Be(static_cast<std::uint16_t>(columns), 2);
  return *this;
}

PgCopyRows& PgCopyRows::Int16(std::int64_t v) {
  Be(2, 4);
  Be(static_cast<std::uint16_t>(v), 2);
  return *this;
}

PgCopyRows& PgCopyRows::Int64(std::int64_t v) {
  Be(8, 4);
  Be(static_cast<std::uint64_t>(v), 8);
  return *this;
}

PgCopyRows& PgCopyRows::Bytes(ByteView v) {
  Be(static_cast<std::uint32_t>(v.size()), 4);
  data_.insert(data_.end(), v.begin(), v.end());
  return *this;
}

PgCopyRows& PgCopyRows::Null() {
  Be(0xFFFFFFFFu, 4);
  return *this;
}

kassa::Bytes PgCopyRows::Finish() const {
  // Signature "PGCOPY\n\377\r\n\0", flags (4 bytes), header extension length (4 bytes).
  static constexpr std::string_view kHeader("PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19);
  kassa::Bytes out(kHeader.size() + data_.size() + 2);
  std::memcpy(out.data(), kHeader.data(), kHeader.size());
  if (!data_.empty()) std::memcpy(out.data() + kHeader.size(), data_.data(), data_.size());
  out[out.size() - 2] = 0xFF;  // trailer: -1 as int16
  out[out.size() - 1] = 0xFF;
  return out;
}

Status PgConn::Copy(std::string_view target, const PgCopyRows& rows) {
  if (rows.rows() == 0) return Status::Ok();
  const std::string sql = "COPY " + std::string(target) + " FROM STDIN (FORMAT binary)";
  KASSA_TRY_ASSIGN(PGresult* started, Run(sql, [&] { return PQexec(conn_, sql.c_str()); }));
  PQclear(started);
  const kassa::Bytes stream = rows.Finish();
  constexpr std::size_t kChunk = 1 << 20;
  bool sent = true;
  for (std::size_t at = 0; sent && at < stream.size(); at += kChunk) {
    const std::size_t n = std::min(kChunk, stream.size() - at);
    sent = PQputCopyData(conn_, reinterpret_cast<const char*>(stream.data() + at), static_cast<int>(n)) == 1;
  }
  sent = PQputCopyEnd(conn_, sent ? nullptr : "kassa: the copy stream was cut") == 1 && sent;
  PGresult* result = PQgetResult(conn_);
  // Drain: a COPY answers with one result, then none.
  for (PGresult* extra = PQgetResult(conn_); extra != nullptr; extra = PQgetResult(conn_)) PQclear(extra);
  if (result == nullptr || PQresultStatus(result) != PGRES_COMMAND_OK || !sent) return Failed(result, sql);
  PQclear(result);
  return Status::Ok();
}

Status PgConn::InsertRows(std::string_view head, std::string_view tail, std::size_t columns,
                          const std::vector<PgParam>& params, const std::vector<std::string_view>& types) {
  KASSA_CHECK(types.empty() || types.size() == columns);
  constexpr std::size_t kRowsPerStatement = 1000;
  KASSA_CHECK(columns > 0 && params.size() % columns == 0);
  const std::size_t rows = params.size() / columns;
  for (std::size_t first = 0; first < rows; first += kRowsPerStatement) {
    const std::size_t n = std::min(kRowsPerStatement, rows - first);
    std::string sql(head);
    sql += " VALUES ";
    for (std::size_t r = 0; r < n; ++r) {
      sql += r == 0 ? "(" : ", (";
      for (std::size_t c = 0; c < columns; ++c) {
        if (c > 0) sql += ", ";
        sql += "$" + std::to_string(r * columns + c + 1);
        if (!types.empty()) {
          sql += "::";
          sql += types[c];
        }
      }
      sql += ")";
    }
    sql += " ";
    sql += tail;
    const std::vector<PgParam> chunk(params.begin() + static_cast<std::ptrdiff_t>(first * columns),
                                     params.begin() + static_cast<std::ptrdiff_t>((first + n) * columns));
    KASSA_TRY(Exec(sql, chunk).status());
  }
  return Status::Ok();
}

Status PgConn::Script(std::string_view sql) {
  const std::string text(sql);
  KASSA_TRY_ASSIGN(PGresult* result, Run(sql, [&] { return PQexec(conn_, text.c_str()); }));
  PQclear(result);
  return Status::Ok();
}

Result<PGresult*> PgConn::Run(std::string_view sql, const std::function<PGresult*()>& send) {
  constraint_.clear();
  if (!Healthy()) return Status(StatusCode::kUnavailable, "database: the connection is lost");
  PGresult* result = send();
  // A connection the server closed since the last statement is only noticed
  // now. Outside a transaction the statement is sent again on a new one
  // (statements outside transactions only read, and BEGIN).
  if (PQstatus(conn_) != CONNECTION_OK && !in_transaction_ && Healthy()) {
    if (result != nullptr) PQclear(result);
    result = send();
  }
  const ExecStatusType status = result != nullptr ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_COPY_IN) return Failed(result, sql);
  return result;
}

Status PgConn::Begin(std::string_view begin) {
  KASSA_CHECK(!in_transaction_);
  KASSA_TRY(Script(begin));
  in_transaction_ = true;
  return Status::Ok();
}

Status PgConn::Commit() {
  const Status s = Script("COMMIT");
  in_transaction_ = false;
  return s;
}

void PgConn::Rollback() {
  if (PQstatus(conn_) == CONNECTION_OK) (void)Script("ROLLBACK");
  in_transaction_ = false;
}

}  // namespace kassa::storage
