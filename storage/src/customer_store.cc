#include "kassa/storage/customer_store.h"

#include <sys/stat.h>

#include "core_keeper.h"
#include "kassa/base/log.h"
#include "key_slots.h"
#include "terminal_views.h"

namespace kassa::storage {

using terminal::CoreKeeper;
using terminal::LmdbAccessEvents;
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
  Impl(std::unique_ptr<StoreCore> core, CoreKeeper::Opener reopen) : keeper(std::move(core), std::move(reopen)) {}
  CoreKeeper keeper;
  LmdbCustomerTable customers{keeper};
  LmdbOutbox outbox{keeper};
  LmdbSyncState sync{keeper};
  LmdbQuarantine quarantine{keeper};
  LmdbStoreSettings settings{keeper};
  LmdbClienteling clienteling{keeper};
  LmdbOperatorLockouts lockouts{keeper};
  LmdbDiagnostics diagnostics{keeper};
  LmdbAccessEvents access{keeper};
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
AccessEventQueue& CustomerStore::access_events() { return impl_->access; }

Result<RewrapBatch> CustomerStore::RewrapKeys(std::uint32_t from, std::uint32_t max) {
  KASSA_TRY_ASSIGN(StoreCore* const found, impl_->keeper.Acquire());
  StoreCore& core = *found;
  if (!core.sealing->encrypted()) return Status(StatusCode::kFailedPrecondition, "data: the store is not sealed");
  RewrapBatch batch;
  KASSA_TRY(Update(core.env, [&](WriteTxn& txn) -> Status {
    KASSA_TRY_ASSIGN(batch, core.sealing->Rewrap(txn, from, max));
    return Status::Ok();
  }));
  return batch;
}

namespace {

// What opening found: the store ready, or a store sealed (now, or before a
// crash) whose file must be compacted before it is opened again.
struct Opened {
  std::unique_ptr<StoreCore> core;
  bool compact = false;
};

Result<Opened> OpenCore(const StorageOptions& options) {
  KASSA_TRY_ASSIGN(LmdbEnv env, LmdbEnv::Open(options.path, options.map_size_bytes, terminal::kMaxDbs));
  auto sealing = options.key_store
                     ? std::make_unique<Sealing>(options.key_store,
                                                 options.key_slots_file.empty() ? DefaultKeySlotsPath(options.path)
                                                                                : options.key_slots_file,
                                                 options.path)
                     : std::make_unique<Sealing>();
  auto core = std::make_unique<StoreCore>(StoreCore{std::move(env), std::move(sealing), {}, 0, 0, 0, {}});
  bool compact = false;
  KASSA_TRY(Update(core->env, [&](WriteTxn& txn) -> Status {
    KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "meta", MDB_CREATE, &core->meta), "dbi meta"));
    auto stamp = txn.Get(core->meta, AsBytes(terminal::kSchemaKey));
    if (!stamp.ok() && stamp.status().code() != StatusCode::kNotFound) return stamp.status();
    // The layout stamped ("" for a new store), copied: later writes may move its page.
    const std::string from = stamp.ok() ? std::string(AsChars(*stamp)) : std::string();
    const bool upgrading = !from.empty() && from != terminal::kSchemaVersion;
    KASSA_TRY_ASSIGN(const Sealing::KeysFound keys, core->sealing->Init(txn, upgrading));
    // The outbox first: the recent index's records live in it (recent_index.h).
    KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "outbox", MDB_CREATE, &core->outbox), "dbi outbox"));
    KASSA_TRY(core->tables.Open(txn, *core->sealing, core->outbox));
    KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "quarantine", MDB_CREATE, &core->quarantine), "dbi quarantine"));
    KASSA_TRY(FromMdb(mdb_dbi_open(txn.get(), "access", MDB_CREATE, &core->access), "dbi access"));
    KASSA_TRY(core->clienteling.Open(txn, *core->sealing));
    // Every layout before 12 kept the outbox's counters in meta: they move
    // into its tail record once the layout's own steps are done.
    if (from.empty()) {
      KASSA_TRY(core->StartTail(txn));
      return txn.Put(core->meta, AsBytes(terminal::kSchemaKey), AsBytes(terminal::kSchemaVersion));
    }
    if (from == terminal::kSchemaVersion || from == terminal::kSchemaVersion12 || from == terminal::kSchemaVersion11 ||
        from == terminal::kSchemaVersion10 ||
        from == terminal::kSchemaVersion9 || from == terminal::kSchemaVersion8 || from == terminal::kSchemaVersion7 ||
        from == terminal::kSchemaVersion6) {
      if (keys == Sealing::KeysFound::kNone && core->sealing->encrypted()) {
        KASSA_LOG(kError) << "the store in " << options.path << " is plaintext of layout " << from;
        return Status(StatusCode::kDataLoss, "data: a plaintext store of this layout cannot be sealed");
      }
      if (keys == Sealing::KeysFound::kInRecords) {
        if (from != terminal::kSchemaVersion6) return Status(StatusCode::kDataLoss, "storage corrupted: key slots state is gone");
        KASSA_LOG(kInfo) << "migrating the customer store from layout 6 to " << terminal::kSchemaVersion
                         << " (customers' data keys into the key slots)";
        KASSA_TRY(core->sealing->MoveKeysToSlots(txn));
        KASSA_TRY(core->PutMetaU64(txn, terminal::kCompactPendingKey, 1));
      }
      if (from == terminal::kSchemaVersion12) {
        // CustomerTables::Open moved the recent index into the outbox.
        KASSA_LOG(kInfo) << "migrating the customer store from layout 12 to " << terminal::kSchemaVersion
                         << " (the recent index into the outbox table)";
      } else if (from == terminal::kSchemaVersion11) {
        KASSA_LOG(kInfo) << "migrating the customer store from layout 11 to " << terminal::kSchemaVersion
                         << " (the outbox's counters into its tail record)";
      } else if (from == terminal::kSchemaVersion10) {
        // CustomerTables::Open started the recent index's version.
        KASSA_LOG(kInfo) << "migrating the customer store from layout 10 to " << terminal::kSchemaVersion
                         << " (the recent index's version)";
      } else if (from == terminal::kSchemaVersion9) {
        // CustomerTables::Open started the heads' and the recent index's versions.
        KASSA_LOG(kInfo) << "migrating the customer store from layout 9 to " << terminal::kSchemaVersion
                         << " (the index heads' and the recent index's versions)";
      } else if (from == terminal::kSchemaVersion8) {
        KASSA_LOG(kInfo) << "migrating the customer store from layout 8 to " << terminal::kSchemaVersion
                         << " (the index's heads counted)";
        KASSA_TRY(core->tables.RebuildHeads(txn));
      } else if (from != terminal::kSchemaVersion) {
        KASSA_LOG(kInfo) << "migrating the customer store from layout " << from << " to " << terminal::kSchemaVersion
                         << " (search terms folded anew)";
        KASSA_TRY_ASSIGN(const std::uint64_t pending, core->tables.RebuildIndex(txn));
        KASSA_TRY(core->PutMetaU64(txn, terminal::kPendingKey, pending));
      }
      if (from != terminal::kSchemaVersion) {
        KASSA_TRY(core->StartTail(txn));
        KASSA_TRY(txn.Put(core->meta, AsBytes(terminal::kSchemaKey), AsBytes(terminal::kSchemaVersion)));
      }
      KASSA_TRY_ASSIGN(const std::uint64_t pending, core->MetaU64(txn, terminal::kCompactPendingKey, 0));
      compact = pending != 0;
      return Status::Ok();
    }
    // Every layout before 6 is plaintext: read it so, write it sealed.
    const Sealing plain;
    KASSA_TRY(core->Migrate(txn, from, plain));
    KASSA_TRY(core->StartTail(txn));
    compact = core->sealing->encrypted();
    return Status::Ok();
  }));
  return Opened{std::move(core), compact};
}

