// ChainLeadership on PostgreSQL: a session-level advisory lock taken with
// pg_try_advisory_lock on a connection kept for nothing else. The database
// holds the lock as long as that session lives; a kassa-hq killed with
// kill -9 loses its sessions as the kernel closes its sockets, and the lock
// with them. A host that vanishes without closing them (power, network) is
// noticed by TCP keepalives: docs/OPERATIONS.md says which to set.

#include <thread>

#include "kassa/base/log.h"
#include "kassa/storage/chain_store.h"
#include "pg_conn.h"

namespace kassa::storage {
namespace {

// One number per database for "the active headquarters": "kassa-hq" in ASCII.
constexpr std::int64_t kLeaderLock = 0x6b617373612d6871;

class PgLeadership final : public ChainLeadership {
 public:
  explicit PgLeadership(std::unique_ptr<PgConn> conn) : conn_(std::move(conn)) {}
  bool Held() override {
    // A query on the lock's own session: the session is alive, so the lock is.
    // Never a reconnect: a new session would not hold the lock.
    if (!conn_->Alive()) return false;
    auto rows = conn_->Exec("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                            "AND classid = ($1::bigint >> 32) AND objid = ($1::bigint & 4294967295) AND granted",
                            {PgParam::Int(kLeaderLock)});
    return rows.ok() && rows->size() == 1;
  }

 private:
  std::unique_ptr<PgConn> conn_;
};

}  // namespace

Result<std::unique_ptr<ChainLeadership>> AcquirePostgresLeadership(const std::string& conninfo,
                                                                   std::chrono::milliseconds retry,
                                                                   const std::function<bool()>& keep_waiting) {
  bool told = false;
  while (keep_waiting()) {
    auto conn = PgConn::Connect(conninfo);
    if (conn.ok()) {
      auto got = (*conn)->Exec("SELECT pg_try_advisory_lock($1)", {PgParam::Int(kLeaderLock)});
      if (got.ok() && got->size() == 1 && got->Text(0, 0) == std::string_view("\x01", 1)) {
        if (told) KASSA_LOG(kInfo) << "took over as the active headquarters";
        return std::unique_ptr<ChainLeadership>(new PgLeadership(std::move(*conn)));
      }
      if (!told) {
        KASSA_LOG(kInfo) << "standing by: another kassa-hq is the active headquarters of this database";
        told = true;
      }
    }
    std::this_thread::sleep_for(retry);
  }
  return Status(StatusCode::kCancelled, "database: stopped while standing by");
}

}  // namespace kassa::storage
