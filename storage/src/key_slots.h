#pragma once

// KeySlots: the file that holds a sealed store's customer data keys, one
// fixed-size slot each, outside the data directory (by default `DIR.slots`
// beside the data directory `DIR`).
//
// Why a file of its own: erasing a customer must destroy its key in every
// copy that can be opened. LMDB never overwrites a page in place, so a key
// kept in the data file would survive in free pages and in every backup of
// the data directory. A slot here is overwritten in place with zeros and
// synced; a backup of the data directory taken before, restored, finds the
// slot empty and cannot open that customer (docs/PRIVACY.md).
//
// Layout: slot-sized blocks.
//   block 0:      "kassa key slots v1\n", zero padding to 24, the store's
//                 binding (16 random bytes, also kept in the store), zeros
//   block 1 + n:  slot n: what Sealing writes (a wrapped key), or zeros
//                 (never written, or shredded)
// The file holds no key in the clear: each slot is wrapped under the master
// key, with its number and the binding bound in (sealing.h).
//
// Reading: the file is mapped read-only (1 GiB of address space, 128 MiB on
// 32-bit boards), so a slot read on the search path is a memory load, no
// system call; slots beyond the map, or beyond the file's size when last
// seen, are read with pread().
//
// Threading: Read() from any thread; Write(), Sync() and Shred() only under
// the store's write transaction (LMDB serializes writers across processes,
// so two processes sharing the store never write the same slot).

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "kassa/base/bytes.h"
#include "kassa/base/status.h"

namespace kassa::storage {

class KeySlots {
 public:
  static constexpr std::size_t kSlotBytes = 80;
  static constexpr std::size_t kBindingBytes = 16;
  using Slot = std::array<std::uint8_t, kSlotBytes>;
  using Binding = std::array<std::uint8_t, kBindingBytes>;

  // Opens the file at `path` (never through a symbolic link); refused when
  // its mode lets the group or others read or write it, or when it lies
  // inside `data_dir`. With `create`, a missing file is made (0600) with
  // `binding` in its header; otherwise the header must hold `binding`.
  // Returns: kOk; kNotFound "key slots: ..." (missing, and not `create`);
  // kAlreadyExists "key slots: ..." (`create`, and a file of another store
  // is there); kDataLoss "key slots: ..." (not a slots file, or another
  // store's); kPermissionDenied; kInvalidArgument (inside the data
  // directory); kUnavailable (I/O).
  static Result<std::unique_ptr<KeySlots>> Open(const std::string& path, const std::string& data_dir,
                                                const Binding& binding, bool create);
  ~KeySlots();
  KeySlots(const KeySlots&) = delete;
  KeySlots& operator=(const KeySlots&) = delete;

  // Slot `n` (zeros when beyond the file's end). Returns: kOk; kUnavailable.
  Result<Slot> Read(std::uint32_t n) const;
  // Asks the kernel to start reading the 128 KiB around slot `n` now, the
  // first time this process touches that stretch of the file (the map only):
  // when the page cache is cold, the slots of a page of search results come
  // in parallel, not one disk read after the other; once every stretch has
  // been asked for, it costs no system call. The slot's own bytes are asked
  // into the CPU's cache as well (nothing when its page is not in memory).
  void Prefetch(std::uint32_t n) const;
  // Reads slot `n`'s bytes from the map and throws them away: in a thread
  // that warms pages (record_warmer.h), its page comes in now. Nothing when
  // the slot is not in the map.
  void Touch(std::uint32_t n) const;
  // Writes `count` slots from `slots` (count * kSlotBytes bytes) at slot
  // `first`, not yet durable. Returns: kOk; kResourceExhausted "storage
  // full" (ENOSPC, EDQUOT); kUnavailable "storage failing" (any other error).
  Status Write(std::uint32_t first, const std::uint8_t* slots, std::size_t count);
  // Makes every write so far durable (fdatasync). Returns as Write().
  Status Sync();
  // Whether a write or sync failed since the file was opened: its
  // descriptor is not to be trusted again (a failed sync is never retried on
  // it); the store is reopened (core_keeper.h).
  bool disk_failed() const { return disk_failed_.load(); }
  // Overwrites slot `n` with zeros and makes it durable.
  Status Shred(std::uint32_t n);

  const std::string& path() const { return path_; }

 private:
  KeySlots(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  // Maps the file and notes how many slots it holds.
  void Map();
  void Grown(std::uint32_t slots_now);
  // The Status of a write or sync that failed with `error`, noted in disk_failed_.
  Status Failed(const char* what, int error);

  int fd_;
  std::string path_;
  const std::uint8_t* map_ = nullptr;  // the first map_bytes_ of the file, read-only
  std::size_t map_bytes_ = 0;
  std::atomic<std::uint32_t> present_{0};  // slots the file held when last seen, all mapped below map_bytes_
  static constexpr std::size_t kPrefetchBytes = 128 * 1024;
  std::unique_ptr<std::atomic<bool>[]> prefetched_;  // per kPrefetchBytes of the map: asked for already
  std::atomic<bool> disk_failed_{false};
};

// The default place of a store's key slots: "DIR.slots" beside directory `data_dir`.
std::string DefaultKeySlotsPath(const std::string& data_dir);

}  // namespace kassa::storage