// The store ready for its views: opened, compacted first when sealing
// left free pages behind, its branch pages being read in the background.
Result<std::unique_ptr<StoreCore>> OpenReady(const StorageOptions& options) {
  KASSA_TRY_ASSIGN(Opened opened, OpenCore(options));
  if (opened.compact) {
    opened.core.reset();  // the environment closes before its file is replaced
    KASSA_TRY(CompactEnvironment(options.path, options.map_size_bytes, terminal::kMaxDbs));
    KASSA_TRY_ASSIGN(opened, OpenCore(options));
    StoreCore& core = *opened.core;
    KASSA_TRY(Update(core.env, [&](WriteTxn& txn) {
      return txn.Del(core.meta, AsBytes(terminal::kCompactPendingKey));
    }));
    KASSA_LOG(kInfo) << "sealed the customer store in " << options.path << " and compacted its file";
  }
  opened.core->branches = std::make_unique<BranchWarmer>();
  opened.core->branches->Start(opened.core->env.get(), {"customers", "index"});
  return std::move(opened.core);
}

}  // namespace

Result<std::unique_ptr<CustomerStore>> CustomerStore::Open(const StorageOptions& options) {
  struct stat st {};
  if (::stat(options.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    KASSA_LOG(kError) << "data directory " << options.path << " does not exist";
    return Status(StatusCode::kUnavailable, "data: the data directory does not exist");
  }
  KASSA_TRY_ASSIGN(std::unique_ptr<StoreCore> core, OpenReady(options));
  CoreKeeper::Opener reopen = [options] { return OpenReady(options); };
  return std::unique_ptr<CustomerStore>(new CustomerStore(std::make_unique<Impl>(std::move(core), std::move(reopen))));
}

}  // namespace kassa::storage
