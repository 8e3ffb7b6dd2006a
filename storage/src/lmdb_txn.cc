#include "lmdb_txn.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "kassa/base/log.h"

namespace kassa::storage {

Status FromMdb(int rc, const char* what) {
  switch (rc) {
    case MDB_SUCCESS:
      return Status::Ok();
    case MDB_NOTFOUND:
      return Status(StatusCode::kNotFound, "not found");
    case MDB_KEYEXIST:
      return Status(StatusCode::kAlreadyExists, "already exists");
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
      KASSA_LOG(kWarning) << "lmdb " << what << ": " << mdb_strerror(rc);
      return Status(StatusCode::kResourceExhausted,
                    "storage full: the customer store reached its size limit (raise --map-size)");
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_INVALID:
    case MDB_VERSION_MISMATCH:
      KASSA_LOG(kError) << "lmdb " << what << ": " << mdb_strerror(rc);
      return Status(StatusCode::kDataLoss, "storage corrupted: the data files are not a valid customer store");
    case MDB_PANIC:
      KASSA_LOG(kError) << "lmdb " << what << ": " << mdb_strerror(rc);
      return Status(StatusCode::kUnavailable, "storage failing: the disk failed a write (see log)");
    case MDB_READERS_FULL:
      KASSA_LOG(kError) << "lmdb " << what << ": " << mdb_strerror(rc);
      return Status(StatusCode::kUnavailable, "storage busy: too many readers");
    case ENOSPC:
    case EDQUOT:
      // The filesystem, not the map: the same "storage full" (507) a full map
      // gives; the failed transaction wrote nothing, and writes resume by
      // themselves once space is freed (tests/faults/disk_fault_shim.c).
      KASSA_LOG(kError) << "lmdb " << what << ": " << mdb_strerror(rc);
      return Status(StatusCode::kResourceExhausted,
                    "storage full: the filesystem holding the data directory is full (free space on it)");
    case ENOENT:
    case EACCES:
    case EROFS:
    case EIO:
      KASSA_LOG(kError) << "lmdb " << what << ": " << mdb_strerror(rc);
      return Status(StatusCode::kUnavailable, "storage unavailable: the data directory cannot be used (see log)");
    default:
      KASSA_LOG(kError) << "lmdb " << what << ": " << mdb_strerror(rc) << " (" << rc << ")";
      return Status(StatusCode::kInternal, "storage error (see log)");
  }
}

bool IsDiskFailure(int rc) { return rc > 0 || rc == MDB_PANIC; }

Status CompactEnvironment(const std::string& path, std::size_t map_size_bytes, unsigned max_dbs) {
  const std::string file = path + "/data.mdb";
  const std::string copy = path + "/data.mdb.compact";
  const auto failed = [&](const char* step) {
    KASSA_LOG(kError) << "compacting " << file << ": " << step << " failed: " << std::strerror(errno);
    ::unlink(copy.c_str());
    return Status(StatusCode::kUnavailable, "storage unavailable: the data directory cannot be used (see log)");
  };
  ::unlink(copy.c_str());  // a copy a crash left behind
  {
    KASSA_TRY_ASSIGN(const LmdbEnv env, LmdbEnv::Open(path, map_size_bytes, max_dbs));
    const int fd = ::open(copy.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return failed("create");
    const int rc = mdb_env_copyfd2(env.get(), fd, MDB_CP_COMPACT);
    if (rc != MDB_SUCCESS) {
      ::close(fd);
      ::unlink(copy.c_str());
      return FromMdb(rc, "copy");
    }
    if (::fsync(fd) != 0) {
      ::close(fd);
      return failed("fsync");
    }
    ::close(fd);
  }
  if (std::rename(copy.c_str(), file.c_str()) != 0) return failed("rename");
  const int dir = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return failed("open directory");
  const int synced = ::fsync(dir);
  ::close(dir);
  if (synced != 0) return failed("fsync directory");
  return Status::Ok();
}

Result<LmdbEnv> LmdbEnv::Open(const std::string& path, std::size_t map_size_bytes, unsigned max_dbs) {
  MDB_env* env = nullptr;
  KASSA_TRY(FromMdb(mdb_env_create(&env), "env_create"));
  LmdbEnv owner(env);
  KASSA_TRY(FromMdb(mdb_env_set_mapsize(env, map_size_bytes), "set_mapsize"));
  KASSA_TRY(FromMdb(mdb_env_set_maxdbs(env, max_dbs), "set_maxdbs"));
  // Default flags keep every commit durable (fsync before returning). NOTLS:
  // read transactions are never tied to a thread-local slot. NORDAHEAD:
  // lookups touch scattered pages, so the kernel's readahead around each
  // page fault only reads what is not wanted (a cold first search at 1M
  // customers: see docs/PERFORMANCE.md).
  KASSA_TRY(FromMdb(mdb_env_open(env, path.c_str(), MDB_NOTLS | MDB_NORDAHEAD, 0600), "env_open"));
  // A process killed while reading leaves its reader slot behind; clear it.
  int dead = 0;
  KASSA_TRY(FromMdb(mdb_reader_check(env, &dead), "reader_check"));
  if (dead > 0) KASSA_LOG(kInfo) << "cleared " << dead << " stale reader slot(s)";
  return owner;
}

void LmdbEnv::Committed(int rc) const {
  if (rc == MDB_SUCCESS) {
    ++commits_;
  } else if (IsDiskFailure(rc)) {
    int none = 0;
    disk_failure_.compare_exchange_strong(none, rc);
  }
}

LmdbEnv::~LmdbEnv() {
  if (env_ != nullptr) mdb_env_close(env_);
}

Result<ReadTxn> ReadTxn::Begin(const LmdbEnv& env) {
  MDB_txn* txn = nullptr;
  KASSA_TRY(FromMdb(mdb_txn_begin(env.get(), nullptr, MDB_RDONLY, &txn), "read_begin"));
  return ReadTxn(txn);
}

Result<ByteView> ReadTxn::Get(MDB_dbi dbi, ByteView key) const {
  MDB_val k = ToVal(key);
  MDB_val v{};
  KASSA_TRY(FromMdb(mdb_get(txn_, dbi, &k, &v), "get"));
  return FromVal(v);
}

Result<std::size_t> ReadTxn::Count(MDB_dbi dbi) const {
  MDB_stat stat{};
  KASSA_TRY(FromMdb(mdb_stat(txn_, dbi, &stat), "stat"));
  return stat.ms_entries;
}

Result<Cursor> ReadTxn::OpenCursor(MDB_dbi dbi) const {
  MDB_cursor* cursor = nullptr;
  KASSA_TRY(FromMdb(mdb_cursor_open(txn_, dbi, &cursor), "cursor_open"));
  return Cursor(cursor);
}

Result<WriteTxn> WriteTxn::Begin(const LmdbEnv& env) {
  MDB_txn* txn = nullptr;
  const int rc = mdb_txn_begin(env.get(), nullptr, 0, &txn);
  if (rc == MDB_PANIC) env.Committed(rc);  // a failed meta page write made the environment unusable
  KASSA_TRY(FromMdb(rc, "write_begin"));
  return WriteTxn(txn, env);
}

Status WriteTxn::Commit() && {
  const int rc = mdb_txn_commit(std::exchange(txn_, nullptr));
  env_->Committed(rc);
  if (rc == ENOSPC || rc == EDQUOT || !IsDiskFailure(rc)) return FromMdb(rc, "commit");
  KASSA_LOG(kError) << "lmdb commit: " << mdb_strerror(rc);
  return Status(StatusCode::kUnavailable, "storage failing: the disk failed this write, so none of it was saved (see log)");
}

Status WriteTxn::Put(MDB_dbi dbi, ByteView key, ByteView value, unsigned flags) {
  MDB_val k = ToVal(key);
  MDB_val v = ToVal(value);
  return FromMdb(mdb_put(txn_, dbi, &k, &v, flags), "put");
}

Status WriteTxn::Del(MDB_dbi dbi, ByteView key) {
  MDB_val k = ToVal(key);
  return FromMdb(mdb_del(txn_, dbi, &k, nullptr), "del");
}

Result<bool> Cursor::Move(MDB_cursor_op op) {
  const int rc = mdb_cursor_get(cursor_, &key_, &value_, op);
  if (rc == MDB_NOTFOUND) return false;
  KASSA_TRY(FromMdb(rc, "cursor_get"));
  return true;
}

Result<bool> Cursor::SeekAtLeast(ByteView key) {
  key_ = ToVal(key);
  return Move(MDB_SET_RANGE);
}
Result<bool> Cursor::First() { return Move(MDB_FIRST); }
Result<bool> Cursor::Last() { return Move(MDB_LAST); }
Result<bool> Cursor::Next() { return Move(MDB_NEXT); }
Result<bool> Cursor::Prev() { return Move(MDB_PREV); }

}  // namespace kassa::storage
