#include "memory_limit.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kassa/base/log.h"

namespace kassa::bench {
namespace {

namespace fs = std::filesystem;

// Writes `value` to the control file `path`; false (with the reason logged)
// when the kernel refuses it.
bool WriteControl(const std::string& path, const std::string& value) {
  std::ofstream out(path);
  out << value;
  out.flush();
  if (!out) {
    KASSA_LOG(kError) << "cannot write \"" << value << "\" to " << path << ": " << std::strerror(errno);
    return false;
  }
  return true;
}

std::uint64_t ReadNumber(const std::string& path) {
  std::ifstream in(path);
  std::uint64_t n = 0;
  return (in >> n) ? n : 0;
}

// This process's memory cgroup: {directory, is v1}; empty when none.
std::pair<std::string, bool> OwnMemoryCgroup() {
  std::ifstream in("/proc/self/cgroup");
  std::string line, unified;
  while (std::getline(in, line)) {
    // "4:memory:/a/b" (v1) or "0::/a/b" (v2)
    const auto first = line.find(':'), second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1), path = line.substr(second + 1);
    std::istringstream list(controllers);
    for (std::string c; std::getline(list, c, ',');) {
      if (c == "memory" && fs::is_directory("/sys/fs/cgroup/memory" + path)) {
        return {"/sys/fs/cgroup/memory" + path, true};
      }
    }
    if (line.rfind("0::", 0) == 0) unified = path;
  }
  if (!unified.empty()) {
    std::ifstream controllers("/sys/fs/cgroup" + unified + "/cgroup.controllers");
    for (std::string c; controllers >> c;) {
      if (c == "memory") return {"/sys/fs/cgroup" + unified, false};
    }
  }
  return {"", false};
}

}  // namespace

Result<std::uint64_t> ParseMemorySize(const std::string& text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  const std::string unit = text.substr(digits);
  std::uint64_t shift = 0;
  if (unit.empty()) shift = 0;
  else if (unit == "K" || unit == "KiB") shift = 10;
  else if (unit == "M" || unit == "MiB") shift = 20;
  else if (unit == "G" || unit == "GiB") shift = 30;
  else digits = 0;
  if (digits == 0 || digits > 12) {
    return Status(StatusCode::kInvalidArgument, "a memory size is a number with an optional K, M or G (512M)");
  }
  const std::uint64_t n = std::stoull(text.substr(0, digits));
  if (n == 0) return Status(StatusCode::kInvalidArgument, "a memory size must not be zero");
  if (n > (std::uint64_t{1} << 50) >> shift) return Status(StatusCode::kInvalidArgument, "a memory size above 1P");
  return n << shift;
}

Result<MemoryCgroup> MemoryCgroup::Create(const std::string& name, std::uint64_t limit_bytes) {
  const auto [parent, v1] = OwnMemoryCgroup();
  if (parent.empty()) {
    return Status(StatusCode::kFailedPrecondition, "no memory control group controller is available to this process");
  }
  if (!v1) {
    // v2: the parent must hand the memory controller to its children.
    std::ifstream enabled(parent + "/cgroup.subtree_control");
    std::string all((std::istreambuf_iterator<char>(enabled)), std::istreambuf_iterator<char>());
    if (all.find("memory") == std::string::npos && !WriteControl(parent + "/cgroup.subtree_control", "+memory")) {
      return Status(StatusCode::kFailedPrecondition,
                    "cannot enable the memory controller for child groups (cgroup v2; needs root, see the log)");
    }
  }
  const std::string dir = parent + "/" + name + "-" + std::to_string(::getpid());
  std::error_code ec;
  if (!fs::create_directory(dir, ec) && !fs::is_directory(dir)) {
    KASSA_LOG(kError) << "mkdir " << dir << ": " << ec.message();
    return Status(StatusCode::kFailedPrecondition, "cannot make a memory control group (needs root, see the log)");
  }
  MemoryCgroup group(dir, v1);
  const std::string limit = std::to_string(limit_bytes);
  const bool limited = v1 ? WriteControl(dir + "/memory.limit_in_bytes", limit) &&
                                (!fs::exists(dir + "/memory.memsw.limit_in_bytes") ||
                                 WriteControl(dir + "/memory.memsw.limit_in_bytes", limit))
                          : WriteControl(dir + "/memory.max", limit) &&
                                (!fs::exists(dir + "/memory.swap.max") || WriteControl(dir + "/memory.swap.max", "0"));
  if (!limited) return Status(StatusCode::kFailedPrecondition, "cannot set the memory control group's limit (see the log)");
  return group;
}

