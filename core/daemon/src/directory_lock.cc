#include "kassa/daemon/directory_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "kassa/base/log.h"

namespace kassa::daemon {

Result<DirectoryLock> DirectoryLock::Acquire(const std::string& directory) {
  const std::string path = directory + "/lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    KASSA_LOG(kError) << path << ": cannot be opened: " << std::strerror(errno);
    return Status(StatusCode::kUnavailable, "data: the data directory's lock file cannot be opened (see log)");
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK) {
      return Status(StatusCode::kFailedPrecondition, "data: another process is using this data directory");
    }
    KASSA_LOG(kError) << path << ": cannot be locked: " << std::strerror(error);
    return Status(StatusCode::kUnavailable, "data: the data directory cannot be locked (see log)");
  }
  return DirectoryLock(fd);
}

DirectoryLock::DirectoryLock(DirectoryLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the lock
}

}  // namespace kassa::daemon
