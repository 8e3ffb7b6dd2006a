#include "child_process.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "kassa/base/log.h"

namespace kassa::bench {

Result<ChildProcess> ChildProcess::Start(const std::vector<std::string>& argv, const std::string& log_path,
                                         const std::string& cgroup_procs) {
  const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) {
    KASSA_LOG(kError) << log_path << ": " << std::strerror(errno);
    return Status(StatusCode::kUnavailable, "cannot open the log file");
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string self = "0";  // cgroup.procs: "0" is the writing process
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(log);
    KASSA_LOG(kError) << "fork: " << std::strerror(errno);
    return Status(StatusCode::kUnavailable, "cannot start the process");
  }
  if (pid == 0) {
    if (!cgroup_procs.empty()) {
      const int procs = ::open(cgroup_procs.c_str(), O_WRONLY | O_CLOEXEC);
      if (procs < 0 || ::write(procs, self.data(), self.size()) != static_cast<ssize_t>(self.size())) ::_exit(126);
      ::close(procs);
    }
    ::dup2(log, STDOUT_FILENO);
    ::dup2(log, STDERR_FILENO);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(log);
  return ChildProcess(pid);
}

Result<std::string> ChildProcess::WaitForPortFile(const std::string& port_file, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(port_file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!text.empty()) return text;
    int wstatus = 0;
    if (::waitpid(pid_, &wstatus, WNOHANG) == pid_) {
      pid_ = -1;
      return Status(StatusCode::kUnavailable, "the process ended before writing its port file");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  return Status(StatusCode::kUnavailable, "no port file in time");
}

Status ChildProcess::Run(const std::vector<std::string>& argv, const std::string& log_path) {
  KASSA_TRY_ASSIGN(ChildProcess child, Start(argv, log_path));
  int wstatus = 0;
  const bool waited = ::waitpid(child.pid_, &wstatus, 0) == child.pid_;
  child.pid_ = -1;
  if (!waited || !WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
    return Status(StatusCode::kUnavailable, "command: failed (see its log)");
  }
  return Status::Ok();
}

void ChildProcess::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 1000; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

Result<ChildProcess::Memory> ChildProcess::ReadMemory() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  if (!in) return Status(StatusCode::kUnavailable, "no /proc entry for the process");
  Memory m;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name;
    std::uint64_t kib = 0;
    fields >> name >> kib;
    if (name == "RssAnon:") m.anonymous = kib * 1024;
    if (name == "RssFile:") m.file = kib * 1024;
    if (name == "VmHWM:") m.peak_total = kib * 1024;
  }
  return m;
}

std::uint16_t PortIn(const std::string& port_file_text, const std::string& name) {
  std::istringstream in(port_file_text);
  std::string word;
  unsigned port = 0;
  if (name.empty()) return (in >> port && port < 65536) ? static_cast<std::uint16_t>(port) : 0;
  while (in >> word) {
    if (word == name && in >> port && port < 65536) return static_cast<std::uint16_t>(port);
  }
  return 0;
}

Result<HttpAnswer> HttpRequest(std::uint16_t port, const std::string& method, const std::string& target,
                               const std::string& body, const std::string& token) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(30));
    stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    http::request<http::string_body> request(http::string_to_verb(method), target, 11);
    request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    if (!token.empty()) request.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) {
      request.set(http::field::content_type, "application/json");
      request.body() = body;
    }
    request.prepare_payload();
    http::write(stream, request);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    beast::error_code ec;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    return HttpAnswer{response.result_int(), std::move(response.body())};
  } catch (const std::exception& e) {
    KASSA_LOG(kError) << method << " " << target << ": " << e.what();
    return Status(StatusCode::kUnavailable, "the HTTP request failed (see the log)");
  }
}

}  // namespace kassa::bench
