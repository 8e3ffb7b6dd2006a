#include "kassa/crypto/key_store.h"

#include <charconv>
#include <sstream>

#include "kassa/base/atomic_file.h"
#include "kassa/base/log.h"
#include "kassa/base/private_file.h"

namespace kassa::crypto {
namespace {

// The file: a header line, then one line a generation: "<generation> <64 hex
// digits>". A file of exactly 32 other bytes is the device secret of earlier
// releases, read as generation 1.
constexpr std::string_view kHeader = "kassa master key v1";
constexpr std::size_t kMaxFileBytes = 64 * 1024;

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Status NotAKeyFile(const std::string& path, const char* why) {
  KASSA_LOG(kError) << "key file " << path << ": " << why;
  return Status(StatusCode::kInvalidArgument, "key_file: not a kassa key file (see log)");
}

Result<std::vector<MasterKey>> Parse(const std::string& path, const std::string& text) {
  std::vector<MasterKey> keys;
  if (text.size() == SecretKey::kBytes && !text.starts_with(kHeader.substr(0, SecretKey::kBytes))) {
    // The device secret earlier releases kept (32 raw bytes, the same 0600
    // file): generation 1.
    keys.push_back({1, SecretKey(AsBytes(text))});
    return keys;
  }
  std::istringstream lines(text);
  std::string line;
  if (!std::getline(lines, line) || line != kHeader) return NotAKeyFile(path, "no header line");
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    const auto space = line.find(' ');
    std::uint32_t generation = 0;
    if (space == std::string::npos ||
        std::from_chars(line.data(), line.data() + space, generation).ptr != line.data() + space || generation == 0 ||
        line.size() - space - 1 != 2 * SecretKey::kBytes ||
        (!keys.empty() && generation <= keys.back().generation)) {
      return NotAKeyFile(path, "a malformed key line");
    }
    std::uint8_t raw[SecretKey::kBytes];
    for (std::size_t i = 0; i < SecretKey::kBytes; ++i) {
      const int hi = HexDigit(line[space + 1 + 2 * i]);
      const int lo = HexDigit(line[space + 2 + 2 * i]);
      if (hi < 0 || lo < 0) return NotAKeyFile(path, "a malformed key line");
      raw[i] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    keys.push_back({generation, SecretKey(ByteView(raw, sizeof raw))});
    Wipe(raw, sizeof raw);
  }
  Wipe(reinterpret_cast<std::uint8_t*>(line.data()), line.size());
  if (keys.empty()) return NotAKeyFile(path, "no key in it");
  return keys;
}

}  // namespace

Result<std::unique_ptr<FileKeyStore>> FileKeyStore::Open(const std::string& path, const std::string& data_dir) {
  if (DirectoryOf(path).empty()) {
    KASSA_LOG(kError) << "key file " << path << ": its directory does not exist";
    return Status(StatusCode::kUnavailable, "key_file: its directory does not exist");
  }
  if (LiesInside(path, data_dir)) {
    KASSA_LOG(kError) << "key file " << path << " is inside the data directory " << data_dir;
    return Status(StatusCode::kInvalidArgument, "key_file: must not be inside the data directory");
  }
  auto text = ReadPrivateFile(path, kMaxFileBytes);
  if (!text.ok() && text.status().code() == StatusCode::kNotFound) {
    KASSA_TRY_ASSIGN(SecretKey key, SecretKey::Random());
    std::string content = std::string(kHeader) + "\n1 " + HexOf(key.view()) + "\n";
    const Status written = CreateFileAtomically(path, content, 0600);
    Wipe(reinterpret_cast<std::uint8_t*>(content.data()), content.size());
    if (written.ok()) {
      KASSA_LOG(kInfo) << "created a new master key in " << path;
      std::vector<MasterKey> keys;
      keys.push_back({1, std::move(key)});
      return std::unique_ptr<FileKeyStore>(new FileKeyStore(path, std::move(keys)));
    }
    if (written.code() != StatusCode::kAlreadyExists) {
      KASSA_LOG(kError) << "key file " << path << ": cannot be created";
      return Status(StatusCode::kUnavailable, "key_file: cannot be created (see log)");
    }
    // Another process made it first: its key is the key.
    text = ReadPrivateFile(path, kMaxFileBytes);
  }
  if (!text.ok()) {
    KASSA_LOG(kError) << "key file " << path << ": " << text.status().detail();
    if (text.status().code() == StatusCode::kPermissionDenied) {
      return Status(StatusCode::kPermissionDenied, "key_file: readable by others (chmod 600)");
    }
    return Status(StatusCode::kUnavailable, "key_file: cannot be read (see log)");
  }
  auto keys = Parse(path, *text);
  Wipe(reinterpret_cast<std::uint8_t*>(text->data()), text->size());
  KASSA_TRY(keys.status());
  return std::unique_ptr<FileKeyStore>(new FileKeyStore(path, std::move(*keys)));
}

Result<MasterKey> FileKeyStore::Current() {
  std::lock_guard lock(mutex_);
  return keys_.back();
}

namespace {

Result<MasterKey> FindIn(const std::vector<MasterKey>& keys, std::uint32_t generation) {
  for (const auto& k : keys) {
    if (k.generation == generation) return k;
  }
  return Status(StatusCode::kNotFound, "key: no such generation");
}

Result<MasterKey> NextIn(const std::vector<MasterKey>& keys) {
  KASSA_TRY_ASSIGN(SecretKey key, SecretKey::Random());
  return MasterKey{keys.back().generation + 1, std::move(key)};
}

Status RetireIn(std::vector<MasterKey>& keys, std::uint32_t generation) {
  if (generation == keys.back().generation) {
    return Status(StatusCode::kFailedPrecondition, "key: the current generation cannot be retired");
  }
  std::erase_if(keys, [&](const MasterKey& k) { return k.generation == generation; });
  return Status::Ok();
}

std::vector<std::uint32_t> GenerationsOf(const std::vector<MasterKey>& keys) {
  std::vector<std::uint32_t> out;
  for (const auto& k : keys) out.push_back(k.generation);
  return out;
}

}  // namespace

Result<MasterKey> FileKeyStore::Find(std::uint32_t generation) {
  std::lock_guard lock(mutex_);
  return FindIn(keys_, generation);
}

Status FileKeyStore::Save(const std::vector<MasterKey>& keys) {
  std::string content = std::string(kHeader) + "\n";
  for (const auto& k : keys) content += std::to_string(k.generation) + " " + HexOf(k.key.view()) + "\n";
  const Status written = WriteFileAtomically(path_, content, 0600);
  Wipe(reinterpret_cast<std::uint8_t*>(content.data()), content.size());
  if (!written.ok()) {
    KASSA_LOG(kError) << "key file " << path_ << ": cannot be rewritten: " << written.detail();
    return Status(StatusCode::kUnavailable, "key_file: cannot be rewritten (see log)");
  }
  return Status::Ok();
}

Result<MasterKey> FileKeyStore::AddGeneration() {
  std::lock_guard lock(mutex_);
  KASSA_TRY_ASSIGN(MasterKey next, NextIn(keys_));
  std::vector<MasterKey> keys = keys_;
  keys.push_back(next);
  KASSA_TRY(Save(keys));
  keys_ = std::move(keys);
  KASSA_LOG(kInfo) << "key file " << path_ << ": master key generation " << next.generation << " added";
  return next;
}

Status FileKeyStore::Retire(std::uint32_t generation) {
  std::lock_guard lock(mutex_);
  std::vector<MasterKey> keys = keys_;
  KASSA_TRY(RetireIn(keys, generation));
  if (keys.size() == keys_.size()) return Status::Ok();
  KASSA_TRY(Save(keys));
  keys_ = std::move(keys);
  KASSA_LOG(kInfo) << "key file " << path_ << ": master key generation " << generation << " destroyed";
  return Status::Ok();
}

std::vector<std::uint32_t> FileKeyStore::Generations() {
  std::lock_guard lock(mutex_);
  return GenerationsOf(keys_);
}

Result<MasterKey> MemoryKeyStore::Current() {
  std::lock_guard lock(mutex_);
  return keys_.back();
}

Result<MasterKey> MemoryKeyStore::Find(std::uint32_t generation) {
  std::lock_guard lock(mutex_);
  return FindIn(keys_, generation);
}

Result<MasterKey> MemoryKeyStore::AddGeneration() {
  std::lock_guard lock(mutex_);
  KASSA_TRY_ASSIGN(MasterKey next, NextIn(keys_));
  keys_.push_back(next);
  return next;
}

Status MemoryKeyStore::Retire(std::uint32_t generation) {
  std::lock_guard lock(mutex_);
  return RetireIn(keys_, generation);
}

std::vector<std::uint32_t> MemoryKeyStore::Generations() {
  std::lock_guard lock(mutex_);
  return GenerationsOf(keys_);
}

}  // namespace kassa::crypto
