#include "kassa/base/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <cerrno>

namespace kassa {

Result<std::string> ReadPrivateFile(const std::string& path, std::size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    return errno == ENOENT ? Status(StatusCode::kNotFound, "file: does not exist")
                           : Status(StatusCode::kUnavailable, "file: cannot be opened");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status(StatusCode::kUnavailable, "file: not a regular file");
  }
  if ((st.st_mode & 0077) != 0) {
    ::close(fd);
    return Status(StatusCode::kPermissionDenied, "file: readable by others (chmod 600)");
  }
  if (static_cast<std::size_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return Status(StatusCode::kInvalidArgument, "file: larger than expected");
  }
  std::string out(static_cast<std::size_t>(st.st_size), '\0');
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fd);
  if (got != out.size()) return Status(StatusCode::kUnavailable, "file: short read");
  return out;
}

namespace {

std::string RealPath(const std::string& path) {
  char buf[PATH_MAX];
  return ::realpath(path.c_str(), buf) != nullptr ? std::string(buf) : std::string();
}

}  // namespace

std::string DirectoryOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return RealPath(".");
  return RealPath(slash == 0 ? "/" : path.substr(0, slash));
}

bool LiesInside(const std::string& path, const std::string& dir) {
  const std::string parent = DirectoryOf(path);
  const std::string real_dir = RealPath(dir);
  if (parent.empty() || real_dir.empty()) return false;
  return parent == real_dir || parent.starts_with(real_dir == "/" ? real_dir : real_dir + "/");
}

}  // namespace kassa
