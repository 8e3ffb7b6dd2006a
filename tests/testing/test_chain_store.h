#pragma once

// A headquarters chain store for one test, on either backend: the embedded
// LMDB store in a temp dir, or PostgreSQL in a schema of its own in the
// test cluster (CTest fixture "postgres": scripts/pg-cluster writes its
// connection string to the file $KASSA_TEST_POSTGRES_INFO), dropped after
// the test. Open() may be called again to reopen the same store (a restart).
//
// Where the build has no PostgreSQL store (armhf), Backends() holds LMDB
// only. Run by hand without $KASSA_TEST_POSTGRES_INFO, a PostgreSQL test
// skips, saying so; under CTest the fixture always sets it.

#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kassa/storage/chain_store.h"
#include "temp_dir.h"

#ifdef KASSA_TEST_POSTGRES
#include <libpq-fe.h>
#endif

namespace kassa::testing {

enum class Backend { kLmdb, kPostgres };

inline std::vector<Backend> Backends() {
  std::vector<Backend> out{Backend::kLmdb};
  if (storage::PostgresSupported()) out.push_back(Backend::kPostgres);
  return out;
}

inline std::string BackendName(Backend b) { return b == Backend::kLmdb ? "lmdb" : "postgresql"; }

// For INSTANTIATE_TEST_SUITE_P: test names end in /lmdb or /postgresql.
struct BackendNamer {
  template <typename Info>
  std::string operator()(const Info& info) const {
    return BackendName(info.param);
  }
};

// The test cluster's connection string ("" when there is none).
inline std::string TestClusterConninfo() {
  const char* file = std::getenv("KASSA_TEST_POSTGRES_INFO");
  if (file == nullptr) return "";
  std::ifstream in(file);
  std::string line;
  std::getline(in, line);
  return line;
}

class TestChainStore {
 public:
  explicit TestChainStore(Backend backend) : backend_(backend) {
    if (backend_ != Backend::kPostgres) return;
    base_ = TestClusterConninfo();
    if (base_.empty()) return;
    std::random_device rd;
    schema_ = "t" + std::to_string(rd()) + std::to_string(rd());
    Admin("CREATE SCHEMA " + schema_);
  }
  ~TestChainStore() {
    if (!schema_.empty()) Admin("DROP SCHEMA " + schema_ + " CASCADE");
  }
  TestChainStore(const TestChainStore&) = delete;
  TestChainStore& operator=(const TestChainStore&) = delete;

  // Whether the backend can run here (PostgreSQL: a test cluster is known).
  bool available() const { return backend_ == Backend::kLmdb || !base_.empty(); }
  Backend backend() const { return backend_; }

  Result<std::unique_ptr<storage::ChainStore>> Open(std::shared_ptr<crypto::KeyStore> keys) const {
    if (backend_ == Backend::kLmdb) return storage::OpenLmdbChainStore(dir_.path(), std::size_t{64} << 20, keys);
    return storage::OpenPostgresChainStore({conninfo(), std::move(keys)});
  }

  // PostgreSQL: the connection string of this test's schema (its
  // connections named after the schema in pg_stat_activity).
  std::string conninfo() const {
    return base_ + " options='-c search_path=" + schema_ + "' application_name=" + schema_;
  }
  const std::string& schema() const { return schema_; }
  // LMDB: the store's directory.
  std::string path() const { return dir_.path(); }

  // Runs one SQL statement in this test's schema, as the cluster's owner
  // (a test looks at what the database really holds). Returns its first
  // column, rows joined by '\n'; "ERROR: ..." when it fails.
  std::string Sql(const std::string& sql) const { return Run(conninfo(), sql); }

 private:
  void Admin(const std::string& sql) const { (void)Run(base_, sql); }
  static std::string Run(const std::string& conninfo, const std::string& sql) {
#ifdef KASSA_TEST_POSTGRES
    PGconn* conn = PQconnectdb(conninfo.c_str());
    std::string out;
    if (PQstatus(conn) != CONNECTION_OK) {
      out = std::string("ERROR: ") + PQerrorMessage(conn);
    } else {
      PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);  // "drop cascades to ..."
      PGresult* r = PQexec(conn, sql.c_str());
      const auto status = PQresultStatus(r);
      if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        out = std::string("ERROR: ") + PQresultErrorMessage(r);
      } else {
        for (int i = 0; i < PQntuples(r); ++i) {
          if (i > 0) out += '\n';
          out += PQgetvalue(r, i, 0);
        }
      }
      PQclear(r);
    }
    PQfinish(conn);
    return out;
#else
    (void)conninfo;
    (void)sql;
    return "ERROR: no PostgreSQL in this build";
#endif
  }

  Backend backend_;
  TempDir dir_;
  std::string base_;
  std::string schema_;
};

}  // namespace kassa::testing

// In a parameterized fixture's SetUp: skips a PostgreSQL test that has no
// cluster (run by hand, outside CTest).
#define KASSA_SKIP_UNLESS_AVAILABLE(store)                                                     \
  if (!(store).available()) {                                                                  \
    GTEST_SKIP() << "no PostgreSQL test cluster: run under ctest (fixture \"postgres\") or set " \
                    "KASSA_TEST_POSTGRES_INFO (scripts/pg-cluster start FILE)";                \
  }
