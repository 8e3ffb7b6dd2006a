// core/daemon (the skeleton of both daemons) and core/base's atomic file
// writer, on real sockets, signals and files.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kassa/base/atomic_file.h"
#include "kassa/daemon/daemon.h"
#include "kassa/daemon/directory_lock.h"
#include "kassa/daemon/supervisor.h"
#include "temp_dir.h"

namespace kassa {
namespace {

// A datagram socket standing in for systemd's notify socket.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    bound_ = fd_ >= 0 && path.size() < sizeof(addr.sun_path) &&
             ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  ~NotifySocket() { ::close(fd_); }
  bool bound() const { return bound_; }
  std::string Receive() {
    char buf[64] = {};
    const ssize_t n = ::recv(fd_, buf, sizeof buf - 1, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string("(nothing)");
  }

 private:
  std::string path_;
  int fd_ = -1;
  bool bound_ = false;
};

TEST(SupervisorTest, NotifiesTheSocketSystemdGaveAndHalvesTheInterval) {
  testing::TempDir dir;
  NotifySocket sock(dir.path() + "/notify");
  ASSERT_TRUE(sock.bound());
  ::setenv("NOTIFY_SOCKET", (dir.path() + "/notify").c_str(), 1);
  ::setenv("WATCHDOG_USEC", "4000000", 1);
  const daemon::Supervisor supervisor;
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  EXPECT_TRUE(supervisor.supervised());
  EXPECT_EQ(supervisor.watchdog_interval_ms(), 2000);
  supervisor.Notify("READY=1");
  EXPECT_EQ(sock.Receive(), "READY=1");
  // Not under systemd: nothing expected, nothing sent.
  const daemon::Supervisor alone;
  EXPECT_FALSE(alone.supervised());
  EXPECT_EQ(alone.watchdog_interval_ms(), 0);
}

TEST(DaemonTest, ReadyKicksTheWatchdogFromTheLoopAndASignalStopsIt) {
  testing::TempDir dir;
  NotifySocket sock(dir.path() + "/notify");
  ASSERT_TRUE(sock.bound());
  ::setenv("NOTIFY_SOCKET", (dir.path() + "/notify").c_str(), 1);
  ::setenv("WATCHDOG_USEC", "200000", 1);  // a kick every 100 ms
  daemon::Daemon d("test-daemon");
  ::unsetenv("NOTIFY_SOCKET");
  ::unsetenv("WATCHDOG_USEC");
  int stops = 0;
  boost::asio::steady_timer work(d.io());  // stands for a server: cancelled by the stop hook
  work.expires_after(std::chrono::hours(1));
  work.async_wait([](const boost::system::error_code&) {});
  d.OnStop([&] {
    ++stops;
    work.cancel();
  });
  d.Ready();
  EXPECT_EQ(sock.Receive(), "READY=1");
  EXPECT_EQ(sock.Receive(), "WATCHDOG=1");  // the first kick, at once
  boost::asio::steady_timer later(d.io());
  later.expires_after(std::chrono::milliseconds(350));
  later.async_wait([](const boost::system::error_code&) { ::raise(SIGTERM); });
  d.Run();  // returns once the stop hook cancelled the work
  EXPECT_EQ(stops, 1);
  int kicks = 0;
  std::string last;
  while ((last = sock.Receive()) == "WATCHDOG=1") ++kicks;
  EXPECT_GE(kicks, 2);  // about three in 350 ms; the loop is shared, so at least two
  EXPECT_EQ(last, "STOPPING=1");
}

TEST(DaemonTest, AnnounceWritesThePortFileOrSaysItCannot) {
  testing::TempDir dir;
  daemon::Daemon d("test-daemon");
  ASSERT_TRUE(d.Announce(dir.path() + "/port", "8080\n", "serving").ok());
  std::ifstream in(dir.path() + "/port");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "8080\n");
  const Status s = d.Announce(dir.path() + "/no/such/dir/port", "8080\n", "serving");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(std::string(s.field()), "port_file");
}

TEST(DirectoryLockTest, OneHolderAtATimeAndReleasedWithTheObject) {
  testing::TempDir dir;
  {
    auto first = daemon::DirectoryLock::Acquire(dir.path());
    ASSERT_TRUE(first.ok()) << first.status().detail();
    const auto second = daemon::DirectoryLock::Acquire(dir.path());
    EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(std::string(second.status().field()), "data");
  }
  EXPECT_TRUE(daemon::DirectoryLock::Acquire(dir.path()).ok());
  EXPECT_EQ(daemon::DirectoryLock::Acquire(dir.path() + "/missing").status().code(), StatusCode::kUnavailable);
}

TEST(AtomicFileTest, ReplacesWholeWithTheModeAndLeavesNoTemporaryFile) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/secret";
  ASSERT_TRUE(WriteFileAtomically(path, "first", 0600).ok());
  ASSERT_TRUE(WriteFileAtomically(path, "second and longer", 0600).ok());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "second and longer");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);  // no temporary file left behind
}

// A write that fails half-way (the file size limit, which binds root too)
// leaves the old file whole and no temporary file.
TEST(AtomicFileTest, AFailedWriteLeavesTheOldFileAndSaysSo) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/config.json";
  ASSERT_TRUE(WriteFileAtomically(path, "old").ok());
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto previous = ::signal(SIGXFSZ, SIG_IGN);  // EFBIG instead of the signal
  rlimit small = saved;
  small.rlim_cur = 4;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  const Status s = WriteFileAtomically(path, "a new content longer than four bytes");
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::signal(SIGXFSZ, previous);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "old");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(AtomicFileTest, AMissingDirectoryIsUnavailable) {
  testing::TempDir dir;
  EXPECT_EQ(WriteFileAtomically(dir.path() + "/missing/file", "x").code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace kassa
