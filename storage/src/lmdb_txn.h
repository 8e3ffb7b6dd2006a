#pragma once

// The thin RAII layer over LMDB. Private to kassa::storage: no LMDB type
// appears in a public header.
//
// REQUIRES: every transaction is opened, used and closed within one
// synchronous function, on one thread, never across an asynchronous wait.

#include <lmdb.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "kassa/base/bytes.h"
#include "kassa/base/status.h"

namespace kassa::storage {

// Converts an LMDB return code into a Status; `what` names the operation in
// the log line (LMDB's own text goes to the log, the detail stays static).
Status FromMdb(int rc, const char* what);

inline MDB_val ToVal(ByteView b) {
  return MDB_val{b.size(), const_cast<std::uint8_t*>(b.data())};
}
inline MDB_val ToVal(std::string_view s) { return ToVal(AsBytes(s)); }
inline ByteView FromVal(const MDB_val& v) {
  return {static_cast<const std::uint8_t*>(v.mv_data), v.mv_size};
}

// Sequence numbers as 8-byte big-endian keys, so LMDB's byte order is
// numeric order (and MDB_APPEND applies).
using Key8 = std::array<std::uint8_t, 8>;
inline Key8 Be64(std::uint64_t v) {
  Key8 key{};
  for (int i = 7; i >= 0; --i) {
    key[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v & 0xFF);
    v >>= 8;
  }
  return key;
}
// The first (up to) 8 bytes of `b` as a big-endian number.
inline std::uint64_t FromBe64(ByteView b) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < b.size() && i < 8; ++i) v = (v << 8) | b[i];
  return v;
}

// Whether `rc`, returned by a commit, says the disk failed it (an errno from
// a write or a sync, ENOSPC and EDQUOT included: a sync may report either;
// or LMDB's MDB_PANIC after a failed meta page write), rather than the
// transaction (a full map, a duplicate key).
bool IsDiskFailure(int rc);

class LmdbEnv {
 public:
  // Opens (creating if needed) the environment in directory `path`.
  // Returns: kOk; kUnavailable when the directory cannot be used; kDataLoss
  // when the files are not a valid LMDB environment.
  static Result<LmdbEnv> Open(const std::string& path, std::size_t map_size_bytes, unsigned max_dbs);
  LmdbEnv(LmdbEnv&& other) noexcept
      : env_(std::exchange(other.env_, nullptr)),
        disk_failure_(other.disk_failure_.load()),
        commits_(other.commits_.load()) {}
  LmdbEnv& operator=(LmdbEnv&&) = delete;
  ~LmdbEnv();

  MDB_env* get() const { return env_; }

  // The first commit result that was a disk failure (IsDiskFailure) since
  // the environment was opened; 0: none. Once set, the environment must be
  // closed and opened again before its next write: after a failed sync the
  // kernel may have dropped the dirty pages, and a second sync on the same
  // descriptor would report success (core_keeper.h does it).
  int disk_failure() const { return disk_failure_.load(); }
  // Top-level commits that succeeded since the environment was opened.
  std::uint64_t commits() const { return commits_.load(); }

 private:
  friend class WriteTxn;
  explicit LmdbEnv(MDB_env* env) : env_(env) {}
  void Committed(int rc) const;

  MDB_env* env_;
  mutable std::atomic<int> disk_failure_{0};
  mutable std::atomic<std::uint64_t> commits_{0};
};

// Rewrites the environment in directory `path` (not open in this process)
// with only its live pages, then puts the copy in place of data.mdb: what
// the free pages held (the plaintext of a store just sealed) is gone from
// the file. The copy is written and synced beside the file and renamed over
// it, so a crash leaves one whole file or the other.
Status CompactEnvironment(const std::string& path, std::size_t map_size_bytes, unsigned max_dbs);

class Cursor;

// A read-only snapshot; aborted (released) on destruction.
class ReadTxn {
 public:
  static Result<ReadTxn> Begin(const LmdbEnv& env);
  ReadTxn(ReadTxn&& other) noexcept : txn_(std::exchange(other.txn_, nullptr)), writable_(other.writable_) {}
  ReadTxn& operator=(ReadTxn&&) = delete;
  ~ReadTxn() {
    if (txn_ != nullptr) mdb_txn_abort(txn_);
  }

  // The value of `key`, valid until this transaction ends.
  // Returns: kOk; kNotFound.
  Result<ByteView> Get(MDB_dbi dbi, ByteView key) const;
  Result<std::size_t> Count(MDB_dbi dbi) const;
  Result<Cursor> OpenCursor(MDB_dbi dbi) const;
  MDB_txn* get() const { return txn_; }
  // Whether this is a WriteTxn: its view holds its own writes, not only
  // what was committed.
  bool writable() const { return writable_; }

 protected:
  explicit ReadTxn(MDB_txn* txn, bool writable = false) : txn_(txn), writable_(writable) {}
  MDB_txn* txn_;

 private:
  bool writable_;
};

// A write transaction that aborts unless Commit() succeeds.
class WriteTxn : public ReadTxn {
 public:
  static Result<WriteTxn> Begin(const LmdbEnv& env);
  WriteTxn(WriteTxn&& other) noexcept = default;

  // Returns: kOk; kAlreadyExists (with MDB_NOOVERWRITE / MDB_APPEND out of
  // order); kResourceExhausted when the map is full.
  Status Put(MDB_dbi dbi, ByteView key, ByteView value, unsigned flags = 0);
  // Returns: kOk; kNotFound.
  Status Del(MDB_dbi dbi, ByteView key);

  // Consumes the transaction. LMDB frees the handle whether or not the commit
  // succeeds, so it is never aborted afterwards. Returns: kOk; what
  // FromMdb() says; kUnavailable "storage failing" when the disk failed the
  // commit (IsDiskFailure: nothing of it was saved, and the environment
  // records the failure).
  Status Commit() &&;

 private:
  // `env`: the environment whose commits this one counts in.
  WriteTxn(MDB_txn* txn, const LmdbEnv& env) : ReadTxn(txn, true), env_(&env) {}
  const LmdbEnv* env_;  // never null
};

// A cursor, closed on destruction. REQUIRES: does not outlive its txn.
class Cursor {
 public:
  Cursor(Cursor&& other) noexcept : cursor_(std::exchange(other.cursor_, nullptr)) {}
  Cursor& operator=(Cursor&&) = delete;
  ~Cursor() {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
  }

  // Positions at the first key >= `key`. False at the end.
  Result<bool> SeekAtLeast(ByteView key);
  Result<bool> First();
  Result<bool> Last();
  Result<bool> Next();
  Result<bool> Prev();
  ByteView key() const { return FromVal(key_); }
  ByteView value() const { return FromVal(value_); }

 private:
  friend class ReadTxn;
  explicit Cursor(MDB_cursor* cursor) : cursor_(cursor) {}
  Result<bool> Move(MDB_cursor_op op);
  MDB_cursor* cursor_;
  MDB_val key_{};
  MDB_val value_{};
};

// Runs `body(txn)` in a write transaction; commits when it returns OK,
// aborts otherwise. Returns the first failure.
template <typename Body>
Status Update(const LmdbEnv& env, Body&& body) {
  KASSA_TRY_ASSIGN(WriteTxn txn, WriteTxn::Begin(env));
  KASSA_TRY(body(txn));
  return std::move(txn).Commit();
}

}  // namespace kassa::storage
