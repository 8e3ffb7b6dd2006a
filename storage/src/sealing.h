#pragma once

// Sealing: how a store's values and index terms rest on disk, shared by the
// terminal's CustomerStore and headquarters' LmdbChainStore.
//
// Encrypted (a KeyStore given, the default of both daemons):
//   a customer's record: its key slot's number (4, big-endian), then
//                        crypto::Seal(its data key, aad = table | id, plain)
//   key slots (key_slots.h, outside the data directory): one customer's
//                        data key each, wrapped
//   keys:  customer id (16)  -> the key slot of a customer that has no
//                               record here yet (a timeline entry that came
//                               first); its record takes the same slot
//          "index"           -> the index key, wrapped
//          "store"           -> the store key, wrapped
//          "slots"           -> the key slots' binding (16) | how many slots
//                               are reserved (4) | who reserved the last
//                               ones (8, random)
//   a wrapped key: master generation (4, big-endian) | crypto::Seal(master
//                  key, aad = "kassa key" | name | generation, key); in a
//                  slot the name is the binding and the slot's number
//   another value about a customer: crypto::Seal(the customer's data key,
//                          aad = table | customer id, plain)
//   any other value:       crypto::Seal(the store key, aad = table, plain)
//   an index term:         crypto::PrefixHash under the index key, the
//                          index kind as its domain
// Every value about one customer is sealed under that customer's own key.
// Shred() overwrites the customer's slot with zeros, in place, and syncs it:
// no copy left behind (old LMDB pages, a backup of the data directory) opens
// again, whatever master key it is given (crypto-shredding: docs/PRIVACY.md).
// Slots are reserved in batches, written and synced before any record
// names one, so a durable create writes no page and syncs no file beyond
// its record's. A shredded slot is never used again.
//
// Plaintext (no KeyStore: unit tests and the benchmark's comparison
// column): values and terms stored as they are. A store written encrypted
// never opens in plaintext.
//
// Threading: safe from any thread (the data key cache has a lock); each
// call works inside its caller's transaction.

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kassa/crypto/aead.h"
#include "kassa/crypto/key_store.h"
#include "kassa/crypto/prefix_hash.h"
#include "kassa/model/customer.h"
#include "kassa/search/index.h"
#include "kassa/storage/key_rotation.h"
#include "key_slots.h"
#include "key_wrap.h"
#include "lmdb_txn.h"

namespace kassa::storage {

class Sealing {
 public:
  // Plaintext.
  Sealing() = default;
  Sealing(const Sealing&) = delete;
  Sealing& operator=(const Sealing&) = delete;

  // Encrypted under the master key of `keys`, customers' data keys in the
  // key slots file `slots_path` (key_slots.h) of the store in `data_dir`.
  Sealing(std::shared_ptr<crypto::KeyStore> keys, std::string slots_path, std::string data_dir)
      : key_store_(std::move(keys)), slots_path_(std::move(slots_path)), data_dir_(std::move(data_dir)) {}

  // Where a store's customer data keys were when Init() opened it.
  enum class KeysFound {
    kNone,       // nowhere: a new store, or plaintext (an earlier layout: the caller seals what is there)
    kInRecords,  // wrapped in front of each record (terminal layout 6, hq-5): MoveKeysToSlots()
    kInSlots,    // in the key slots: the current layout
  };

  // Opens the keys table in `txn` (creating it, the store's index and store
  // keys and its key slots file when encrypted and new). `upgrading`: the
  // store holds an earlier layout that this open upgrades; a key slots file
  // of another binding found then was left by an upgrade that crashed before
  // it committed (each attempt draws a new binding, and no record names a
  // slot of that file): it is set aside as "PATH.unused", never deleted. A
  // new store (or one of this layout) refuses such a file instead: it may be
  // another store's keys.
  //
  // Returns: kOk; kFailedPrecondition "data: ..." when a plaintext Sealing
  // meets an encrypted store; kDataLoss "data: ..." when the master key does
  // not open the store's keys (another key file); KeySlots::Open's errors.
  Result<KeysFound> Init(WriteTxn& txn, bool upgrading);

  // The migration from kInRecords: every customer's data key moved from in
  // front of its record (and from "keys") into a key slot, the sealed data
  // untouched. The caller compacts the file afterwards: its free pages
  // still hold the keys wrapped under the master key.
  Status MoveKeysToSlots(WriteTxn& txn);

  // Destroys customer `id`'s data key (its slot zeroed and synced at once,
  // its "keys" entry deleted): every value sealed under it, here or in any
  // copy, is unreadable from now on. Call before deleting its values; a
  // customer without a key is no error.
  Status Shred(WriteTxn& txn, const model::LocalId& id);

  // Master key rotation, one batch (storage::RewrapBatch says more).
  // REQUIRES: encrypted().
  Result<RewrapBatch> Rewrap(WriteTxn& txn, std::uint32_t from, std::uint32_t max);

  bool encrypted() const { return key_store_ != nullptr; }
  // Whether the key slots file failed a write or sync (KeySlots::disk_failed).
  bool slots_failed() const { return slots_ != nullptr && slots_->disk_failed(); }

  // Where customers' records are (their data keys lead them); set by the
  // customer table once it is open.
  void AttachRecords(MDB_dbi customers) { records_ = customers; }

