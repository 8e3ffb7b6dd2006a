#pragma once

// Master key rotation, as both stores run it: the caller adds a generation
// to the crypto::KeyStore, then calls RewrapKeys() batch after batch (each
// one durable transaction) until `done`, then retires the older
// generations. Every customer's data key in the key slots, and the store's
// own keys, are re-wrapped under the new generation; no sealed value is
// rewritten, and old LMDB pages holding the store's keys wrapped under the
// old generation open nothing once it is retired. A crash anywhere leaves
// each slot wrapped under one generation or the other: starting over from
// slot 0 (what a daemon does when its key file still holds more than one
// generation) skips those already done.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/crypto/key_store.h"

namespace kassa::storage {

struct RewrapBatch {
  std::uint32_t next = 0;       // the slot the next batch starts at
  std::uint32_t slots = 0;      // slots in the file (reserved so far)
  std::size_t rewrapped = 0;    // keys re-wrapped in this batch
  bool done = false;            // no slot left after `next`
};

// Drives one store's rotation, batch by batch (the daemon schedules the
// batches so that requests are served in between).
//
// Threading: call from one thread.
class KeyRotation {
 public:
  // `rewrap`: the store's RewrapKeys (CustomerStore or ChainStore).
  using Rewrap = std::function<Result<RewrapBatch>(std::uint32_t from, std::uint32_t max)>;
  KeyRotation(std::shared_ptr<crypto::KeyStore> keys, Rewrap rewrap) : keys_(std::move(keys)), rewrap_(std::move(rewrap)) {}

  // Whether a rotation is under way: the key store holds more than one
  // generation (a rotation begun here, or one a crash or stop left unfinished).
  bool Pending() const { return keys_->Generations().size() > 1; }

  // Begins a rotation: a new master key generation, durably in the key store.
  // Returns: kOk; kAlreadyExists "key: ..." when one is under way; the key
  // store's failure.
  Status Begin();

  // Re-wraps the next batch (kBatch slots); after the last, destroys every
  // older generation. Returns: kOk with true when the rotation is finished.
  Result<bool> Step();

  struct Progress {
    bool pending = false;
    std::uint32_t next = 0, slots = 0;  // slots done so far of those in the file
    std::uint64_t rewrapped = 0;        // since this process started the rotation
    std::vector<std::uint32_t> generations;
  };
  Progress progress() const;

  static constexpr std::uint32_t kBatch = 4096;

 private:
  std::shared_ptr<crypto::KeyStore> keys_;
  Rewrap rewrap_;
  std::uint32_t next_ = 0, slots_ = 0;
  std::uint64_t rewrapped_ = 0;
};

}  // namespace kassa::storage
