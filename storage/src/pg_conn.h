#pragma once

// PgConn: one libpq connection to headquarters' PostgreSQL database.
// Parameters go as text (bytea as binary); results come back in binary,
// read with the typed getters of PgRows; every failure is a Status, with
// the server's message in the log (never the connection string: it may
// hold a password). Written here because libpq is a C API: this is the
// thin RAII layer over PQexecParams, nothing more.
//
// Threading: one thread at a time (libpq connections are not shared).
// Private to kassa::storage.

#include <libpq-fe.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kassa/base/bytes.h"
#include "kassa/base/status.h"
#include "kassa/model/ids.h"

namespace kassa::storage {

// Rows for COPY ... FROM STDIN (FORMAT binary), built column by column;
// each column's width must be its table column's (int2, int8, bytea, text).
class PgCopyRows {
 public:
  PgCopyRows& Row(std::int16_t columns);
  PgCopyRows& Int16(std::int64_t v);
  PgCopyRows& Int64(std::int64_t v);
  PgCopyRows& Bytes(ByteView v);
  PgCopyRows& Text(std::string_view v) { return Bytes(AsBytes(v)); }
  PgCopyRows& Null();
  std::size_t rows() const { return rows_; }
  // The whole COPY stream: header, rows, trailer.
  kassa::Bytes Finish() const;

 private:
  void Be(std::uint64_t v, int bytes);
  kassa::Bytes data_;
  std::size_t rows_ = 0;
};

// One parameter of a statement.
struct PgParam {
  std::string value;
  bool binary = false;
  bool null = false;

  static PgParam Text(std::string_view v) { return {std::string(v), false, false}; }
  static PgParam Bytea(ByteView v) { return {std::string(AsChars(v)), true, false}; }
  static PgParam Int(std::int64_t v) { return {std::to_string(v), false, false}; }
  static PgParam Null() { return {{}, false, true}; }
  // Many customer or operation ids as one text parameter (hex, comma-separated),
  // read back in SQL as the set KASSA_PG_ID_LIST.
  static PgParam IdList(const std::vector<model::LocalId>& ids) {
    std::string list;
    for (const auto& id : ids) {
      if (!list.empty()) list += ',';
      list += id.ToHex();
    }
    return Text(list);
  }
};

// The ids of a PgParam::IdList parameter $1, as a set: "... IN " KASSA_PG_ID_LIST.
#define KASSA_PG_ID_LIST "(SELECT decode(unnest(string_to_array($1, ',')), 'hex'))"

// The rows of one statement (binary format).
class PgRows {
 public:
  explicit PgRows(PGresult* result) : result_(result, &PQclear) {}
  int size() const { return PQntuples(result_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  // A text or bytea column: its bytes as they are.
  std::string_view Text(int row, int col) const;
  ByteView Bytes(int row, int col) const { return AsBytes(Text(row, col)); }
  // An int2, int4 or int8 column (0 when null).
  std::int64_t Int(int row, int col) const;
  // Rows an INSERT, UPDATE or DELETE touched.
  std::size_t affected() const;

 private:
  std::unique_ptr<PGresult, decltype(&PQclear)> result_;
};

class PgConn {
 public:
  // Connects with `conninfo` (a postgresql:// URI or key=value words, as
  // libpq takes them: sslmode, passfile and the like work as documented).
  // Returns: kOk; kUnavailable "database: ..." when it cannot connect.
  static Result<std::unique_ptr<PgConn>> Connect(const std::string& conninfo);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // Runs one statement.
  // Returns: kOk with its rows; kAlreadyExists "database: ..." when a unique
  // constraint refuses it (constraint() names which); kAborted on a
  // serialization failure or deadlock; kUnavailable when the connection is
  // lost (the next call reconnects); kInternal for any other error.
  Result<PgRows> Exec(std::string_view sql, const std::vector<PgParam>& params = {});
  // Runs `head` VALUES (row), (row), ... `tail` over `params`, `columns` of
  // them a row, in statements of at most 1,000 rows ($1..$n numbered here;
  // `types`, when given, casts each column: "($1::bytea, ...)", for VALUES
  // whose columns the statement cannot infer).
  // Returns Exec's errors; rows written before a failure stay in the
  // caller's transaction.
  Status InsertRows(std::string_view head, std::string_view tail, std::size_t columns,
                    const std::vector<PgParam>& params, const std::vector<std::string_view>& types = {});
  // COPY `target` ("table (col, ...)") FROM STDIN in binary: the fastest
  // way in for many new rows. Returns Exec's errors (kAlreadyExists for a
  // unique constraint).
  Status Copy(std::string_view target, const PgCopyRows& rows);
  // Runs statements without parameters (a schema file), in one round trip.
  Status Script(std::string_view sql);

  // A transaction. A connection lost outside one is made again on the next
  // statement; inside one, every statement fails until Rollback().
  Status Begin(std::string_view begin = "BEGIN");
  Status Commit();
  void Rollback();
  bool in_transaction() const { return in_transaction_; }

  // The constraint named by the last kAlreadyExists ("" for none).
  const std::string& constraint() const { return constraint_; }
  // Whether the connection is usable; outside a transaction, reconnects
  // once when it is not.
  bool Healthy();
  // Whether the connection is up, never reconnecting (a session-bound
  // state, e.g. an advisory lock, would not survive a new one).
  bool Alive() const { return PQstatus(conn_) == CONNECTION_OK; }
  // The server's major version number (15 for PostgreSQL 15.x).
  int server_version() const { return PQserverVersion(conn_) / 10000; }

 private:
  explicit PgConn(PGconn* conn) : conn_(conn) {}
  Status Failed(PGresult* result, std::string_view sql);
  // Sends a statement with `send`; the result when it succeeded.
  Result<PGresult*> Run(std::string_view sql, const std::function<PGresult*()>& send);

  PGconn* conn_ = nullptr;
  std::string constraint_;
  bool in_transaction_ = false;
};

}  // namespace kassa::storage