  // A customer's record as stored: its key slot (the one it has, or a new
  // one) in front of `plain` sealed under the slot's key.
  Result<Bytes> SealRecord(WriteTxn& txn, const model::LocalId& id, ByteView plain);
  // Starts fetching the key of the customer whose record is `value` (see
  // KeySlots::Prefetch) unless it is cached; for a batch of records read
  // one after the other.
  void PrefetchKey(const model::LocalId& id, ByteView value) const;
  // Touches the key slot of the record `value` (KeySlots::Touch), from a
  // thread that warms pages; safe from any thread.
  void TouchKey(ByteView value) const;
  // Returns: kOk; kNotFound "customer: ..." when its key was shredded (a
  // record left in a backup restored after an erasure); kDataLoss when the
  // record does not open.
  Result<Bytes> UnsealRecord(const ReadTxn& txn, const model::LocalId& id, ByteView value) const;
  // The same into `plain` (crypto::OpenInto: its capacity reused).
  Status UnsealRecordInto(const ReadTxn& txn, const model::LocalId& id, ByteView value, Bytes& plain) const;

  // Any other value. `owner`: the customer the value is about (its data key
  // seals it), or null for the store key. REQUIRES: table is not kCustomer.
  Result<Bytes> Seal(WriteTxn& txn, SealedTable table, const model::LocalId* owner, ByteView plain);
  // Returns: kOk; kNotFound "customer: ..." when its customer's key is gone
  // (shredded, or never made); kDataLoss when the bytes were changed.
  Result<Bytes> Unseal(const ReadTxn& txn, SealedTable table, const model::LocalId* owner, ByteView sealed) const;

  // Seal() with its owner written in front when encrypted (0, or 1 and the
  // customer id), for tables whose keys do not say whose a value is.
  Result<Bytes> SealTagged(WriteTxn& txn, SealedTable table, const model::LocalId* owner, ByteView plain);
  Result<Bytes> UnsealTagged(const ReadTxn& txn, SealedTable table, ByteView value) const;

  // The stored form of an index term of `kind`.
  std::string IndexTerm(search::IndexKind kind, std::string_view term) const;
  // Whether stored terms are the terms themselves (plaintext); otherwise a
  // match found on them is confirmed on the decrypted record.
  bool exact_terms() const { return !encrypted(); }
  // How long the stored form of a term of `term_bytes` bytes is; the stored
  // form of a term's first n bytes is the first StoredTermBytes(n) bytes of
  // its own (crypto::PrefixHash keeps prefixes).
  std::size_t StoredTermBytes(std::size_t term_bytes) const { return encrypted() ? 2 * term_bytes : term_bytes; }

 private:
  // The customer's slot, reserved (and its key in memory) or read back.
  struct SlotKey {
    std::uint32_t slot = 0;
    crypto::SecretKey key;
  };
  Result<crypto::SecretKey> Unwrap(ByteView name, ByteView wrapped) const { return UnwrapKey(*key_store_, name, wrapped); }
  Result<Bytes> Wrap(ByteView name, const crypto::SecretKey& key) const { return WrapKey(*key_store_, name, key); }
  Bytes SlotName(std::uint32_t slot) const;
  // The slot of customer `id`: in front of its record, or in keys.
  Result<std::optional<std::uint32_t>> SlotOfCustomer(const ReadTxn& txn, const model::LocalId& id) const;
  Result<crypto::SecretKey> ReadSlot(std::uint32_t slot) const;
  // A reserved, never used slot with its key; reserves the next batch first
  // when none is left (or when what this process reserved did not commit).
  Result<SlotKey> NewSlot(WriteTxn& txn);
  Status Reserve(WriteTxn& txn, std::uint32_t from, std::uint32_t count);
  std::optional<crypto::SecretKey> Cached(const model::LocalId& id) const;
  Result<crypto::SecretKey> DataKey(const ReadTxn& txn, const model::LocalId& id) const;
  Result<crypto::SecretKey> DataKeyForWrite(WriteTxn& txn, const model::LocalId& id);
  void Remember(const model::LocalId& id, const crypto::SecretKey& key) const;
  void Forget(const model::LocalId& id) const;

  static_assert(kWrappedKeyBytes <= KeySlots::kSlotBytes);
  static constexpr std::size_t kSlotRefBytes = 4;
  static constexpr std::uint32_t kReserveBatch = 256;

  std::shared_ptr<crypto::KeyStore> key_store_;
  std::string slots_path_;
  std::string data_dir_;
  std::unique_ptr<KeySlots> slots_;
  KeySlots::Binding binding_{};
  MDB_dbi keys_ = 0;
  MDB_dbi records_ = 0;
  std::optional<crypto::SecretKey> store_key_;
  std::unique_ptr<crypto::PrefixHash> index_hash_;

  // The slots this process reserved and has not used: [next, end) with
  // their keys, valid while "slots" still says `tag` reserved up to `end`.
  struct Reserved {
    std::uint32_t next = 0, end = 0;
    std::array<std::uint8_t, 8> tag{};
    std::vector<crypto::SecretKey> keys;  // of slots end - keys.size() ... end - 1
  };
  std::mutex reserved_mutex_;
  Reserved reserved_;

  // Unwrapped data keys of recently used customers, direct-mapped by id (ids
  // are random): a busy counter opens the same few customers again and
  // again. 4096 slots, 200 KB.
  static constexpr std::size_t kCachedKeys = 4096;
  struct CachedKey {
    model::LocalId id;
    crypto::SecretKey key;
    bool used = false;
  };
  static std::size_t CacheSlotOf(const model::LocalId& id);
  mutable std::mutex cache_mutex_;
  mutable std::unique_ptr<CachedKey[]> cache_ = std::make_unique<CachedKey[]>(kCachedKeys);
};

}  // namespace kassa::storage
