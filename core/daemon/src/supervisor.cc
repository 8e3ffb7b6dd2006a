#include "kassa/daemon/supervisor.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "kassa/base/log.h"

namespace kassa::daemon {

Supervisor::Supervisor() {
  if (const char* s = std::getenv("NOTIFY_SOCKET")) socket_path_ = s;
  if (const char* usec = std::getenv("WATCHDOG_USEC")) interval_ms_ = std::atol(usec) / 1000 / 2;
  if (interval_ms_ < 0) interval_ms_ = 0;
}

void Supervisor::Notify(std::string_view message) const {
  if (socket_path_.empty()) return;
  if (socket_path_.size() >= sizeof(sockaddr_un::sun_path)) {
    KASSA_LOG(kWarning) << "sd_notify: NOTIFY_SOCKET is too long";
    return;
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket_path_.data(), socket_path_.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // abstract namespace
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path_.size());
  if (::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&addr), len) < 0) {
    KASSA_LOG(kWarning) << "sd_notify " << message << ": " << std::strerror(errno);
  }
  ::close(fd);
}

}  // namespace kassa::daemon
