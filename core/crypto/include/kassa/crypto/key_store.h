#pragma once

// KeyStore: where a store's master key comes from. The master key wraps
// every other key of a store (each customer's data key, the index key, the
// store key); it never rests in the data directory and never travels.
//
// FileKeyStore keeps it in one file outside the data directory, readable by
// its owner only. What protects that file on a board, and what a thief who
// takes the file and the data together gets, is in docs/PRIVACY.md; a
// TPM-backed store is another implementation of this interface.
//
// Threading: implementations are safe from any thread.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "kassa/base/status.h"
#include "kassa/crypto/aead.h"

namespace kassa::crypto {

struct MasterKey {
  std::uint32_t generation = 0;  // 1, 2, ...: a rotation adds the next
  SecretKey key;
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;

  // The key new values are wrapped with: the newest generation.
  virtual Result<MasterKey> Current() = 0;
  // The key of `generation`. Returns kNotFound when it was never made or
  // has been destroyed.
  virtual Result<MasterKey> Find(std::uint32_t generation) = 0;
  // Where the key lives, for the log ("file /var/lib/kassa/terminal.key").
  virtual std::string Describe() const = 0;

  // Rotation (storage re-wraps what the old generations wrapped, then
  // retires them). Adds a new random key as the next generation, durably,
  // and makes it the current one. Returns: kOk with it; kUnavailable.
  virtual Result<MasterKey> AddGeneration() = 0;
  // Destroys `generation` for good, durably. Returns: kOk (also when it is
  // not held); kFailedPrecondition for the current generation; kUnavailable.
  virtual Status Retire(std::uint32_t generation) = 0;
  // The generations held, ascending.
  virtual std::vector<std::uint32_t> Generations() = 0;
};

class FileKeyStore final : public KeyStore {
 public:
  // Opens the key file `path`, creating it with a new random key (mode 0600,
  // written atomically) when it does not exist.
  //
  // Returns:
  //   kOk
  //   kInvalidArgument "key_file: ..."  inside `data_dir` (the key must not
  //                                     travel with the data it protects),
  //                                     or not a kassa key file
  //   kPermissionDenied "key_file: ..." readable or writable by the group or
  //                                     others
  //   kUnavailable "key_file: ..."      cannot be read or created
  static Result<std::unique_ptr<FileKeyStore>> Open(const std::string& path, const std::string& data_dir);

  Result<MasterKey> Current() override;
  Result<MasterKey> Find(std::uint32_t generation) override;
  std::string Describe() const override { return "file " + path_; }
  // Both rewrite the file atomically (mode 0600) with the keys kept.
  Result<MasterKey> AddGeneration() override;
  Status Retire(std::uint32_t generation) override;
  std::vector<std::uint32_t> Generations() override;

 private:
  FileKeyStore(std::string path, std::vector<MasterKey> keys) : path_(std::move(path)), keys_(std::move(keys)) {}
  // REQUIRES: mutex_ held.
  Status Save(const std::vector<MasterKey>& keys);
  std::string path_;
  std::mutex mutex_;
  std::vector<MasterKey> keys_;  // by generation, ascending
};

// A KeyStore held in memory only (tests and benchmarks).
class MemoryKeyStore final : public KeyStore {
 public:
  explicit MemoryKeyStore(SecretKey key) { keys_.push_back({1, std::move(key)}); }
  Result<MasterKey> Current() override;
  Result<MasterKey> Find(std::uint32_t generation) override;
  std::string Describe() const override { return "memory"; }
  Result<MasterKey> AddGeneration() override;
  Status Retire(std::uint32_t generation) override;
  std::vector<std::uint32_t> Generations() override;

 private:
  std::mutex mutex_;
  std::vector<MasterKey> keys_;  // by generation, ascending
};

}  // namespace kassa::crypto
