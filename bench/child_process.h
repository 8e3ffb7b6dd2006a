#pragma once

// The benchmark's view of kassad and kassa-hq as processes: start one with
// its output in a log file, wait for its port file, stop it, read its memory
// from /proc, and ask its HTTP API a question over loopback.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "kassa/base/status.h"

namespace kassa::bench {

class ChildProcess {
 public:
  // Starts `argv` (argv[0] is the program's path) with stdout and stderr
  // appended to `log_path`; inside a control group when `cgroup_procs` names
  // its cgroup.procs file (joined before exec, so all its memory is charged
  // there; a child that cannot join exits 126).
  static Result<ChildProcess> Start(const std::vector<std::string>& argv, const std::string& log_path,
                                    const std::string& cgroup_procs = "");
  ChildProcess(ChildProcess&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }
  ChildProcess& operator=(ChildProcess&&) = delete;
  ~ChildProcess() { Stop(); }

  // Runs a command to its end (a `kassa-hq pki` step). Returns: kOk when it
  // exited 0; kUnavailable "command: ..." otherwise (its output in the log).
  static Status Run(const std::vector<std::string>& argv, const std::string& log_path);

  // Returns the text of `port_file` once it appears (polled every 100 us;
  // the daemons write it atomically); kUnavailable when the process ends
  // first or after `timeout`.
  Result<std::string> WaitForPortFile(const std::string& port_file, std::chrono::milliseconds timeout);

  // SIGTERM, then SIGKILL after 10 s; waits for the end.
  void Stop();

  // Resident memory from /proc/<pid>/status, in bytes: anonymous (the
  // process's own heap and stacks) and file-backed (mapped files, LMDB's
  // map among them).
  struct Memory {
    std::uint64_t anonymous = 0;
    std::uint64_t file = 0;
    std::uint64_t peak_total = 0;  // VmHWM
  };
  Result<Memory> ReadMemory() const;

  pid_t pid() const { return pid_; }

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

struct HttpAnswer {
  unsigned status = 0;
  std::string body;
};

// The port after `name` in a port file ("link 7400"), or the file's only
// number when `name` is empty; 0 when there is none.
std::uint16_t PortIn(const std::string& port_file_text, const std::string& name);

// METHOD http://127.0.0.1:<port><target> with a 30 s limit; a JSON body
// when `body` is not empty, and "Authorization: Bearer TOKEN" when `token` is not.
Result<HttpAnswer> HttpRequest(std::uint16_t port, const std::string& method, const std::string& target,
                               const std::string& body, const std::string& token);
inline Result<HttpAnswer> HttpGet(std::uint16_t port, const std::string& target, const std::string& token = "") {
  return HttpRequest(port, "GET", target, "", token);
}

}  // namespace kassa::bench
