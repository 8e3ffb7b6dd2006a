#pragma once

// CustomerStore: the terminal's whole store in one LMDB environment, the
// owner of the table views of terminal_tables.h. Only the service wiring
// (firmware/service) and tools that own a data directory include this
// header (scripts/check-layout enforces it); every component receives just
// the views it needs.
//
// Ownership: one CustomerStore per process and data directory; the views it
// returns live as long as it does.
// Threading: not thread-safe; call from the service's io_context thread.

#include <cstddef>
#include <memory>
#include <string>

#include "kassa/base/status.h"
#include "kassa/crypto/key_store.h"
#include "kassa/storage/key_rotation.h"
#include "kassa/storage/terminal_tables.h"

namespace kassa::storage {

struct StorageOptions {
  std::string path;                                 // an existing directory
  std::size_t map_size_bytes = std::size_t{1} << 30;  // the data file's size limit
  // The master key: every value is sealed and every index term keyed under
  // it (what kassad always gives). Null: plaintext, for unit tests and the
  // benchmark's comparison column only; an encrypted store refuses it.
  std::shared_ptr<crypto::KeyStore> key_store;
  // Where the customers' data keys live when sealed (one slot each, wiped
  // on erasure): outside `path`; empty: "`path`.slots" beside it.
  std::string key_slots_file;
};

class CustomerStore final {
 public:
  // Opens or creates the store in `options.path`, migrating older layouts
  // (a plaintext store given a key store is sealed, and its file compacted
  // so that no free page keeps the plaintext).
  //
  // Returns:
  //   kOk                  the store.
  //   kUnavailable         the directory does not exist or is not writable.
  //   kDataLoss            the files are not a kassa customer store, or the
  //                        key store's master key does not open them.
  //   kFailedPrecondition  written by an incompatible kassa version, or
  //                        encrypted and no key store given.
  static Result<std::unique_ptr<CustomerStore>> Open(const StorageOptions& options);

  ~CustomerStore();
  CustomerStore(const CustomerStore&) = delete;
  CustomerStore& operator=(const CustomerStore&) = delete;

  CustomerTable& customers();
  OutboxView& outbox();
  SyncState& sync();
  QuarantineView& quarantine();
  StoreSettings& settings();
  ClientelingTable& clienteling();
  OperatorLockouts& lockouts();
  Diagnostics& diagnostics();
  AccessEventQueue& access_events();

  // One batch of a master key rotation (key_rotation.h), in one durable
  // transaction. Returns: kOk; kFailedPrecondition for a plaintext store.
  Result<RewrapBatch> RewrapKeys(std::uint32_t from, std::uint32_t max);

 private:
  struct Impl;
  explicit CustomerStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kassa::storage
