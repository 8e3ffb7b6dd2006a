#include "key_slots.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

#include "kassa/base/atomic_file.h"
#include "kassa/base/log.h"
#include "kassa/base/private_file.h"

namespace kassa::storage {
namespace {

constexpr std::string_view kMagic = "kassa key slots v1\n";
constexpr std::size_t kBindingOffset = 24;

KeySlots::Slot Header(const KeySlots::Binding& binding) {
  KeySlots::Slot header{};
  std::copy(kMagic.begin(), kMagic.end(), header.begin());
  std::copy(binding.begin(), binding.end(), header.begin() + kBindingOffset);
  return header;
}

bool FullPread(int fd, std::uint8_t* out, std::size_t size, off_t at, std::size_t& got) {
  got = 0;
  while (got < size) {
    const ssize_t n = ::pread(fd, out + got, size - got, at + static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

// What an existing slots file holds, read without trusting it.
struct SlotFile {
  bool readable = false;
  std::size_t size = 0;
  std::optional<KeySlots::Binding> header_binding;  // when its header is a slots file's
};

SlotFile Inspect(const std::string& path) {
  SlotFile out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return out;
  struct stat st {};
  KeySlots::Slot header{};
  std::size_t got = 0;
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0077) == 0 &&
      FullPread(fd, header.data(), header.size(), 0, got) && got == header.size()) {
    out.readable = true;
    out.size = static_cast<std::size_t>(st.st_size);
    if (std::equal(kMagic.begin(), kMagic.end(), header.begin())) {
      KeySlots::Binding b{};
      std::copy_n(header.begin() + kBindingOffset, b.size(), b.begin());
      out.header_binding = b;
    }
  }
  ::close(fd);
  return out;
}

off_t OffsetOf(std::uint32_t slot) { return static_cast<off_t>((std::uint64_t{slot} + 1) * KeySlots::kSlotBytes); }

}  // namespace

std::string DefaultKeySlotsPath(const std::string& data_dir) {
  std::string dir = data_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + ".slots";
}

Result<std::unique_ptr<KeySlots>> KeySlots::Open(const std::string& path, const std::string& data_dir,
                                                 const Binding& binding, bool create) {
  if (DirectoryOf(path).empty()) {
    KASSA_LOG(kError) << "key slots " << path << ": its directory does not exist";
    return Status(StatusCode::kUnavailable, "key slots: the directory does not exist");
  }
  if (LiesInside(path, data_dir)) {
    KASSA_LOG(kError) << "key slots " << path << " lie inside the data directory " << data_dir;
    return Status(StatusCode::kInvalidArgument, "key slots: must not be inside the data directory");
  }
  if (create) {
    const Slot header = Header(binding);
    const std::string_view content(reinterpret_cast<const char*>(header.data()), header.size());
    Status made = CreateFileAtomically(path, content, 0600);
    if (made.code() == StatusCode::kAlreadyExists) {
      // Ours (its header holds our binding: a store that has committed no
      // reservation yet, whatever a crashed one wrote after the header), or
      // one with a header and no slot (a first start that crashed): taken
      // over. One holding slots under another binding is another store's.
      const SlotFile existing = Inspect(path);
      if (existing.header_binding == binding) {
        made = Status::Ok();
      } else if (existing.readable && existing.size == kSlotBytes) {
        made = WriteFileAtomically(path, content, 0600);
      }
      if (made.code() == StatusCode::kAlreadyExists) {
        KASSA_LOG(kError) << "key slots " << path << " hold the keys of another store, and this store is new "
                          << "(move them away only if that store is gone for good)";
        return Status(StatusCode::kAlreadyExists, "key slots: the file holds another store's keys");
      }
    }
    if (!made.ok()) {
      KASSA_LOG(kError) << "key slots " << path << ": cannot be created";
      return Status(StatusCode::kUnavailable, "key slots: cannot be created (see log)");
    }
  }
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    KASSA_LOG(kError) << "key slots " << path << ": " << std::strerror(errno);
    if (errno == ENOENT) return Status(StatusCode::kNotFound, "key slots: the file is missing (see log)");
    return Status(StatusCode::kUnavailable, "key slots: cannot be opened (see log)");
  }
  std::unique_ptr<KeySlots> slots(new KeySlots(fd, path));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status(StatusCode::kUnavailable, "key slots: not a regular file");
  }
  if ((st.st_mode & 0077) != 0) {
    KASSA_LOG(kError) << "key slots " << path << " may be read or written by others (chmod 600)";
    return Status(StatusCode::kPermissionDenied, "key slots: readable by others (chmod 600)");
  }
  Slot header{};
  std::size_t got = 0;
  if (!FullPread(fd, header.data(), header.size(), 0, got)) {
    return Status(StatusCode::kUnavailable, "key slots: cannot be read");
  }
  if (got != header.size() || !std::equal(kMagic.begin(), kMagic.end(), header.begin())) {
    KASSA_LOG(kError) << "key slots " << path << " is not a kassa key slots file";
    return Status(StatusCode::kDataLoss, "key slots: not a key slots file");
  }
  if (!std::equal(binding.begin(), binding.end(), header.begin() + kBindingOffset)) {
    KASSA_LOG(kError) << "key slots " << path << " belong to another store";
    return Status(StatusCode::kDataLoss, "key slots: the file belongs to another store");
  }
  slots->Map();
  return slots;
}

