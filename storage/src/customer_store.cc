#include "kassa/storage/customer_store.h"

#include <sys/stat.h>

#include "kassa/base/log.h"
#include "terminal_views.h"

namespace kassa::storage {

using terminal::LmdbClienteling;
using terminal::LmdbCustomerTable;
using terminal::LmdbDiagnostics;
using terminal::LmdbOperatorLockouts;
using terminal::LmdbOutbox;
using terminal::LmdbQuarantine;
using terminal::LmdbStoreSettings;
using terminal::LmdbSyncState;
using terminal::StoreCore;

struct CustomerStore::Impl {
  explicit Impl(StoreCore c) : core(std::move(c)) {}
  StoreCore core;
  LmdbCustomerTable customers{core};
  LmdbOutbox outbox{core};
  LmdbSyncState sync{core};
  LmdbQuarantine quarantine{core};
  LmdbStoreSettings settings{core};
  LmdbClienteling clienteling{core};
  LmdbOperatorLockouts lockouts{core};
  LmdbDiagnostics diagnostics{core};
};

CustomerStore::CustomerStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CustomerStore::~CustomerStore() = default;

CustomerTable& CustomerStore::customers() { return impl_->customers; }
OutboxView& CustomerStore::outbox() { return impl_->outbox; }
SyncState& CustomerStore::sync() { return impl_->sync; }
QuarantineView& CustomerStore::quarantine() { return impl_->quarantine; }
StoreSettings& CustomerStore::settings() { return impl_->settings; }
ClientelingTable& CustomerStore::clienteling() { return impl_->clienteling; }
OperatorLockouts& CustomerStore::lockouts() { return impl_->lockouts; }
Diagnostics& CustomerStore::diagnostics() { return impl_->diagnostics; }

Result<std::unique_ptr<CustomerStore>> CustomerStore::Open(const StorageOptions& options,
                                                           std::unique_ptr<RecordProtection> protection) {
  struct stat st {};
  if (::stat(options.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    KASSA_LOG(kError) << "data directory " << options.path << " does not exist";
    return Status(StatusCode::kUnavailable, "data: the data directory does not exist");
  }
  KASSA_TRY_ASSIGN(LmdbEnv env, LmdbEnv::Open(options.path, options.map_size_bytes, terminal::kMaxDbs));
  StoreCore core{std::move(env), std::move(protection), {}, 0, 0, 0, {}};
  KASSA_TRY(Update(core.env, [&](WriteTxn& txn) -> Status {
    KASSA_TRY(core.tables.Open(txn, *core.protection, CustomerTables::Recent::kKept));
    KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "outbox", MDB_CREATE, &core.outbox), "dbi outbox"));
    KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "quarantine", MDB_CREATE, &core.quarantine), "dbi quarantine"));
    KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "meta", MDB_CREATE, &core.meta), "dbi meta"));
    KASSA_TRY(core.clienteling.Open(txn, *core.protection));
    auto schema = txn.Get(core.meta, AsBytes(terminal::kSchemaKey));
    if (schema.ok()) {
      if (AsChars(*schema) == terminal::kSchemaVersion) return Status::Ok();
      return core.Migrate(txn, AsChars(*schema));
    }
    if (schema.status().code() != StatusCode::kNotFound) return schema.status();
    return txn.Put(core.meta, AsBytes(terminal::kSchemaKey), AsBytes(terminal::kSchemaVersion));
  }));
  return std::unique_ptr<CustomerStore>(new CustomerStore(std::make_unique<Impl>(std::move(core))));
}

}  // namespace kassa::storage
