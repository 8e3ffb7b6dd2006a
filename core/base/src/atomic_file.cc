#include "kassa/base/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include "kassa/base/log.h"

namespace kassa {
namespace {

std::string DirectoryOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// A temporary name beside `path` that no one else is likely to use: the
// O_EXCL create fails rather than reuse one that exists.
std::string TemporaryName(const std::string& path) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char suffix[24];
  std::snprintf(suffix, sizeof suffix, ".tmp.%016llx", static_cast<unsigned long long>(rng()));
  return path + suffix;
}

Status Failed(const std::string& path, const char* step) {
  KASSA_LOG(kError) << "file " << path << ": " << step << " failed: " << std::strerror(errno);
  if (errno == ENOSPC || errno == EDQUOT) return Status(StatusCode::kUnavailable, "file: the disk is full");
  return Status(StatusCode::kUnavailable, "file: cannot be written (see log)");
}

}  // namespace

enum class Placement { kReplace, kCreateOnly };
static Status PlaceFile(const std::string& path, std::string_view content, mode_t mode, Placement placement);

Status WriteFileAtomically(const std::string& path, std::string_view content, mode_t mode) {
  return PlaceFile(path, content, mode, Placement::kReplace);
}

Status CreateFileAtomically(const std::string& path, std::string_view content, mode_t mode) {
  return PlaceFile(path, content, mode, Placement::kCreateOnly);
}

static Status PlaceFile(const std::string& path, std::string_view content, mode_t mode, Placement placement) {
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
    tmp = TemporaryName(path);
    fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0 && errno != EEXIST) return Failed(path, "create");
  }
  if (fd < 0) return Failed(path, "create");
  // The umask may have narrowed `mode`; never widen it, but do not leave it wider either.
  if (::fchmod(fd, mode) != 0) {
    const Status s = Failed(path, "chmod");
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const Status s = Failed(path, "write");
      ::close(fd);
      ::unlink(tmp.c_str());
      return s;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const Status s = Failed(path, "fsync");
    ::close(fd);
    ::unlink(tmp.c_str());
    return s;
  }
  if (::close(fd) != 0) {
    const Status s = Failed(path, "close");
    ::unlink(tmp.c_str());
    return s;
  }
  if (placement == Placement::kCreateOnly) {
    // link() never replaces: whoever links first wins, the other learns it.
    if (::link(tmp.c_str(), path.c_str()) != 0) {
      const bool taken = errno == EEXIST;
      const Status s = taken ? Status(StatusCode::kAlreadyExists, "file: exists") : Failed(path, "link");
      ::unlink(tmp.c_str());
      return s;
    }
    ::unlink(tmp.c_str());
  } else if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const Status s = Failed(path, "rename");
    ::unlink(tmp.c_str());
    return s;
  }
  const std::string dir = DirectoryOf(path);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Failed(dir, "open directory");
  const bool synced = ::fsync(dfd) == 0;
  const Status s = synced ? Status::Ok() : Failed(dir, "fsync directory");
  ::close(dfd);
  return s;
}

}  // namespace kassa