void KeySlots::Map() {
  constexpr std::size_t kWindow = sizeof(void*) == 4 ? std::size_t{128} << 20 : std::size_t{1} << 30;
  void* p = ::mmap(nullptr, kWindow, PROT_READ, MAP_SHARED, fd_, 0);
  if (p == MAP_FAILED) {
    KASSA_LOG(kWarning) << "key slots " << path_ << ": cannot be mapped (" << std::strerror(errno)
                        << "); read with pread";
    return;
  }
  // A fault reads its own page only: without this, the kernel reads as much
  // as the device's readahead around it (8 MiB on some disks) for a slot of
  // 80 bytes. Stretches that are wanted come by Prefetch's MADV_WILLNEED.
  ::madvise(p, kWindow, MADV_RANDOM);
  map_ = static_cast<const std::uint8_t*>(p);
  map_bytes_ = kWindow;
  prefetched_ = std::make_unique<std::atomic<bool>[]>(kWindow / kPrefetchBytes);
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && static_cast<std::size_t>(st.st_size) > kSlotBytes) {
    Grown(static_cast<std::uint32_t>(static_cast<std::size_t>(st.st_size) / kSlotBytes - 1));
  }
}

void KeySlots::Grown(std::uint32_t slots_now) {
  // Only whole slots inside both the file and the map are read from the
  // map: a page past the file's end would fault.
  const std::size_t mapped = map_bytes_ / kSlotBytes;
  const auto usable = static_cast<std::uint32_t>(std::min<std::size_t>(slots_now, mapped > 0 ? mapped - 1 : 0));
  std::uint32_t seen = present_.load(std::memory_order_relaxed);
  while (usable > seen && !present_.compare_exchange_weak(seen, usable, std::memory_order_release)) {
  }
}

KeySlots::~KeySlots() {
  if (map_ != nullptr) ::munmap(const_cast<std::uint8_t*>(map_), map_bytes_);
  ::close(fd_);
}

Result<KeySlots::Slot> KeySlots::Read(std::uint32_t n) const {
  Slot slot{};
  if (map_ != nullptr && n < present_.load(std::memory_order_acquire)) {
    std::memcpy(slot.data(), map_ + static_cast<std::size_t>(OffsetOf(n)), slot.size());
    return slot;
  }
  std::size_t got = 0;
  if (!FullPread(fd_, slot.data(), slot.size(), OffsetOf(n), got)) {
    KASSA_LOG_THROTTLED("key slots " << path_ << ": read failed: " << std::strerror(errno));
    return Status(StatusCode::kUnavailable, "key slots: cannot be read (see log)");
  }
  if (got != slot.size()) slot.fill(0);  // beyond the end: never written
  return slot;
}

void KeySlots::Prefetch(std::uint32_t n) const {
  if (map_ == nullptr || n >= present_.load(std::memory_order_acquire)) return;
  const auto offset = static_cast<std::size_t>(OffsetOf(n));
  // Into the CPU's cache too, when the page is in memory: the slot's lines
  // on their way while the caller reads the other records.
  __builtin_prefetch(map_ + offset);
  __builtin_prefetch(map_ + offset + kSlotBytes - 1);
  const std::size_t stretch = offset / kPrefetchBytes;
  if (prefetched_[stretch].exchange(true, std::memory_order_relaxed)) return;
  const std::size_t from = stretch * kPrefetchBytes;
  const std::size_t file_end = (std::size_t{present_.load(std::memory_order_acquire)} + 1) * kSlotBytes;
  ::madvise(const_cast<std::uint8_t*>(map_) + from, std::min(kPrefetchBytes, file_end - from), MADV_WILLNEED);
}

void KeySlots::Touch(std::uint32_t n) const {
  if (map_ == nullptr || n >= present_.load(std::memory_order_acquire)) return;
  const std::uint8_t* slot = map_ + static_cast<std::size_t>(OffsetOf(n));
  volatile std::uint8_t first = slot[0], last = slot[kSlotBytes - 1];  // a slot may cross a page
  (void)first;
  (void)last;
}

Status KeySlots::Write(std::uint32_t first, const std::uint8_t* slots, std::size_t count) {
  const std::size_t size = count * kSlotBytes;
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd_, slots + done, size - done, OffsetOf(first) + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Failed("write", n < 0 ? errno : EIO);
    done += static_cast<std::size_t>(n);
  }
  if (map_ != nullptr) Grown(first + static_cast<std::uint32_t>(count));
  return Status::Ok();
}

Status KeySlots::Sync() {
  if (::fdatasync(fd_) != 0) return Failed("sync", errno);
  return Status::Ok();
}

Status KeySlots::Failed(const char* what, int error) {
  KASSA_LOG_THROTTLED("key slots " << path_ << ": " << what << " failed: " << std::strerror(error));
  disk_failed_ = true;
  if (error == ENOSPC || error == EDQUOT) {
    return Status(StatusCode::kResourceExhausted,
                  "storage full: the filesystem holding the key slots file is full (free space on it)");
  }
  return Status(StatusCode::kUnavailable, "storage failing: the disk failed this write, so none of it was saved (see log)");
}

Status KeySlots::Shred(std::uint32_t n) {
  const Slot zeros{};
  KASSA_TRY(Write(n, zeros.data(), 1));
  return Sync();
}

}  // namespace kassa::storage