MemoryCgroup::~MemoryCgroup() {
  if (dir_.empty()) return;
  // The group's processes have been waited for; the kernel may take a moment
  // to let go of the group.
  for (int i = 0; i < 100 && ::rmdir(dir_.c_str()) != 0 && errno == EBUSY; ++i) ::usleep(10'000);
}

Status MemoryCgroup::Join(pid_t pid) const {
  if (!WriteControl(ProcsFile(), std::to_string(pid))) {
    return Status(StatusCode::kFailedPrecondition, "cannot move the process into its memory control group (see the log)");
  }
  return Status::Ok();
}

std::uint64_t MemoryCgroup::PeakBytes() const {
  return ReadNumber(dir_ + (v1_ ? "/memory.max_usage_in_bytes" : "/memory.peak"));
}

Result<std::string> RunInGroup(const MemoryCgroup& group, const std::function<std::string()>& body) {
  int out[2], go[2];
  if (::pipe(out) != 0) return Status(StatusCode::kInternal, "pipe failed");
  if (::pipe(go) != 0) {
    ::close(out[0]);
    ::close(out[1]);
    return Status(StatusCode::kInternal, "pipe failed");
  }
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return Status(StatusCode::kInternal, "fork failed");
  if (pid == 0) {
    ::close(out[0]);
    ::close(go[1]);
    char ready = 0;  // the parent has moved this process into the group
    if (::read(go[0], &ready, 1) != 1 || ready != 'g') ::_exit(3);
    const std::string report = body();
    std::size_t written = 0;
    while (written < report.size()) {
      const ssize_t n = ::write(out[1], report.data() + written, report.size() - written);
      if (n <= 0) ::_exit(4);
      written += static_cast<std::size_t>(n);
    }
    std::fflush(nullptr);
    ::_exit(0);
  }
  ::close(out[1]);
  ::close(go[0]);
  const Status joined = group.Join(pid);
  const char signal = joined.ok() ? 'g' : 's';
  const bool told = ::write(go[1], &signal, 1) == 1;
  ::close(go[1]);
  std::string report;
  char buffer[4096];
  for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) > 0;) report.append(buffer, static_cast<std::size_t>(n));
  ::close(out[0]);
  int wstatus = 0;
  ::waitpid(pid, &wstatus, 0);
  KASSA_TRY(joined);
  if (!told) return Status(StatusCode::kInternal, "the limited phase's process did not start");
  if (WIFSIGNALED(wstatus)) {
    KASSA_LOG(kError) << "the limited phase's process was killed by signal " << WTERMSIG(wstatus)
                      << " (SIGKILL: the kernel's OOM killer at the group's limit, see dmesg)";
    return Status(StatusCode::kInternal, "the limited phase's process was killed (see the log)");
  }
  if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0 || report.empty()) {
    KASSA_LOG(kError) << "the limited phase's process exited with " << WEXITSTATUS(wstatus);
    return Status(StatusCode::kInternal, "the limited phase's process failed (see the log)");
  }
  return report;
}

Status DropPageCache() {
  ::sync();
  if (!WriteControl("/proc/sys/vm/drop_caches", "3\n")) {
    return Status(StatusCode::kFailedPrecondition, "cannot drop the page cache (/proc/sys/vm/drop_caches needs root)");
  }
  return Status::Ok();
}

IoCounters ReadOwnIo() {
  IoCounters io;
  std::ifstream in("/proc/self/io");
  std::string name;
  std::uint64_t value = 0;
  while (in >> name >> value) {
    if (name == "read_bytes:") io.read_bytes = value;
    if (name == "write_bytes:") io.write_bytes = value;
  }
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) == 0) io.major_faults = static_cast<std::uint64_t>(usage.ru_majflt);
  return io;
}

}  // namespace kassa::bench
