#pragma once

// The SQLite baseline: customers kept the way point-of-sale systems keep them
// in SQLite. WAL journal with synchronous=FULL (a commit is durable when it
// returns), a customers table, B-tree indexes on phone (national number),
// email, account and loyalty card, and a contentless FTS5 table over the
// names (unicode61 with diacritics removed, prefix indexes of 2 and 3
// characters). A create is one transaction: the customer, its phones, emails,
// cards, name row and an outbox row.
//
// Queries return up to `limit` customers with their columns read out, as a
// POS screen would show them.

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/model/customer.h"

namespace kassa::bench {

// One customer row as the queries read it.
struct SqliteRow {
  std::string id_hex;
  std::string account;
  std::string first_name;
  std::string last_name;
  std::string organization_name;
  std::string email;
  std::string phone;
  std::string details;  // addresses, secondary contacts, attributes: JSON
};

class SqliteBaseline {
 public:
  // Creates the database at `path` (which must not exist). `mmap_bytes` > 0
  // sets PRAGMA mmap_size (SQLite reads pages through a memory map as LMDB
  // does); 0 keeps SQLite's default of read() into its page cache.
  static Result<std::unique_ptr<SqliteBaseline>> Create(const std::string& path, std::uint64_t mmap_bytes);
  // Opens the database Create made at `path` (closed since), with the same
  // durability and `mmap_bytes`.
  static Result<std::unique_ptr<SqliteBaseline>> Open(const std::string& path, std::uint64_t mmap_bytes);
  ~SqliteBaseline();

  // Bulk load: one transaction for all of `customers`.
  Status Load(const std::vector<model::Customer>& customers);
  // The durable create: one transaction, synced.
  Status CreateDurable(const model::Customer& customer);

  // Name tokens, all matching by prefix, in any order (FTS5 MATCH).
  Result<std::vector<SqliteRow>> SearchNames(std::string_view query, int limit);
  // National phone number digits by prefix.
  Result<std::vector<SqliteRow>> SearchPhonePrefix(std::string_view digits, int limit);
  Result<std::vector<SqliteRow>> FindEmail(std::string_view email, int limit);
  Result<std::vector<SqliteRow>> FindAccount(std::string_view account, int limit);
  Result<std::vector<SqliteRow>> FindCard(std::string_view card, int limit);

 private:
  explicit SqliteBaseline(sqlite3* db) : db_(db) {}
  // Opens `path` (made when `create`), then runs `setup` and sets mmap_size.
  static Result<std::unique_ptr<SqliteBaseline>> Connect(const std::string& path, bool create, const char* setup,
                                                         std::uint64_t mmap_bytes);
  Status Exec(const char* sql);
  // The statement of `sql` (a string with static storage), prepared once.
  Result<sqlite3_stmt*> Prepare(const char* sql);
  Status Insert(const model::Customer& c);
  Result<std::vector<SqliteRow>> Rows(const char* statement, std::string_view arg, int limit);

  sqlite3* db_;
  std::vector<std::pair<const char*, sqlite3_stmt*>> statements_;
};

}  // namespace kassa::bench
